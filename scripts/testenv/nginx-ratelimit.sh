#!/usr/bin/env bash
# Runs nginx for tests, in the foreground (exec), as a rate-limiting proxy in front of a SCIM
# server: over RATE requests/s it answers 429 with a SCIM error body and Retry-After: 1.
#   nginx-ratelimit.sh DIR PORT UPSTREAM_PORT RATE
set -euo pipefail
source "$(dirname "$0")/nginx-common.sh"
dir=$1 port=$2 upstream=$3 rate=$4
write_nginx_conf "$dir" 256 <<CONF
    limit_req_zone \$binary_remote_addr zone=scim:1m rate=${rate}r/s;
    limit_req_status 429;
    server {
        listen 127.0.0.1:$port;
        location / {
            limit_req zone=scim;
            proxy_pass http://127.0.0.1:$upstream;
            proxy_set_header Host 127.0.0.1:$upstream;
        }
        error_page 429 = @throttled;
        location @throttled {
            add_header Retry-After 1 always;
            default_type application/scim+json;
            return 429 '{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"429","detail":"too many requests"}';
        }
    }
CONF
exec nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
