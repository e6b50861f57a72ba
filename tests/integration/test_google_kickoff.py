"""The kickoff's short road on Google (ids stored before the creates, calls side by side):
lost answers, a dying process and two handovers at once still make each artifact once."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from integrations.google.auth import Clients
from integrations.google.drive import GoogleDrive
from integrations.google.execute import RetryPolicy
from integrations.google.mail import GoogleMail
from integrations.ports import Email, Made
from service.demo import example_handover
from service.store import handovers as repo
from service.store.mail_drafts import DatabaseMailLedger
from service.workflows import kickoff
from tests.conftest import Clock, app_on_the_fake
from tests.fakes import FakeGoogle, Fault

FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"
FAST = RetryPolicy(base=0.01, cap=0.05, deadline=10.0)


class ProcessDied(BaseException):
    """Stands for the process being killed: nothing after it runs, no handler catches it."""


class DyingDrive(GoogleDrive):
    """Dies right after Drive made the brief, once."""

    died = False

    def create_document(self, name: str, html: str, **kwargs: Any) -> Made:
        made = super().create_document(name, html, **kwargs)
        if not DyingDrive.died:
            DyingDrive.died = True
            raise ProcessDied
        return made


class DyingMail(GoogleMail):
    """Dies right after Gmail sent the team's kickoff email, once."""

    died = False

    def send(self, email: Email) -> str:
        sent = super().send(email)
        if not DyingMail.died and email.subject.startswith("Handover:"):
            DyingMail.died = True
            raise ProcessDied
        return sent


@pytest.fixture
def app(tmp_path: Path, database_url: str, fake_google: FakeGoogle) -> Iterator[Flask]:
    with app_on_the_fake(tmp_path, database_url, fake_google) as made:
        yield made


@pytest.fixture
def clients(fake_google: FakeGoogle) -> Iterator[Clients]:
    made = Clients(credentials=None, endpoint=fake_google.url)
    yield made
    made.close()


def handover_emails(fake: FakeGoogle) -> list[dict[str, Any]]:
    """Return the sent kickoff emails (the team's "Handover: ..." message, one a person)."""
    return [m for m in fake.gmail.sent if b"Subject: Handover:" in m["raw"]]


TEAM = sorted(["ada@agency.example", "pat@agency.example", "sam@agency.example",
               "dev1@agency.example", "dee@agency.example"])  # fmt: skip


def told_once_each(fake: FakeGoogle) -> bool:
    """Return True when each person of the example's team got the team's email once."""
    return sorted(str(m["message"]["To"]) for m in handover_emails(fake)) == TEAM


def submit(app: Flask, data: Mapping[str, Any] | None = None) -> str:
    services = app.extensions["handover"]
    return kickoff.submit_handover(
        dict(data or example_handover()),
        idempotency_key=None,
        actor="t",
        db=services.db,
        tasks=services.tasks,
    ).handover_id


def status(app: Flask, handover_id: str) -> dict[str, Any]:
    answer = app.test_client().get(f"/api/handovers/{handover_id}")
    return answer.get_json()  # type: ignore[no-any-return]


def kinds(fake: FakeGoogle) -> Counter[str]:
    return Counter(f["mimeType"] for f in fake.drive.files.values() if not f.get("trashed"))


def no_duplicate_permissions(fake: FakeGoogle) -> None:
    for file_id, perms in fake.drive.permissions.items():
        emails = [p.get("emailAddress") for p in perms]
        assert len(emails) == len(set(emails)), (file_id, emails)


def steps_of(app: Flask, handover_id: str) -> dict[str, tuple[str, int]]:
    with app.extensions["handover"].db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        assert row is not None
        return {s.name: (s.state, s.attempts) for s in row.steps}


def sweep_after_the_lease(app: Flask, clock: Clock) -> None:
    services = app.extensions["handover"]
    clock.now += timedelta(minutes=6)
    kickoff.sweep(db=services.db, tasks=services.tasks, clock=clock)
    services.tasks.wait_idle(timeout=60)


def test_answers_lost_after_every_create_share_and_send_make_each_artifact_once(
    app: Flask, fake_google: FakeGoogle
) -> None:
    faults = [
        fake_google.faults.add(Fault(reset=True, after=True, path=path, method="POST", times=2))
        for path in (r"^/drive/v3/files$", r"^/upload/drive/v3/files$", r"^/batch/drive/v3$")
    ]
    faults.append(
        fake_google.faults.add(
            Fault(reset=True, after=True, path=r"/(messages|drafts)/send$", times=1)
        )
    )
    handover_id = submit(app)
    app.extensions["handover"].tasks.wait_idle(timeout=60)
    assert [f.fired for f in faults] == [2, 2, 2, 1]
    data = status(app, handover_id)
    assert data["status"] == "done", data["steps"]
    assert kinds(fake_google) == {FOLDER: 2, DOC: 1}
    no_duplicate_permissions(fake_google)
    brief = data["artifacts"]["brief"]["id"]
    shared = {p.get("emailAddress") for p in fake_google.drive.permissions[brief]}
    assert {"sam@agency.example", "dev1@agency.example", "dee@agency.example"} <= shared
    assert told_once_each(fake_google)


def test_a_process_dying_after_the_brief_was_made_leaves_one_brief(
    app: Flask, fake_google: FakeGoogle, clients: Clients
) -> None:
    services = app.extensions["handover"]
    services.clock = clock = Clock()
    services.drive = DyingDrive(clients, policy=FAST)
    DyingDrive.died = False
    handover_id = submit(app)
    services.tasks.wait_idle(timeout=60)
    assert kinds(fake_google)[DOC] == 1  # made, but the process died before recording it
    # The brief is written while the Contracts folder is made, in the client_folder step.
    assert steps_of(app, handover_id)["client_folder"] == ("running", 1)

    sweep_after_the_lease(app, clock)
    data = status(app, handover_id)
    assert data["status"] == "done", data["steps"]
    assert kinds(fake_google) == {FOLDER: 2, DOC: 1}
    assert data["artifacts"]["brief"]["id"] == next(
        f["id"] for f in fake_google.drive.files.values() if f["mimeType"] == DOC
    )
    assert told_once_each(fake_google)


def test_a_process_dying_after_the_email_was_sent_sends_no_second(
    app: Flask, fake_google: FakeGoogle, clients: Clients
) -> None:
    services = app.extensions["handover"]
    services.clock = clock = Clock()
    services.mail = DyingMail(clients, policy=FAST, ledger=DatabaseMailLedger(services.db))
    DyingMail.died = False
    handover_id = submit(app)
    services.tasks.wait_idle(timeout=60)
    assert handover_emails(fake_google)  # the sends go side by side: one died after Gmail sent
    # The email goes out while the files are shared, in the share_brief step.
    assert steps_of(app, handover_id)["share_brief"] == ("running", 1)

    sweep_after_the_lease(app, clock)
    assert status(app, handover_id)["status"] == "done"
    assert told_once_each(fake_google)
    no_duplicate_permissions(fake_google)


def test_two_handovers_of_a_new_client_at_once_make_one_account_folder(
    app: Flask, fake_google: FakeGoogle
) -> None:
    fake_google.drive.list_lag = 5.0  # a lookup would not see the other's folder
    second = example_handover()
    second["project"]["name"] = "Acme Mobile App"
    ids = [submit(app), submit(app, second)]
    app.extensions["handover"].tasks.wait_idle(timeout=60)
    assert [status(app, i)["status"] for i in ids] == ["done", "done"]
    assert kinds(fake_google) == {FOLDER: 2, DOC: 2}
    assert len({status(app, i)["artifacts"]["folder"]["id"] for i in ids}) == 1


def test_a_second_project_of_the_client_looks_nothing_up(
    app: Flask, fake_google: FakeGoogle
) -> None:
    services = app.extensions["handover"]
    first = submit(app)
    services.tasks.wait_idle(timeout=60)
    before = len(fake_google.requests)
    second = example_handover()
    second["project"]["name"] = "Acme Mobile App"
    handover_id = submit(app, second)
    services.tasks.wait_idle(timeout=60)
    assert status(app, handover_id)["status"] == "done"
    called = Counter(r.method_id for r in fake_google.requests[before:])
    assert called["drive.files.list"] == 0 and called["gmail.users.drafts.list"] == 0
    assert called["gmail.users.drafts.get"] == 0  # a first send looks nothing up either
    assert called["drive.files.create"] == 1  # the brief; the folders are the first's
    with services.db.transaction() as session:
        folders = {repo.artifact(session, h, "folder").external_id for h in (first, handover_id)}  # type: ignore[union-attr]
    assert len(folders) == 1
