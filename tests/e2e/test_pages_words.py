"""Pages in plain words: no ISO timestamps, internal keys or hex ids where people read; the
handover page's needs-attention panel; the home page's search and filters."""

from __future__ import annotations

from flask import Flask

from service.demo import example_handover
from service.workflows import kickoff as use_cases
from tests.e2e.plain_words import leaks, visible_text
from tests.e2e.signin_support import (  # noqa: F401 - fixtures
    SALES,
    a_review,
    app_fixture,
    client_as,
    google_fixture,
    kickoff,
)
from tests.fakes.oidc import FakeGoogleSignIn

ACCOUNT = "acmecorp.example"


def without_pm(app: Flask, client: str = "Initech") -> str:
    """Submit a handover with no PM yet (Operations assigns one later); return its id."""
    services = app.extensions["handover"]
    body = example_handover(client)
    body.pop("project_manager")
    made = use_cases.submit_handover(
        body, idempotency_key=None, actor=SALES, db=services.db, tasks=services.tasks
    )
    services.tasks.wait_idle()
    return str(made.handover_id)


def test_the_pages_show_no_iso_time_internal_key_or_hex_id(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    handover_id = kickoff(app)
    waiting = without_pm(app)
    a_review(app)
    admin = client_as(app, google, "boss@agency.example")
    pages = [
        "/",
        f"/handovers/{handover_id}",
        f"/handovers/{handover_id}/live",
        f"/handovers/{waiting}",
        "/admin/audit",
        f"/admin/audit?subject={handover_id}",
        "/accounts",
        f"/accounts/{ACCOUNT}",
        "/operations/pm-needed",
        "/reviews",  # the review's own page is the "reviews" branch's (issue 13, item 2)
        "/admin/people",
    ]
    found = {}
    for url in pages:
        answer = admin.get(url)
        assert answer.status_code == 200, url
        text = visible_text(answer.get_data(as_text=True))
        found[url] = leaks(text)
    assert found == {url: [] for url in pages}
