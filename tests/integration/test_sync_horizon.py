"""The account syncs stay off holidays for as long as they run: `extend_syncs` (cron) checks
the next months of each running series and updates the same events, on the local backend
(.ics files an independent reader expands) and on the loopback Google."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import icalendar
import pytest
import recurring_ical_events
from flask import Flask

from service.demo import example_handover
from service.jobs import run_job
from service.store import handovers as repo
from service.web.present import handover_json
from service.workflows import kickoff
from tests.conftest import Clock, app_on_the_fake, confirm_client_meetings, outbox_subjects
from tests.fakes import FakeGoogle, Fault

PLANNED = datetime(2026, 1, 12, 15, 0, tzinfo=UTC)
LATER = PLANNED + timedelta(days=335)  # about 11 months on
SYNCS = ("internal_account_sync", "executive_sponsor_sync")
# The AM (the agency's default zone and country) and the PM: where and whose holidays.
PAIR = (("America/New_York", "US"), ("Asia/Kolkata", "IN"))


def submit(services: Any, client: str = "Acme Corp") -> dict[str, Any]:
    data = example_handover(client, today=PLANNED.date())
    data["project"]["contract_signed_on"] = "2026-01-09"
    data["project_manager"].update(timezone=PAIR[1][0], country=PAIR[1][1])
    result = kickoff.submit_handover(
        data, idempotency_key=None, actor="t", db=services.db, tasks=services.tasks
    )
    wait(services, result.handover_id)
    confirm_client_meetings(services, result.handover_id)
    return wait(services, result.handover_id)


def wait(services: Any, handover_id: str) -> dict[str, Any]:
    services.tasks.wait_idle(timeout=60)
    with services.db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        assert row is not None
        return handover_json(row, base_url="")


def syncs(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["kind"]: m for m in data["plan"]["meetings"] if m["kind"] in SYNCS}


def event_ids(data: dict[str, Any]) -> dict[str, str]:
    return {e["kind"]: e["id"] for e in data["artifacts"]["events"]}


def on_holiday(start: datetime) -> list[str]:
    """Return whose public holiday (or weekend) an occurrence falls on, for the AM and PM."""
    out = []
    for tz, country in PAIR:
        day = start.astimezone(ZoneInfo(tz)).date()
        if day.weekday() >= 5 or day in holidays.country_holidays(country, years=day.year):
            out.append(f"{country} {day}")
    return out


def extension_audit(services: Any) -> list[Any]:
    with services.db.transaction() as session:
        return [
            (a.subject, a.detail.get("kind"), a.detail.get("handled_until"))
            for a in repo.audit_trail(session, limit=1000)
            if a.action == "syncs.extended"
        ]


# --- the local backend: .ics files and invitations by email ---------------------------


def ics_occurrences(services: Any, event_id: str, lo: datetime, hi: datetime) -> list[datetime]:
    """Expand a series and its moved occurrences (their own files) like a calendar app."""
    found = []
    for path in services.calendar.events_dir.glob(f"{event_id}*.ics"):
        cal = icalendar.Calendar.from_ical(path.read_bytes())
        if str(cal.walk("VEVENT")[0]["STATUS"]) != "CONFIRMED":
            continue
        found += [o["DTSTART"].dt for o in recurring_ical_events.of(cal).between(lo, hi)]
    return sorted(found)


def files(services: Any) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in services.calendar.events_dir.glob("*.ics")}


def test_the_series_stays_off_holidays_past_its_first_year(services: Any) -> None:
    services.clock = clock = Clock(PLANNED)
    data = submit(services)
    assert data["status"] == "done", data["steps"]
    ids, before = event_ids(data), syncs(data)
    first = datetime.fromisoformat(before["executive_sponsor_sync"]["start"])
    handled = datetime.fromisoformat(before["executive_sponsor_sync"]["handled_until"])
    two_years = (first, first + timedelta(days=730))
    # Planned today, the series is handled for about a year; after that, holidays are hit.
    hit = [
        s
        for kind in SYNCS
        for s in ics_occurrences(services, ids[kind], *two_years)
        if s > handled and on_holiday(s)
    ]
    assert hit, "the example's series meets on some holiday in its second year"
    invitations, all_files = len(outbox_subjects(services, "Invitation:")), files(services)

    clock.now = LATER
    run_job(services, "extend_syncs", {})

    after_data = wait(services, data["id"])
    after = syncs(after_data)
    assert event_ids(after_data) == ids, "the same events"
    for kind in SYNCS:
        until = datetime.fromisoformat(after[kind]["handled_until"])
        assert until >= LATER + timedelta(days=365)
        old = {m["original_start"] for m in before[kind]["moved"]}
        assert old <= {m["original_start"] for m in after[kind]["moved"]}, "old moves kept"
        assert after[kind]["start"] == before[kind]["start"]
        for moment in ics_occurrences(services, ids[kind], *two_years):
            assert not on_holiday(moment), (kind, moment)
        assert len(ics_occurrences(services, ids[kind], *two_years)) == len(
            set(ics_occurrences(services, ids[kind], *two_years))
        )
    new_moves = [
        (kind, m) for kind in SYNCS for m in after[kind]["moved"] if m not in before[kind]["moved"]
    ]
    assert new_moves
    made = set(files(services)) - set(all_files)
    expected = {
        f"{ids[kind]}{datetime.fromisoformat(m['original_start']):%Y%m%d}.ics"
        for kind, m in new_moves
    }
    assert made == expected, "one file per new moved occurrence, under its deterministic id"
    series_files = {f"{ids[kind]}.ics" for kind in SYNCS}
    for name, content in all_files.items():
        if name not in series_files:
            assert files(services)[name] == content, f"{name} was sent already: left as it was"
    assert len(outbox_subjects(services, "Invitation:")) == invitations + len(new_moves)
    assert len(extension_audit(services)) == 2

    # A second run finds nothing to do: no file, email or audit line changes.
    settled, emails = files(services), sorted(outbox_subjects(services))
    run_job(services, "extend_syncs", {})
    assert files(services) == settled
    assert sorted(outbox_subjects(services)) == emails
    assert len(extension_audit(services)) == 2


def test_a_cancelled_account_is_not_extended(services: Any) -> None:
    services.clock = clock = Clock(PLANNED)
    data = submit(services, "Globex")
    kickoff.cancel_handover(
        data["id"], actor="ops", db=services.db, tasks=services.tasks, clock=services.clock
    )
    cancelled = wait(services, data["id"])
    assert cancelled["status"] == "cancelled"
    settled, emails = files(services), outbox_subjects(services)
    clock.now = LATER
    run_job(services, "extend_syncs", {})
    assert files(services) == settled
    assert outbox_subjects(services) == emails
    assert extension_audit(services) == []
    assert syncs(wait(services, data["id"])) == syncs(cancelled)


def test_not_due_yet_changes_nothing(services: Any) -> None:
    services.clock = Clock(PLANNED + timedelta(days=30))
    data = submit(services)
    settled = files(services)
    run_job(services, "extend_syncs", {})
    assert files(services) == settled
    assert syncs(wait(services, data["id"])) == syncs(data)
    assert extension_audit(services) == []


# --- the Google backend, against the loopback fake --------------------------------------


@pytest.fixture
def google_app(tmp_path: Path, database_url: str, fake_google: FakeGoogle) -> Iterator[Flask]:
    with app_on_the_fake(tmp_path, database_url, fake_google) as made:
        yield made


def test_on_google_the_same_events_gain_the_moves_once(
    google_app: Flask, fake_google: FakeGoogle
) -> None:
    services = google_app.extensions["handover"]
    services.clock = clock = Clock(PLANNED)
    data = submit(services)
    assert data["status"] == "done", data["steps"]
    ids, before = event_ids(data), syncs(data)
    events = dict(fake_google.calendar.events)
    invited = Counter((i["eventId"], i["action"]) for i in fake_google.calendar.invitations)

    clock.now = LATER
    run_job(services, "extend_syncs", {})

    after = syncs(wait(services, data["id"]))
    now_events = {key[1]: e for key, e in fake_google.calendar.events.items()}
    for kind in SYNCS:
        series = now_events[ids[kind]]
        new = [m for m in after[kind]["moved"] if m not in before[kind]["moved"]]
        assert new
        tz = after[kind]["timezone"]
        for m in new:
            original = datetime.fromisoformat(m["original_start"])
            exdate = f"EXDATE;TZID={tz}:{original:%Y%m%dT%H%M%S}"
            assert exdate in series["recurrence"]
            moved = now_events[f"{ids[kind]}{original:%Y%m%d}"]
            assert datetime.fromisoformat(moved["start"]["dateTime"]) == datetime.fromisoformat(
                m["start"]
            )
            assert not on_holiday(datetime.fromisoformat(m["start"]))
    made = set(now_events) - {key[1] for key in events}
    assert len(made) == sum(len(after[k]["moved"]) - len(before[k]["moved"]) for k in SYNCS), (
        "one event per new moved occurrence"
    )
    counted = Counter((i["eventId"], i["action"]) for i in fake_google.calendar.invitations)
    assert all(n == 1 for (_, action), n in counted.items() if action == "insert")
    changed = {event for (event, _), n in (counted - invited).items()}
    assert changed == made | {ids[k] for k in SYNCS}, "only the series and the new moves"

    requests = len(fake_google.requests)
    run_job(services, "extend_syncs", {})
    assert len(fake_google.requests) == requests, "the second run makes no call at all"
    assert Counter((i["eventId"], i["action"]) for i in fake_google.calendar.invitations) == counted


def test_a_run_stopped_midway_is_finished_by_the_next_once(
    google_app: Flask, fake_google: FakeGoogle
) -> None:
    services = google_app.extensions["handover"]
    services.clock = clock = Clock(PLANNED)
    data = submit(services)
    ids = event_ids(data)
    clock.now = LATER
    # The first new moved event is made but its answer is lost; the next one is refused
    # outright, which stops this run after the plan was extended.
    fake_google.faults.add(
        Fault(status=500, method_id="calendar.events.insert", times=1, after=True)
    )
    fake_google.faults.add(Fault(status=400, method_id="calendar.events.insert", times=1))
    run_job(services, "extend_syncs", {})
    assert extension_audit(services) == []

    run_job(services, "extend_syncs", {})

    after = syncs(wait(services, data["id"]))
    stored = {key[1] for key in fake_google.calendar.events}
    for kind in SYNCS:
        for m in after[kind]["moved"]:
            assert f"{ids[kind]}{datetime.fromisoformat(m['original_start']):%Y%m%d}" in stored
    inserts = Counter(
        i["eventId"] for i in fake_google.calendar.invitations if i["action"] == "insert"
    )
    assert set(inserts.values()) == {1}, "each event made and announced once"
    assert len(extension_audit(services)) == 2
    run_job(services, "extend_syncs", {})
    assert len(extension_audit(services)) == 2


def test_every_project_of_the_account_holds_the_extended_series(services: Any) -> None:
    services.clock = clock = Clock(PLANNED)
    first = submit(services)
    clock.now = PLANNED + timedelta(days=20)
    second_data = example_handover(today=clock.now.date())
    second_data["project"]["name"] = "Acme Mobile"
    second_data["project_manager"] = {"name": "Rui Costa", "email": "rui@agency.example"}
    result = kickoff.submit_handover(
        second_data, idempotency_key=None, actor="t", db=services.db, tasks=services.tasks
    )
    second = wait(services, result.handover_id)
    assert event_ids(second)["executive_sponsor_sync"] == event_ids(first)["executive_sponsor_sync"]

    clock.now = LATER
    run_job(services, "extend_syncs", {})

    a, b = syncs(wait(services, first["id"])), syncs(wait(services, second["id"]))
    for kind in SYNCS:
        for key in ("start", "recurrence", "moved", "handled_until"):
            assert a[kind][key] == b[kind][key], (kind, key)
        assert datetime.fromisoformat(a[kind]["handled_until"]) >= LATER + timedelta(days=365)
    vevent = icalendar.Calendar.from_ical(
        (services.calendar.events_dir / f"{event_ids(second)[SYNCS[1]]}.ics").read_bytes()
    ).walk("VEVENT")[0]
    attendees = {str(x).removeprefix("mailto:") for x in vevent.get("ATTENDEE")}
    assert {"pat@agency.example", "rui@agency.example"} <= attendees, "nobody dropped"
    # A change to the first project later re-plans from the extended series: nothing lost.
    changed = example_handover(today=PLANNED.date())
    changed["project"]["contract_signed_on"] = "2026-01-09"
    changed["project_manager"].update(timezone=PAIR[1][0], country=PAIR[1][1])
    changed["delivery_team"].append(
        {"name": "Nia Okafor", "email": "nia@agency.example", "role": "QA"}
    )
    kickoff.update_handover(
        first["id"],
        changed,
        actor="ops",
        db=services.db,
        tasks=services.tasks,
        clock=services.clock,
    )
    replanned = syncs(wait(services, first["id"]))
    for kind in SYNCS:
        assert {m["original_start"] for m in a[kind]["moved"]} <= {
            m["original_start"] for m in replanned[kind]["moved"]
        }
        until = datetime.fromisoformat(replanned[kind]["handled_until"])
        assert until >= datetime.fromisoformat(a[kind]["handled_until"])
        found = ics_occurrences(services, event_ids(first)[kind], LATER, until)
        assert len(found) == len(set(found)) and not any(map(on_holiday, found))
