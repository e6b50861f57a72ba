"""The agenda of every sync, made by cron one business day before, on both backends:
a document in the client folder, linked from that one occurrence (locally a RECURRENCE-ID
override in the .ics; on Google the instance `<series>_<UTC start>` patched), emailed to
the AM and PM once; a sync the day after a holiday gets its agenda before the holiday."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from icalendar import Calendar as VCalendar

from service.domain.business_days import is_business_day
from service.jobs import run_job
from service.store.account_models import AgendaRow
from service.workflows import agendas
from service.workflows.meetings import event_id
from tests.conftest import Clock, app_on_the_fake, close_app, confirm_client_meetings, make_settings
from tests.e2e.signin_support import kickoff
from tests.fakes import FakeGoogle

ACCOUNT = "acmecorp.example"
AM, PM = "ada@agency.example", "pat@agency.example"
START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # a fixed clock: the same plan every run
SERIES = event_id("account", ACCOUNT, "internal_account_sync")


@pytest.fixture
def local_app(tmp_path: Path, database_url: str) -> Iterator[Flask]:
    from service import create_app

    app = create_app(make_settings(tmp_path, database_url=database_url))
    app.extensions["handover"].clock = Clock(START)
    yield app
    close_app(app)


@pytest.fixture
def google_app(tmp_path: Path, database_url: str, fake_google: FakeGoogle) -> Iterator[Flask]:
    with app_on_the_fake(
        tmp_path, database_url, fake_google, google_impersonate="handover@agency.example"
    ) as app:
        app.extensions["handover"].clock = Clock(START)
        yield app


def first_sync(app: Flask) -> agendas.SyncOccurrence:
    services = app.extensions["handover"]
    found = agendas.next_sync(services.rhythm, ACCOUNT, agendas.INTERNAL, services.clock())
    assert found is not None, "the handover made no Internal Account Sync"
    return found


def due_of(app: Flask, occurrence: agendas.SyncOccurrence) -> datetime:
    return agendas.agenda_due(occurrence, lead=1, country="US")


def made(app: Flask) -> list[AgendaRow]:
    services = app.extensions["handover"]
    with services.db.transaction() as session:
        rows = list(session.query(AgendaRow).order_by(AgendaRow.id))
        session.expunge_all()
        return rows


def local_subjects(app: Flask, start: str) -> list[Any]:
    from email import message_from_bytes, policy

    services = app.extensions["handover"]
    found = []
    for path in services.mail.messages():
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if " ".join(str(message["Subject"]).split()).startswith(start):
            found.append(message)
    return found


def test_the_agenda_is_made_one_business_day_before_on_the_local_backend(
    local_app: Flask,
) -> None:
    services = local_app.extensions["handover"]
    kickoff(local_app)
    pm = local_app.test_client()
    pm.environ_base["HTTP_ORIGIN"] = "http://localhost"  # as the service's pages send it
    pm.post(f"/api/accounts/{ACCOUNT}/tasks",
            json={"title": "Send SOW", "owner_email": PM, "due_on": "2027-01-15"})  # fmt: skip
    occurrence = first_sync(local_app)
    due = due_of(local_app, occurrence)

    services.clock.now = due - timedelta(minutes=1)
    run_job(services, "sync_agendas", {})
    assert made(local_app) == []
    services.clock.now = due + timedelta(minutes=1)
    run_job(services, "sync_agendas", {})
    run_job(services, "sync_agendas", {})  # the next hour's cron: nothing twice

    [row] = [r for r in made(local_app) if r.meeting_kind == agendas.INTERNAL]
    assert row.occurrence_start == occurrence.original and row.emailed_at and row.described_at
    document = Path(services.drive.path_of(row.document_id))
    assert document.parent.name == "Acme Corp" and document.suffix == ".html"
    html = document.read_text()
    assert "Is the project going well?" in html and "Send SOW" in html and PM in html
    [mail] = local_subjects(local_app, "Agenda: Internal Account Sync with Acme Corp")
    assert {a.strip() for a in str(mail["To"]).split(",")} == {AM, PM}
    cal = VCalendar.from_ical((services.calendar.events_dir / f"{SERIES}.ics").read_bytes())
    overrides = [e for e in cal.events if "RECURRENCE-ID" in e]
    assert [o.decoded("RECURRENCE-ID").astimezone(UTC) for o in overrides] == [
        occurrence.original
    ]
    # Stored as a path of ours; the calendar, the email and the API carry it whole.
    whole = services.settings.public_base_url + row.document_url
    assert row.document_url == f"/files/{row.document_id}"
    assert f"Agenda for this sync: {whole}" in str(overrides[0]["DESCRIPTION"])
    assert whole in mail.get_body(("plain",)).get_content()
    master = next(e for e in cal.events if "RECURRENCE-ID" not in e)
    assert row.document_url not in str(master.get("DESCRIPTION", ""))
    agenda = pm.get(f"/api/accounts/{ACCOUNT}/agenda").get_json()
    assert agenda["document_url"] == whole
    assert agenda["sync_starts_at"] == occurrence.start.isoformat()


def test_the_agenda_of_a_sync_after_a_holiday_comes_before_the_holiday(
    local_app: Flask,
) -> None:
    services = local_app.extensions["handover"]
    kickoff(local_app)
    ahead = agendas.sync_occurrences(
        services.rhythm, ACCOUNT, agendas.INTERNAL, since=START, until=START + timedelta(days=1100)
    )

    def after_holiday(o: agendas.SyncOccurrence) -> date | None:
        day = o.start.astimezone(ZoneInfo(o.timezone)).date() - timedelta(days=1)
        while day.weekday() >= 5:
            day -= timedelta(days=1)
        return day if not is_business_day(day, "US") else None

    from zoneinfo import ZoneInfo

    occurrence = next(o for o in ahead if after_holiday(o))
    holiday = after_holiday(occurrence)
    assert holiday is not None
    due = due_of(local_app, occurrence)
    assert due.astimezone(ZoneInfo(occurrence.timezone)).date() < holiday

    services.clock.now = due - timedelta(minutes=1)
    run_job(services, "sync_agendas", {})
    assert occurrence.original not in {r.occurrence_start for r in made(local_app)}
    services.clock.now = due + timedelta(minutes=1)
    run_job(services, "sync_agendas", {})
    assert occurrence.original in {
        r.occurrence_start for r in made(local_app) if r.meeting_kind == agendas.INTERNAL
    }


def test_the_agenda_is_a_google_doc_linked_from_the_instance_on_google(
    google_app: Flask, fake_google: FakeGoogle
) -> None:
    services = google_app.extensions["handover"]
    kickoff(google_app)
    occurrence = first_sync(google_app)
    services.clock.now = due_of(google_app, occurrence) + timedelta(minutes=1)

    run_job(services, "sync_agendas", {})
    run_job(services, "sync_agendas", {})

    [row] = [r for r in made(google_app) if r.meeting_kind == agendas.INTERNAL]
    doc = fake_google.drive.files[row.document_id]
    assert doc["mimeType"] == "application/vnd.google-apps.document"
    with services.db.transaction() as session:
        from service.store.models import AccountRow

        folder_id = session.get(AccountRow, ACCOUNT).folder_id
    assert doc["parents"] == [folder_id]
    assert "Is the project going well?" in fake_google.docs.text(row.document_id)
    stamp = occurrence.original.strftime("%Y%m%dT%H%M%SZ")
    # The AM organises the Internal Account Sync: the series is in the AM's calendar.
    instance = fake_google.calendar.event(f"{SERIES}_{stamp}", AM)
    assert instance["recurringEventId"] == SERIES
    assert row.document_url in instance["description"]
    assert row.document_url not in (fake_google.calendar.event(SERIES, AM).get("description") or "")
    sent = [
        m for m in fake_google.gmail.sent
        if str(m["message"]["Subject"]).startswith("Agenda: Internal Account Sync")
    ]  # fmt: skip
    assert len(sent) == 1
    docs = [f for f in fake_google.drive.files.values()
            if f.get("appProperties", {}).get("kind", "").startswith("agenda-")]  # fmt: skip
    assert len({d["id"] for d in docs}) == len(made(google_app))


def test_the_executive_agenda_carries_what_the_am_marked_and_the_project_status(
    local_app: Flask,
) -> None:
    services = local_app.extensions["handover"]
    handover_id = kickoff(local_app)
    # The AM confirms the proposed Executive Sponsor Sync before it is in anyone's calendar.
    assert "executive_sponsor_sync" in confirm_client_meetings(services, handover_id)
    client = local_app.test_client()  # the local dev login: an admin
    client.environ_base["HTTP_ORIGIN"] = "http://localhost"  # as the service's pages send it
    url = f"/api/accounts/{ACCOUNT}"
    opp = client.post(f"{url}/opportunities", json={"summary": "A second brand site"})
    client.post(f"{url}/opportunities", json={"summary": "Maybe hosting"})
    template = client.put(f"{url}/agenda/template",
                          json={"questions": ["How is the launch going?"]})  # fmt: skip
    assert template.status_code == 200
    internal = first_sync(local_app)
    services.clock.now = due_of(local_app, internal) + timedelta(minutes=1)
    run_job(services, "sync_agendas", {})
    [row] = made(local_app)
    html = Path(services.drive.path_of(row.document_id)).read_text()
    assert "How is the launch going?" in html and "Is the project going well?" not in html
    assert "New project handed over: Acme Corp Commerce Platform" in html

    # An item logged before the sync: the same document is brought up to date, not re-sent.
    client.post(f"{url}/tasks", json={"title": "Book the demo", "owner_email": PM,
                                      "due_on": "2027-01-20"})  # fmt: skip
    run_job(services, "sync_agendas", {})
    [again] = made(local_app)
    assert again.document_id == row.document_id
    assert "Book the demo" in Path(services.drive.path_of(row.document_id)).read_text()
    assert len(local_subjects(local_app, "Agenda: Internal Account Sync")) == 1

    # After the internal sync the AM marks what goes to the client.
    services.clock.now = internal.end + timedelta(minutes=5)
    marked = client.post(f"{url}/agenda/executive", json={"items": [opp.get_json()["id"]]})
    assert marked.status_code == 200, marked.get_data(as_text=True)
    executive = agendas.next_sync(services.rhythm, ACCOUNT, agendas.EXECUTIVE, services.clock())
    assert executive is not None
    services.clock.now = max(services.clock.now, agendas.due_at(services.rhythm, ACCOUNT,
                                                                  executive))  # fmt: skip
    run_job(services, "sync_agendas", {})

    [row] = [r for r in made(local_app) if r.meeting_kind == agendas.EXECUTIVE]
    html = Path(services.drive.path_of(row.document_id)).read_text()
    assert "A second brand site" in html and "Maybe hosting" not in html
    assert "Acme Corp Commerce Platform: done" in html
    [mail] = local_subjects(local_app, "Agenda: Executive Sponsor Sync with Acme Corp")
    assert {a.strip() for a in str(mail["To"]).split(",")} == {AM, PM}
    shown = client.get(f"{url}/agenda?meeting=executive_sponsor_sync").get_json()
    assert shown["document_url"] == services.settings.public_base_url + row.document_url
    # The client's executive sponsor receives this series: no link of ours is put on it
    # (the agenda is in the agency's drive, the account page is internal).
    [series] = [
        VCalendar.from_ical(p.read_bytes())
        for p in services.calendar.events_dir.glob("*.ics")
        if b"executive_sponsor_sync" in p.read_bytes()
    ]
    said = " ".join(str(e.get("DESCRIPTION", "")) + str(e.get("URL", "")) for e in series.events)
    assert "Executive Sponsor Sync" in " ".join(str(e["SUMMARY"]) for e in series.events)
    assert row.document_url not in said and "/accounts/" not in said
    assert "/handovers/" not in said and "/files/" not in said
    assert handover_id
