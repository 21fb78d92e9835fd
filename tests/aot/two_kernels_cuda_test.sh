#!/usr/bin/env bash
# Generates the CUDA variant with its runtime and links it into a program with a host kernel: one runtime,
# no duplicate symbols. Runs it only where an NVIDIA GPU is present (exit 77, skipped, elsewhere).
set -euo pipefail
halogen="$1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$halogen" aot kernel --name dw_cuda --target host-cuda --out "$work" >/dev/null
"$halogen" aot kernel --name dw_host --out "$work" >/dev/null
"$halogen" aot runtime --target host-cuda --out "$work" >/dev/null
c++ -std=c++17 -I"$work" -I"$work/include" "$root/tests/aot/two_kernels_main.cc" "$work/dw_cuda.a" \
  "$work/dw_host.a" "$work/halogen_runtime.a" -lpthread -ldl -o "$work/two_kernels"
echo "linked: one CUDA kernel, one host kernel, one runtime"
if ! nvidia-smi >/dev/null 2>&1; then
  echo "SKIPPED: running the CUDA kernel needs an NVIDIA GPU; this machine has none"
  exit 77
fi
"$work/two_kernels"
