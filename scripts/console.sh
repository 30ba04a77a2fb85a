#!/usr/bin/env bash
# Builds and runs the scimsync console on http://127.0.0.1:3000 with an embedded SQLite store
# in ./scimsync-data (created on first start). Installs missing build tools first.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
setup_rust
cd "$ROOT"
exec cargo leptos serve "$@"
