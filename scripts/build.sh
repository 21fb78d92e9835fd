#!/usr/bin/env bash
# Configures and builds halogen with the project's own toolchain (.venv cmake + ninja), -j2.
#   scripts/build.sh [release|debug]     (default release)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
preset="${1:-release}"
export PATH="$root/.venv/bin:$PATH"
cd "$root"
# Configuring again is quick, and picks up what bootstrap installed since (e.g. the oneDNN peers).
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset"
