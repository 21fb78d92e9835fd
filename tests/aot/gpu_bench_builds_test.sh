#!/usr/bin/env bash
# The GPU benchmark (bench/gpu/) builds wherever the CUDA toolkit is, its kernels generated ahead of time by
# this halogen; without a GPU the program stops with a clear error (exit 2) before doing anything. Skipped
# (exit 77) without nvcc; on a GPU machine, scripts/gpu_bench.sh runs it for real.
set -euo pipefail
halogen="$(realpath "$1")"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
command -v nvcc >/dev/null || { echo "SKIPPED: no CUDA toolkit (nvcc) on this machine"; exit 77; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cmake -S "$root/bench/gpu" -B "$work" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHALOGEN_EXECUTABLE="$halogen" >/dev/null
cmake --build "$work" -j2 >/dev/null
echo "built: halogen-bench-gpu with every GPU schedule in both layouts"
if nvidia-smi >/dev/null 2>&1; then
  echo "SKIPPED: a GPU is present; scripts/gpu_bench.sh runs the benchmark itself"
  exit 77
fi
set +e
"$work/halogen-bench-gpu" --shapes "$root/bench/shapes.txt" >"$work/out" 2>"$work/err"
status=$?
set -e
cat "$work/err"
[ "$status" -eq 2 ] && grep -q '^error: ' "$work/err" && [ ! -s "$work/out" ]
