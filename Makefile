# Front door to the CMake presets (CMakePresets.json); not a second build system.
# `make run` and `make test` install missing Debian packages first.
JOBS ?= 2
# make fuzz: seconds per fuzz target; make test runs each for TEST_FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
TEST_FUZZ_SECONDS ?= 30
# make soak: minutes of mixed load before the drain.
SOAK_MINUTES ?= 10
SOURCES := $(shell git ls-files '*.h' '*.cc' '*.proto' 2>/dev/null)

.PHONY: help deps build asan fuzz-build fuzz tsan soak test test-release test-asan test-fuzz test-tsan image image-test run bench format format-check lint clean

help:
	@echo "make run     build, start dsd-server on 127.0.0.1:50051, replay examples/ through dsdctl"
	@echo "make test    build Release, ASan+UBSan and TSan; run every test in the first two, the threaded ones"
	@echo "             under TSan, each fuzzer TEST_FUZZ_SECONDS (30); check formatting"
	@echo "make build   Release build only (build/release)"
	@echo "make asan    ASan+UBSan build (clang, build/asan): every test and the fuzzers"
	@echo "make fuzz    build the libFuzzer targets optimised (clang, build/fuzz) and run each FUZZ_SECONDS (60)"
	@echo "make test-fuzz  each fuzzer of build/asan for TEST_FUZZ_SECONDS (30), as make test does"
	@echo "make test-tsan  ThreadSanitizer build (clang, build/tsan) of the threaded tests, run with ctest"
	@echo "make soak    dsd-server under mixed load for SOAK_MINUTES (10), RSS sampled, then SIGTERM under load"
	@echo "make bench   measure and write docs/performance.md (tables, PNG plots)"
	@echo "make format  clang-format the tree in place; make format-check only checks"
	@echo "make lint    clang-tidy over the Release compile_commands.json"
	@echo "make image   build the dsd-server, dsdctl, dsd-adapter and dsd-extender images (docker, else podman; docker/README.md)"
	@echo "make image-test  build images from build/release and run them from their filesystems"

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake --preset release >/dev/null
	@cmake --build --preset release -j $(JOBS)

# clang: its ASan build compiles in about half GCC's time, and the same
# tree builds the fuzzers.
asan:
	@bash scripts/install-deps.sh --clang
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan -j $(JOBS)

# libFuzzer targets (clang, ASan+UBSan, -O1 for long runs): only the
# fuzzers and what they link.
fuzz-build:
	@bash scripts/install-deps.sh --clang
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz -j $(JOBS) --target fuzzers

fuzz: fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

# Each fuzz target of the ASan tree briefly, from the corpus, side by side:
# CI keeps them building, running and finding nothing new.
test-fuzz: asan
	@FUZZ_BUILD=build/asan FUZZ_SECONDS=$(TEST_FUZZ_SECONDS) bash scripts/fuzz.sh

# clang: the threaded tests (dsd_test THREADED) and the programs they run.
tsan:
	@bash scripts/install-deps.sh --clang
	@cmake --preset tsan >/dev/null
	@cmake --build --preset tsan -j $(JOBS)

test-tsan: tsan
	ctest --preset tsan

test-release: build
	ctest --preset release

# nlohmann's dump and copy recurse once a JSON level, and the Kubernetes
# client accepts 10,000 levels as Go does (client/kube/slim.h): at -O0
# under ASan that takes more than the usual 8 MB of stack (Release: less).
# Where the hard limit forbids that, reflector_test fails on ASan's
# stack-overflow report.
test-asan: asan
	ulimit -s 262144 2>/dev/null; ctest --preset asan

# The image smoke test runs after the Release tests (it packs their binaries)
# and before the ASan build. Formatting last: a format slip should not
# hide test results.
test: test-release image-test test-asan test-fuzz test-tsan format-check

# Full multi-stage build (compiles inside the builder stage).
image:
	@bash scripts/build-images.sh

# Images from build/release/bin, run from their filesystems (as root).
image-test: build
	@bash tests/docker/image_smoke_test.sh

run: build
	@bash scripts/run-demo.sh

# Not in make test: it runs for minutes by design.
soak: build
	@bash scripts/install-deps.sh --all
	@SOAK_MINUTES=$(SOAK_MINUTES) bash scripts/soak.sh

bench: build
	@bash scripts/install-deps.sh --all
	@cmake --build --preset release -j $(JOBS) --target benchmarks
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
