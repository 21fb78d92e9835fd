#!/usr/bin/env bash
# Builds examples/embed_aot against freshly generated kernels, runs it, and checks that it links neither
# Halide nor LLVM nor Abseil and agrees with the JIT path (halogen run-op) on the same inputs.
set -euo pipefail
halogen="$1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export PATH="$root/.venv/bin:$PATH"

cmake -S "$root/examples/embed_aot" -B "$work/build" -G Ninja -DHALOGEN_EXECUTABLE="$halogen" >/dev/null
cmake --build "$work/build" >/dev/null
binary="$work/build/embed_aot"
mkdir "$work/out"
"$binary" "$work/out" | tee "$work/run.txt"
grep -q "embed_aot: OK" "$work/run.txt"

# Nothing of Halide, LLVM or Abseil on the link line or in the binary.
link_line="$(ninja -C "$work/build" -t commands embed_aot | tail -n 1)"
if grep -Eiq "halide\.|libHalide|LLVM|absl" <<<"$link_line"; then
  echo "FAIL: the link line names Halide, LLVM or Abseil: $link_line"; exit 1
fi
if ldd "$binary" | grep -Eiq "halide|llvm|absl"; then
  echo "FAIL: the binary depends on Halide, LLVM or Abseil:"; ldd "$binary"; exit 1
fi
if nm -C "$binary" | grep -q "absl::"; then
  echo "FAIL: Abseil symbols in the binary"; exit 1
fi
echo "link line and dependencies: no Halide, LLVM or Abseil ($(ldd "$binary" | wc -l) shared libraries)"

# The same inputs through the JIT path.
"$halogen" run-op DepthwiseConv2dNativeBackpropFilter --input "$work/out/x.npy" --filter_sizes 3,3,24,1 \
  --out_backprop "$work/out/dy.npy" --strides 1,2,2,1 --padding SAME --output "$work/out/dw_jit.npy" >/dev/null
if ! "$root/.venv/bin/python" -c "import numpy" 2>/dev/null; then
  echo "SKIPPED: the JIT comparison needs numpy (scripts/bootstrap.sh --test)"; exit 77
fi
"$root/.venv/bin/python" - "$work/out" <<'PY'
import sys, numpy as np
d = sys.argv[1]
aot, jit = np.load(d + "/dw_aot.npy"), np.load(d + "/dw_jit.npy")
x, dy = np.load(d + "/x.npy").astype(np.float64), np.load(d + "/dy.npy").astype(np.float64)
# SPEC's float32 bound, with sum |x*dy| bounded by the reduction length times max|x| max|dy|.
bound = 1e-5 * np.sqrt(2 * 5 * 6) * (2 * 5 * 6) * np.abs(x).max() * np.abs(dy).max() + 1e-6
worst = np.abs(aot.astype(np.float64) - jit.astype(np.float64)).max()
print(f"AOT vs JIT: max difference {worst:.3g} (bound {bound:.3g}), bitwise equal: {np.array_equal(aot, jit)}")
sys.exit(0 if worst <= bound else 1)
PY
