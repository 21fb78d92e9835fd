#!/usr/bin/env bash
# Installs everything halogen needs, pinned, from nothing; takes seconds when all is already there.
#
#   scripts/bootstrap.sh          build and main-job dependencies (Debian packages + .venv)
#   scripts/bootstrap.sh --test   the same, plus the test oracles (numpy, tensorflow-cpu)
#   scripts/bootstrap.sh --bench  the same, plus the benchmark peers (oneDNN's newest CPU wheel, TensorFlow,
#                                 matplotlib for the report)
#
# Debian packages go in with apt-get (needs root, as on this machine kind); Python wheels go into the
# project-local .venv, never the system interpreter. A stamp per wheel set lets a second run skip pip.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
want_test=0
want_bench=0
for arg in "$@"; do
  case "$arg" in
    --test) want_test=1 ;;
    --bench) want_bench=1 ;;
    -h|--help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf '[bootstrap] %s\n' "$*"; }

# ---- Debian packages ---------------------------------------------------------------------------
debian_packages=(
  build-essential clang lld libclang-rt-14-dev
  llvm-19-dev
  libabsl-dev
  catch2
  pocl-opencl-icd ocl-icd-opencl-dev ocl-icd-libopencl1 opencl-headers
  libdnnl-dev
  libbenchmark-dev
  zlib1g-dev libzstd-dev libxml2-dev libedit-dev libffi-dev libtinfo-dev
)
missing=()
for pkg in "${debian_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$pkg")
  fi
done
if ((${#missing[@]})); then
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  say "installing Debian packages: ${missing[*]}"
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
else
  say "Debian packages present"
fi

# ---- Python wheels in .venv ----------------------------------------------------------------------
venv="$root/.venv"
python_bin="${HALOGEN_PYTHON:-python3}"
if [[ ! -x "$venv/bin/python" ]]; then
  say "creating $venv"
  "$python_bin" -m venv "$venv"
fi

install_wheels() {  # $1 = stamp name, rest = pinned requirements
  local name="$1"; shift
  local stamp="$venv/.halogen-$name"
  local want="$*"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    say "wheels '$name' present"
    return
  fi
  say "installing wheels '$name': $want"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "$@"
  printf '%s' "$want" >"$stamp"
}

install_wheels build halide==21.0.0 cmake==3.31.6 ninja==1.11.1.4
if ((want_test || want_bench)); then
  install_wheels test numpy==2.4.6 tensorflow-cpu==2.21.0
fi
if ((want_bench)); then
  install_wheels bench onednn-cpu-gomp==2023.2.0 onednn-devel-cpu-gomp==2023.2.0 matplotlib==3.11.2
fi
say "ready"
