"""Review of the account rhythm: attacks and edge cases found after issue 15 was merged
(SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from tests.e2e.signin_support import (
    app_fixture,  # noqa: F401 - the app fixture
    client_as,
    google_fixture,  # noqa: F401 - the google fixture
    kickoff,
)
from tests.fakes.oidc import FakeGoogleSignIn

AM, PM = "ada@agency.example", "pat@agency.example"
ACCOUNT = "acmecorp.example"
URL = f"/api/accounts/{ACCOUNT}"


def _state(client: Any, kind: str, item_id: str) -> str:
    items = client.get(URL).get_json()[kind]
    return str(next(i["state"] for i in items if i["id"] == item_id))


def test_a_cross_site_form_cannot_acknowledge_or_resolve_through_the_cookie_api(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    pm, am = client_as(app, google, PM), client_as(app, google, AM)
    esc = pm.post(f"{URL}/escalations", json={"summary": "Unhappy", "severity": "high"})
    esc_id = esc.get_json()["id"]

    # What a hostile page's <form method="post"> sends with the victim's session cookie:
    # no JSON, no CSRF token (the API is exempt from the page's CSRF check).
    for action in ("acknowledge", "close"):
        forged = am.post(f"{URL}/items/{esc_id}/{action}", data={"note": "x"})
        assert forged.status_code == 415, forged.get_data(as_text=True)
        empty = am.post(f"{URL}/items/{esc_id}/{action}")
        assert empty.status_code == 415
    assert _state(am, "escalations", esc_id) == "open"
    assert am.post(f"{URL}/items/{esc_id}/acknowledge", json={}).status_code == 200
    assert _state(am, "escalations", esc_id) == "acknowledged"
