#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan, UBSan) and runs each for a bounded time from the committed
# seed corpus (copied, so the committed one stays as it is). Fails on any crash; prints executions.
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 30)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-30}"
export PATH="$root/.venv/bin:$PATH"
cd "$root"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export ASAN_OPTIONS="detect_leaks=0:detect_odr_violation=0"
export HALOGEN_CACHE_DIR="$work/kernel-cache"
status=0
passed=0
failed=0
for target in npy pins op; do
  cp -r "tests/fuzz/corpus/$target" "$work/$target"
  # The op fuzzer JIT-compiles kernels (several seconds each); one pass over the seed corpus first leaves
  # them in the disk cache, so the timed run spends its time fuzzing. A crash there shows up again in the
  # timed run, which starts with the same corpus.
  if [ "$target" = op ]; then
    build/fuzz/tests/fuzz/op_fuzz "$work/op" -runs=0 -artifact_prefix="$work/op_warmup_" >"$work/op-warmup.log" 2>&1 ||
      true
  fi
  log="$work/$target.log"
  if build/fuzz/tests/fuzz/${target}_fuzz "$work/$target" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$work/${target}_" >"$log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    echo "fuzz ${target}: ${runs:-?} executions in ${seconds} s, no crash"
    passed=$((passed + 1))
  else
    echo "fuzz ${target}: FAILED"; tail -40 "$log"; status=1
    failed=$((failed + 1))
  fi
done
echo "fuzzers: ${passed} passed, ${failed} failed"
exit $status
