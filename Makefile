# Front door to the CMake presets (CMakePresets.json); not a second build system.
# `make run` and `make test` install missing Debian packages first.
JOBS ?= 2
SOURCES := $(shell git ls-files '*.h' '*.cc' '*.proto' 2>/dev/null)

.PHONY: help deps build asan test test-release test-asan image image-test run bench format format-check lint clean

help:
	@echo "make run     build, start dsd-server on 127.0.0.1:50051, replay examples/ through dsdctl"
	@echo "make test    build Release and ASan+UBSan, run every test in both (ctest), check formatting"
	@echo "make build   Release build only (build/release)"
	@echo "make asan    ASan+UBSan build only (build/asan)"
	@echo "make bench   measure and write docs/performance.md (tables, PNG plots)"
	@echo "make format  clang-format the tree in place; make format-check only checks"
	@echo "make lint    clang-tidy over the Release compile_commands.json"
	@echo "make image   build the dsd-server and dsdctl images (docker, else podman; docker/README.md)"
	@echo "make image-test  build images from build/release and run them from their filesystems"

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

test-release: build
	ctest --preset release

test-asan: asan
	ctest --preset asan

# The image smoke test runs after the Release tests (it packs their binaries)
# and before the slower ASan build. Formatting last: a format slip should not
# hide test results.
test: test-release image-test test-asan format-check

# Full multi-stage build (compiles inside the builder stage).
image:
	@bash scripts/build-images.sh

# Images from build/release/bin, run from their filesystems (as root).
image-test: build
	@bash tests/docker/image_smoke_test.sh

run: build
	@bash scripts/run-demo.sh

bench: build
	@bash scripts/install-deps.sh --all
	@bash scripts/bench.sh

format:
	@bash scripts/install-deps.sh
	clang-format -i $(SOURCES)

format-check:
	@bash scripts/install-deps.sh
	@clang-format --dry-run -Werror $(SOURCES)
	@echo "clang-format: every source is formatted"

lint: build
	@bash scripts/install-deps.sh --all
	run-clang-tidy -quiet -p build/release -j $(JOBS) '$(CURDIR)/(server|client|tests|bench)/'

clean:
	rm -rf build
