"""A local sign-in that survives a reload or a new tab: a signed, HTTP-only session cookie.

Streamlit scripts cannot set an HTTP-only cookie (JavaScript never can), so the server does: `serveur.py`
(what `scripts/run.sh` starts) mounts the route `/cdv/session` beside the app (Streamlit 1.67 `st.App`).

- After a successful sign-in the page hands the browser a one-time code (valid 60 s, kept in this process),
  which a hidden component POSTs to `/cdv/session`; the route answers with the cookie `cdv_session`
  (HttpOnly, SameSite=Strict, Secure over HTTPS, Max-Age = `[cdv] duree_session_heures`, 8 h by default).
  The cookie holds `login.expiry.signature` (HMAC-SHA256, see `auth.session_token`): no password, nothing in
  the URL.
- A new tab or a reload opens a new Streamlit session; `restore` reads the cookie (`st.context.cookies`)
  and signs the person in again with the role the configuration gives them now.
- Signing out revokes the token in this process and asks the route to delete the cookie.

The signing key is `[cdv] cle_session` of secrets.toml, else a random key drawn when the server starts (then
a restart signs everybody out).
"""

from __future__ import annotations

import json
import secrets as _secrets
import threading
import time

from cdv_core import auth

COOKIE = "cdv_session"
ROUTE = "/cdv/session"
CODE_TTL = 60.0

_lock = threading.Lock()
_codes: dict[str, tuple[str, float]] = {}  # one-time code -> (login, expiry)
_revoked: set[str] = set()  # signatures of tokens signed out
_process_key = _secrets.token_bytes(32)


def key(cfg: auth.AccessConfig) -> bytes:
    return cfg.session_key.encode("utf-8") if cfg.session_key else _process_key


def issue_code(user: auth.User) -> str:
    """A one-time code the browser exchanges for the session cookie (local accounts only)."""
    code = _secrets.token_urlsafe(32)
    now = time.time()
    with _lock:
        for c in [c for c, (_, exp) in _codes.items() if exp < now]:
            _codes.pop(c, None)
        _codes[code] = (user.login, now + CODE_TTL)
    return code


def _take_code(code: str) -> str | None:
    with _lock:
        entry = _codes.pop(code, None)
    if entry is None or entry[1] < time.time():
        return None
    return entry[0]


def revoke(token: str | None) -> None:
    if token:
        with _lock:
            _revoked.add(token.rsplit(".", 1)[-1])


def user_from_cookie(token: str | None, cfg: auth.AccessConfig) -> auth.User | None:
    """The local user a session cookie names, unless expired, tampered with, revoked or no longer declared."""
    if not token:
        return None
    with _lock:
        if token.rsplit(".", 1)[-1] in _revoked:
            return None
    return auth.user_from_token(token, key(cfg), time.time(), cfg)


async def endpoint(request):  # starlette route of serveur.py
    """POST {"code": ...}: set the session cookie; DELETE: remove it."""
    from starlette.responses import JSONResponse

    if request.method == "DELETE":
        revoke(request.cookies.get(COOKIE))
        response = JSONResponse({"ok": True})
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response
    try:
        code = str(json.loads(await request.body()).get("code", ""))
    except (ValueError, AttributeError):
        code = ""
    login = _take_code(code) if code else None
    cfg = auth.load_config()
    account = cfg.accounts.get(login or "")
    if account is None:
        return JSONResponse({"ok": False}, status_code=403)
    user = auth.User(account.login, account.name, frozenset({account.role}), "local")
    ttl = cfg.session_hours * 3600
    token = auth.session_token(user, key(cfg), time.time(), ttl, cfg)
    response = JSONResponse({"ok": True})
    response.set_cookie(COOKIE, token, max_age=int(ttl), path="/", httponly=True, samesite="strict",
                        secure=request.url.scheme == "https")
    return response


def set_cookie_html(code: str) -> str:
    """A hidden component's page: exchanges the one-time code for the cookie (same origin, POST)."""
    return ("<script>fetch(" + json.dumps(ROUTE) + ", {method: 'POST', credentials: 'same-origin', "
            "headers: {'Content-Type': 'application/json'}, body: " + json.dumps(json.dumps({"code": code}))
            + "});</script>")


def delete_cookie_html() -> str:
    return ("<script>fetch(" + json.dumps(ROUTE) + ", {method: 'DELETE', credentials: 'same-origin'});"
            "</script>")
