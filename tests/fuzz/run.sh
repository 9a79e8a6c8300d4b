#!/usr/bin/env bash
# Build the libFuzzer harnesses with clang in build-fuzz (-DHP_FUZZ=ON: ASan + UBSan + coverage) and
# run each for a bounded time.
#
#   tests/fuzz/run.sh [SECONDS] [NAME ...]     SECONDS per harness (default 30); NAMEs default to all
#
# Seeds come from tests/fuzz/corpus/NAME; what a run finds new stays in build-fuzz/fuzz-corpus/NAME.
# A crash leaves its input in build-fuzz/fuzz-artifacts/ and makes the script exit 1: fix the bug, then
# copy the input to tests/fuzz/regress/NAME/ so that every build replays it (ctest fuzz_replay_NAME).
# Prints one line per harness: executions, new corpus size, outcome. FUZZ_BUILD_DIR, FUZZ_JOBS (make
# jobs) and FUZZ_ARGS (extra libFuzzer flags) override the defaults.
set -euo pipefail
cd "$(dirname "$0")/../.."
secs=${1:-30}
shift || true
all=(safetensors config tokenizer ids advantage external response runcfg)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=("${all[@]}")
build=${FUZZ_BUILD_DIR:-build-fuzz}
command -v clang >/dev/null || { echo "run.sh: clang is needed (apt-get install clang)" >&2; exit 2; }

cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHP_FUZZ=ON \
      -DHP_SANITIZE=OFF -DHP_WITH_MPI=OFF >/dev/null
targets=()
for n in "${names[@]}"; do targets+=("fuzz_$n"); done
cmake --build "$build" -j"${FUZZ_JOBS:-$(nproc)}" --target "${targets[@]}" >/dev/null

failed=0
mkdir -p "$build/fuzz-artifacts"
for n in "${names[@]}"; do
  work="$build/fuzz-corpus/$n"
  mkdir -p "$work"
  dict=()
  [ -f "tests/fuzz/dict/$n.dict" ] && dict=(-dict="tests/fuzz/dict/$n.dict")
  log="$build/fuzz-artifacts/$n.log"
  set +e
  # shellcheck disable=SC2086
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/tests/fuzz/fuzz_$n" "$work" "tests/fuzz/corpus/$n" "${dict[@]}" -max_total_time="$secs" \
    -timeout=20 -rss_limit_mb=2048 -malloc_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/$n-" ${FUZZ_ARGS:-} >"$log" 2>&1
  rc=$?
  set -e
  # -fork mode with -ignore_crashes=1 exits 0 after crashes: count them from its progress lines
  if [ $rc -eq 0 ] && grep -qE 'oom/timeout/crash: [0-9]+/[0-9]+/[1-9]' "$log"; then rc=1; fi
  # executions: the final stats, or (in -fork mode, which prints none) the last "#N" progress line
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}' || true)
  [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
  units=$(ls "$work" | wc -l)
  if [ $rc -eq 0 ]; then
    printf '%-12s %12s executions  %6s inputs in its corpus  ok\n' "$n" "${execs:-?}" "$units"
  else
    failed=1
    printf '%-12s %12s executions  %6s inputs in its corpus  FAILED (exit %d): %s\n' "$n" "${execs:-?}" "$units" \
      "$rc" "$(grep -m1 -E 'runtime error|property failed|ERROR: AddressSanitizer|out-of-memory|timeout|deadly signal' "$log" || echo "see $log")"
    ls "$build/fuzz-artifacts/$n-"* 2>/dev/null | grep -v '\.log$' | sed 's/^/    input: /' || true
  fi
done
exit $failed
