"""The Calendar port's contract: the same end state through every implementation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from integrations.ports import Attendee, Busy, Calendar, CalendarEvent
from tests.calendar_support import ADA, CLEO, PAT, sync_event

DEV = Attendee("dev1@agency.example", "Dev One")
STRANGER = "who@else.example"
DAY = (datetime(2026, 10, 7, tzinfo=UTC), datetime(2026, 10, 8, tzinfo=UTC))
AUTUMN = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))


@dataclass
class Subject:
    """An implementation under test, and the ids of the live events it holds."""

    calendar: Calendar
    live: Callable[[], list[str]]
    close: Callable[[], None] = lambda: None


def local_calendar(tmp_path: Path) -> Subject:
    from icalendar import Calendar as VCalendar

    from integrations.local.calendar import LocalCalendar
    from integrations.local.mail import LocalMail

    root = tmp_path / "calendar"
    cal = LocalCalendar(root, mail=LocalMail(tmp_path / "outbox"), feed_secret="x" * 32)

    def live() -> list[str]:
        ids = []
        for path in sorted((root / "events").glob("*.ics")):
            for vevent in VCalendar.from_ical(path.read_bytes()).events:
                if str(vevent.get("STATUS", "CONFIRMED")).upper() != "CANCELLED":
                    ids.append(path.stem)
        return ids

    return Subject(cal, live)


def google_calendar(fake: Any) -> Subject:
    from integrations.google.auth import Clients
    from integrations.google.calendar import GoogleCalendar
    from integrations.google.execute import RetryPolicy

    clients = Clients(credentials=None, endpoint=fake.url)
    cal = GoogleCalendar(clients, policy=RetryPolicy(base=0.01, cap=0.05, deadline=10.0))

    def live() -> list[str]:
        return sorted(k[1] for k, e in fake.calendar.events.items() if e["status"] != "cancelled")

    return Subject(cal, live, clients.close)


@pytest.fixture(params=["local", "google"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Subject]:
    if request.param == "local":
        made = local_calendar(tmp_path)
    else:
        made = google_calendar(request.getfixturevalue("fake_google"))
    yield made
    made.close()


def kickoff(**changes: Any) -> CalendarEvent:
    """A one-off meeting on 7 Oct 2026, 14:00-15:00 UTC."""
    event = CalendarEvent(
        id="h0kick0001",
        summary="Internal kickoff",
        description="Plan the work",
        start=datetime(2026, 10, 7, 10, tzinfo=ZoneInfo("America/New_York")),
        end=datetime(2026, 10, 7, 11, tzinfo=ZoneInfo("America/New_York")),
        timezone="America/New_York",
        attendees=(ADA, PAT),
        properties={"handoverId": "h0", "meetingKind": "internal_kickoff"},
    )
    return replace(event, **changes)


def utc(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


KICKOFF_SPAN = [Busy(utc(7, 14), utc(7, 15))]


class TestCalendar:
    """Every Calendar adapter keeps one event per id and shows it in busy times."""

    def test_upsert_twice_is_one_event_with_the_same_id(self, subject: Subject) -> None:
        first = subject.calendar.upsert_event(kickoff())
        second = subject.calendar.upsert_event(kickoff())
        assert first.id == second.id == "h0kick0001"
        assert first.url and second.url == first.url
        assert subject.live() == ["h0kick0001"]

    def test_busy_shows_attendees_and_not_strangers(self, subject: Subject) -> None:
        subject.calendar.upsert_event(kickoff())
        found = subject.calendar.busy([ADA.email, PAT.email, STRANGER], *DAY)
        assert found == {ADA.email: KICKOFF_SPAN, PAT.email: KICKOFF_SPAN, STRANGER: []}
        assert all(b.start.utcoffset() == timedelta(0) for b in found[ADA.email])

    def test_changed_attendees_keep_the_id(self, subject: Subject) -> None:
        subject.calendar.upsert_event(kickoff())
        ref = subject.calendar.upsert_event(kickoff(attendees=(ADA, DEV)))
        assert ref.id == "h0kick0001"
        assert subject.live() == ["h0kick0001"]
        found = subject.calendar.busy([ADA.email, PAT.email, DEV.email], *DAY)
        assert found == {ADA.email: KICKOFF_SPAN, PAT.email: [], DEV.email: KICKOFF_SPAN}

    def test_moved_event_is_busy_at_the_new_time_only(self, subject: Subject) -> None:
        subject.calendar.upsert_event(kickoff())
        later = kickoff(start=utc(7, 18), end=utc(7, 19, 30))
        assert subject.calendar.upsert_event(later).id == "h0kick0001"
        assert subject.calendar.busy([ADA.email], *DAY) == {
            ADA.email: [Busy(utc(7, 18), utc(7, 19, 30))]
        }

    def test_cancelled_event_frees_everyone(self, subject: Subject) -> None:
        subject.calendar.upsert_event(kickoff())
        subject.calendar.cancel_event("h0kick0001")
        subject.calendar.cancel_event("h0kick0001")
        subject.calendar.cancel_event("h9nothere0")
        assert subject.live() == []
        assert subject.calendar.busy([ADA.email, PAT.email], *DAY) == {
            ADA.email: [],
            PAT.email: [],
        }

    def test_cancelled_event_planned_again_comes_back(self, subject: Subject) -> None:
        subject.calendar.upsert_event(kickoff())
        subject.calendar.cancel_event("h0kick0001")
        assert subject.calendar.upsert_event(kickoff()).id == "h0kick0001"
        assert subject.live() == ["h0kick0001"]
        assert subject.calendar.busy([ADA.email], *DAY) == {ADA.email: KICKOFF_SPAN}

    def test_recurring_event_is_busy_at_each_occurrence(self, subject: Subject) -> None:
        subject.calendar.upsert_event(sync_event())
        found = subject.calendar.busy([CLEO.email, STRANGER], *AUTUMN)
        # 10:00 in Berlin is 08:00 UTC in summer time and 09:00 after 25 Oct; 3 Nov skipped.
        assert found == {
            CLEO.email: [
                Busy(utc(6, 8), utc(6, 8, 45)),
                Busy(utc(20, 8), utc(20, 8, 45)),
                Busy(utc(17, 9, month=11), utc(17, 9, 45, month=11)),
            ],
            STRANGER: [],
        }

    def test_busy_clips_to_the_window(self, subject: Subject) -> None:
        subject.calendar.upsert_event(kickoff())
        found = subject.calendar.busy([ADA.email], utc(7, 14, 30), utc(7, 16))
        assert found == {ADA.email: [Busy(utc(7, 14, 30), utc(7, 15))]}

    @pytest.mark.parametrize("bad", ["H0KICK0001", "h0w", "h0-kick-01"])
    def test_an_id_google_would_refuse_is_refused(self, subject: Subject, bad: str) -> None:
        with pytest.raises(ValueError):
            subject.calendar.upsert_event(kickoff(id=bad))
        assert subject.live() == []
