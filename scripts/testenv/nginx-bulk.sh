#!/usr/bin/env bash
# Runs nginx for tests, in the foreground (exec), in front of a SCIM server, shaping what it
# offers for Bulk and listing; every request is logged (DIR/access.log).
#   nginx-bulk.sh DIR PORT UPSTREAM_PORT MODE [ARG]
# MODE:
#   pass             forward everything;
#   max-body KB      answer 413 to a Bulk request body over KB kilobytes (a service whose
#                    limit is lower than it says);
#   no-bulk          a ServiceProviderConfig without Bulk, and 501 for /Bulk;
#   capped-list N    a listing (a GET without filter) gets at most N resources on its first
#                    page and empty pages after it, though totalResults says more (a service
#                    that caps list results).
set -euo pipefail
source "$(dirname "$0")/nginx-common.sh"
dir=$1 port=$2 upstream=$3 mode=$4 arg=${5:-}
forward="proxy_pass http://127.0.0.1:$upstream; proxy_set_header Host 127.0.0.1:$upstream;"
extra=""
case "$mode" in
  pass) ;;
  max-body)
    extra="location = /v2/Bulk { client_max_body_size ${arg}k; $forward }" ;;
  no-bulk)
    extra="location = /v2/ServiceProviderConfig { return 200 '{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig\"],\"patch\":{\"supported\":true},\"bulk\":{\"supported\":false,\"maxOperations\":0,\"maxPayloadSize\":0},\"filter\":{\"supported\":true,\"maxResults\":1000},\"changePassword\":{\"supported\":false},\"sort\":{\"supported\":false},\"etag\":{\"supported\":false},\"authenticationSchemes\":[]}'; }
           location = /v2/Bulk { return 501 '{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"status\":\"501\",\"detail\":\"Bulk is not offered\"}'; }" ;;
  capped-list)
    # A listing is a GET without a filter: its first page holds at most N resources (whatever
    # count asked), and every later page is empty though totalResults says more.
    extra="location ~ ^/v2/(Users|Groups)\$ {
             set \$listing \"\";
             if (\$request_method = GET) { set \$listing \"get\"; }
             if (\$arg_filter = \"\") { set \$listing \"\${listing}+all\"; }
             if (\$arg_startindex = \"1\") { set \$listing \"\${listing}+first\"; }
             if (\$listing = \"get+all+first\") {
               proxy_pass http://127.0.0.1:$upstream\$uri?attributes=\$arg_attributes&startIndex=1&count=$arg;
             }
             if (\$listing = \"get+all\") {
               return 200 '{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:ListResponse\"],\"totalResults\":100000,\"itemsPerPage\":0,\"Resources\":[]}';
             }
             $forward
           }" ;;
  *) echo "unknown mode $mode" >&2; exit 2 ;;
esac
write_nginx_conf "$dir" 256 <<CONF
    server {
        listen 127.0.0.1:$port;
        default_type application/scim+json;
        client_max_body_size 64m;
        $extra
        location / { $forward }
    }
CONF
exec nginx -p "$dir" -c "$dir/nginx.conf" -g 'daemon off;'
