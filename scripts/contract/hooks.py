"""Schemathesis hooks of the contract run (`SCHEMATHESIS_HOOKS=scripts.contract.hooks`): every
request authenticates as the local stack's clients do (local_auth.py), signed as it is finally
sent, so that generated input reaches the router."""

import requests
import schemathesis

from scripts.contract.local_auth import LocalAuth

_AUTH = None


class _Authenticate(requests.auth.AuthBase):
    """Adds the credential of the request's route to the prepared request (its final URL,
    headers and body)."""

    def __call__(self, r):
        body = r.body.encode() if isinstance(r.body, str) else (r.body or b"")
        r.headers.update(_AUTH.headers(r.method, r.url, body, r.headers.get("Content-Type")))
        return r


@schemathesis.hook
def before_call(context, case, kwargs):
    global _AUTH
    if _AUTH is None:
        _AUTH = LocalAuth()
    kwargs["auth"] = _Authenticate()
