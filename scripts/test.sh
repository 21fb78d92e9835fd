#!/usr/bin/env bash
# From nothing to a full test run: installs what is missing (test oracles included), builds, runs ctest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh" --test
"$root/scripts/build.sh" release
export PATH="$root/.venv/bin:$PATH"
cd "$root"
ctest --preset release -j2
