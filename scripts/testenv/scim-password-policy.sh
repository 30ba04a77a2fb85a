#!/usr/bin/env bash
# Runs scim-password-policy.py in the foreground (exec): a password policy in front of a SCIM
# server that refuses passwords shorter than MIN_LENGTH, quoting them back.
#   scim-password-policy.sh DIR PORT UPSTREAM_PORT MIN_LENGTH
set -euo pipefail
exec python3 "$(dirname "$0")/scim-password-policy.py" "$2" "$3" "$4"
