"""The database queue (`TASK_QUEUE=database`) on SQLite and PostgreSQL: once per waiting key,
delays kept, failures retried then dropped, a dead worker's job taken again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask

from service import create_app
from service.cli import main as cli
from service.demo import example_handover
from service.store import handovers as repo
from service.store import job_queue
from service.worker import MAX_ATTEMPTS, Worker
from service.workflows import kickoff
from tests.conftest import Clock, close_app, make_settings

CLOCK_START = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)  # where the tests' clock starts


@pytest.fixture
def queued(tmp_path: Path, database_url: str) -> Iterator[Any]:
    app: Flask = create_app(
        make_settings(tmp_path, database_url=database_url, task_queue="database")
    )
    services = app.extensions["handover"]
    services.clock = Clock(CLOCK_START)
    yield services
    close_app(app)


def take(services: Any) -> list[job_queue.TakenJob]:
    with services.db.transaction() as session:
        return job_queue.take_jobs(
            session, now=services.clock(), lease=services.settings.lease, limit=10
        )


def waiting(services: Any) -> int:
    with services.db.transaction() as session:
        return job_queue.waiting_jobs(session)


def test_a_waiting_key_is_queued_once_and_again_once_taken(queued: Any) -> None:
    queued.tasks.enqueue("sweep", {}, key="sweep")
    queued.tasks.enqueue("sweep", {}, key="sweep")
    assert waiting(queued) == 1
    [job] = take(queued)
    assert (job.job, job.payload, job.attempts) == ("sweep", {}, 1)
    queued.tasks.enqueue("sweep", {}, key="sweep")  # taken: the same key may wait again
    assert waiting(queued) == 2 and len(take(queued)) == 1


def test_a_delayed_job_waits_for_its_time(queued: Any) -> None:
    queued.tasks.enqueue("sync_drive", {}, key="settle", delay_seconds=30)
    assert take(queued) == []
    queued.clock.now += timedelta(seconds=31)
    assert [j.job for j in take(queued)] == ["sync_drive"]


def test_a_dead_workers_job_is_taken_again_after_its_lease(queued: Any) -> None:
    queued.tasks.enqueue("sweep", {}, key="sweep")
    assert len(take(queued)) == 1  # and the worker dies
    assert take(queued) == []
    queued.clock.now += queued.settings.lease + timedelta(seconds=1)
    [again] = take(queued)
    assert again.attempts == 2


def test_a_failing_job_is_retried_with_backoff_then_dropped(queued: Any) -> None:
    queued.tasks.enqueue("advance_handover", {"handover_id": "nope"}, key="advance-nope")
    worker = Worker(queued, threads=1)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert worker.run_one(), f"attempt {attempt} was not due"
        assert not worker.run_one()  # backing off
        queued.clock.now += timedelta(seconds=2**attempt + 1)
    assert waiting(queued) == 0


def test_the_worker_runs_a_submitted_handover_to_done(queued: Any) -> None:
    result = kickoff.submit_handover(
        example_handover(), idempotency_key=None, actor="test", db=queued.db, tasks=queued.tasks
    )
    worker = Worker(queued, threads=1)
    while worker.run_one():
        pass
    status = kickoff.advance_handover(
        result.handover_id, db=queued.db, ctx=queued.steps, clock=queued.clock
    )
    assert status == "done" and worker.ran == 1 and waiting(queued) == 0


def test_a_job_finding_its_step_held_comes_back_when_the_lease_ends(queued: Any) -> None:
    result = kickoff.submit_handover(
        example_handover(), idempotency_key=None, actor="test", db=queued.db, tasks=queued.tasks
    )
    with queued.db.transaction() as session:  # a worker took the first step, then died
        row = repo.get_handover(session, result.handover_id)
        assert row is not None
        first = min(row.steps, key=lambda s: s.position)
        assert repo.claim_step(session, first.id, now=queued.clock(), lease=queued.settings.lease)
    worker = Worker(queued, threads=1)

    assert worker.run_one()  # the step is held: the job is not dropped but put off
    assert waiting(queued) == 1 and not worker.run_one()
    queued.clock.now += queued.settings.lease + timedelta(seconds=1)
    assert worker.run_one()

    with queued.db.transaction() as session:
        row = repo.get_handover(session, result.handover_id)
        assert row is not None
        states = {s.name: (s.state, s.attempts) for s in row.steps}
    assert states.pop(first.name) == ("done", 2)  # taken over once, after the lease
    assert set(states.values()) == {("done", 1)}
    assert waiting(queued) == 0


def test_handover_worker_refuses_another_queue(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'w.db'}", "TASK_QUEUE": "inline",
           "WORKSPACE_DIR": str(tmp_path / "ws")}
    result = CliRunner().invoke(cli, ["worker"], env=env)
    assert result.exit_code == 2 and "TASK_QUEUE=database" in result.output
