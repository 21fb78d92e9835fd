#!/usr/bin/env bash
# From nothing to the quickstart's output: installs what is missing, builds, runs examples/quickstart.cc.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" release
"$root/build/release/quickstart"
