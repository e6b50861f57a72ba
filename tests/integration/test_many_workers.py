"""Many workers on one PostgreSQL database: every step and every draft is handled once.

Each worker is a whole app of its own (`create_app`: its own engine, pool and adapters),
as a gunicorn worker or an App Engine instance is; they share the database and the
local backend's workspace directory, and start together behind a barrier.
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from service import create_app
from service.demo import example_handover
from service.schema import validate_handover
from service.store import job_queue
from service.store.db import make_engine, migrate
from service.store.models import AuditRow, StepRow
from service.store.review_models import ReviewRow
from service.worker import Worker
from service.workflows import contracts, kickoff
from service.workflows.steps import STEP_NAMES
from tests.conftest import close_app, make_settings, run_together

pytestmark = pytest.mark.postgres
WORKERS = 4
ACCOUNTS, PER_ACCOUNT = 10, 2  # two handovers per client: they share its folder and syncs


@pytest.fixture
def apps(tmp_path: Path, pg_schema_url: str) -> Iterator[list[Flask]]:
    """Migrate from WORKERS threads at once, then start WORKERS apps on one schema and one
    workspace (jobs wait in the DB)."""
    settings = make_settings(tmp_path, database_url=pg_schema_url, task_queue="database")

    def migrate_one() -> None:  # the migrations race, as gunicorn's workers' do at start
        engine = make_engine(pg_schema_url)
        try:
            migrate(engine)
        finally:
            engine.dispose()

    run_together([migrate_one] * WORKERS)
    # The apps themselves are made one after another: CPython 3.11 before 3.11.9 can fail
    # building AST objects on several threads at once (gh-106905: "AST constructor recursion
    # depth mismatch"), which Werkzeug does for each URL rule. Gunicorn's workers are
    # processes, so this is a limit of this test's threads, not of the service.
    made: list[Flask] = []
    try:
        for _ in range(WORKERS):
            made.append(create_app(settings))
        yield made
    finally:
        for app in made:
            close_app(app)


def submit_all(services: Any, accounts: int = ACCOUNTS, per_account: int = PER_ACCOUNT) -> list[str]:
    ids = []
    for n in range(accounts * per_account):
        data = example_handover(f"Client {n % accounts:02d}")
        data["project"]["name"] = f"Project {n:02d}"
        result = kickoff.submit_handover(
            data, idempotency_key=f"key-{n}", actor="test", db=services.db, tasks=services.tasks
        )
        ids.append(result.handover_id)
    return ids


def assert_everything_done_once(services: Any, ids: list[str]) -> None:
    with services.db.transaction() as session:
        steps = list(session.scalars(select(StepRow)))
        done = Counter(
            (row.subject, row.detail["step"])
            for row in session.scalars(select(AuditRow).where(AuditRow.action == "step.done"))
        )
    assert len(steps) == len(ids) * len(STEP_NAMES)
    assert {(s.state, s.attempts) for s in steps} == {("done", 1)}, "a step ran twice or not at all"
    assert set(done.values()) == {1} and len(done) == len(steps)

    drive = services.settings.workspace_dir / "drive"
    clients = sorted(p.name for p in drive.iterdir() if p.is_dir())
    assert clients == [f"Client {a:02d}" for a in range(ACCOUNTS)]
    for client in clients:
        assert sorted(p.name for p in (drive / client).iterdir() if p.is_dir()) == ["Contracts"]
    briefs = sorted(p.name for p in drive.glob("*/Project Brief - *"))
    assert briefs == [f"Project Brief - Project {n:02d}.html" for n in range(len(ids))]

    mails = sent_mails(services)
    assert set(Counter(m.key for m in mails).values()) == {1}, "an email key went out twice"
    # The handover's own email to each internal person, its two internal meetings, and the
    # two client meetings proposed to their organisers (nothing reaches the client before
    # they confirm), once each.
    people = len(validate_handover(example_handover("Client 00"))[1].internal_people())
    expected = [
        *["Handover"] * people,
        "Invitation",
        "Invitation",
        "Please confirm the client kickoff",
        "Please confirm the executive sponsor sync",
    ]
    for n in range(len(ids)):
        mine = sorted(m.subject.split(":")[0] for m in mails if f"Project {n:02d}" in m.subject)
        assert mine == expected, mine
    # The account's Internal Account Sync: one series per account, however many handovers
    # raced to make it (an instance moved off a holiday is `<series id><date>`). The
    # Executive Sponsor Sync is only proposed here: it is made when its AM confirms it.
    for a in range(ACCOUNTS):
        for kind in ("Internal Account Sync",):
            ids_ = {m.uid.split("@")[0] for m in mails if m.subject.endswith(f"{kind}: Client {a:02d}")}
            series = {u for u in ids_ if not any(u != v and u.startswith(v) for v in ids_)}
            assert len(series) == 1, f"Client {a:02d} has {len(series)} {kind} series"


@dataclass(frozen=True)
class Mail:
    subject: str
    key: tuple[str, str]  # what the outbox keys on: the event and its SEQUENCE, or the file
    uid: str


def sent_mails(services: Any) -> list[Mail]:
    """Return the outbox: each message with the invitation's UID and SEQUENCE if any."""
    found = []
    for path in services.mail.messages():
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        subject = " ".join(str(message["Subject"]).split())
        uid, sequence = "", ""
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                text = part.get_content()
                text = text.decode() if isinstance(text, bytes) else text
                uid = re.search(r"^UID:(.+)$", text, re.M).group(1).strip()
                sequence = re.search(r"^SEQUENCE:(\d+)", text, re.M).group(1)
        found.append(Mail(subject, (uid, sequence) if uid else (path.name, ""), uid))
    return found


def test_four_workers_advancing_the_same_handovers_run_each_step_once(apps: list[Flask]) -> None:
    first = apps[0].extensions["handover"]
    ids = submit_all(first)

    def worker(app: Flask, seed: int) -> Callable[[], None]:
        s = app.extensions["handover"]
        order = ids[:]
        random.Random(seed).shuffle(order)

        def run() -> None:
            for _ in range(3):  # a handover another worker held is looked at again
                for handover_id in order:
                    kickoff.advance_handover(handover_id, db=s.db, ctx=s.steps, clock=s.clock)

        return run

    run_together([worker(app, seed) for seed, app in enumerate(apps)])

    assert_everything_done_once(first, ids)


def test_four_database_queue_workers_run_each_job_once(apps: list[Flask]) -> None:
    first = apps[0].extensions["handover"]
    ids = submit_all(first)
    for handover_id in ids:  # duplicate nudges, as a sweep and a retried request would send
        kickoff.queue_advance(first.tasks, handover_id)
    workers = [Worker(app.extensions["handover"], threads=2, poll=0.05) for app in apps]
    stop = threading.Event()

    def until_empty() -> None:
        while not stop.is_set():
            if first.tasks.wait_idle(timeout=0):
                stop.set()
            stop.wait(0.1)

    run_together([lambda w=w: w.run(stop) for w in workers] + [until_empty])

    assert sum(w.ran for w in workers) == len(ids)  # the duplicates were dropped at enqueue
    assert all(w.ran > 0 for w in workers), "SKIP LOCKED shares the jobs out"
    with first.db.transaction() as session:
        assert job_queue.waiting_jobs(session) == 0
    assert_everything_done_once(first, ids)


def test_two_instances_syncing_drive_at_once_route_each_draft_once(apps: list[Flask]) -> None:
    first = apps[0].extensions["handover"]
    ids = submit_all(first, accounts=4, per_account=1)
    Worker(first, threads=4, poll=0.05).run(stop_when_idle(first))
    folders = sorted((first.settings.workspace_dir / "drive").glob("*/Contracts"))
    for n, folder in enumerate(folders):
        (folder / f"SOW {n}.docx").write_bytes(b"draft")
        (folder / f"MSA {n}.pdf").write_bytes(b"%PDF draft")
    services = [app.extensions["handover"] for app in apps[:2]]
    for s in services:
        s.review_policy = replace(s.review_policy, settle_seconds=0)

    def sync(s: Any) -> Callable[[], None]:
        def run() -> None:
            for _ in range(3):
                contracts.sync_drive(
                    db=s.db,
                    feed=s.change_feed,
                    tasks=s.tasks,
                    clock=s.clock,
                    policy=s.review_policy,
                )

        return run

    run_together([sync(s) for s in services])
    workers = [Worker(s, threads=2, poll=0.05) for s in services]
    stop = stop_when_idle(first)
    run_together([lambda w=w: w.run(stop) for w in workers])

    with first.db.transaction() as session:
        reviews = list(session.scalars(select(ReviewRow)))
        assert session.scalar(select(func.count()).select_from(ReviewRow)) == 2 * len(folders)
    assert len({r.file_id for r in reviews}) == len(reviews)
    messages = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in first.mail.messages()
    ]
    requests = Counter(str(m["Subject"]) for m in messages if "Contract review" in str(m["Subject"]))
    assert len(requests) == 2 * len(folders) and set(requests.values()) == {1}
    assert len(folders) == len(ids) == 4


def stop_when_idle(services: Any) -> threading.Event:
    """Return an event set once the database queue is empty (checked on a thread)."""
    stop = threading.Event()

    def watch() -> None:
        while not services.tasks.wait_idle(timeout=0.2):
            pass
        stop.set()

    threading.Thread(target=watch, daemon=True).start()
    return stop
