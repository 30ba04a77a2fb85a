#!/usr/bin/env bash
# Runs scim2-server for tests, in the foreground (exec), with the RFC 7643 schemas plus a test
# extension (urn:scimsync:test:2.0:User: hireDate dateTime, badgeNumber integer,
# mailingAddress string) on User.
#   scim2-server.sh DIR PORT TOKEN
set -euo pipefail
dir=$1 port=$2 token=$3
bin=${SCIMSYNC_SCIM2_SERVER:-$(command -v scim2-server || echo /opt/scim2/bin/scim2-server)}
python=$(dirname "$bin")/python
mkdir -p "$dir"
"$python" - "$dir" <<'PY'
import json, sys, importlib.resources as res
out = sys.argv[1]
pkg = res.files("scim2_server") / "resources"
schemas = json.loads((pkg / "default-schemas.json").read_text())
types = json.loads((pkg / "default-resource-types.json").read_text())
def attr(name, type_):
    return {"name": name, "type": type_, "multiValued": False, "required": False, "caseExact": False,
            "mutability": "readWrite", "returned": "default", "uniqueness": "none", "description": name}
urn = "urn:scimsync:test:2.0:User"
schemas.append({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"], "id": urn, "name": "ScimsyncTestUser",
                "description": "Test extension", "attributes": [attr("hireDate", "dateTime"), attr("badgeNumber", "integer"),
                                                                 attr("mailingAddress", "string")],
                "meta": {"resourceType": "Schema", "location": "/v2/Schemas/" + urn}})
for t in types:
    if t["id"] == "User":
        t["schemaExtensions"].append({"schema": urn, "required": False})
json.dump(schemas, open(out + "/schemas.json", "w"))
json.dump(types, open(out + "/resource-types.json", "w"))
PY
exec "$bin" --hostname 127.0.0.1 --port "$port" --bearer-token "$token" \
  --schema "$dir/schemas.json" --resource-type "$dir/resource-types.json"
