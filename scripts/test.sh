#!/usr/bin/env bash
# From nothing to a full test run: installs what is missing (test oracles included), builds, runs ctest;
# then the same suite under AddressSanitizer + UndefinedBehaviorSanitizer, the concurrency test under
# ThreadSanitizer, and each fuzzer for a bounded time.
#   scripts/test.sh            everything (what CI runs)
#   scripts/test.sh --quick    the release suite only
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
quick=0
[[ "${1:-}" == "--quick" ]] && quick=1
"$root/scripts/bootstrap.sh" --test
"$root/scripts/build.sh" release
export PATH="$root/.venv/bin:$PATH"
cd "$root"
ctest --preset release -j2
((quick)) && exit 0

echo "== AddressSanitizer + UndefinedBehaviorSanitizer =="
"$root/scripts/build.sh" asan
ctest --preset asan -j2

# (Generated kernels and their Halide runtime are not instrumented; the tsan preset tells TSan to ignore
# the pthread calls they make, ignore_noninstrumented_modules=1, so halogen's own code is what it checks.
# ASan runs without leak checking: Halide and LLVM keep process-lifetime allocations by design.)
echo "== ThreadSanitizer: the concurrency tests =="
cmake --preset tsan >/dev/null
cmake --build --preset tsan
ctest --preset tsan

echo "== fuzzers =="
"$root/scripts/fuzz.sh" "${HALOGEN_FUZZ_SECONDS:-30}"
