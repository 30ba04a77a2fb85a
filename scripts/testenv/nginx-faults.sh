#!/usr/bin/env bash
# Runs nginx for tests, in the foreground (exec), in front of a SCIM server, injecting faults
# for chosen entries only:
#   - while DIR/poison exists, every request whose URI (path or query) names "poison" answers
#     500 (a destination that fails one entry and serves the rest);
#   - a request naming "noresources" answers 200 with a ListResponse that says totalResults 1
#     but has no Resources (a broken search answer).
# Everything else is forwarded.
#   nginx-faults.sh DIR PORT UPSTREAM_PORT
set -euo pipefail
source "$(dirname "$0")/nginx-common.sh"
dir=$1 port=$2 upstream=$3
write_nginx_conf "$dir" 256 <<CONF
    map \$request_uri \$poisoned { ~*poison 1; default 0; }
    map \$request_uri \$without_resources { ~*noresources 1; default 0; }
    server {
        listen 127.0.0.1:$port;
        default_type application/scim+json;
        location / {
            set \$fail "";
            if (-f $dir/poison) { set \$fail "on"; }
            if (\$poisoned) { set \$fail "\${fail}+named"; }
            if (\$fail = "on+named") {
                return 500 '{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"injected failure"}';
            }
            if (\$without_resources) {
                return 200 '{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":1}';
            }
            proxy_pass http://127.0.0.1:$upstream;
            proxy_set_header Host 127.0.0.1:$upstream;
        }
    }
CONF
exec nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
