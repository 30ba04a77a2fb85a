#!/usr/bin/env bash
# Runs every test: unit tests, store tests on SQLite and PostgreSQL, integration tests against
# a real slapd and scim2-server, CLI tests, and the end-to-end browser tests in headless
# Chromium. Installs what is missing first.
set -euo pipefail
source "$(dirname "$0")/setup.sh"
setup_apt chromium slapd ldap-utils nginx-light openssl curl python3-venv postgresql-client
SETUP_APT_FLAGS=--no-install-recommends setup_apt 389-ds-base   # the Recommends pull in ~120 packages
setup_rust
setup_node
setup_python
setup_postgres
cd "$ROOT"

target=$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')

say "format and lint gate (cargo fmt --check, cargo clippy -D warnings)"
cargo fmt --all --check
cargo clippy --workspace --all-targets --features app/ssr -- -D warnings

say "cargo test (engine, console server functions, CLI)"
cargo test --workspace --features app/ssr

say "building the console (cargo leptos build)"
cargo leptos build

site="$ROOT/target/site"
[ -f "$site/pkg/scimsync.js" ] || site="$target/site"
say "end-to-end tests in headless Chromium"
(cd end2end && SCIMSYNC_BIN="$target/debug/scimsync" SCIMSYNC_SITE_ROOT="$site" \
  npx playwright test $(ls tests/*.spec.ts | grep -v release.spec.ts))

say "building the release (scripts/release.sh) and testing it as installed"
bash scripts/release.sh
# The tarball's binary, unpacked alone into an empty directory.
unpacked=$(mktemp -d)
tar -C "$unpacked" -xzf "$(ls dist/scimsync-*-x86_64-linux.tar.gz | head -1)"
(cd end2end && SCIMSYNC_RELEASE_BIN="$(ls "$unpacked"/scimsync-*/scimsync)" npx playwright test tests/release.spec.ts)
rm -rf "$unpacked"
bash scripts/test-package.sh
