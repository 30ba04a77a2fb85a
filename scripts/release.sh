#!/usr/bin/env bash
# Builds the release into dist/: `scimsync`, one self-contained binary that carries the
# console's site inside itself (release WebAssembly optimised by wasm-opt, JavaScript, CSS,
# each precompressed with brotli and gzip). Installs what it needs first, as the other scripts.
#   scripts/release.sh
set -euo pipefail
source "$(dirname "$0")/setup.sh"
setup_rust
setup_node   # binaryen's wasm-opt, which cargo leptos runs on the release WebAssembly
cd "$ROOT"

metadata=$(cargo metadata --no-deps --format-version 1)
version=$(python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "server"))' <<<"$metadata")
target=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])' <<<"$metadata")
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)

say "building the console's site for release (cargo leptos build --release)"
cargo leptos build --release
site="$ROOT/target/site"
[ -f "$site/pkg/scimsync.wasm" ] || site="$target/site"

say "building scimsync $version ($commit) with the site inside"
SCIMSYNC_EMBED_SITE="$site" SCIMSYNC_GIT_COMMIT="$commit" LEPTOS_OUTPUT_NAME=scimsync \
  cargo build --profile server-release -p server --bin scimsync

mkdir -p dist
cp "$target/server-release/scimsync" dist/scimsync
strip dist/scimsync   # its symbols are half its size; a release needs none
say "dist/scimsync: $(du -h dist/scimsync | cut -f1), $(dist/scimsync --version)"
