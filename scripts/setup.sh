#!/usr/bin/env bash
# Installs what scimsync needs on a fresh Debian machine, skipping whatever is already in
# place. Sourced by console.sh and test.sh; each calls the parts it needs.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TOOLS=${SCIMSYNC_TOOLS_DIR:-$HOME/.cache/scimsync}
SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo "sudo")
CARGO_LEPTOS_VERSION=0.3.10          # 0.3.11 needs a newer rustc than this project's

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# Debian packages, installed only when missing. SETUP_APT_FLAGS adds apt-get options.
setup_apt() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return
  say "installing ${missing[*]}"
  # slapd must not create a default database of its own; tests run their own slapd.
  echo "slapd slapd/no_configuration boolean true" | $SUDO debconf-set-selections
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q ${SETUP_APT_FLAGS:-} "${missing[@]}"
}

# Rust: the wasm target, cargo-leptos, and the wasm-bindgen CLI matching Cargo.lock.
# cargo-leptos would download tools from GitHub, which is unreachable here, so they go on PATH.
setup_rust() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
  if ! cargo leptos --version 2>/dev/null | grep -qx "cargo-leptos $CARGO_LEPTOS_VERSION"; then
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (takes about 12 minutes)"
    cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION"
  fi
  local wb
  wb=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")
  if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wb"; then
    say "installing wasm-bindgen-cli $wb"
    cargo install wasm-bindgen-cli --version "$wb"   # not --locked: the registry here lags its lock file
  fi
}

# Playwright (no browser download: tests drive Debian's chromium) and npm binaryen's wasm-opt.
setup_node() {
  if [ ! -x "$ROOT/end2end/node_modules/.bin/playwright" ] || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
    say "installing end2end npm packages"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund)
  fi
  export PATH="$ROOT/end2end/node_modules/.bin:$PATH"
}

# scim2-server, the SCIM 2.0 server the tests write to.
setup_python() {
  local venv="$TOOLS/scim2-venv"
  if [ ! -x "$venv/bin/scim2-server" ]; then
    say "installing scim2-server into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q scim2-server==0.8.3
  fi
  export SCIMSYNC_SCIM2_SERVER="$venv/bin/scim2-server"
}

# The local PostgreSQL the store tests use (started if it is installed but stopped).
setup_postgres() {
  export SCIMSYNC_TEST_POSTGRES_URL=${SCIMSYNC_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
      say "starting PostgreSQL"
      $SUDO pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
    fi
    pg_isready -q -h 127.0.0.1 -p 5432 || { say "PostgreSQL is not reachable on 127.0.0.1:5432 (needed by the store tests)"; exit 1; }
  fi
}
