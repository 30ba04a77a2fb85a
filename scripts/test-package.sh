#!/usr/bin/env bash
# The Debian package as an admin meets it, on this machine (run by scripts/test.sh after
# scripts/release.sh): installed with dpkg; its unit passes `systemd-analyze verify`; the
# unit's ExecStart runs as the service user from an empty directory with the unit's and the
# packaged settings (no systemd runs as PID 1 here); the first start writes the admin password
# to its output (the journal, under systemd) and a browser signs in and sets up step 1 (the
# release spec); `scimsync users` works on the installed data as the service user; a newer
# package keeps the data and the key file, `remove` keeps them, `purge` deletes them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
say() { printf '\033[1m[package]\033[0m %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
SUDO=$([ "$(id -u)" = 0 ] && echo "" || echo "sudo")
cd "$ROOT"

deb=$(ls dist/scimsync_*_amd64.deb | head -1)
[ -f "$deb" ] || fail "no dist/scimsync_*_amd64.deb: run scripts/release.sh"
unit=/lib/systemd/system/scimsync.service
work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  $SUDO dpkg -P scimsync >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

say "installing $deb"
$SUDO dpkg -i "$deb" >/dev/null
[ -x /usr/bin/scimsync ] || fail "/usr/bin/scimsync is not installed"
[ "$(stat -c %U /var/lib/scimsync)" = scimsync ] || fail "/var/lib/scimsync is not the service user's"
[ "$(stat -c '%a %U %G' /etc/scimsync/scimsync.env)" = "640 root scimsync" ] || fail "the settings file is not root:scimsync 0640"
systemd-analyze verify "$unit" || fail "systemd-analyze verify $unit"

# The unit's command, user and environment, as systemd would start them.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
user=$(sed -n 's/^User=//p' "$unit")
unit_env=$(sed -n 's/^Environment=//p' "$unit")
settings=$(sed -n 's/^EnvironmentFile=//p' "$unit")
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
empty="$work/empty"
mkdir -p "$empty"
chmod 755 "$work" "$empty"
start() {
  # shellcheck disable=SC2046 # one variable per line of the settings file
  setpriv --reuid="$user" --regid="$user" --init-groups \
    env -i PATH=/usr/bin:/bin $unit_env $(grep -v '^\s*#' "$settings" | grep .) \
    SCIMSYNC_LISTEN="127.0.0.1:$port" \
    sh -c "cd '$empty' && exec $exec_start" >"$work/serve.log" 2>&1 &
  server=$!
  for _ in $(seq 300); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; fail "the service did not start"; }
    sleep 0.1
  done
  fail "the service did not listen on $port"
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; server=""; }

say "starting the unit's ExecStart as $user"
start
password=$(sed -n 's/.*created console user "admin" with password  \([^ ]*\) .*/\1/p' "$work/serve.log")
[ -n "$password" ] || { cat "$work/serve.log" >&2; fail "the first start printed no admin password"; }
grep -q "LEPTOS_OUTPUT_NAME" "$work/serve.log" && fail "the service warned about Leptos variables"
say "signing in with a browser and setting up step 1"
(cd end2end && SCIMSYNC_RELEASE_BIN=/usr/bin/scimsync SCIMSYNC_RELEASE_URL="http://127.0.0.1:$port" \
  SCIMSYNC_RELEASE_ADMIN_PASSWORD="$password" npx playwright test tests/release.spec.ts)
stop
start
stop
if grep -q 'created console user' "$work/serve.log"; then fail "a second start created an admin again"; fi
users=$(setpriv --reuid="$user" --regid="$user" --init-groups /usr/bin/scimsync --data-dir /var/lib/scimsync users list)
[ "$users" = "$(printf 'admin\tadmin')" ] || fail "scimsync users on the installed data: $users"
if [ "$(id -u)" = 0 ]; then
  refused=$(/usr/bin/scimsync --data-dir /var/lib/scimsync users list 2>&1 || true)
  case "$refused" in
    *"belongs to scimsync: run this as that user"*) ;;
    *) fail "root worked on the service's data: $refused" ;;
  esac
fi

say "upgrading to a newer package: the data and the key file stay"
key_before=$(sha256sum /var/lib/scimsync/secret.key)
dpkg-deb -R "$deb" "$work/newer"
sed -i 's/^Version: \(.*\)$/Version: \1+newer/' "$work/newer/DEBIAN/control"
dpkg-deb --root-owner-group --build "$work/newer" "$work/newer.deb" >/dev/null
$SUDO dpkg -i "$work/newer.deb" >/dev/null
[ "$(sha256sum /var/lib/scimsync/secret.key)" = "$key_before" ] || fail "the key file changed"
start
stop
users=$(setpriv --reuid="$user" --regid="$user" --init-groups /usr/bin/scimsync --data-dir /var/lib/scimsync users list)
[ "$users" = "$(printf 'admin\tadmin')" ] || fail "after the upgrade: $users"

say "remove keeps the data, purge deletes it"
$SUDO dpkg -r scimsync >/dev/null
[ ! -e /usr/bin/scimsync ] || fail "remove left the binary"
[ -f /var/lib/scimsync/scimsync.db ] && [ -f /var/lib/scimsync/secret.key ] || fail "remove deleted the data"
$SUDO dpkg -P scimsync >/dev/null
[ ! -e /var/lib/scimsync ] && [ ! -e /etc/scimsync ] || fail "purge left the data or the settings"
say "the package works"
