#!/usr/bin/env bash
# A fresh random slice of cases, recorded from TensorFlow now and run through the conformance suite on
# every target. The seed is printed (and can be fixed with HALOGEN_LIVE_SEED) so a failure can be replayed.
# Exits 77 (reported by ctest as skipped) when TensorFlow is not installed.
set -euo pipefail
conformance_test="$1"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
python="$root/.venv/bin/python"
if ! "$python" -c "import tensorflow" 2>/dev/null; then
  echo "SKIPPED: tensorflow-cpu is not installed in $root/.venv (scripts/bootstrap.sh --test installs it)"
  exit 77
fi
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
seed="${HALOGEN_LIVE_SEED:-$(date +%s)}"
"$python" "$root/scripts/make_conformance_data.py" --live 12 --seed "$seed" --out "$out"
HALOGEN_CONFORMANCE_DIR="$out" "$conformance_test" "TensorFlow conformance on host" \
  "TensorFlow conformance on host-opencl" "TensorFlow conformance on reference"
