#!/usr/bin/env bash
# Runs a throw-away OpenLDAP slapd for tests, in the foreground (exec: the PID is slapd's).
#   slapd.sh DIR PORT
# DIR gets the config, a main database (dc=example,dc=com with ou=people, ou=groups and the
# sync user cn=sync / syncpass, who may read everything and has no size limit) and an
# accesslog database (cn=accesslog). The directory manager is cn=Manager / secret.
# Other users get a size limit of 50, so tests can see limits reported as errors.
# With SCIMSYNC_SLAPD_LDIF=FILE, the entries of FILE are bulk-loaded too (slapadd, offline).
# With SCIMSYNC_SLAPD_TLS="CERT KEY LDAPS_PORT", StartTLS is offered on PORT and LDAPS listens
# on LDAPS_PORT, with that PEM certificate and key.
set -euo pipefail
dir=$1 port=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir/data" "$dir/accesslog"
suffix="dc=example,dc=com"
sync_dn="cn=sync,$suffix"
cat > "$dir/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
include $here/scimsync-test.schema
pidfile $dir/slapd.pid
argsfile $dir/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload accesslog
moduleload refint
moduleload syncprov
sizelimit 50
$(if [ -n "${SCIMSYNC_SLAPD_TLS:-}" ]; then
  read -r cert key _ <<< "$SCIMSYNC_SLAPD_TLS"
  printf 'TLSCertificateFile %s\nTLSCertificateKeyFile %s\n' "$cert" "$key"
fi)

database mdb
suffix "cn=accesslog"
rootdn "cn=accesslog"
directory $dir/accesslog
maxsize 8589934592
dbnosync
index default eq
index entryCSN,objectClass,reqEnd,reqResult,reqStart,reqDN eq
limits dn.exact="$sync_dn" size=unlimited time=unlimited
access to * by dn.exact="$sync_dn" read by * none
# syncprov on the log, as for delta-syncrepl: it pushes new records to a refreshAndPersist search.
overlay syncprov
syncprov-nopresent TRUE
syncprov-reloadhint TRUE

database mdb
suffix "$suffix"
rootdn "cn=Manager,$suffix"
rootpw secret
directory $dir/data
maxsize 8589934592
dbnosync
index objectClass,entryUUID,entryCSN eq
index uid,mail,cn eq
limits dn.exact="$sync_dn" size=unlimited time=unlimited
access to attrs=userPassword by self write by anonymous auth by * none
access to * by dn.exact="$sync_dn" read by users read by * none
overlay accesslog
logdb cn=accesslog
logops writes
logsuccess TRUE
logpurge 07+00:00 01+00:00
# Referential integrity: renaming or deleting an entry rewrites the member, uniqueMember and
# manager values that name it (a group left without members gets cn=nobody, as groupOfNames
# needs one).
overlay refint
refint_attributes member uniqueMember manager
refint_nothing "cn=nobody,$suffix"
CONF
if [ ! -e "$dir/data/data.mdb" ]; then
  cat > "$dir/base.ldif" <<LDIF
dn: $suffix
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,$suffix
objectClass: organizationalUnit
ou: people

dn: ou=groups,$suffix
objectClass: organizationalUnit
ou: groups

dn: $sync_dn
objectClass: person
objectClass: simpleSecurityObject
cn: sync
sn: sync
userPassword: syncpass
LDIF
  /usr/sbin/slapadd -q -f "$dir/slapd.conf" -b "$suffix" -l "$dir/base.ldif"
  if [ -n "${SCIMSYNC_SLAPD_LDIF:-}" ]; then
    /usr/sbin/slapadd -q -f "$dir/slapd.conf" -b "$suffix" -l "$SCIMSYNC_SLAPD_LDIF"
  fi
fi
urls="ldap://127.0.0.1:$port/"
if [ -n "${SCIMSYNC_SLAPD_TLS:-}" ]; then
  read -r _ _ ldaps_port <<< "$SCIMSYNC_SLAPD_TLS"
  urls="$urls ldaps://127.0.0.1:$ldaps_port/"
fi
exec /usr/sbin/slapd -f "$dir/slapd.conf" -h "$urls" -d 0
