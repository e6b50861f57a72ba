"""Sign-in with Google (OpenID Connect through Authlib): `/login`, `/auth/callback`, `/logout`.

The ID token is verified against Google's keys (signature, `iss`, `aud` = our client id,
`exp`, the nonce of this sign-in); then its `hd` claim must be ALLOWED_DOMAIN (the `hd`
request parameter is only a hint to Google's account chooser) and its email verified.
A refused sign-in stores nothing; a successful one starts a fresh session.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.flask_client import OAuth
from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
)
from joserfc.errors import JoseError
from werkzeug.wrappers import Response as WerkzeugResponse

from service.config import Settings
from service.domain.access import role_of
from service.store import handovers as audit
from service.store import roles as roles_repo
from service.web import services as _services
from service.web.auth import current_user, in_domain, safe_next

bp = Blueprint("signin", __name__)
log = logging.getLogger(__name__)

CLIENT = "google"
EXTENSION = "handover.signin"
# Clock skew allowed on `exp` and `iat`, in seconds.
LEEWAY = 60
SESSION_LIFETIME = timedelta(hours=12)


class SignInRefused(Exception):
    """The identity provider's answer does not sign this person in; the message says why."""


def init_app(app: Flask, settings: Settings) -> None:
    """Register the Google OpenID client when sign-in is configured."""
    app.register_blueprint(bp)
    # A working day, not Flask's default month: sessions open the agency's contracts.
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    if not settings.signin_enabled:
        return
    oauth = OAuth(app)
    oauth.register(
        CLIENT,
        client_id=settings.google_oauth_client_id,
        client_secret=settings.google_oauth_client_secret,
        server_metadata_url=settings.google_oidc_discovery_url,
        client_kwargs={"scope": "openid email profile", "default_timeout": 10},
    )
    app.extensions[EXTENSION] = oauth



def _client() -> Any:
    oauth = current_app.extensions.get(EXTENSION)
    if oauth is None:
        abort(404)
    return oauth.create_client(CLIENT)


@bp.get("/login")
def login() -> WerkzeugResponse:
    """Send the browser to Google's sign-in, with a fresh state and nonce."""
    client = _client()
    target = safe_next(request.args.get("next"))
    if current_user() is not None:
        return redirect(target)
    session["next"] = target
    settings = _services().settings
    try:
        return client.authorize_redirect(  # type: ignore[no-any-return]
            f"{settings.public_base_url}/auth/callback",
            hd=settings.allowed_domain,
            prompt="select_account",
        )
    except (requests.RequestException, ValueError, RuntimeError) as exc:
        log.warning("sign-in: Google's discovery document could not be read: %s", exc)
        abort(503, "Google's sign-in cannot be reached; try again in a minute.")


@bp.get("/auth/callback")
def callback() -> WerkzeugResponse | tuple[str, int]:
    """Verify Google's answer and sign the person in; refuse anyone else with 401 or 403."""
    client = _client()
    settings = _services().settings
    try:
        claims = _verified_claims(client, settings)
        email = _agency_email(claims, settings)
    except SignInRefused as exc:
        log.warning("sign-in refused: %s", exc)
        return render_template("signin.html", status=403, message=str(exc), user=None), 403
    except (AuthlibBaseError, JoseError, requests.RequestException, ValueError, KeyError) as exc:
        log.warning("sign-in failed: %s: %s", type(exc).__name__, exc)
        message = "Google's answer could not be verified. Sign in again."
        return render_template("signin.html", status=401, message=message, user=None), 401
    target = safe_next(session.get("next"))
    session.clear()  # a new session: nothing from before sign-in (state, CSRF) carries over
    session.permanent = True
    with _services().db.transaction() as db_session:
        role = role_of(email, settings.roles, roles_repo.assigned_role(db_session, email))
        audit.record(db_session, actor=email, action="user.signed_in", subject=email, role=role)
    session["user"] = {"email": email, "role": role}
    return redirect(target)


def _verified_claims(client: Any, settings: Settings) -> dict[str, Any]:
    """Exchange the code and return the ID token's claims, verified, or raise."""
    metadata = client.load_server_metadata()
    issuer = str(metadata.get("issuer") or "")
    if not issuer:
        raise ValueError("the discovery document names no issuer")
    options = {
        # Google's tokens name their issuer with or without the scheme.
        "iss": {"essential": True, "values": [issuer, issuer.removeprefix("https://")]},
        "aud": {"essential": True, "value": settings.google_oauth_client_id},
        "exp": {"essential": True},
        "sub": {"essential": True},
    }
    token = client.authorize_access_token(claims_options=options, leeway=LEEWAY)
    claims = token.get("userinfo")
    if not isinstance(claims, dict):
        raise SignInRefused("Google sent no ID token for this sign-in.")
    return dict(claims)


def _agency_email(claims: dict[str, Any], settings: Settings) -> str:
    """Return the verified agency address the claims name, or raise SignInRefused."""
    domain = str(settings.allowed_domain or "").lower()
    email = str(claims.get("email") or "").strip().lower()
    if str(claims.get("hd") or "").lower() != domain:
        raise SignInRefused(f"Only accounts of {domain} may sign in here.")
    if claims.get("email_verified") not in (True, "true"):
        raise SignInRefused("Google has not verified this email address.")
    if not in_domain(email, domain):
        raise SignInRefused(f"Only addresses of {domain} may sign in here.")
    return email


@bp.post("/logout")
def logout() -> tuple[str, int]:
    """Sign out (a POST with the CSRF token): the session is emptied."""
    user = current_user()
    session.clear()
    if user is not None and not _services().settings.dev_login:
        with _services().db.transaction() as db_session:
            audit.record(db_session, actor=user.email, action="user.signed_out", subject=user.email)
    message = "You are signed out."
    return render_template("signin.html", status=200, message=message, user=None), 200
