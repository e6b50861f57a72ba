"""Attacks that must change nothing: each test asserts the answer's status AND that no row
(handovers, steps, reviews, audit), workspace file or outbox message appeared or changed.
Forged identities and permissions here; hostile input in test_hostile_input.py."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from werkzeug.datastructures import MultiDict

from service.demo import example_handover
from tests.conftest import API_TOKEN
from tests.e2e.signin_support import (
    OPS,
    SALES,
    a_review,
    app_with_a_handover_fixture,  # noqa: F401 - the app fixture
    client_as,
    counts,
    csrf_of,
    google_fixture,  # noqa: F401 - the google fixture
)
from tests.e2e.test_form_http import form_fields
from tests.fakes.oidc import FakeGoogleSignIn, sign_in, start_login

# A session's API call as the service's own pages make it: the role is what refuses it.
SAME_ORIGIN = {"Origin": "http://localhost"}


def signed_out(client: Any) -> bool:
    return bool(client.get("/").status_code == 302)


# --- sign-in --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("claims", "status"),
    [
        ({"email": "ada@other.example", "hd": "other.example"}, 403),  # another Workspace
        ({"email": "ada.agency.example@gmail.com", "hd": None}, 403),  # a consumer account
        ({"email": "ada@agency.example", "hd": None}, 403),  # no hd claim
        ({"email": "eve@gmail.com", "hd": "agency.example"}, 403),  # hd and email disagree
        ({"email": "ada@agency.example", "email_verified": False}, 403),
        ({"email": "ada@agency.example.evil.example", "hd": "agency.example"}, 403),
        ({"aud": "someone-elses-client.apps.googleusercontent.com"}, 401),
        ({"iss": "https://accounts.evil.example"}, 401),
        ({"expires_in": -3600}, 401),  # expired an hour ago
    ],
    ids=[
        "foreign-hd", "gmail-no-hd", "no-hd", "hd-email-mismatch", "unverified",
        "domain-suffix", "wrong-audience", "wrong-issuer", "expired",
    ],
)
def test_a_sign_in_google_would_not_vouch_for_is_refused(
    app: Flask, google: FakeGoogleSignIn, claims: dict[str, Any], status: int
) -> None:
    before = counts(app)
    client = app.test_client()

    answer = sign_in(client, google, **claims)

    assert answer.status_code == status
    assert signed_out(client)
    assert counts(app) == before


def test_an_id_token_with_a_bad_signature_is_refused(app: Flask, google: FakeGoogleSignIn) -> None:
    before = counts(app)
    client = app.test_client()
    params = start_login(client)
    forged = google.id_token(nonce=params["nonce"], email="boss@agency.example", key=google.forged_key)
    tampered = _tamper(google.id_token(nonce=params["nonce"], email="sam@agency.example"))
    code = google.issue(forged)

    answer = client.get(f"/auth/callback?code={code}&state={params['state']}")
    again = sign_in(client, google, token=tampered)

    assert (answer.status_code, again.status_code) == (401, 401)
    assert signed_out(client)
    assert counts(app) == before


def _tamper(token: str) -> str:
    """Swap the payload for one naming the admin, keeping the original signature."""
    import base64
    import json

    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["email"] = "boss@agency.example"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


def test_a_callback_without_our_state_is_refused(app: Flask, google: FakeGoogleSignIn) -> None:
    before = counts(app)
    client = app.test_client()
    code = google.issue(google.id_token(nonce="n"))
    assert client.get(f"/auth/callback?code={code}&state=made-up").status_code == 401
    assert client.get("/auth/callback?error=access_denied").status_code == 401
    assert signed_out(client)
    assert counts(app) == before


# --- forms ------------------------------------------------------------------------------


def test_forms_without_a_valid_csrf_token_are_refused(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    sales = client_as(app, google, SALES)
    stale = csrf_of(sales.get("/handovers/new").get_data(as_text=True))
    sales.post("/logout", data={"csrf_token": stale})
    assert sign_in(sales, google, email=SALES).status_code == 302  # a new session
    other = client_as(app, google, "ola@agency.example")
    foreign = csrf_of(other.get("/handovers/new").get_data(as_text=True))
    fields = form_fields(example_handover("Forged Corp"))
    before = counts(app)

    answers = [
        sales.post("/handovers", data=MultiDict(fields)).status_code,
        sales.post("/handovers", data=MultiDict([*fields, ("csrf_token", stale)])).status_code,
        sales.post("/handovers", data=MultiDict([*fields, ("csrf_token", foreign)])).status_code,
        sales.post("/handovers", data=MultiDict([*fields, ("csrf_token", "x" * 40)])).status_code,
        sales.post("/logout", data={"csrf_token": foreign}).status_code,
    ]

    assert answers == [400, 400, 400, 400, 400]
    assert not signed_out(sales)
    assert counts(app) == before


# --- the platform's endpoints ----------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/tasks/run/advance_handover"),
        ("post", "/tasks/run/sync_drive"),
        ("post", "/tasks/sweep"),
        ("get", "/tasks/sweep"),
        ("get", "/tasks/cron/sync_drive"),
        ("get", "/tasks/cron/review_reminders"),
    ],
)
def test_spoofed_app_engine_headers_off_app_engine_are_refused(
    app: Flask, method: str, path: str
) -> None:
    services = app.extensions["handover"]
    with services.db.transaction() as session:
        from sqlalchemy import select

        from service.store.models import HandoverRow

        handover_id = session.scalar(select(HandoverRow.id))
    before = counts(app)
    headers = {
        "X-AppEngine-QueueName": "default",
        "X-Appengine-Cron": "true",
        "X-AppEngine-TaskName": "t1",
        "X-Forwarded-For": "0.1.0.2",
    }

    answer = getattr(app.test_client(), method)(
        path, headers=headers, json={"handover_id": handover_id}
    )

    assert answer.status_code == 403
    assert counts(app) == before


# --- the API ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-0123456789abcdef"},
        {"Authorization": f"Bearer {API_TOKEN}x"},
        {"Authorization": f"Bearer {API_TOKEN[:-1]}"},
        {"Authorization": f"Basic {API_TOKEN}"},
        {"Authorization": "Bearer "},
        {"X-Api-Token": API_TOKEN},
    ],
    ids=["none", "wrong", "longer", "shorter", "basic", "empty", "other-header"],
)
def test_api_calls_without_a_valid_token_are_refused(app: Flask, headers: dict[str, str]) -> None:
    review_id = a_review(app)
    client = app.test_client()
    before = counts(app)

    statuses = [
        client.post("/api/handovers", json=example_handover("New Co"), headers=headers),
        client.get("/api/reviews", headers=headers),
        client.post(
            f"/api/reviews/{review_id}/decision",
            json={"decision": "approved"},
            headers=headers,
        ),
        client.get("/api/audit", headers=headers),
    ]

    assert [a.status_code for a in statuses] == [401, 401, 401, 401]
    assert all(a.get_json()["errors"][0]["field"] == "Authorization" for a in statuses)
    assert counts(app) == before


# --- roles -----------------------------------------------------------------------------


def test_people_acting_outside_their_role_are_refused(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    review_id = a_review(app)
    handover_id = _handover_id(app)
    sales = client_as(app, google, SALES)
    pia = client_as(app, google, "pia@agency.example")  # PM of another account
    ada = client_as(app, google, "ada@agency.example")  # the AM
    sue = client_as(app, google, "sue@agency.example")  # Sales, not on this handover
    token_of = {c: csrf_of(c.get("/").get_data(as_text=True)) for c in (sales, pia, ada, sue)}
    before = counts(app)

    decision = {"decision": "approved", "comment": "ok"}
    answers = {
        "sales decides (page)": sales.post(
            f"/reviews/{review_id}/decision", data={**decision, "csrf_token": token_of[sales]}
        ),
        "sales decides (api)": sales.post(
            f"/api/reviews/{review_id}/decision", json=decision, headers=SAME_ORIGIN
        ),
        "other PM decides (page)": pia.post(
            f"/reviews/{review_id}/decision", data={**decision, "csrf_token": token_of[pia]}
        ),
        "other PM decides (api)": pia.post(
            f"/api/reviews/{review_id}/decision", json=decision, headers=SAME_ORIGIN
        ),
        "AM decides": ada.post(
            f"/api/reviews/{review_id}/decision", json=decision, headers=SAME_ORIGIN
        ),
        "AM assigns a PM": ada.post(
            f"/handovers/{handover_id}/project-manager",
            data={"name": "Ada Lane", "email": "ada@agency.example", "csrf_token": token_of[ada]},
        ),
        "AM assigns a draft": ada.post(
            f"/reviews/{review_id}/account",
            data={"account_key": "acmecorp.example", "csrf_token": token_of[ada]},
        ),
        "AM cancels": ada.post(
            f"/handovers/{handover_id}/cancel", data={"csrf_token": token_of[ada]}
        ),
        "AM retries": ada.post(f"/handovers/{handover_id}/retry", data={"csrf_token": token_of[ada]}),
        "PM edits": pia.get(f"/handovers/{handover_id}/edit"),
        "other sales cancels": sue.post(
            f"/handovers/{handover_id}/cancel", data={"csrf_token": token_of[sue]}
        ),
        "other sales reads": sue.get(f"/api/handovers/{handover_id}"),
        "sales reads the audit": sales.get("/admin/audit"),
        "sales reads the audit (api)": sales.get("/api/audit"),
        "sales reads reviews": sales.get("/reviews"),
        "sales reads the unmatched": sales.get("/reviews/unmatched"),
        "PM reads the unmatched": pia.get("/reviews/unmatched"),
        "ops token reads the audit": app.test_client().get("/api/audit", headers=OPS),
        "sales token changes it": app.test_client().put(
            f"/api/handovers/{handover_id}",
            json=example_handover(),
            headers={"Authorization": f"Bearer {API_TOKEN}"},
        ),
    }

    assert {name: a.status_code for name, a in answers.items()} == {
        name: 403 for name in answers
    }
    assert counts(app) == before
    state = client_as(app, google, "boss@agency.example").get(f"/api/reviews/{review_id}")
    assert state.get_json()["state"] == "open"


def _handover_id(app: Flask) -> str:
    from sqlalchemy import select

    from service.store.models import HandoverRow

    with app.extensions["handover"].db.transaction() as session:
        return str(session.scalar(select(HandoverRow.id)))
