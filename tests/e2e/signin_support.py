"""An app with Sign-in with Google against the loopback OpenID fake, and people in every role.

The fixtures `google` and `app` are named with `name=`: a test module imports
`google_fixture` and `app_fixture` (or `app_with_a_handover_fixture`) with `# noqa: F401`,
and its tests' `google` and `app` arguments then shadow no import."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from service import create_app
from service.store.models import AuditRow, HandoverRow, StepRow
from service.store.review_models import ReviewRow
from tests.conftest import API_TOKEN, Clock, close_app, make_settings
from tests.fakes.oidc import CLIENT_ID, CLIENT_SECRET, FakeGoogleSignIn, sign_in

DOMAIN = "agency.example"
ROLES = {
    "ada@agency.example": "account_manager",
    "pat@agency.example": "project_manager",
    "pia@agency.example": "project_manager",  # a PM of no account in the tests
    "ola@agency.example": "operations",
    "boss@agency.example": "admin",
}
SALES = "sam@agency.example"  # not in ROLES: the default role, sales
OPS_TOKEN = "ops-token-0123456789abcdef"  # noqa: S105 - a test value
ADMIN_TOKEN = "admin-token-0123456789abcdef"  # noqa: S105 - a test value
OPS = {"Authorization": f"Bearer {OPS_TOKEN}"}  # API request headers as Operations
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}  # and as an admin


@contextmanager
def signin_app(
    tmp_path: Path, database_url: str, fake: FakeGoogleSignIn, **overrides: Any
) -> Iterator[Flask]:
    """Yield an app whose pages need Sign-in with Google (the fake) for agency.example."""
    settings: dict[str, Any] = {
        "database_url": database_url,
        "allowed_domain": DOMAIN,
        "google_oauth_client_id": CLIENT_ID,
        "google_oauth_client_secret": CLIENT_SECRET,
        "google_oidc_discovery_url": fake.discovery_url,
        "roles": ROLES,
        "api_tokens": {API_TOKEN: "sales", OPS_TOKEN: "operations", ADMIN_TOKEN: "admin"},
        "public_base_url": "http://localhost",
        **overrides,
    }
    app = create_app(make_settings(tmp_path, **settings))
    try:
        yield app
    finally:
        close_app(app)


@pytest.fixture(name="google")
def google_fixture() -> Iterator[FakeGoogleSignIn]:
    """The loopback Sign-in with Google fake, started for one test."""
    fake = FakeGoogleSignIn().start()
    yield fake
    fake.stop()


@pytest.fixture(name="app")
def app_fixture(tmp_path: Path, database_url: str, google: FakeGoogleSignIn) -> Iterator[Flask]:
    """A signin_app with no handover yet."""
    with signin_app(tmp_path, database_url, google) as app:
        yield app


@pytest.fixture(name="app")
def app_with_a_handover_fixture(
    tmp_path: Path, database_url: str, google: FakeGoogleSignIn
) -> Iterator[Flask]:
    """A signin_app with one handover kicked off: something for an attack to leave alone."""
    with signin_app(tmp_path, database_url, google) as app:
        kickoff(app)
        yield app


def csrf_of(html: str) -> str:
    """Return the CSRF token of the form in this page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page carries a CSRF token"
    return match.group(1)


def client_as(app: Flask, fake: FakeGoogleSignIn, email: str) -> Any:
    """Return a test client signed in as this agency person."""
    client = app.test_client()
    answer = sign_in(client, fake, email=email)
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def page_client_as(app: Flask, fake: FakeGoogleSignIn, email: str) -> Any:
    """Return a client signed in as this person whose API calls carry the service's own
    Origin, as the service's pages send them (a cookie call without it is refused)."""
    client = client_as(app, fake, email)
    client.environ_base["HTTP_ORIGIN"] = "http://localhost"
    return client


def counts(app: Flask) -> dict[str, int]:
    """Return the number of rows in every table an attack could touch, and the files made."""
    services = app.extensions["handover"]
    with services.db.transaction() as session:
        rows = {
            table.__tablename__: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in (HandoverRow, StepRow, ReviewRow, AuditRow)
        }
    root = services.settings.workspace_dir
    rows["files"] = sum(1 for p in root.rglob("*") if p.is_file()) if root.exists() else 0
    outbox = getattr(services.mail, "messages", None)
    rows["outbox"] = len(list(outbox())) if outbox else 0
    return rows


def kickoff(app: Flask, *, actor: str = SALES, client: str = "Acme Corp") -> str:
    """Submit the example handover as this person, run its steps, and return its id."""
    from service.demo import example_handover
    from service.workflows import kickoff as use_cases

    services = app.extensions["handover"]
    result = use_cases.submit_handover(
        example_handover(client), idempotency_key=None, actor=actor, db=services.db,
        tasks=services.tasks,
    )
    services.tasks.wait_idle()
    return str(result.handover_id)


def pm_at(app: Flask, fake: FakeGoogleSignIn, now: datetime) -> tuple[Clock, Any]:
    """Hand Acme Corp over and set the service's clock to `now`; return that clock and its
    PM (pat@) signed in, calling the API as the account page does."""
    kickoff(app)
    clock = Clock(now)
    app.extensions["handover"].clock = clock
    return clock, page_client_as(app, fake, "pat@agency.example")


def a_review(app: Flask, name: str = "SOW - Acme Corp v1.docx") -> str:
    """Drop a contract draft into the account's Contracts folder, sync, return the review id."""
    from service.jobs import run_job
    from service.store.models import AccountRow

    services = app.extensions["handover"]
    with services.db.transaction() as session:
        folder_id = session.scalar(select(AccountRow.contracts_folder_id))
    (Path(services.drive.path_of(folder_id)) / name).write_bytes(b"draft v1")
    run_job(services, "sync_drive", {})
    services.tasks.wait_idle()
    with services.db.transaction() as session:
        return str(session.scalar(select(ReviewRow.id).order_by(ReviewRow.created_at.desc())))
