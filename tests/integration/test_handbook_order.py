"""The handbook's order with people in the loop, on both backends: the PM first (Operations
told, no meeting before), invitations from the person the handbook names, nothing to the
client before its organiser confirms, and the kickoff following the internal meetings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import icalendar
import pytest
from flask import Flask

from service import create_app
from service.demo import example_handover
from service.jobs import run_job
from service.store import handovers as repo
from service.store import roles
from service.web.present import handover_json
from service.workflows import kickoff
from service.workflows.meeting_confirm import NotYours, confirm_meeting
from tests.conftest import API_TOKEN, Clock, close_app, make_settings, on_the_fake, submit_and_wait
from tests.fakes import FakeGoogle

OPS_TOKEN = "ops-token-0123456789abcdef"
OPS = "olga@agency.example"  # operations by the ROLES setting
OPS2 = "otto@agency.example"  # operations by an admin's assignment in the service
CLIENT = "cleo@acmecorp.example"
INTERNAL = ("sales_handover", "internal_kickoff", "internal_account_sync")
PROPOSED = ("client_kickoff", "executive_sponsor_sync")
# The handbook's organisers: Sales (the first named), the PM, the AM.
ORGANISERS = {
    "sales_handover": "sam@agency.example",
    "internal_kickoff": "sam@agency.example",
    "client_kickoff": "pat@agency.example",
    "internal_account_sync": "ada@agency.example",
    "executive_sponsor_sync": "ada@agency.example",
}
NOW = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # a Tuesday


@pytest.fixture(params=["local", "google"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> Iterator[tuple[Flask, FakeGoogle | None]]:
    """Yield the app on the local backend, or on the Google one against the loopback fake."""
    extra: dict[str, Any] = {
        "roles": {OPS: "operations"},
        "api_tokens": {API_TOKEN: "sales", OPS_TOKEN: "operations"},
    }
    fake = None
    if request.param == "google":
        fake = request.getfixturevalue("fake_google")
        extra.update(on_the_fake(fake, google_impersonate="handover@agency.example"))
    app = create_app(make_settings(tmp_path, database_url=database_url, **extra))
    services = app.extensions["handover"]
    services.clock = Clock(NOW)
    with services.db.transaction() as session:
        roles.assign(session, OPS2, "operations", by="admin@agency.example", now=NOW)
    try:
        yield app, fake
    finally:
        close_app(app)


@contextmanager
def on_google(tmp_path: Path, database_url: str, fake: FakeGoogle) -> Iterator[Flask]:
    """Yield the app on the Google backend against the loopback fake, its clock at NOW."""
    settings = make_settings(
        tmp_path,
        database_url=database_url,
        **on_the_fake(fake, google_impersonate="handover@agency.example"),
    )
    app = create_app(settings)
    try:
        app.extensions["handover"].clock = Clock(NOW)
        yield app
    finally:
        close_app(app)


def submit(app: Flask, data: dict[str, Any]) -> str:
    return submit_and_wait(app, data, actor="sam@agency.example")


def view(app: Flask, handover_id: str) -> dict[str, Any]:
    services = app.extensions["handover"]
    services.tasks.wait_idle(timeout=60)
    with services.db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        assert row is not None
        return handover_json(row, base_url="")


def sent_mail(app: Flask, fake: FakeGoogle | None) -> list[tuple[str, set[str]]]:
    """Return every email sent as (subject, recipients), whichever the backend."""
    services = app.extensions["handover"]
    if fake is None:
        raws = [p.read_bytes() for p in services.mail.messages()]
    else:
        raws = [m["raw"] for m in fake.gmail.sent]
    out = []
    for raw in raws:
        message = message_from_bytes(raw, policy=policy.default)
        people = {
            a.addr_spec.lower()
            for h in ("To", "Cc", "Bcc")
            for a in (message[h].addresses if message[h] else ())
        }
        out.append((" ".join(str(message["Subject"]).split()), people))
    return out


def invited(app: Flask, fake: FakeGoogle | None) -> set[str]:
    """Return everyone an invitation reached: .ics emails locally, Calendar's on Google."""
    if fake is None:
        return {
            person
            for subject, people in sent_mail(app, None)
            if subject.startswith(("Invitation:", "Updated invitation:"))
            for person in people
        }
    return {a.lower() for i in fake.calendar.invitations for a in i["attendees"]}


def organiser_of(app: Flask, fake: FakeGoogle | None, event_id: str) -> str:
    """Return who sends the event: the .ics ORGANIZER, or the Google calendar holding it."""
    if fake is None:
        path = app.extensions["handover"].calendar.events_dir / f"{event_id}.ics"
        vevent = icalendar.Calendar.from_ical(path.read_bytes()).walk("VEVENT")[0]
        return str(vevent["ORGANIZER"]).removeprefix("mailto:").lower()
    holders = [cal for (cal, eid) in fake.calendar.events if eid == event_id]
    assert len(holders) == 1, holders  # one event, never a copy in a second calendar
    return holders[0]


def without_pm() -> dict[str, Any]:
    data = example_handover(today=NOW.date())
    data["project_manager"] = None
    return data


def test_a_handover_without_pm_waits_for_operations_then_gets_everything(
    backend: tuple[Flask, FakeGoogle | None],
) -> None:
    app, fake = backend
    services = app.extensions["handover"]
    handover_id = submit(app, without_pm())
    data = view(app, handover_id)
    states = {s["name"]: s["state"] for s in data["steps"]}
    # The brief and its sharing go on; every meeting step waits.
    assert [states[n] for n in ("client_folder", "project_brief", "share_brief", "notify_team")] == [
        "done"
    ] * 4
    assert {states[n] for n in ("plan_meetings", *INTERNAL[:2], "client_kickoff")} == {"pending"}
    assert data["waiting_for"] == "Operations assigns the PM"
    assert data["meetings"] == [] and data["artifacts"]["events"] == [] and data["plan"] is None
    assert invited(app, fake) == set()
    told = [p for s, p in sent_mail(app, fake) if s.startswith("A Project Manager is needed")]
    assert told == [{OPS, OPS2}]  # everyone in Operations, once
    # Operations' queue lists it with how long it has waited.
    since = datetime.fromisoformat(data["pm_needed_since"])
    services.clock.now = since + timedelta(hours=26)
    page = app.test_client().get("/operations/pm-needed")
    assert page.status_code == 200
    assert handover_id in page.get_data(as_text=True) and "1 day 2 h" in page.get_data(as_text=True)
    # The daily reminder, once a day however often cron runs.
    run_job(services, "pm_reminders", {})
    run_job(services, "pm_reminders", {})
    reminders = [p for s, p in sent_mail(app, fake) if s.startswith("Reminder: 1 handover")]
    assert reminders == [{OPS, OPS2}]
    # The sweep does not take waiting for stuck, nor start the meetings.
    later = lambda: datetime.now(UTC) + timedelta(days=2)  # noqa: E731 - a clock
    swept = kickoff.sweep(db=services.db, tasks=services.tasks, clock=later)
    assert handover_id not in swept
    run_job(services, "sweep", {})
    assert view(app, handover_id)["meetings"] == []

    answer = app.test_client().put(
        f"/api/handovers/{handover_id}",
        json=example_handover(today=NOW.date()),
        headers={"Authorization": f"Bearer {OPS_TOKEN}"},
    )
    assert answer.status_code == 202, answer.get_json()
    data = view(app, handover_id)
    assert data["status"] == "done", data["steps"]
    assert data["waiting_for"] is None
    states = {m["kind"]: m["state"] for m in data["meetings"]}
    assert states == {**dict.fromkeys(INTERNAL, "sent"), **dict.fromkeys(PROPOSED, "proposed")}
    assert "pat@agency.example" in invited(app, fake)
    assert app.test_client().get("/operations/pm-needed").get_data(as_text=True).count(
        handover_id
    ) == 0


def test_invitations_come_from_the_person_the_handbook_names(
    backend: tuple[Flask, FakeGoogle | None],
) -> None:
    app, fake = backend
    services = app.extensions["handover"]
    handover_id = submit(app, example_handover(today=NOW.date()))
    for kind in PROPOSED:
        confirm_meeting(handover_id, kind, start=None, actor=ORGANISERS[kind],
                        role="project_manager", db=services.db, tasks=services.tasks,
                        now=NOW)  # fmt: skip
    data = view(app, handover_id)
    events = {e["kind"]: e for e in data["artifacts"]["events"]}
    assert sorted(events) == sorted(ORGANISERS)
    for kind, event in events.items():
        assert organiser_of(app, fake, event["id"]) == ORGANISERS[kind], kind
    assert {m["kind"]: m["organiser"] for m in data["meetings"]} == ORGANISERS


def test_a_refused_impersonation_falls_back_to_the_service_user_and_says_so(
    tmp_path: Path, database_url: str, fake_google: FakeGoogle
) -> None:
    fake_google.calendar.unwritable.add("sam@agency.example")
    with on_google(tmp_path, database_url, fake_google) as app:
        handover_id = submit(app, example_handover(today=NOW.date()))
        data = view(app, handover_id)
        sales = next(m for m in data["meetings"] if m["kind"] == "sales_handover")
        assert sales["state"] == "sent" and sales["sent_from"] == "primary"
        assert "did not let the service act as sam@agency.example" in sales["note"]
        event_id = next(
            e["id"] for e in data["artifacts"]["events"] if e["kind"] == "sales_handover"
        )
        assert organiser_of(app, fake_google, event_id) == "primary"
        page = app.test_client().get(f"/handovers/{handover_id}").get_data(as_text=True)
        assert "did not let the service act as sam@agency.example" in page
        # Run again (a change): the event stays where it is, never a second copy.
        kickoff.update_handover(
            handover_id,
            example_handover(today=NOW.date()),
            actor="ops",
            db=app.extensions["handover"].db,
            tasks=app.extensions["handover"].tasks,
            clock=app.extensions["handover"].clock,
        )
        view(app, handover_id)
        assert organiser_of(app, fake_google, event_id) == "primary"


def test_nothing_reaches_the_client_until_its_organiser_confirms(
    backend: tuple[Flask, FakeGoogle | None],
) -> None:
    app, fake = backend
    services = app.extensions["handover"]
    client = app.test_client()
    handover_id = submit(app, example_handover(today=NOW.date()))
    data = view(app, handover_id)
    kickoff_meeting = next(m for m in data["meetings"] if m["kind"] == "client_kickoff")
    assert kickoff_meeting["state"] == "proposed"
    assert len(kickoff_meeting["alternatives"]) == 2
    offered = [kickoff_meeting["start"], *(a["start"] for a in kickoff_meeting["alternatives"])]
    assert offered == sorted(offered, key=datetime.fromisoformat) and len(set(offered)) == 3
    assert CLIENT not in invited(app, fake)
    assert all(CLIENT not in people for _, people in sent_mail(app, fake))
    asked = [p for s, p in sent_mail(app, fake) if s.startswith("Please confirm the client kickoff")]
    assert asked == [{"pat@agency.example"}]

    url = f"/api/handovers/{handover_id}/meetings/client_kickoff/confirm"
    sales = {"Authorization": f"Bearer {API_TOKEN}"}
    ops = {"Authorization": f"Bearer {OPS_TOKEN}"}
    assert client.post(url, json={}, headers=sales).status_code == 403
    with pytest.raises(NotYours):
        confirm_meeting(handover_id, "client_kickoff", start=None, actor="dev1@agency.example",
                        role="sales", db=services.db, tasks=services.tasks, now=NOW)  # fmt: skip
    wrong = client.post(url, json={"start": "2031-01-01T10:00:00+00:00"}, headers=ops)
    assert wrong.status_code == 422
    assert wrong.get_json()["errors"][0]["field"] == "start"
    assert CLIENT not in invited(app, fake)

    chosen = kickoff_meeting["alternatives"][1]["start"]
    answer = client.post(url, json={"start": chosen}, headers=ops)
    assert answer.status_code == 200 and answer.get_json()["state"] == "confirmed"
    again = client.post(url, json={"start": chosen}, headers=ops)  # a double click
    assert again.status_code == 200
    data = view(app, handover_id)
    meeting = next(m for m in data["meetings"] if m["kind"] == "client_kickoff")
    assert meeting["state"] == "sent" and meeting["start"] == chosen
    event = next(e for e in data["artifacts"]["events"] if e["kind"] == "client_kickoff")
    assert datetime.fromisoformat(event["start"]) == datetime.fromisoformat(chosen)
    assert CLIENT in invited(app, fake)
    client_invites = [s for s, p in sent_mail(app, fake) if CLIENT in p]
    if fake is None:
        assert client_invites == [f"Invitation: {event_kickoff_title(data)}"]
    else:
        assert [i["action"] for i in fake.calendar.invitations if CLIENT in i["attendees"]] == [
            "insert"
        ]
    # The sponsor sync waits for the AM still.
    sponsor = next(m for m in data["meetings"] if m["kind"] == "executive_sponsor_sync")
    assert sponsor["state"] == "proposed"


def event_kickoff_title(data: dict[str, Any]) -> str:
    return next(m["title"] for m in data["plan"]["meetings"] if m["kind"] == "client_kickoff")


def test_an_unconfirmed_proposal_reminds_its_organiser_after_one_business_day(
    backend: tuple[Flask, FakeGoogle | None],
) -> None:
    app, fake = backend
    services = app.extensions["handover"]
    submit(app, example_handover(today=NOW.date()))
    run_job(services, "meeting_reminders", {})
    assert not [s for s, _ in sent_mail(app, fake) if s.startswith("Reminder: the")]
    services.clock.now = NOW + timedelta(days=1, minutes=1)  # Wednesday, a business day later
    run_job(services, "meeting_reminders", {})
    run_job(services, "meeting_reminders", {})
    reminders = sorted(
        (s, tuple(p)) for s, p in sent_mail(app, fake) if s.startswith("Reminder: the")
    )
    assert reminders == [
        ("Reminder: the client kickoff for Acme Corp waits for your confirmation",
         ("pat@agency.example",)),
        ("Reminder: the executive sponsor sync for Acme Corp waits for your confirmation",
         ("ada@agency.example",)),
    ]  # fmt: skip


def move_internal(app: Flask, fake: FakeGoogle | None, data: dict[str, Any], days: int) -> None:
    """Move the internal kickoff `days` later, as its organiser would in their calendar."""
    event = next(e for e in data["artifacts"]["events"] if e["kind"] == "internal_kickoff")
    start = datetime.fromisoformat(event["start"]) + timedelta(days=days)
    end = datetime.fromisoformat(event["end"]) + timedelta(days=days)
    if fake is not None:
        fake.calendar.move_event(event["id"], ORGANISERS["internal_kickoff"], start, end)
        return
    path = app.extensions["handover"].calendar.events_dir / f"{event['id']}.ics"
    cal = icalendar.Calendar.from_ical(path.read_bytes())
    vevent = cal.walk("VEVENT")[0]
    zone = vevent.decoded("DTSTART").tzinfo
    vevent["DTSTART"] = icalendar.vDDDTypes(start.astimezone(zone))
    vevent["DTEND"] = icalendar.vDDDTypes(end.astimezone(zone))
    path.write_bytes(cal.to_ical())


def test_a_moved_internal_meeting_moves_the_kickoff_proposal(
    backend: tuple[Flask, FakeGoogle | None],
) -> None:
    app, fake = backend
    services = app.extensions["handover"]
    handover_id = submit(app, example_handover(today=NOW.date()))
    data = view(app, handover_id)
    before = next(m for m in data["meetings"] if m["kind"] == "client_kickoff")
    move_internal(app, fake, data, days=7)
    run_job(services, "follow_meetings", {})
    after_data = view(app, handover_id)
    after = next(m for m in after_data["meetings"] if m["kind"] == "client_kickoff")
    internal = next(m for m in after_data["plan"]["meetings"] if m["kind"] == "internal_kickoff")
    assert after["state"] == "proposed"
    assert datetime.fromisoformat(after["start"]) >= datetime.fromisoformat(internal["end"])
    assert datetime.fromisoformat(after["start"]) > datetime.fromisoformat(before["start"])
    asks = [s for s, p in sent_mail(app, fake) if s.startswith("Please confirm the client")]
    assert len(asks) == 2  # the PM is asked again, for the new time
    run_job(services, "follow_meetings", {})  # nothing new: nothing more
    assert len([s for s, _ in sent_mail(app, fake) if s.startswith("Please confirm")]) == 3
    assert CLIENT not in invited(app, fake)


def test_a_sent_kickoff_overtaken_by_an_internal_meeting_is_flagged_and_emailed(
    backend: tuple[Flask, FakeGoogle | None],
) -> None:
    app, fake = backend
    services = app.extensions["handover"]
    handover_id = submit(app, example_handover(today=NOW.date()))
    confirm_meeting(handover_id, "client_kickoff", start=None, actor="pat@agency.example",
                    role="project_manager", db=services.db, tasks=services.tasks,
                    now=NOW)  # fmt: skip
    data = view(app, handover_id)
    move_internal(app, fake, data, days=14)
    run_job(services, "follow_meetings", {})
    run_job(services, "follow_meetings", {})
    kickoff_meeting = next(m for m in view(app, handover_id)["meetings"]
                           if m["kind"] == "client_kickoff")  # fmt: skip
    assert kickoff_meeting["state"] == "sent"
    assert "internal kickoff now comes after the client kickoff" in kickoff_meeting["note"]
    flagged = [p for s, p in sent_mail(app, fake) if s.startswith("The client kickoff for")]
    assert flagged == [{"pat@agency.example"}]


def test_a_change_is_told_in_words_to_am_and_pm_and_to_who_came_and_went(
    backend: tuple[Flask, FakeGoogle | None],
) -> None:
    app, fake = backend
    services = app.extensions["handover"]
    handover_id = submit(app, example_handover(today=NOW.date()))
    changed = example_handover(today=NOW.date())
    changed["delivery_team"] = [
        {"name": "Dev One", "email": "dev1@agency.example", "role": "Engineer"},
        {"name": "Nia Okafor", "email": "nia@agency.example", "role": "QA"},
    ]  # Dee is taken off, Nia comes
    changed["project"]["sync_cadence"] = "monthly"
    for _ in range(2):  # the same change saved twice is told once
        kickoff.update_handover(handover_id, changed, actor="olga@agency.example", db=services.db,
                                tasks=services.tasks, clock=services.clock)  # fmt: skip
        view(app, handover_id)
    mail = sent_mail(app, fake)
    summaries = [(s, p) for s, p in mail if s.startswith("Handover changed:")]
    assert summaries == [
        ("Handover changed: Acme Corp Commerce Platform",
         {"ada@agency.example", "pat@agency.example"})
    ]  # fmt: skip
    added = [p for s, p in mail if s.startswith("You are now on")]
    removed = [p for s, p in mail if s.startswith("You are no longer on")]
    assert added == [{"nia@agency.example"}] and removed == [{"dee@agency.example"}]
    if fake is None:
        body = next(
            m for m in (p.read_text() for p in services.mail.messages()) if "Handover changed" in m
        )
        assert "Delivery team: added Nia Okafor" in body and "removed Dee Signer" in body
        assert "Account sync cadence changed from fortnightly to monthly" in body


def test_on_google_the_meetings_go_beside_the_kickoff_and_each_call_is_made_once(
    tmp_path: Path, database_url: str, fake_google: FakeGoogle
) -> None:
    with on_google(tmp_path, database_url, fake_google) as app:
        handover_id = submit(app, example_handover(today=NOW.date()))
        data = view(app, handover_id)
        assert data["status"] == "done", data["steps"]
        calls = [r.method_id for r in fake_google.requests if r.status]
        moved = sum(len(e["moved"]) for e in data["artifacts"]["events"])
        # The internal invitations, each inserted once and read once more for its Meet
        # link (Calendar answers the insert with the Meet still `pending`); the meeting
        # steps that ran after the kickoff found them sent as planned and called nothing.
        assert calls.count("calendar.events.insert") == 3 + moved
        assert calls.count("calendar.events.get") == 3 + moved
        assert "calendar.events.patch" not in calls
        assert calls.count("calendar.freebusy.query") == 1
        asks = [s for s, _ in sent_mail(app, fake_google) if s.startswith("Please confirm")]
        assert len(asks) == 2
        # Planned before the kickoff's email went: the free/busy query came first.
        assert calls.index("calendar.freebusy.query") < calls.index("gmail.users.drafts.create")


def test_the_page_offers_the_times_and_confirms_the_one_picked(
    backend: tuple[Flask, FakeGoogle | None],
) -> None:
    import re

    app, fake = backend
    client = app.test_client()  # the dev login: an admin, on loopback
    handover_id = submit(app, example_handover(today=NOW.date()))
    kickoff_meeting = next(
        m for m in view(app, handover_id)["meetings"] if m["kind"] == "client_kickoff"
    )
    page = client.get(f"/handovers/{handover_id}").get_data(as_text=True)
    assert "Proposed: waiting for Pat Moss to confirm" in page and "Confirm and send" in page
    for slot in kickoff_meeting["alternatives"]:
        assert f'value="{slot["start"]}"' in page
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token is not None
    chosen = kickoff_meeting["alternatives"][0]["start"]
    answer = client.post(
        f"/handovers/{handover_id}/meetings/client_kickoff/confirm",
        data={"csrf_token": token.group(1), "start": chosen},
    )
    assert answer.status_code == 303
    after = next(m for m in view(app, handover_id)["meetings"] if m["kind"] == "client_kickoff")
    assert after["state"] == "sent" and after["start"] == chosen
    assert CLIENT in invited(app, fake)
