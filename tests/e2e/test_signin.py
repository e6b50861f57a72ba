"""Sign-in with Google against the loopback OpenID fake: the redirect, the callback, the
session, the roles, sign-out; and the settings it needs."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask

from service import create_app
from service.config import Settings, SettingsError
from tests.conftest import close_app, make_settings
from tests.e2e.signin_support import (
    SALES,
    app_fixture,  # noqa: F401 - the app fixture
    client_as,
    counts,
    csrf_of,
    google_fixture,  # noqa: F401 - the google fixture
    signin_app,
)
from tests.fakes.oidc import CLIENT_ID, FakeGoogleSignIn, sign_in, start_login


def test_login_redirects_to_google_with_state_nonce_and_the_domain_hint(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    answer = app.test_client().get("/login")

    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == (
        f"{google.url}/o/oauth2/v2/auth"
    )
    query = {k: v[0] for k, v in parse_qs(location.query).items()}
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == "http://localhost/auth/callback"
    assert query["hd"] == "agency.example" and query["response_type"] == "code"
    assert "openid" in query["scope"].split() and "email" in query["scope"].split()
    assert len(query["state"]) >= 20 and len(query["nonce"]) >= 20


def test_a_page_sends_the_browser_to_sign_in_and_back(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    client = app.test_client()
    first = client.get("/handovers/new")
    assert first.status_code == 302 and first.headers["Location"].startswith("/login?next=")
    assert client.post("/handovers", data={}).status_code == 400  # no redirect for a POST

    params = start_login(client, "/reviews")
    code = google.issue(google.id_token(nonce=params["nonce"], email="Ola@Agency.example"))
    answer = client.get(f"/auth/callback?code={code}&state={params['state']}")

    assert answer.status_code == 302 and answer.headers["Location"] == "/reviews"
    page = client.get("/reviews")
    assert page.status_code == 200
    assert "ola@agency.example · Operations" in page.get_data(as_text=True)
    [request] = google.token_requests
    assert request["code"] == [code] and request["grant_type"] == ["authorization_code"]
    assert request["redirect_uri"] == ["http://localhost/auth/callback"]


def test_people_get_their_configured_role_and_others_of_the_domain_sales(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    for email, role in [
        ("pat@agency.example", "Project Manager"),
        ("boss@agency.example", "Admin"),
        (SALES, "Sales"),
    ]:
        page = client_as(app, google, email).get("/").get_data(as_text=True)
        assert f"{email} · {role}" in page


def test_a_sign_in_is_recorded_in_the_audit(app: Flask, google: FakeGoogleSignIn) -> None:
    client_as(app, google, "ada@agency.example")
    admin = client_as(app, google, "boss@agency.example")

    audit = admin.get("/api/audit?subject=ada@agency.example").get_json()["audit"]

    assert [(a["actor"], a["action"]) for a in audit] == [
        ("ada@agency.example", "user.signed_in")
    ]


def test_sign_out_needs_a_post_with_its_csrf_token(app: Flask, google: FakeGoogleSignIn) -> None:
    client = client_as(app, google, SALES)
    page = client.get("/").get_data(as_text=True)
    assert 'action="/logout"' in page

    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no CSRF token: still signed in
    assert client.get("/").status_code == 200
    answer = client.post("/logout", data={"csrf_token": csrf_of(page)})

    assert answer.status_code == 200 and "signed out" in answer.get_data(as_text=True)
    assert client.get("/").status_code == 302  # back to sign-in


def test_a_state_is_good_for_one_callback_only(app: Flask, google: FakeGoogleSignIn) -> None:
    client = app.test_client()
    params = start_login(client)
    token = google.id_token(nonce=params["nonce"])
    assert client.get(f"/auth/callback?code={google.issue(token)}&state={params['state']}").status_code == 302
    client.post("/logout", data={"csrf_token": csrf_of(client.get("/").get_data(as_text=True))})
    before = counts(app)

    again = client.get(f"/auth/callback?code={google.issue(token)}&state={params['state']}")

    assert again.status_code == 401
    assert client.get("/").status_code == 302
    assert counts(app) == before


def test_a_token_with_another_nonce_is_refused(app: Flask, google: FakeGoogleSignIn) -> None:
    client = app.test_client()
    params = start_login(client)
    code = google.issue(google.id_token(nonce="not-the-one-we-sent"))
    assert client.get(f"/auth/callback?code={code}&state={params['state']}").status_code == 401
    assert client.get("/").status_code == 302


def test_next_never_leaves_the_site(app: Flask, google: FakeGoogleSignIn) -> None:
    for target in ["//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"]:
        client = app.test_client()
        params = start_login(client, target)
        code = google.issue(google.id_token(nonce=params["nonce"]))
        answer = client.get(f"/auth/callback?code={code}&state={params['state']}")
        assert answer.headers["Location"] == "/", target


def test_the_session_cookie_is_httponly_lax_and_secure_on_https(
    tmp_path: Path, database_url: str, google: FakeGoogleSignIn
) -> None:
    with signin_app(tmp_path, database_url, google, public_base_url="https://h.example") as app:
        client = app.test_client()
        answer = sign_in(client, google, base_url="https://h.example")
        cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Expires=" in cookie  # a working day, not the browser session


def test_google_unreachable_answers_503_not_500(tmp_path: Path, database_url: str) -> None:
    fake = FakeGoogleSignIn().start()
    fake.stop()  # nothing listens there any more
    with signin_app(tmp_path, database_url, fake) as app:
        assert app.test_client().get("/login").status_code == 503


def test_without_sign_in_configured_login_is_404(tmp_path: Path) -> None:
    plain = create_app(make_settings(tmp_path, allowed_domain="agency.example"))
    try:
        assert plain.test_client().get("/login").status_code == 404
        assert plain.test_client().get("/handovers/new").status_code == 401
    finally:
        close_app(plain)


def test_sign_in_settings_need_the_secret_and_the_domain() -> None:
    with pytest.raises(SettingsError, match="GOOGLE_OAUTH_CLIENT_SECRET and ALLOWED_DOMAIN"):
        Settings.from_env({"GOOGLE_OAUTH_CLIENT_ID": "x", "SECRET_KEY": "k"})
    settings = Settings.from_env(
        {
            "GOOGLE_OAUTH_CLIENT_ID": "x",
            "GOOGLE_OAUTH_CLIENT_SECRET": "y",
            "ALLOWED_DOMAIN": "agency.example",
            "SECRET_KEY": "k" * 32,
            "ROLES": "Ada@agency.example:account_manager, boss@agency.example:admin",
        }
    )
    assert settings.signin_enabled
    assert settings.roles == {
        "ada@agency.example": "account_manager",
        "boss@agency.example": "admin",
    }
    with pytest.raises(SettingsError, match="ROLES: role must be one of"):
        Settings.from_env({"ROLES": "ada@agency.example:boss"})
    with pytest.raises(SettingsError, match="API_TOKENS: role must be one of"):
        Settings.from_env({"API_TOKENS": "0123456789abcdef0:root"})
