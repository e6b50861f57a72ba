"""Shared fixtures: settings in a temp dir, the app through its factory, a live server,
and databases (SQLite always, PostgreSQL when TEST_POSTGRES_URL is set)."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from service import create_app
from service.config import Settings

pytest_plugins = ["tests.fakes.pytest_plugin"]

API_TOKEN = "test-token-0123456789abcdef"
TASKS_SECRET = "tasks-secret-0123456789"


def postgres_url() -> str | None:
    """Return the PostgreSQL URL for tests, if this run has one."""
    return os.environ.get("TEST_POSTGRES_URL") or None


@contextmanager
def fresh_schema(base: str, prefix: str = "t_") -> Iterator[str]:
    """Yield a URL to a new schema on the PostgreSQL server at base; drop it after."""
    schema = prefix + secrets.token_hex(6)
    engine = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    sep = "&" if "?" in base else "?"
    try:
        yield f"{base}{sep}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """Yield a URL to a fresh PostgreSQL schema, dropped afterwards."""
    base = postgres_url()
    if base is None:
        pytest.skip("TEST_POSTGRES_URL is not set")
    with fresh_schema(base) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Yield a database URL: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'handover.db'}"
    return str(request.getfixturevalue("pg_schema_url"))


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Return test settings with everything under tmp_path."""
    base: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'handover.db'}",
        "workspace_dir": tmp_path / "workspace",
        "api_tokens": {API_TOKEN: "sales"},
        "tasks_secret": TASKS_SECRET,
        "secret_key": "test-secret-key",
        "testing": True,
        "inline_workers": 2,
        "review_settle_seconds": 0.0,
        "dev_login_enabled": True,  # DEV_LOGIN=1; off where ALLOWED_DOMAIN is set
    }
    base.update(overrides)
    return Settings(**base)


def on_the_fake(fake: Any, **overrides: Any) -> dict[str, Any]:
    """Return settings for the Google backend against the loopback Google, fast retries."""
    return {
        "workspace_backend": "google",
        "google_api_endpoint": fake.url,
        "google_auth": "anonymous",
        "google_retry_base": 0.01,
        **overrides,
    }


def close_app(app: Flask) -> None:
    """Stop the app's workers and close its database connections."""
    app.extensions["handover"].close()


@contextmanager
def app_on_the_fake(
    tmp_path: Path, database_url: str, fake: Any, **overrides: Any
) -> Iterator[Flask]:
    """Yield the app on the Google backend against the loopback Google; close it after."""
    app = create_app(
        make_settings(tmp_path, database_url=database_url, **on_the_fake(fake, **overrides))
    )
    try:
        yield app
    finally:
        close_app(app)


class Clock:
    """A clock a test sets: it says `now` (UTC) until the test moves it."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = (now or datetime.now(UTC)).astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now


@contextmanager
def stored_artifact(app: Flask, handover_id: str, kind: str) -> Iterator[Any]:
    """Yield the handover's stored artifact of `kind` (plan, brief, folder) in a transaction:
    what the block changes on it is saved when the block ends."""
    from service.store import handovers as repo

    with app.extensions["handover"].db.transaction() as session:
        row = repo.artifact(session, handover_id, kind)
        assert row is not None, f"no {kind} is stored for {handover_id}"
        yield row


def submit_and_wait(app: Flask, data: dict[str, Any], *, actor: str = "t") -> str:
    """Submit the handover as `actor` and wait until every step queued has run; return its
    id."""
    from service.workflows import kickoff

    services = app.extensions["handover"]
    result = kickoff.submit_handover(
        data, idempotency_key=None, actor=actor, db=services.db, tasks=services.tasks
    )
    services.tasks.wait_idle(timeout=60)
    return result.handover_id


def run_together(functions: list[Callable[[], object]], timeout: float = 300) -> None:
    """Run the functions on threads released at the same moment; re-raise the first error."""
    barrier = threading.Barrier(len(functions))
    errors: list[BaseException] = []

    def run(function: Callable[[], object]) -> None:
        barrier.wait()
        try:
            function()
        except BaseException as error:  # noqa: BLE001 - reported to the test below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    if errors:
        raise errors[0]


def wait_until(check: Callable[[], bool], timeout: float = 10, interval: float = 0.02) -> None:
    """Wait until check() is true; fail the test after timeout seconds."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(interval)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url)


@pytest.fixture
def app(settings: Settings) -> Iterator[Flask]:
    app = create_app(settings)
    yield app
    close_app(app)


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def services(app: Flask) -> Any:
    return app.extensions["handover"]


class LiveServer:
    """The app served over real HTTP on 127.0.0.1 in a thread."""

    def __init__(self, app: Flask, port: int) -> None:
        self.app = app
        self._server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def free_port() -> int:
    """Return a port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    """Serve a fresh app over HTTP; PUBLIC_BASE_URL points at it so links work."""
    port = free_port()
    app = create_app(
        make_settings(
            tmp_path, database_url=database_url, public_base_url=f"http://127.0.0.1:{port}"
        )
    )
    with LiveServer(app, port) as server:
        yield server
    close_app(app)


def outbox_subjects(services: Any, prefix: str = "") -> list[str]:
    """Return the subjects of the local outbox's messages that start with prefix."""
    from email import message_from_bytes, policy

    messages = [message_from_bytes(p.read_bytes(), policy=policy.default) for p in services.mail.messages()]
    subjects = [" ".join(str(m["Subject"]).split()) for m in messages]
    return sorted(s for s in subjects if s.startswith(prefix))


# The example handover's agency people: each gets the team's email once.
EXAMPLE_TEAM = sorted(["ada@agency.example", "pat@agency.example", "sam@agency.example",
                       "dev1@agency.example", "dee@agency.example"])  # fmt: skip


def told(services: Any, prefix: str = "Handover:") -> list[str]:
    """Return the recipients of the outbox's messages whose subject starts with prefix, one
    entry a message (the team's email goes to one person each)."""
    from email import message_from_bytes, policy

    found = []
    for path in services.mail.messages():
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if " ".join(str(message["Subject"]).split()).startswith(prefix):
            found += [str(a.addr_spec) for a in message["To"].addresses]
    return sorted(found)


def confirm_client_meetings(services: Any, handover_id: str) -> list[str]:
    """Confirm the handover's proposed client meetings as Operations would; run the sends.

    Returns the kinds confirmed. The sends run through the queue (wait for it idle) or, with
    a queue that runs nothing, here.
    """
    from service.jobs import run_job
    from service.workflows.meeting_confirm import confirm_meeting
    from service.workflows.meeting_states import PROPOSED_KINDS, get

    confirmed = []
    for kind in sorted(PROPOSED_KINDS):
        state = get(services.db, handover_id, kind)
        if state is None or state.get("state") != "proposed":
            continue
        confirm_meeting(
            handover_id,
            kind,
            start=None,
            actor="ops@agency.example",
            role="operations",
            db=services.db,
            tasks=services.tasks,
            now=services.clock(),
        )
        if not hasattr(services.tasks, "wait_idle"):
            run_job(services, "send_meeting", {"handover_id": handover_id, "kind": kind})
        confirmed.append(kind)
    if hasattr(services.tasks, "wait_idle"):
        services.tasks.wait_idle(timeout=60)
    return confirmed
