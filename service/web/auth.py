"""Who is asking: the one seam for sign-in (Sign-in with Google plugs in here).

Without ALLOWED_DOMAIN the local mode signs in a dev user and answers only on loopback.
With it set, pages need a signed-in session of that domain, and the API a bearer token.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import abort, current_app, g, request, session

from service.config import Settings

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


def current_user() -> User | None:
    """Return the signed-in user of this request, or None."""
    settings = _settings()
    if settings.dev_login:
        return User(DEV_USER_EMAIL, "admin") if _from_loopback() else None
    data = session.get("user")
    if isinstance(data, dict) and str(data.get("email", "")).endswith(
        "@" + str(settings.allowed_domain)
    ):
        return User(str(data["email"]), str(data.get("role", "sales")))
    return None


def token_user() -> User | None:
    """Return the API caller named by a valid bearer token, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    for known, role in _settings().api_tokens.items():
        if hmac.compare_digest(known.encode(), token.strip().encode()):
            return User(f"token:{known[:4]}…", role)
    return None


def login_required(view: F) -> F:
    """Let signed-in users through; others get 403 (dev mode off loopback) or 401."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = current_user()
        if user is None:
            abort(403 if _settings().dev_login else 401)
        g.user = user
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def api_auth(view: F) -> F:
    """Accept a bearer token from API_TOKENS or a signed-in session; else 401."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = token_user() or current_user()
        if user is None:
            abort(401)
        g.user = user
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]
