#!/usr/bin/env python3
"""A SCIM service's password policy, in front of a real SCIM server, for tests: a write that
sets a password shorter than MIN_LENGTH is refused with 400 invalidValue, and the refusal
quotes the password back (as careless services do), so tests can check that scimsync keeps it
nowhere. Every other request is forwarded as it came.
  scim-password-policy.py PORT UPSTREAM_PORT MIN_LENGTH"""
import http.client
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, UPSTREAM, MIN_LENGTH = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])


def passwords(value, path=""):
    """The password values a request body sets: members named password, PATCH operations
    on a password path, at any depth (Bulk operations included)."""
    if isinstance(value, dict):
        target = value.get("path")
        if isinstance(value.get("op"), str) and isinstance(target, str) \
                and target.rsplit(":", 1)[-1].lower() == "password":
            if isinstance(value.get("value"), str):
                yield value["value"]
        for key, member in value.items():
            if key.lower() == "password" and isinstance(member, str):
                yield member
            else:
                yield from passwords(member)
    elif isinstance(value, list):
        for item in value:
            yield from passwords(item)


class Policy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            sent = json.loads(body) if body else None
        except ValueError:
            sent = None
        weak = [p for p in passwords(sent) if len(p) < MIN_LENGTH]
        if self.command in ("POST", "PUT", "PATCH") and weak:
            answer = json.dumps({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "400", "scimType": "invalidValue",
                "detail": f'password "{weak[0]}" is shorter than {MIN_LENGTH} characters',
            }).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/scim+json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
            return
        upstream = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        upstream.request(self.command, self.path, body or None, headers)
        reply = upstream.getresponse()
        data = reply.read()
        self.send_response(reply.status)
        for key, value in reply.getheaders():
            if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        upstream.close()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward


ThreadingHTTPServer(("127.0.0.1", PORT), Policy).serve_forever()
