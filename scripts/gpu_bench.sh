#!/usr/bin/env bash
# The GPU benchmark: halogen's CUDA kernels against cuDNN (bench/gpu/).
#
#   scripts/gpu_bench.sh build     build it here (CUDA toolkit with cuDNN needed, no GPU) and pack
#                                  build/gpu-bundle: the program, the Abseil libraries it links, the shapes
#                                  and this script, everything a GPU machine needs besides its driver and cuDNN
#   scripts/gpu_bench.sh run [OUT] on a machine with an NVIDIA GPU: run the bundle, writing
#                                  OUT/gpu-DATE.json and OUT/gpu-DATE.log (OUT: bench/results)
#
# The kernels are generated ahead of time by `halogen aot`, so the GPU machine needs neither Halide nor
# LLVM; scripts/bench_report.py adds the newest gpu-*.json to docs/PERF.md.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bundle="$root/build/gpu-bundle"
case "${1:-}" in
  build)
    export PATH="$root/.venv/bin:$PATH"
    if ! command -v nvcc >/dev/null; then
      echo "error: nvcc not found: the GPU benchmark needs the CUDA toolkit" >&2
      exit 2
    fi
    # The halogen command line generates the kernels: bring it up to date first.
    if [ -d "$root/build/release" ]; then cmake --build "$root/build/release" --target halogen -j2 >/dev/null
    else "$root/scripts/build.sh" release; fi
    cmake -S "$root/bench/gpu" -B "$root/build/gpu-bench" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DHALOGEN_EXECUTABLE="$root/build/release/halogen" >/dev/null
    cmake --build "$root/build/gpu-bench" -j2
    rm -rf "$bundle" && mkdir -p "$bundle/lib"
    cp "$root/build/gpu-bench/halogen-bench-gpu" "$root/bench/shapes.txt" "$bundle/"
    ldd "$root/build/gpu-bench/halogen-bench-gpu" | awk '/libabsl_/ {print $3}' | xargs -r cp -t "$bundle/lib"
    # The embedding path as a user has it: a CUDA and a host kernel with one runtime, Halide's own context.
    aot="$root/build/gpu-bench/two_kernels"
    "$root/build/release/halogen" aot kernel --name dw_cuda --target host-cuda --out "$aot" >/dev/null
    "$root/build/release/halogen" aot kernel --name dw_host --out "$aot" >/dev/null
    "$root/build/release/halogen" aot runtime --target host-cuda --out "$aot" >/dev/null
    c++ -std=c++17 -O2 -I"$aot" -I"$aot/include" "$root/tests/aot/two_kernels_main.cc" "$aot/dw_cuda.a" \
      "$aot/dw_host.a" "$aot/halogen_runtime.a" -lpthread -ldl -o "$bundle/two_kernels"
    cp "$0" "$bundle/gpu_bench.sh"
    echo "packed $bundle ($(du -sh "$bundle" | cut -f1)); on a GPU machine: $bundle/gpu_bench.sh run OUT"
    ;;
  run)
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    [ -x "$here/halogen-bench-gpu" ] || here="$bundle"
    out="${2:-$root/bench/results}"
    mkdir -p "$out"
    # cuDNN: the system's, else the one a Python wheel (nvidia-cudnn-*) installed.
    libs="$here/lib"
    if ! ldconfig -p | grep -q 'libcudnn.so.9 '; then
      cudnn="$(find /usr /opt -name 'libcudnn.so.9' 2>/dev/null | head -1 || true)"
      [ -n "$cudnn" ] || { echo "error: cuDNN 9 (libcudnn.so.9) not found" >&2; exit 2; }
      libs="$libs:$(dirname "$cudnn")"
    fi
    stamp="$(date -u +%Y%m%d-%H%M%S)"
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem --format=csv \
      | tee "$out/gpu-$stamp.log" >&2
    echo "[gpu] AOT embedding check (tests/aot/two_kernels_main.cc):" | tee -a "$out/gpu-$stamp.log" >&2
    "$here/two_kernels" 2>&1 | tee -a "$out/gpu-$stamp.log" >&2 || echo "[gpu] AOT embedding check FAILED" >&2
    LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" "$here/halogen-bench-gpu" \
      --shapes "$here/shapes.txt" --runs "${HALOGEN_GPU_RUNS:-20}" > "$out/gpu-$stamp.jsonl" \
      2> >(tee -a "$out/gpu-$stamp.log" >&2)
    # One JSON list, like halogen bench's results.
    { echo "["; sed '$!s/$/,/' "$out/gpu-$stamp.jsonl"; echo "]"; } > "$out/gpu-$stamp.json"
    rm "$out/gpu-$stamp.jsonl"
    echo "wrote $out/gpu-$stamp.json" >&2
    ;;
  *)
    sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'
    [ "${1:-}" = "--help" ] || [ "${1:-}" = "-h" ]
    ;;
esac
