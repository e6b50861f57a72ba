"""The whole kickoff on WORKSPACE_BACKEND=google, through the real client library,
against the loopback Google: one folder, one brief, the shares, one email, even under faults."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service.demo import example_handover
from service.store import handovers as repo
from service.workflows import kickoff
from tests.conftest import app_on_the_fake, confirm_client_meetings, submit_and_wait
from tests.fakes import FakeGoogle, Fault

FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"


@pytest.fixture(name="google_app")
def google_app_fixture(
    tmp_path: Path, database_url: str, fake_google: FakeGoogle
) -> Iterator[Flask]:
    """The Google backend on the loopback Google, the service acting as its own user."""
    with app_on_the_fake(
        tmp_path, database_url, fake_google, google_impersonate="handover@agency.example"
    ) as app:
        yield app


def run_handover(app: Flask, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Submit, wait, confirm the client meetings as proposed; return the API's view."""
    handover_id = submit_and_wait(app, data or example_handover(), actor="test")
    come_back_after_the_lease(app, handover_id)
    confirm_client_meetings(app.extensions["handover"], handover_id)
    answer = app.test_client().get(f"/api/handovers/{handover_id}")
    return answer.get_json()  # type: ignore[no-any-return]


def come_back_after_the_lease(app: Flask, handover_id: str) -> None:
    """Run the handover's job again as the queue does once a put-off step's lease is over.

    Under injected bursts a step may still fail after the client's own retries (the
    meetings' calls run beside the kickoff's, so which call draws which fault varies): it
    is put off for the lease, then its job comes back. The test does not wait 5 minutes.
    """
    services = app.extensions["handover"]
    for _ in range(5):
        with services.db.transaction() as session:
            row = repo.get_handover(session, handover_id)
            assert row is not None
            waiting = any(s.state == "pending" and s.lease_until for s in row.steps)
        if not waiting:
            return
        later = datetime.now(UTC) + services.settings.lease
        kickoff.advance_handover(handover_id, db=services.db, ctx=services.steps,
                                 clock=lambda: later)  # fmt: skip
        services.tasks.wait_idle(timeout=60)


def handover_emails(fake: FakeGoogle) -> list[dict[str, Any]]:
    """Return the sent kickoff emails (the team's "Handover: ..." message, one a person)."""
    return [m for m in fake.gmail.sent if b"Subject: Handover:" in m["raw"]]


TEAM = sorted(["ada@agency.example", "pat@agency.example", "sam@agency.example",
               "dev1@agency.example", "dee@agency.example"])  # fmt: skip


def told_once_each(fake: FakeGoogle) -> bool:
    """Return True when each person of the example's team got the team's email once."""
    return sorted(str(m["message"]["To"]) for m in handover_emails(fake)) == TEAM


def live_files(fake: FakeGoogle) -> list[dict[str, Any]]:
    return [f for f in fake.drive.files.values() if not f.get("trashed")]


def test_the_kickoff_makes_each_artifact_once_in_google(
    google_app: Flask, fake_google: FakeGoogle
) -> None:
    data = run_handover(google_app)
    assert data["status"] == "done", data["steps"]
    files = live_files(fake_google)
    kinds = Counter(f["mimeType"] for f in files)
    assert kinds == {FOLDER: 2, DOC: 1}
    brief = next(f for f in files if f["mimeType"] == DOC)
    assert brief["id"] == data["artifacts"]["brief"]["id"]
    assert (
        data["artifacts"]["brief"]["url"]
        == f"https://docs.google.com/document/d/{brief['id']}/edit"
    )
    text = fake_google.docs.text(brief["id"])
    assert "Project Brief: Acme Corp" in text and "Replatform the storefront" in text
    folder_id = data["artifacts"]["folder"]["id"]
    people = {
        (p.get("emailAddress"), p["role"])
        for p in fake_google.drive.permissions[folder_id]
        if p.get("emailAddress") != "handover@agency.example"
    }
    assert {("ada@agency.example", "writer"), ("pat@agency.example", "writer")} <= people
    assert told_once_each(fake_google)
    # The brief was made by one upload with conversion, not created then written.
    uploads = [r for r in fake_google.requests if r.path.startswith("/upload/drive/v3/files")]
    assert len(uploads) == 1


def test_bursts_of_429_and_5xx_still_make_each_artifact_once(
    google_app: Flask, fake_google: FakeGoogle
) -> None:
    fake_google.faults.add(Fault(status=429, rate=0.25, seed=11))
    fake_google.faults.add(Fault(status=503, rate=0.1, seed=12))
    data = run_handover(google_app)
    assert data["status"] == "done", data["steps"]
    fake_google.faults.clear()
    kinds = Counter(f["mimeType"] for f in live_files(fake_google))
    assert kinds == {FOLDER: 2, DOC: 1}
    for file_id, perms in fake_google.drive.permissions.items():
        emails = [p.get("emailAddress") for p in perms]
        assert len(emails) == len(set(emails)), (file_id, emails)
    assert told_once_each(fake_google)
    assert any(r.status == 429 for r in fake_google.requests)


def test_a_google_4xx_fails_the_step_with_googles_message_and_a_retry_completes(
    google_app: Flask, fake_google: FakeGoogle
) -> None:
    fake_google.faults.add(
        Fault(
            status=403,
            path=r"/permissions",
            method="POST",
            times=1,
            reason="insufficientFilePermissions",
        )
    )
    data = run_handover(google_app)
    assert data["status"] == "failed"
    failed = next(s for s in data["steps"] if s["state"] == "failed")
    assert failed["name"] == "share_brief"
    assert "403" in failed["error"] or "ermission" in failed["error"]
    services = google_app.extensions["handover"]
    kickoff.retry_handover(
        data["id"], actor="ops", db=services.db, tasks=services.tasks, clock=services.clock
    )
    services.tasks.wait_idle(timeout=60)
    again = google_app.test_client().get(f"/api/handovers/{data['id']}").get_json()
    assert again["status"] == "done"
    assert Counter(f["mimeType"] for f in live_files(fake_google)) == {FOLDER: 2, DOC: 1}


def test_a_second_project_for_the_same_client_reuses_its_folders(
    google_app: Flask, fake_google: FakeGoogle
) -> None:
    run_handover(google_app)
    second = example_handover()
    second["project"]["name"] = "Acme Mobile"
    assert run_handover(google_app, second)["status"] == "done"
    assert Counter(f["mimeType"] for f in live_files(fake_google)) == {FOLDER: 2, DOC: 2}


def test_the_five_meetings_are_calendar_events_with_meet_and_zone(
    google_app: Flask, fake_google: FakeGoogle
) -> None:
    data = run_handover(google_app)
    assert data["status"] == "done", data["steps"]
    events = {e["kind"]: e for e in data["artifacts"]["events"]}
    assert sorted(events) == sorted(
        [
            "sales_handover",
            "internal_kickoff",
            "client_kickoff",
            "internal_account_sync",
            "executive_sponsor_sync",
        ]
    )
    stored = {eid: ev for (_cal, eid), ev in fake_google.calendar.events.items()}
    moved = sum(len(e["moved"]) for e in events.values())
    assert len(stored) == 5 + moved
    for kind, ref in events.items():
        event = stored[ref["id"]]
        assert event["extendedProperties"]["private"] == {
            "handoverId": data["id"],
            "meetingKind": kind,
        }
        assert event["start"]["timeZone"] and event["end"]["timeZone"]
        assert (
            event["conferenceData"]["createRequest"]["conferenceSolutionKey"]["type"]
            == "hangoutsMeet"
        )
        if kind.endswith("_sync"):
            assert event["recurrence"][0].startswith("RRULE:")
    inserts = [r for r in fake_google.requests if r.method_id == "calendar.events.insert"]
    assert all(r.query.get("conferenceDataVersion") == "1" for r in inserts)


def test_a_retried_meeting_step_patches_and_never_duplicates(
    google_app: Flask, fake_google: FakeGoogle
) -> None:
    fake_google.faults.add(
        Fault(status=503, path=r"/calendar/v3/calendars/.*/events", method="POST", rate=0.3, seed=5)
    )
    fake_google.faults.add(
        Fault(
            status=429, path=r"/calendar/v3/calendars/.*/events", method="POST", after=True, times=2
        )
    )
    data = run_handover(google_app)
    assert data["status"] == "done", data["steps"]
    fake_google.faults.clear()
    moved = sum(len(e["moved"]) for e in data["artifacts"]["events"])
    assert len(fake_google.calendar.events) == 5 + moved
    services = google_app.extensions["handover"]
    from service.workflows import kickoff as use

    changed = example_handover()
    changed["delivery_team"].append({"name": "Nia", "email": "nia@agency.example", "role": "QA"})
    use.update_handover(
        data["id"], changed, actor="ops", db=services.db, tasks=services.tasks, clock=services.clock
    )
    services.tasks.wait_idle(timeout=60)
    assert len(fake_google.calendar.events) == 5 + moved
    kickoff_id = next(
        e["id"] for e in data["artifacts"]["events"] if e["kind"] == "internal_kickoff"
    )
    # Sales arranges the internal kickoff (the handbook): it is in their calendar.
    event = fake_google.calendar.event(kickoff_id, "sam@agency.example")
    attendees = [a["email"] for a in event["attendees"]]
    assert "nia@agency.example" in attendees
