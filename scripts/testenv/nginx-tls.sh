#!/usr/bin/env bash
# Runs nginx for tests, in the foreground (exec): HTTPS on PORT with the PEM certificate and
# key given, forwarding everything to plain HTTP on UPSTREAM_PORT (a SCIM server).
#   nginx-tls.sh DIR PORT UPSTREAM_PORT CERT KEY
set -euo pipefail
dir=$1 port=$2 upstream=$3 cert=$4 key=$5
mkdir -p "$dir/tmp"
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 64; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    scgi_temp_path $dir/tmp/scgi;
    server {
        listen 127.0.0.1:$port ssl;
        ssl_certificate $cert;
        ssl_certificate_key $key;
        location / {
            proxy_pass http://127.0.0.1:$upstream;
            proxy_set_header Host 127.0.0.1:$upstream;
        }
    }
}
CONF
exec nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
