"""DescribesOccurrences, the same on both calendars: one occurrence of a series says
something of its own (an agenda link) while the series and its other occurrences do not,
and it keeps saying it when the series is sent again; a single event's description is
set in place. Either way what the event said stays below the occurrence's own text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from integrations.ports import OCCURRENCE_TEXT_END, Attendee, DescribesOccurrences
from tests.calendar_support import sync_event

BERLIN = ZoneInfo("Europe/Berlin")
SECOND = datetime(2026, 10, 20, 10, tzinfo=BERLIN)  # the series' second occurrence
THIRD = datetime(2026, 11, 17, 10, tzinfo=BERLIN)  # 3 Nov is an EXDATE


@dataclass
class Subject:
    calendar: DescribesOccurrences
    # (event id, original start or None) -> that occurrence's description
    description: Callable[[str, datetime | None], str]
    close: Callable[[], None] = lambda: None


def _local(tmp_path: Path) -> Subject:
    from icalendar import Calendar as VCalendar

    from integrations.local.calendar import LocalCalendar
    from integrations.local.mail import LocalMail

    cal = LocalCalendar(
        tmp_path / "calendar", mail=LocalMail(tmp_path / "outbox"), feed_secret="x" * 32
    )

    def description(event_id: str, original: datetime | None) -> str:
        data = (cal.events_dir / f"{event_id}.ics").read_bytes()
        events = VCalendar.from_ical(data).events
        for e in events:
            if original is not None and "RECURRENCE-ID" in e and (
                e.decoded("RECURRENCE-ID").astimezone(UTC) == original.astimezone(UTC)
            ):
                return str(e.get("DESCRIPTION", ""))
        master = next(e for e in events if "RECURRENCE-ID" not in e)
        return str(master.get("DESCRIPTION", ""))

    return Subject(cal, description)


def _google(fake: Any) -> Subject:
    from integrations.google.auth import Clients
    from integrations.google.calendar import GoogleCalendar
    from integrations.google.execute import RetryPolicy

    clients = Clients(credentials=None, endpoint=fake.url)
    cal = GoogleCalendar(clients, policy=RetryPolicy(base=0.01, cap=0.05, deadline=10.0))
    service = clients.get("calendar", "v3")

    def description(event_id: str, original: datetime | None) -> str:
        if original is None:
            event = service.events().get(calendarId="primary", eventId=event_id).execute()
            return str(event.get("description") or "")
        listed = service.events().instances(
            calendarId="primary", eventId=event_id, timeMin="2026-10-01T00:00:00Z",
            timeMax="2026-12-31T00:00:00Z",
        ).execute()["items"]  # fmt: skip
        start = original.astimezone(UTC)
        [found] = [
            i for i in listed
            if datetime.fromisoformat(i["originalStartTime"]["dateTime"]).astimezone(UTC) == start
        ]  # fmt: skip
        return str(found.get("description") or "")

    return Subject(cal, description, clients.close)


@pytest.fixture(params=["local", "google"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Subject]:
    made = _local(tmp_path) if request.param == "local" else _google(
        request.getfixturevalue("fake_google"))  # fmt: skip
    yield made
    made.close()


def test_one_occurrence_gets_its_own_description_and_keeps_it(subject: Subject) -> None:
    series = sync_event()
    cal = subject.calendar
    cal.upsert_event(series)  # type: ignore[attr-defined]

    cal.describe_occurrence(series.id, SECOND, "Agenda: https://docs.example/one")
    cal.describe_occurrence(series.id, SECOND, "Agenda: https://docs.example/two")

    # Its own text on top (the second replacing the first), what the series says below.
    assert series.description
    own = subject.description(series.id, SECOND)
    assert own == "Agenda: https://docs.example/two" + OCCURRENCE_TEXT_END + series.description
    assert subject.description(series.id, THIRD) == series.description
    assert subject.description(series.id, None) == series.description
    # The series sent again (a new attendee): the occurrence keeps its own description.
    cal.upsert_event(  # type: ignore[attr-defined]
        replace(series, attendees=(*series.attendees, Attendee("dev1@agency.example")))
    )
    assert subject.description(series.id, SECOND) == own


def test_a_single_event_gets_the_description_in_place(subject: Subject) -> None:
    moved = replace(sync_event(), id="h0spon000120261103", recurrence=())
    subject.calendar.upsert_event(moved)  # type: ignore[attr-defined]

    subject.calendar.describe_occurrence(moved.id, None, "Agenda: https://docs.example/m")
    subject.calendar.describe_occurrence(moved.id, None, "Agenda: https://docs.example/n")

    assert moved.description
    assert subject.description(moved.id, None) == (
        "Agenda: https://docs.example/n" + OCCURRENCE_TEXT_END + moved.description
    )


def test_reading_an_instance_on_the_fake_does_not_make_it_an_exception(fake_google: Any) -> None:
    """As on Google: GET of `<series>_<start>` shows the instance; only a write detaches it,
    so the series' later changes still reach an instance that was only read."""
    subject = _google(fake_google)
    try:
        series = sync_event()
        subject.calendar.upsert_event(series)  # type: ignore[attr-defined]
        service = subject.calendar._clients.get("calendar", "v3")  # type: ignore[attr-defined]
        stamp = f"{SECOND.astimezone(UTC):%Y%m%dT%H%M%SZ}"
        read = service.events().get(calendarId="primary", eventId=f"{series.id}_{stamp}").execute()
        assert read["description"] == series.description
        service.events().patch(calendarId="primary", eventId=series.id,
                               body={"description": "Changed"}).execute()  # fmt: skip
        assert subject.description(series.id, SECOND) == "Changed"
    finally:
        subject.close()
