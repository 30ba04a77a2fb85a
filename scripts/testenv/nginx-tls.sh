#!/usr/bin/env bash
# Runs nginx for tests, in the foreground (exec): HTTPS on PORT with the PEM certificate and
# key given, forwarding everything to plain HTTP on UPSTREAM_PORT (a SCIM server).
#   nginx-tls.sh DIR PORT UPSTREAM_PORT CERT KEY
set -euo pipefail
source "$(dirname "$0")/nginx-common.sh"
dir=$1 port=$2 upstream=$3 cert=$4 key=$5
write_nginx_conf "$dir" 64 <<CONF
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $cert;
        ssl_certificate_key $key;
        location / {
            proxy_pass http://127.0.0.1:$upstream;
            proxy_set_header Host 127.0.0.1:$upstream;
        }
    }
CONF
exec nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
