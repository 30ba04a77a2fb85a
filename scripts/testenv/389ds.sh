#!/usr/bin/env bash
# Runs a throw-away 389 Directory Server for tests, without systemd, all state under DIR, with
# the Retro Changelog (cn=changelog, nsUniqueId as targetUniqueId) turned on.
#   389ds.sh DIR PORT
# Test data as in slapd.sh: dc=example,dc=com with ou=people and ou=groups, and the sync user
# cn=sync,dc=example,dc=com / syncpass, who may read everything (the changelog included) with no
# limits. Directory Manager: "cn=Directory Manager" / secret123.
# Touches DIR/ready once usable; stops ns-slapd when sent TERM.
# SCIMSYNC_389_NO_ENTRY_IDS=1: the changelog records no targetUniqueId (the plugin's default).
set -euo pipefail
dir=$(realpath -m "$1") port=$2
instance=t$port                # distinct per port: instances share /dev/shm/sem.slapd-<name>.stats
suffix="dc=example,dc=com"
sync_dn="cn=sync,$suffix"
dm_password=secret123
prefix=$dir/prefix
as_dm() { "$@" -x -H "ldap://127.0.0.1:$port" -D "cn=Directory Manager" -w "$dm_password"; }

# lib389 takes every path from $PREFIX/share/dirsrv/inf/defaults.inf: a copy moved under $prefix,
# with systemd and SELinux off, lets dscreate and ns-slapd run as plain processes.
mkdir -p "$prefix/share" "$prefix/etc/dirsrv"
chmod 755 "$dir" "$prefix"
cp -r /usr/share/dirsrv "$prefix/share/"
cp -r /etc/dirsrv/config /etc/dirsrv/schema "$prefix/etc/dirsrv/"
python3 - "$prefix" <<'PY'
import re, sys
prefix = sys.argv[1]
path = f"{prefix}/share/dirsrv/inf/defaults.inf"
keep = {"bin_dir", "sbin_dir", "lib_dir", "plugin_dir"}
special = {
    "with_systemd": "0", "with_selinux": "no", "prefix": prefix, "data_dir": f"{prefix}/share",
    "system_schema_dir": f"{prefix}/share/dirsrv/schema",
    "inst_dir": f"{prefix}/lib/dirsrv/slapd-{{instance_name}}",
}
lines = []
for line in open(path):
    m = re.match(r"^(\w+)\s*=\s*(.*)$", line)
    if m:
        key, value = m.groups()
        if key in special:
            line = f"{key} = {special[key]}\n"
        elif key not in keep and value.startswith("/"):
            line = f"{key} = {prefix}{value}\n"
    lines.append(line)
open(path, "w").writelines(lines)
PY
# ns-slapd runs as user dirsrv: every directory on its paths must be traversable by it.
for d in run run/lock run/lock/dirsrv run/dirsrv var var/log var/log/dirsrv var/lib var/lib/dirsrv \
         lib lib/dirsrv dev dev/shm etc/dirsrv; do
  install -d -m 755 "$prefix/$d"
done
chown dirsrv:dirsrv "$prefix/run/dirsrv" "$prefix/run/lock/dirsrv"
cat > "$dir/instance.inf" <<INF
[general]
config_version = 2
full_machine_name = localhost
start = False
systemd = False
selinux = False
[slapd]
instance_name = $instance
port = $port
secure_port = $((port + 1))
root_dn = cn=Directory Manager
root_password = $dm_password
self_sign_cert = False
[backend-userroot]
suffix = $suffix
create_suffix_entry = False
sample_entries = no
INF
PREFIX=$prefix dscreate from-file "$dir/instance.inf" > "$dir/dscreate.log" 2>&1 || { cat "$dir/dscreate.log" >&2; exit 1; }
config=$prefix/etc/dirsrv/slapd-$instance

# While stopped: Retro Changelog on (with nsUniqueId recorded as targetUniqueId), referential
# integrity on, clear-text passwords in changelog records, and no fsync per write (tests only).
python3 - "$config/dse.ldif" "$suffix" "${SCIMSYNC_389_NO_ENTRY_IDS:-0}" <<'PY'
import sys
path, suffix, no_entry_ids = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
entries = open(path).read().split("\n\n")
for i, entry in enumerate(entries):
    if entry.lstrip("\n").startswith("dn: cn=Retro Changelog Plugin,cn=plugins,cn=config"):
        entry = entry.replace("nsslapd-pluginEnabled: off", "nsslapd-pluginEnabled: on").rstrip("\n")
        if not no_entry_ids:
            entry += "\nnsslapd-attribute: nsuniqueid:targetUniqueId"
        entry += "\nnsslapd-changelogmaxage: 2d"
        entry += f"\nnsslapd-include-suffix: {suffix}"
        entries[i] = entry
    elif entry.lstrip("\n").lower().startswith("dn: cn=referential integrity postoperation,cn=plugins,cn=config"):
        # Referential integrity: a rename or delete rewrites the member, uniqueMember and
        # manager values naming the entry, at once.
        lines = [l for l in entry.rstrip("\n").split("\n") if not l.lower().startswith("nsslapd-pluginenabled:")]
        lines += ["nsslapd-pluginenabled: on", "referint-membership-attr: manager"]
        entries[i] = "\n".join(lines)
    elif entry.lstrip("\n").startswith("dn: cn=config\n"):
        # 389 DS writes a changed password in clear text into the changelog record
        # (unhashed#user#password) only with this switch on.
        lines = [l for l in entry.rstrip("\n").split("\n") if not l.lower().startswith("nsslapd-unhashed-pw-switch:")]
        entries[i] = "\n".join(lines + ["nsslapd-unhashed-pw-switch: on"])
text = "\n\n".join(entries)
open(path, "w").write(text.replace("nsslapd-db-durable-transaction: on", "nsslapd-db-durable-transaction: off"))
PY

seed=$prefix/var/lib/dirsrv/slapd-$instance/ldif/seed.ldif
mkdir -p "$(dirname "$seed")"
cat > "$seed" <<LDIF
dn: $suffix
objectClass: top
objectClass: domain
dc: example
aci: (targetattr="*")(version 3.0; acl "sync user reads"; allow (read,search,compare) userdn="ldap:///$sync_dn";)

dn: ou=people,$suffix
objectClass: top
objectClass: organizationalUnit
ou: people

dn: ou=groups,$suffix
objectClass: top
objectClass: organizationalUnit
ou: groups

dn: $sync_dn
objectClass: top
objectClass: person
cn: sync
sn: sync
userPassword: syncpass
nsSizeLimit: -1
nsLookThroughLimit: -1
nsPagedSizeLimit: -1
nsPagedLookThroughLimit: -1
nsTimeLimit: -1
LDIF
chown -R dirsrv:dirsrv "$(dirname "$seed")"

ns-slapd -D "$config" -i "$prefix/run/dirsrv/slapd-$instance.pid" -d 0 > "$dir/ns-slapd.out" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; exit 0' TERM INT
for _ in $(seq 300); do
  ldapsearch -x -H "ldap://127.0.0.1:$port" -s base -b "" >/dev/null 2>&1 && break
  kill -0 "$server" 2>/dev/null || { tail -20 "$prefix/var/log/dirsrv/slapd-$instance/errors" >&2; exit 1; }
  sleep 0.1
done

# An online import (an offline one right after dscreate is far slower: caches are sized at first start).
as_dm ldapmodify >/dev/null <<LDIF
dn: cn=seed,cn=import,cn=tasks,cn=config
changetype: add
objectClass: extensibleObject
cn: seed
nsFilename: $seed
nsInstance: userRoot
LDIF
while :; do
  rc=$(as_dm ldapsearch -LLL -b cn=seed,cn=import,cn=tasks,cn=config -s base nsTaskExitCode | sed -n 's/^nsTaskExitCode: //p')
  [ -n "$rc" ] && break
  sleep 0.3
done
[ "$rc" = 0 ] || { echo "seed import failed: $rc" >&2; exit 1; }

# cn=changelog exists once the plugin runs; only then can the sync user be let in.
as_dm ldapmodify >/dev/null <<LDIF
dn: cn=changelog
changetype: modify
add: aci
aci: (targetattr="*")(version 3.0; acl "sync user reads changelog"; allow (read,search,compare) userdn="ldap:///$sync_dn";)
LDIF
touch "$dir/ready"
wait "$server"
