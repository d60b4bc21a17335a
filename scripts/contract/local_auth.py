"""The local stack's credentials for the contract run, by each operation's security scheme in
docs/openapi.json, as real clients send them: a return bin's key (`x-api-key`) on `returnBinKey`
routes, a SigV4 signature (botocore, service `execute-api`) with the local credentials on `iam`
routes, and an ID token of the app user the request is about (`devstack token`) on `appUsers`
routes. What the stack gives clients is read from its env file (`.devstack/env`, or the one in
`DEVSTACK_DIR`)."""

import json
import os
import subprocess
import urllib.parse
from pathlib import Path

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parents[2]
SPEC = json.loads((ROOT / "docs" / "openapi.json").read_text())
# A user whose token stands in when a request names no usable user (a generated or hostile one).
FALLBACK_USER = "contract-user"


def _env():
    folder = Path(os.environ.get("DEVSTACK_DIR", ROOT / ".devstack"))
    pairs = (line.split("=", 1) for line in (folder / "env").read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def scheme_of(method, path):
    """The security scheme of the operation serving `method path` (a template or a concrete
    path); `iam` for a path no operation declares (the catch-all's)."""
    segments = path.split("?")[0].strip("/").split("/")
    best = None
    for template, item in SPEC["paths"].items():
        op = item.get(method.lower())
        parts = template.strip("/").split("/")
        if not op or len(parts) != len(segments):
            continue
        literal = 0
        for t, s in zip(parts, segments):
            if t.startswith("{"):
                if not s:
                    break
            elif t == s:
                literal += 1
            else:
                break
        else:
            if best is None or literal > best[0]:
                best = (literal, next(iter(op["security"][0])), template)
    return (best[1], best[2]) if best else ("iam", None)


class LocalAuth:
    def __init__(self):
        env = _env()
        self.credentials = Credentials(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"])
        self.region = env["AWS_REGION"]
        self.bin_key = env["RETURN_BIN_API_KEY"]
        self.tokens = {}

    def token(self, user):
        if user not in self.tokens:
            devstack = ROOT / "target" / "debug" / "devstack"
            try:
                made = subprocess.run([devstack, "token", user], capture_output=True, text=True)
            except (ValueError, UnicodeError):
                made = None  # not a text an argument can carry (NUL, lone surrogates)
            if made is None or made.returncode != 0:
                return self.token(FALLBACK_USER) if user != FALLBACK_USER else ""
            self.tokens[user] = made.stdout.strip()
        return self.tokens[user]

    def headers(self, method, url, body, content_type):
        """The headers that authenticate `method url` with `body` (bytes) sent as
        `content_type` (or None)."""
        path = urllib.parse.urlsplit(url).path
        scheme, template = scheme_of(method, path)
        if scheme == "returnBinKey":
            return {"x-api-key": self.bin_key}
        if scheme == "appUsers":
            return {"Authorization": self.token(_user(template, path, body))}
        signed = {"Content-Type": content_type} if content_type else {}
        request = AWSRequest(method=method, url=url, data=body or b"", headers=signed)
        SigV4Auth(self.credentials, "execute-api", self.region).add_auth(request)
        return {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "x-amz-date")}


def _user(template, path, body):
    """The app user a request is about: its path's user_id, else its body's (a batch's first
    event's)."""
    if template:
        for t, s in zip(template.strip("/").split("/"), path.strip("/").split("/")):
            if t == "{user_id}":
                return urllib.parse.unquote(s)
    try:
        value = json.loads(body or b"null")
    except (ValueError, RecursionError):
        return FALLBACK_USER
    if isinstance(value, dict):
        user = value.get("user_id")
        events = value.get("events")
        if user is None and isinstance(events, list) and events and isinstance(events[0], dict):
            user = events[0].get("user_id")
        if isinstance(user, str) and user:
            return user
    return FALLBACK_USER
