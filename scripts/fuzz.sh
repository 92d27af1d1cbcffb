#!/usr/bin/env bash
# Runs each libFuzzer target (FUZZ_BUILD/bin/<target>_fuzzer; FUZZ_BUILD is
# build/fuzz for `make fuzz`, build/asan for make test's brief runs) for
# FUZZ_SECONDS (default 60), all side by side (FUZZ_JOBS=1 runs them one
# after the other). Each starts from the checked-in corpus
# (fuzz/corpus/<target>/, read only) plus what earlier runs found
# (FUZZ_BUILD/corpus/<target>/, where new inputs go). One line a target:
# executions, executions per second, coverage. A crash or a failed check
# exits 1, printing the fuzzer's report and how to replay the input; add
# that input to fuzz/corpus/<target>/ with the fix (fuzz/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
build=${FUZZ_BUILD:-build/fuzz}
bin=$build/bin
work=$build/corpus
artifacts=$build/artifacts
logs=$build/logs
targets=(${FUZZ_TARGETS:-request k8s_load kube_list kube_watch extender})

export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}

run() {
  local t=$1
  # JSON may nest 10,000 levels (client/kube/slim.h, as Go allows), and
  # nlohmann recurses once a level: at -O0 under ASan (build/asan) that
  # needs more than the usual 8 MB of stack.
  ulimit -s 262144 2>/dev/null || true
  mkdir -p "$work/$t" "$artifacts/$t" "$logs"
  # -timeout: an input taking 10 s is a hang; -rss_limit_mb: one that
  # needs 2 GB is a memory bomb. Both are failures.
  "$bin/${t}_fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
    -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/$t/" \
    "$work/$t" "fuzz/corpus/$t" >"$logs/$t.log" 2>&1
}

summary() {
  local t=$1 log="$logs/$t.log"
  local runs rate cov ft corpus
  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  ft=$(grep -oE 'ft: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(grep -oE 'corp: [0-9]+' "$log" | tail -1 | cut -d' ' -f2)
  echo "fuzz: ${t}_fuzzer: ${runs:-?} runs in ${seconds} s (${rate:-?}/s), coverage ${cov:-?} edges, ${ft:-?} features, corpus ${corpus:-?} inputs"
}

for t in "${targets[@]}"; do
  if [[ ! -x "$bin/${t}_fuzzer" ]]; then
    echo "fuzz: $bin/${t}_fuzzer is missing: make fuzz-build (build/fuzz) or make asan (build/asan) builds it" >&2
    exit 2
  fi
done
declare -A rc pid
if ((jobs > 1)); then
  for t in "${targets[@]}"; do
    run "$t" &
    pid[$t]=$!
  done
  for t in "${targets[@]}"; do
    if wait "${pid[$t]}"; then rc[$t]=0; else rc[$t]=1; fi
  done
else
  for t in "${targets[@]}"; do
    if run "$t"; then rc[$t]=0; else rc[$t]=1; fi
  done
fi

status=0
for t in "${targets[@]}"; do
  if ((rc[$t] == 0)); then
    summary "$t"
    continue
  fi
  status=1
  echo "fuzz: ${t}_fuzzer FAILED; the end of $logs/$t.log:" >&2
  tail -n 60 "$logs/$t.log" >&2
  for a in "$artifacts/$t"/*; do
    if [[ -e $a ]]; then echo "fuzz: replay with: $bin/${t}_fuzzer $a" >&2; fi
  done
done
exit "$status"
