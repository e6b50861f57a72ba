"""Every entry point authenticates: each route of the app, called by a stranger (no
session, no token, from outside, CSRF checks off so that only the auth decides) is refused,
except the few that are public on purpose, named here with what they answer. A new route
fails this test until it is placed in one of the two lists."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.e2e.signin_support import google_fixture, signin_app  # noqa: F401 - the google fixture
from tests.fakes.oidc import FakeGoogleSignIn

STRANGER = {"REMOTE_ADDR": "203.0.113.9"}
# Public on purpose, with what a stranger gets.
PUBLIC = {
    ("GET", "/healthz"): {200},  # the platform's health check: says only backend and ok
    ("GET", "/login"): {302},  # off to Google
    ("GET", "/auth/callback"): {401, 403},  # no sign-in under way: refused
    ("GET", "/api/openapi.json"): {200},  # the API's description, no data
    ("GET", "/calendar/<token>.ics"): {404},  # a feed only for whoever holds its secret
    ("POST", "/hooks/drive"): {403},  # a verified Drive channel only
    ("GET", "/_ah/warmup"): {200},  # App Engine's own; opens a database connection
    ("POST", "/logout"): {200, 302},  # ends the sender's own session (with its CSRF token)
}
# Refused to strangers: a page sends them to sign in; everything else answers 401 or 403.
PAGES = {
    "/",
    "/handovers/new",
    "/handovers/<handover_id>",
    "/handovers/<handover_id>/edit",
    "/handovers/<handover_id>/live",  # the handover page's changing sections, same rules
    "/handovers/<handover_id>/meetings/<kind>.ics",  # a sent meeting's invitation (local)
    "/reviews",
    "/reviews/<review_id>",
    "/reviews/unmatched",
    "/reviews/upload",  # the form to upload a contract draft (its POST is refused: 401/403)
    "/operations/pm-needed",
    "/admin/audit",
    "/admin/people",
    "/files/<file_id>",
    "/accounts",
    "/accounts/<account_id>",
}


@pytest.fixture
def app(tmp_path: Path, database_url: str, google: FakeGoogleSignIn) -> Iterator[Flask]:
    with signin_app(tmp_path, database_url, google) as made:
        made.config["WTF_CSRF_ENABLED"] = False
        yield made


def routes(app: Flask) -> list[tuple[str, str]]:
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def url_of(rule: str) -> str:
    for name in ("handover_id", "review_id", "file_id", "token", "job", "path:email",
                 "account_id", "item_id", "collection", "action", "kind"):  # fmt: skip
        rule = rule.replace(f"<{name}>", "sweep" if name == "job" else "x1")
    return rule


def test_every_route_refuses_a_stranger_unless_public_on_purpose(app: Flask) -> None:
    client = app.test_client()
    answers = {}
    for method, rule in routes(app):
        answer = client.open(url_of(rule), method=method, json={}, environ_overrides=STRANGER)
        answers[(method, rule)] = (answer.status_code, answer.headers.get("Location", ""))

    for key, (status, location) in answers.items():
        if key in PUBLIC:
            assert status in PUBLIC[key], (key, status)
        elif key[0] == "GET" and key[1] in PAGES:
            assert status == 302 and "/login" in location, (key, status, location)
        else:
            assert status in {401, 403}, (key, status)
    assert set(PUBLIC) <= set(answers), "a public route is gone: update the list"
    assert len(answers) >= 40  # the whole app, not a stub
