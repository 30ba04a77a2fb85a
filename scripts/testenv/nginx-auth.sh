#!/usr/bin/env bash
# Runs nginx for tests, in the foreground (exec), in front of a SCIM server that expects
# "Authorization: Bearer TOKEN":
#   /basic/…        HTTP Basic (USER:PASSWORD, checked by nginx's auth_basic), forwarded with the bearer token
#   /oauth/token    a static OAuth 2.0 token endpoint: POST with HTTP Basic CLIENT_ID:CLIENT_SECRET
#                   gets {"access_token": TOKEN}; it is not an authorization server, only the
#                   token exchange a client-credentials client performs
#   /recorded/…     forwarded with the bearer token; each request's method, path and body is
#                   appended to DIR/requests.log (to see what was sent of what is never returned)
#   nginx-auth.sh DIR PORT UPSTREAM_PORT TOKEN USER PASSWORD CLIENT_ID CLIENT_SECRET
set -euo pipefail
source "$(dirname "$0")/nginx-common.sh"
dir=$1 port=$2 upstream=$3 token=$4 user=$5 password=$6 client_id=$7 client_secret=$8
printf '%s:%s\n' "$user" "$(openssl passwd -apr1 "$password")" > "$dir/htpasswd"
client_basic=$(printf '%s:%s' "$client_id" "$client_secret" | base64 -w0)
write_nginx_conf "$dir" 64 <<CONF
    log_format requests escape=json '\$request_method \$uri \$request_body';
    client_body_buffer_size 1m;
    server {
        listen 127.0.0.1:$port;
        location = /oauth/token {
            default_type application/json;
            if (\$request_method != POST) { return 405; }
            if (\$http_authorization != "Basic $client_basic") { return 401 '{"error":"invalid_client"}'; }
            return 200 '{"access_token":"$token","token_type":"Bearer","expires_in":3600}';
        }
        location /recorded/ {
            access_log $dir/requests.log requests;
            proxy_pass http://127.0.0.1:$upstream/;
            proxy_set_header Authorization "Bearer $token";
            proxy_set_header Host 127.0.0.1:$upstream;
        }
        location /basic/ {
            auth_basic "scim";
            auth_basic_user_file $dir/htpasswd;
            proxy_pass http://127.0.0.1:$upstream/;
            proxy_set_header Authorization "Bearer $token";
            proxy_set_header Host 127.0.0.1:$upstream;
        }
    }
CONF
exec nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
