"""A step Google keeps failing (429/5xx past the client's own retries) is put off and runs
again by itself; only after a few such attempts is it left failed for a person."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from service.demo import example_handover
from service.store import handovers as repo
from service.store.models import AuditRow
from service.workflows import kickoff
from tests.conftest import EXAMPLE_TEAM, app_on_the_fake
from tests.fakes import FakeGoogle, Fault

CLIENT_ATTEMPTS = 8  # integrations.google.execute.RetryPolicy.max_attempts


@pytest.fixture
def app(tmp_path: Path, database_url: str, fake_google: FakeGoogle) -> Iterator[Flask]:
    # a put-off step comes back after a second
    with app_on_the_fake(
        tmp_path, database_url, fake_google, google_retry_base=0.001, lease_seconds=1
    ) as made:
        yield made


def run_handover(app: Flask) -> tuple[str, dict[str, tuple[str, int, str | None]]]:
    services = app.extensions["handover"]
    handover_id = kickoff.submit_handover(
        example_handover(), idempotency_key=None, actor="t", db=services.db, tasks=services.tasks
    ).handover_id
    return wait_settled(app, handover_id)


def wait_settled(
    app: Flask, handover_id: str
) -> tuple[str, dict[str, tuple[str, int, str | None]]]:
    """Wait until the handover is done or has a failed step; return its steps."""
    services = app.extensions["handover"]
    for _ in range(40):  # put-off jobs come back on a timer: wait them out
        assert services.tasks.wait_idle(timeout=30)
        with services.db.transaction() as session:
            row = repo.get_handover(session, handover_id)
            assert row is not None
            steps = {s.name: (s.state, s.attempts, s.error) for s in row.steps}
        states = {state for state, _, _ in steps.values()}
        if states == {"done"} or "failed" in states:
            return handover_id, steps
        time.sleep(0.5)
    raise AssertionError(f"the handover did not settle: {steps}")


def retried(app: Flask, handover_id: str) -> dict[str, tuple[str, int, str | None]]:
    """Operations presses Retry; wait until the handover settles again."""
    services = app.extensions["handover"]
    kickoff.retry_handover(
        handover_id,
        actor="ola@agency.example",
        db=services.db,
        tasks=services.tasks,
        clock=services.clock,
    )
    return wait_settled(app, handover_id)[1]


def postponed(app: Flask, handover_id: str) -> list[dict[str, object]]:
    with app.extensions["handover"].db.transaction() as session:
        rows = session.scalars(
            select(AuditRow).where(
                AuditRow.subject == handover_id, AuditRow.action == "step.postponed"
            )
        )
        return [dict(row.detail) for row in rows]


def test_a_step_google_fails_past_the_client_retries_runs_again_and_completes(
    app: Flask, fake_google: FakeGoogle
) -> None:
    fault = fake_google.faults.add(
        Fault(status=503, method_id="drive.files.create", times=CLIENT_ATTEMPTS)
    )

    handover_id, steps = run_handover(app)

    assert fault.fired == CLIENT_ATTEMPTS
    assert {state for state, _, _ in steps.values()} == {"done"}, steps
    [entry] = postponed(app, handover_id)
    assert entry["step"] == "client_folder" and entry["attempt"] == 1
    assert steps["client_folder"][:2] == ("done", 2)
    assert "503" in str(entry["error"])
    folders = [f["name"] for f in fake_google.drive.files.values()]
    assert sorted(folders) == [
        "Acme Corp",
        "Contracts",
        "Project Brief - Acme Corp Commerce Platform",
    ]
    told = [str(m["message"]["To"]) for m in fake_google.gmail.sent if b"Subject: Handover:" in m["raw"]]
    assert sorted(told) == EXAMPLE_TEAM  # each person once, through the retries


def test_a_step_google_keeps_failing_is_left_failed_after_a_few_attempts(
    app: Flask, fake_google: FakeGoogle
) -> None:
    fake_google.faults.add(Fault(status=429, method_id="drive.permissions.create"))

    handover_id, steps = run_handover(app)

    state, attempts, error = steps["share_brief"]
    assert (state, attempts) == ("failed", kickoff.TRANSIENT_ATTEMPTS)
    assert error is not None and "429" in error
    assert [e["attempt"] for e in postponed(app, handover_id)] == list(
        range(1, kickoff.TRANSIENT_ATTEMPTS)
    )
    later = list(steps)[list(steps).index("share_brief") + 1 :]
    assert {steps[name][0] for name in later} == {"pending"}  # nothing ran past it
    answer = app.test_client().get(f"/api/handovers/{handover_id}").get_json()
    assert answer["status"] == "failed"  # for a person to retry, with Google's reason shown
    assert any("429" in (step.get("error") or "") for step in answer["steps"])


def test_a_person_retrying_a_failed_step_gives_it_fresh_tries(
    app: Flask, fake_google: FakeGoogle
) -> None:
    rule = fake_google.faults.add(Fault(status=429, method_id="drive.permissions.create"))
    handover_id, steps = run_handover(app)
    assert steps["share_brief"][0] == "failed"
    fired = rule.fired

    steps = retried(app, handover_id)

    # Put off four times again, then failed: not failed at the first 429 after the retry.
    attempts = [e["attempt"] for e in postponed(app, handover_id)]
    assert attempts == 2 * list(range(1, kickoff.TRANSIENT_ATTEMPTS))
    assert steps["share_brief"][0] == "failed" and rule.fired > fired
    fake_google.faults.remove(rule)
    steps = retried(app, handover_id)
    assert {state for state, _, _ in steps.values()} == {"done"}
