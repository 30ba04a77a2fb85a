#!/usr/bin/env bash
# Builds the release into dist/: `scimsync`, one self-contained binary that carries the
# console's site inside itself (release WebAssembly optimised by wasm-opt, JavaScript, CSS,
# each precompressed with brotli and gzip); a tarball with it, the README, the licence, an
# example configuration and the systemd unit and settings; and a Debian package that installs
# the hardened service. Installs what it needs first, as the other scripts.
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

say "building the console's site for release (cargo leptos build --release --frontend-only)"
cargo leptos build --release --frontend-only
site="$ROOT/target/site"
[ -f "$site/pkg/scimsync.wasm" ] || site="$target/site"

say "building scimsync $version ($commit) with the site inside"
SCIMSYNC_EMBED_SITE="$site" SCIMSYNC_GIT_COMMIT="$commit" LEPTOS_OUTPUT_NAME=scimsync \
  cargo build --profile server-release -p server --bin scimsync

mkdir -p dist
cp "$target/server-release/scimsync" dist/scimsync
strip dist/scimsync   # its symbols are half its size; a release needs none
say "dist/scimsync: $(du -h dist/scimsync | cut -f1), $(dist/scimsync --version)"

say "packing dist/scimsync-$version-x86_64-linux.tar.gz"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
tar_dir="$stage/scimsync-$version"
mkdir -p "$tar_dir"
cp dist/scimsync README.md LICENSE packaging/scimsync.service packaging/scimsync.env "$tar_dir/"
cp engine/tests/fixtures/example-config.json "$tar_dir/example-config.json"
tar -C "$stage" --owner=0 --group=0 -czf "dist/scimsync-$version-x86_64-linux.tar.gz" "scimsync-$version"

say "packing dist/scimsync_${version}_amd64.deb"
root="$stage/deb"
install -D -m 0755 dist/scimsync "$root/usr/bin/scimsync"
install -D -m 0644 packaging/scimsync.service "$root/lib/systemd/system/scimsync.service"
install -D -m 0640 packaging/scimsync.env "$root/etc/scimsync/scimsync.env"
install -D -m 0644 README.md "$root/usr/share/doc/scimsync/README.md"
install -D -m 0644 LICENSE "$root/usr/share/doc/scimsync/copyright"
install -D -m 0644 engine/tests/fixtures/example-config.json "$root/usr/share/doc/scimsync/example-config.json"
install -d "$root/DEBIAN"
install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
echo /etc/scimsync/scimsync.env > "$root/DEBIAN/conffiles"
cat > "$root/DEBIAN/control" <<CONTROL
Package: scimsync
Version: $version
Architecture: amd64
Maintainer: scimsync developers <scimsync@localhost>
Depends: libc6 (>= 2.34), adduser
Section: net
Priority: optional
Installed-Size: $(du -sk "$root" | cut -f1)
Description: keeps SCIM 2.0 services in step with LDAP directories
 A sync server that follows LDAP directories (OpenLDAP accesslog, 389 DS and other
 cn=changelog servers) and keeps SCIM 2.0 services in step, with a web console in which
 directory admins set it up and watch it work. Runs as the hardened systemd service
 scimsync.service; settings in /etc/scimsync/scimsync.env, data in /var/lib/scimsync.
CONTROL
dpkg-deb --root-owner-group --build "$root" "dist/scimsync_${version}_amd64.deb" >/dev/null
ls -l dist/ >&2
