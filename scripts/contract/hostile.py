#!/usr/bin/env python3
"""Hostile input against every operation of docs/openapi.json, beyond what the schema describes.

Each probe sends exact bytes over a raw HTTP connection (no client-side normalisation of paths
or bodies): malformed and non-UTF-8 bodies, 10,000-deep nesting, huge numbers, duplicate keys,
wrong or missing content types, JSON that is not an object, and path parameters holding `%2F`,
`..`, NUL, invalid percent-encoding and 5,000 characters. Every answer must be below 500, and
every 4xx must carry the error body of the SPEC, valid against the `Error` schema, as JSON.

With --local (the local stack) every probe carries the credential its route's scheme takes, as
the stack's clients send it (local_auth.py), so that it reaches the router.

Usage: hostile.py API_URL [--local] [--report FILE]. Exit status 1 when any probe fails.
"""

import argparse
import http.client
import json
import sys
import urllib.parse
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parents[2]
SPEC = json.loads((ROOT / "docs" / "openapi.json").read_text())

DEPTH = 10_000


def error_validator():
    # The Error schema refers to FieldError through #/components/...: resolve against the spec.
    schema = {"$ref": "#/components/schemas/Error", "components": SPEC["components"]}
    return jsonschema.Draft4Validator(schema)


ERROR = error_validator()


def bodies():
    """(name, bytes, content type or None) of every hostile body."""
    deep_arrays = b"[" * DEPTH + b"]" * DEPTH
    deep_objects = b'{"a":' * DEPTH + b"1" + b"}" * DEPTH
    huge = "1" + "0" * 400
    return [
        ("malformed", b'{"title": "unterminated', "application/json"),
        ("non_utf8", b'{"title": "\xff\xfe\xc3\x28"}', "application/json"),
        ("bare_invalid_bytes", b"\xff\xfe\x00\x80", "application/json"),
        ("deep_arrays", deep_arrays, "application/json"),
        ("deep_objects", deep_objects, "application/json"),
        ("deep_field", b'{"items":' + deep_arrays + b"}", "application/json"),
        ("huge_numbers", ('{"quantity": %s, "concentration": 1e999999, "priority": -%s, '
                          '"stock": %s, "schema_version": %s}' % (huge, huge, huge, huge)).encode(),
         "application/json"),
        ("duplicate_keys", b'{"title": "a", "title": 1, "user_id": "u", "user_id": null}',
         "application/json"),
        ("null", b"null", "application/json"),
        ("array", b"[]", "application/json"),
        ("string", b'"text"', "application/json"),
        ("number", b"12", "application/json"),
        ("empty", b"", "application/json"),
        ("nul_bytes", b'{"title": "a\\u0000b", "\\u0000": 1}', "application/json"),
        ("lone_surrogate", b'{"title": "\\ud800", "user_id": "\\udfff"}', "application/json"),
        ("text_plain", b'{"title": "x"}', "text/plain"),
        ("xml", b"<task><title>x</title></task>", "application/xml"),
        ("form", b"title=x&priority=high", "application/x-www-form-urlencoded"),
        ("no_content_type", b'{"title": "x"}', None),
        # Over the SPEC's 64 KiB: 413 in the error shape (checked as such below, too).
        ("oversized", b'{"title": "' + b"x" * (70 * 1024) + b'"}', "application/json"),
        ("bogus_content_type", b'{"title": "x"}', "application/json; charset=klingon; ;=="),
    ]


def path_values():
    return [
        ("slash_encoded", "a%2Fb"),
        ("dotdot", ".."),
        ("dotdot_encoded", "%2E%2E"),
        ("traversal", "..%2F..%2Fetc%2Fpasswd"),
        ("nul", "a%00b"),
        ("bad_percent", "%ZZ%"),
        ("non_utf8_percent", "%FF%FE"),
        ("unicode", urllib.parse.quote("ü✓🙂")),
        ("long_5000", "x" * 5000),
        ("spaces", "a%20b%09c"),
    ]


def operations():
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path, op


def fill(path, value):
    out = path
    while "{" in out:
        start = out.index("{")
        end = out.index("}", start)
        out = out[:start] + value + out[end + 1:]
    return out


def sample_path(path):
    return fill(path, "probe")


AUTH = None


def credentials(conn_args, method, target, body, content_type):
    """The headers that authenticate a probe on the local stack (none elsewhere)."""
    if AUTH is None:
        return {}
    url = f"http://{conn_args[0]}:{conn_args[1]}{target}"
    return AUTH.headers(method, url, body, content_type)


def send(conn_args, method, target, body, content_type):
    conn = http.client.HTTPConnection(*conn_args, timeout=35)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for name, value in credentials(conn_args, method, target, body, content_type).items():
            conn.putheader(name, value)
        if content_type is not None:
            conn.putheader("Content-Type", content_type)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body:
            conn.send(body)
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type") or "", resp.read()
    finally:
        conn.close()


def judge(status, ctype, raw):
    """None when the answer is acceptable, else why not."""
    if status >= 500:
        return f"server error {status}"
    if 400 <= status < 500:
        if not ctype.startswith("application/json"):
            return f"{status} with content type {ctype!r}"
        try:
            body = json.loads(raw)
        except ValueError as e:
            return f"{status} body is not JSON: {e}"
        errors = sorted(ERROR.iter_errors(body), key=lambda e: e.path)
        if errors:
            return f"{status} body not in the error shape: {errors[0].message}"
    return None


# Bodies that must be refused with 400, not merely answered: instants outside the years
# 0000-9999 were once accepted and then stored in a form that did not read back (a 500 on read).
MUST_REFUSE = [
    ("POST", "/tasks", {"title": "t", "description": "", "priority": "low",
                        "due_date": "-12025-04-10T11:00:00"}),
    ("POST", "/tasks", {"title": "t", "description": "", "priority": "low",
                        "due_date": "9999-12-31T23:30:00-01:00"}),
    ("POST", "/rentals/returns", {"timestamp": "+10000-01-01T00:00:00", "location_id": "l1",
                                  "user_qr_data": "dHBnX3UwMDAx",
                                  "asset_qr_data": "dHBnX2EwMDAwMQ=="}),
    ("POST", "/v1/event", {"schema_version": 2, "event_id": "e1", "user_id": "u1",
                           "type": "app_launched", "time": "-0001-01-01T00:00:00Z",
                           "payload": {}}),
    ("POST", "/v1/event", {"user_id": "u1", "device_id": "d1", "type": "app_launched",
                           "time_stamp": "-12021-02-28 16:23:25"}),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("api_url")
    ap.add_argument("--local", action="store_true")
    ap.add_argument("--report")
    args = ap.parse_args()
    if args.local:
        global AUTH
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from local_auth import LocalAuth
        AUTH = LocalAuth()
    url = urllib.parse.urlsplit(args.api_url)
    conn_args = (url.hostname, url.port or 80)
    base = url.path.rstrip("/")

    results = []
    for method, path, op in operations():
        probes = []
        if "requestBody" in op:
            for name, body, ctype in bodies():
                probes.append((f"body:{name}", sample_path(path), body, ctype))
        if "{" in path:
            for name, value in path_values():
                body = b"{}" if "requestBody" in op else None
                ctype = "application/json" if body else None
                probes.append((f"path:{name}", fill(path, value), body, ctype))
        for name, target, body, ctype in probes:
            try:
                status, rtype, raw = send(conn_args, method, base + target, body, ctype)
                problem = judge(status, rtype, raw)
            except (OSError, http.client.HTTPException) as e:
                status, problem = 0, f"no answer: {e!r}"
            results.append({"operation": f"{method} {path}", "probe": name,
                            "status": status, "problem": problem})

    # The body limit holds on every write, with an Idempotency-Key as without one (the
    # idempotency layer reads the body before the route does).
    big = b'{"title": "' + b"x" * (70 * 1024) + b'"}'
    for method, path, op in operations():
        if "requestBody" not in op:
            continue
        for key in (None, "hostile-oversized-key"):
            conn = http.client.HTTPConnection(*conn_args, timeout=35)
            try:
                target = base + sample_path(path)
                conn.putrequest(method, target, skip_accept_encoding=True)
                for name, value in credentials(conn_args, method, target, big, "application/json").items():
                    conn.putheader(name, value)
                conn.putheader("Content-Type", "application/json")
                conn.putheader("Content-Length", str(len(big)))
                if key:
                    conn.putheader("Idempotency-Key", key)
                conn.endheaders()
                conn.send(big)
                resp = conn.getresponse()
                status, rtype, answer = resp.status, resp.getheader("Content-Type") or "", resp.read()
                problem = judge(status, rtype, answer) or (
                    None if status == 413 else f"expected 413, got {status}")
            except (OSError, http.client.HTTPException) as e:
                status, problem = 0, f"no answer: {e!r}"
            finally:
                conn.close()
            results.append({"operation": f"{method} {path}",
                            "probe": "limit_413" + ("_with_key" if key else ""),
                            "status": status, "problem": problem})

    for method, path, body in MUST_REFUSE:
        raw = json.dumps(body).encode()
        try:
            status, rtype, answer = send(conn_args, method, base + path, raw, "application/json")
            problem = judge(status, rtype, answer) or (
                None if status == 400 else f"expected 400, got {status}")
        except (OSError, http.client.HTTPException) as e:
            status, problem = 0, f"no answer: {e!r}"
        results.append({"operation": f"{method} {path}", "probe": "out_of_range_time",
                        "status": status, "problem": problem})

    failures = [r for r in results if r["problem"]]
    for r in failures:
        print(f"FAIL {r['operation']:<36} {r['probe']:<24} {r['problem']}")
    by_status = {}
    for r in results:
        by_status[r["status"]] = by_status.get(r["status"], 0) + 1
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items()))
    print(f"hostile input: {len(results)} probes over {len(set(r['operation'] for r in results))} "
          f"operations, {len(failures)} failed (statuses {statuses})")
    if args.report:
        Path(args.report).write_text(json.dumps(results, indent=1) + "\n")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
