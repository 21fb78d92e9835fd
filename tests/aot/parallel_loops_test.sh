#!/usr/bin/env bash
# Builds both layouts' CPU kernels ahead of time and runs tests/aot/parallel_loops_main.cc against them:
# one parallel loop with work per call, and results within SPEC's bound of the float64 definition. NHWC also
# at most AVX2 (on a host without AVX2 its baseline variant runs).
set -euo pipefail
halogen="$1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
"$halogen" aot kernel --name dw_nhwc --layout NHWC --out "$work" >/dev/null
"$halogen" aot kernel --name dw_nhwc_avx2 --layout NHWC --features avx2 --out "$work" >/dev/null
"$halogen" aot kernel --name dw_nchw --layout NCHW --out "$work" >/dev/null
"$halogen" aot runtime --out "$work" >/dev/null
c++ -std=c++17 -O2 -I"$work" -I"$work/include" -I"$root/examples/embed_aot" "$root/tests/aot/parallel_loops_main.cc" "$work/dw_nhwc.a" \
  "$work/dw_nhwc_avx2.a" "$work/dw_nchw.a" "$work/halogen_runtime.a" -lpthread -ldl -o "$work/parallel_loops"
"$work/parallel_loops"
