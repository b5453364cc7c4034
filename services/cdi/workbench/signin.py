"""Authentication for every case endpoint: a bearer token (API clients) or the session cookie the
sign-in page sets (people). 401 without valid credentials, 403 for a role too low; both are
logged with the route's template (never the concrete path, which names a case) and never with
the token.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, status

from cdi.workbench.access import Principal, Tokens

log = logging.getLogger("cdi.workbench.access")

SESSION_DIGEST, SESSION_CSRF, SESSION_SINCE = "digest", "csrf", "since"
# A sign-in lasts one control-room shift from the moment it was made, however busy the page
# keeps the cookie (Starlette re-signs it on every response).
SESSION_SECONDS = 12 * 3600


class SignInRequired(Exception):
    """A page asked for without a session: the page handler redirects to the sign-in form."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


def route_name(request: Request) -> str:
    route = request.scope.get("route")
    return f"{request.method} {getattr(route, 'path', '?')}"


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def identify(request: Request, tokens: Tokens) -> Principal | None:
    token = bearer(request)
    if token is not None:
        return tokens.check(token)
    since = request.session.get(SESSION_SINCE)
    if not isinstance(since, int | float) or not 0 <= time.time() - since < SESSION_SECONDS:
        return None
    return tokens.by(request.session.get(SESSION_DIGEST))


def sign_in(request: Request, principal: Principal) -> None:
    request.session.clear()
    request.session[SESSION_DIGEST] = principal.digest
    request.session[SESSION_CSRF] = secrets.token_urlsafe(24)
    request.session[SESSION_SINCE] = int(time.time())


def same_site_only(request: Request) -> None:
    """Refuse a sign-in or sign-out posted from another site (login CSRF: a page elsewhere
    signing the browser in as someone else). SameSite keeps a cookie from being sent, not from
    being set, so the request's own origin headers are checked."""
    site = request.headers.get("sec-fetch-site")
    origin = request.headers.get("origin")
    cross = site is not None and site not in {"same-origin", "none"}
    if origin is not None and origin != "null":
        cross = cross or urlsplit(origin).netloc != request.headers.get("host", "")
    if cross or origin == "null":
        log.warning("refused %s: posted from another site", route_name(request))
        raise HTTPException(status.HTTP_403_FORBIDDEN, "sign in from the workbench's own page")


def csrf_token(request: Request) -> str:
    return str(request.session.get(SESSION_CSRF, ""))


def requires(role: str, page: bool = False) -> Callable[[Request], Principal]:
    """A FastAPI dependency: the caller, at least ``role``. Cookie-authenticated writes must also
    carry the session's CSRF token (the page's htmx requests send it as a header)."""

    def dependency(request: Request) -> Principal:
        tokens: Tokens = request.app.state.tokens
        principal = identify(request, tokens)
        if principal is None:
            why = "an unknown token" if (bearer(request) or request.session.get(SESSION_DIGEST)) else "no credentials"
            log.warning("refused %s: %s", route_name(request), why)
            if page:
                raise SignInRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "sign in: send 'Authorization: Bearer <token>' or use the sign-in page at /signin",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if bearer(request) is None and request.method not in {"GET", "HEAD"}:
            sent = request.headers.get("x-csrf-token", "")
            if not sent or not secrets.compare_digest(sent, csrf_token(request)):
                log.warning("refused %s: missing or wrong CSRF token (staff %s)", route_name(request), principal.staff)
                raise HTTPException(status.HTTP_403_FORBIDDEN, "reload the page and try again (CSRF token)")
        if not principal.at_least(role):
            log.warning(
                "refused %s: staff %s has role %s, needs %s", route_name(request), principal.staff, principal.role, role
            )
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this needs the {role} role; you are signed in as {principal.role}"
            )
        return principal

    return dependency
