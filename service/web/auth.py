"""Who is asking, and may they: the one seam for sign-in and roles.

Without ALLOWED_DOMAIN the local mode signs in a dev user (admin) and answers only on
loopback. With it set, pages need a signed-in session of that domain (Sign-in with Google,
`service/web/signin.py`), and the API a bearer token or such a session. Every view then
names the roles it serves with `require(...)`; admins pass everywhere.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import abort, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import validate_csrf
from wtforms import ValidationError

from service.config import Settings
from service.domain.access import ADMIN, role_of
from service.store import roles as roles_repo

F = TypeVar("F", bound=Callable[..., Any])

DEV_USER_EMAIL = "dev@localhost"


@dataclass(frozen=True)
class User:
    email: str
    role: str


def _settings() -> Settings:
    return current_app.extensions["handover"].settings  # type: ignore[no-any-return]


def _from_loopback() -> bool:
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def in_domain(email: str, domain: str | None) -> bool:
    """Return whether the address belongs to the agency's domain (exactly, any case)."""
    name, at, host = email.strip().rpartition("@")
    return bool(domain and name and at and host.lower() == domain.lower())


# Host names that only reach this machine: the dev login answers to these alone, so a page
# of another site that rebinds its DNS name to 127.0.0.1 is never signed in.
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def _loopback_host() -> bool:
    host = (urlsplit(f"//{request.host}").hostname or "").lower().rstrip(".")
    return host in LOOPBACK_HOSTS or host.endswith(".localhost")


def current_user() -> User | None:
    """Return the signed-in user of this request, or None."""
    settings = _settings()
    if settings.dev_login:
        return User(DEV_USER_EMAIL, ADMIN) if _from_loopback() and _loopback_host() else None
    data = session.get("user")
    if not isinstance(data, dict):
        return None
    email = str(data.get("email", ""))
    if not in_domain(email, settings.allowed_domain):
        return None
    # The role is read on every request (ROLES, then what an admin assigned on
    # /admin/people), so a change applies at once.
    with current_app.extensions["handover"].db.transaction() as db_session:
        assigned = roles_repo.assigned_role(db_session, email)
    return User(email.lower(), role_of(email, settings.roles, assigned))


def token_user() -> User | None:
    """Return the API caller named by a valid bearer token, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    given = token.strip().encode("utf-8", "surrogateescape")
    for known, role in _settings().api_tokens.items():
        if hmac.compare_digest(known.encode(), given):
            # Named by a digest: distinct per token, and the token never reaches the audit.
            return User("token:" + hashlib.sha256(known.encode()).hexdigest()[:12], role)
    return None


def safe_next(target: str | None) -> str:
    """Return a local path to go back to after sign-in; anything else becomes `/`."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or any(ord(c) < 0x20 for c in target):
        return "/"
    return target


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _from_our_pages() -> bool:
    """Return whether a cookie-authenticated change comes from our pages: a valid CSRF
    token in X-CSRF-Token, or an Origin (else Referer) of the service itself."""
    token = request.headers.get("X-CSRF-Token")
    if token:
        try:
            validate_csrf(token)
        except ValidationError:
            return False
        return True
    origin = request.headers.get("Origin") or request.headers.get("Referer") or ""
    parts = urlsplit(origin)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return False
    ours = {urlsplit(_settings().public_base_url).netloc.lower(), request.host.lower()}
    return parts.netloc.lower() in ours


def login_required(view: F) -> F:
    """Let signed-in users through; others go to sign-in (GET) or get 403/401."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            settings = _settings()
            if settings.dev_login:
                abort(403)
            if settings.signin_enabled and request.method == "GET":
                return redirect(url_for("signin.login", next=safe_next(request.full_path)))
            abort(401)
        g.user = user
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def api_auth(view: F) -> F:
    """Accept a bearer token from API_TOKENS or a signed-in session; else 401."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        # A token given is the caller's whole claim: a wrong one is never made up for by
        # a session or the dev login.
        given = bool(request.headers.get("Authorization"))
        user = token_user() if given else current_user()
        if user is None:
            abort(401)
        if not given and request.method not in SAFE_METHODS and not _from_our_pages():
            # A cookie (or the dev login) rides along with any site's request: like the
            # forms, a change needs proof it comes from our own pages. Tokens need none.
            g.error_field = "Origin"
            abort(
                403,
                "This request did not come from the service's own pages: send the "
                "X-CSRF-Token header, or call the API with a bearer token.",
            )
        g.user = user
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def require(*roles: str) -> Callable[[F], F]:
    """Let only these roles (and admins) through; put it under `login_required`/`api_auth`."""
    allowed = frozenset(roles) | {ADMIN}

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = g.get("user")
            if user is None:
                abort(401)
            if user.role not in allowed:
                abort(403, f"The {user.role} role may not do this here.")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def ensure(allowed: bool, message: str = "This is not one of your handovers or reviews.") -> None:
    """Answer 403 unless the signed-in user may act on this particular thing."""
    if not allowed:
        abort(403, message)
