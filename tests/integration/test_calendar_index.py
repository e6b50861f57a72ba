"""The local calendar reads what a question needs, not every .ics file of the workspace.

Files read are counted with a Python audit hook on `open` (no patching of our code): a
free/busy question or a person's feed must not open the files of other people's meetings.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
import recurring_ical_events
from icalendar import Calendar

from integrations.local.calendar import LocalCalendar
from integrations.local.mail import LocalMail
from integrations.ports import Attendee, Busy, CalendarEvent
from tests.audit_support import audited
from tests.calendar_support import ADA, BERLIN, PAT, sync_event


@contextmanager
def ics_files_opened() -> Iterator[list[str]]:
    """Collect the .ics files opened inside the block."""
    with audited("open", lambda path: isinstance(path, (str, Path))) as seen:
        try:
            yield seen
        finally:
            seen[:] = [p for p in seen if p.endswith(".ics")]


def calendar(root: Path) -> LocalCalendar:
    return LocalCalendar(root, mail=LocalMail(root / "outbox"), feed_secret="x" * 32)


def meeting(event_id: str, day: int, *people: Attendee) -> CalendarEvent:
    start = datetime(2027, 3, day, 15, tzinfo=UTC)
    return CalendarEvent(
        id=event_id,
        summary="Client kickoff",
        description="",
        start=start,
        end=start + timedelta(hours=1),
        timezone="America/New_York",
        attendees=people,
    )


def others_meetings(root: Path, count: int) -> None:
    """Write `count` meetings of other people as a person or an older version would: files."""
    template = calendar(root / "template")
    template.upsert_event(meeting("tmpl00000", 1, Attendee("other@client.example", "Other")))
    data = (root / "template" / "events" / "tmpl00000.ics").read_bytes()
    events = root / "events"
    events.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        event_id = f"other{n:05d}"
        body = data.replace(b"tmpl00000", event_id.encode())
        body = body.replace(b"other@client.example", f"p{n % 97}@client.example".encode())
        (events / f"{event_id}.ics").write_bytes(body)


WINDOW = (datetime(2027, 3, 1, tzinfo=UTC), datetime(2027, 3, 31, tzinfo=UTC))


def test_free_busy_of_two_people_reads_only_their_meetings(tmp_path: Path) -> None:
    others_meetings(tmp_path, 2500)
    cal = calendar(tmp_path)  # indexes the files it finds at start
    cal.upsert_event(meeting("ada0000001", 2, ADA))
    cal.upsert_event(meeting("pat0000001", 3, PAT, ADA))
    with ics_files_opened() as opened:
        found = cal.busy([ADA.email, PAT.email], *WINDOW)
    assert opened == []  # today's scan opened all 2,502
    at = lambda d: datetime(2027, 3, d, 15, tzinfo=UTC)  # noqa: E731
    assert found == {
        ADA.email: [Busy(at(2), at(2) + timedelta(hours=1)), Busy(at(3), at(3) + timedelta(hours=1))],
        PAT.email: [Busy(at(3), at(3) + timedelta(hours=1))],
    }
    # The other people's meetings are still there for them.
    assert cal.busy(["p5@client.example"], *WINDOW)["p5@client.example"] != []


def test_a_persons_feed_reads_only_their_meetings(tmp_path: Path) -> None:
    others_meetings(tmp_path, 300)
    cal = calendar(tmp_path)
    cal.upsert_event(meeting("pat0000001", 3, PAT, ADA))
    cal.upsert_event(meeting("ada0000001", 2, ADA))
    token = cal.feed_token(PAT.email)
    with ics_files_opened() as opened:
        data = cal.feed(token)
    assert [Path(p).name for p in opened] == ["pat0000001.ics"]
    assert [str(e["UID"]) for e in Calendar.from_ical(data or b"").events] == [
        "pat0000001@handover"
    ]


def test_the_index_is_rebuilt_from_the_files_when_lost_or_behind(tmp_path: Path) -> None:
    cal = calendar(tmp_path)
    cal.upsert_event(meeting("ada0000001", 2, ADA))
    cal.upsert_event(meeting("ada0000002", 4, ADA))
    # Lost: the index file is deleted; the next start reads the .ics files again.
    (tmp_path / ".index.sqlite").unlink()
    for leftover in tmp_path.glob(".index.sqlite-*"):
        leftover.unlink()
    again = calendar(tmp_path)
    assert len(again.busy([ADA.email], *WINDOW)[ADA.email]) == 2
    # Behind: a file removed and one changed by hand while the service was down.
    (tmp_path / "events" / "ada0000002.ics").unlink()
    other = calendar(tmp_path / "scratch")
    other.upsert_event(meeting("ada0000001", 9, ADA))
    moved = (tmp_path / "scratch" / "events" / "ada0000001.ics").read_bytes()
    (tmp_path / "events" / "ada0000001.ics").write_bytes(moved)
    later = calendar(tmp_path)
    nine = datetime(2027, 3, 9, 15, tzinfo=UTC)
    assert later.busy([ADA.email], *WINDOW) == {ADA.email: [Busy(nine, nine + timedelta(hours=1))]}


def test_a_series_is_busy_years_ahead_as_its_rule_says(tmp_path: Path) -> None:
    cal = calendar(tmp_path)
    cal.upsert_event(sync_event())
    far = (datetime(2029, 1, 1, tzinfo=UTC), datetime(2029, 3, 1, tzinfo=UTC))
    parsed = Calendar.from_ical((tmp_path / "events" / "h0spon0001.ics").read_bytes())
    expected = [
        Busy(o.start.astimezone(UTC), o.end.astimezone(UTC))
        for o in recurring_ical_events.of(parsed).between(*far)
    ]
    assert len(expected) == 4
    assert cal.busy([PAT.email], *far) == {PAT.email: expected}
    # Asked again, the series is not read again.
    with ics_files_opened() as opened:
        assert cal.busy([PAT.email], *far) == {PAT.email: expected}
    assert opened == []
    first = datetime.combine(date(2026, 10, 6), time(10), BERLIN).astimezone(UTC)
    near = cal.busy([PAT.email], first - timedelta(days=1), first + timedelta(days=1))
    assert near == {PAT.email: [Busy(first, first + timedelta(minutes=45))]}


@pytest.mark.parametrize("hours", [1, 30])
def test_a_meeting_that_began_before_the_window_still_counts(tmp_path: Path, hours: int) -> None:
    cal = calendar(tmp_path)
    start = datetime(2027, 3, 1, 12, tzinfo=UTC)
    event = meeting("long000001", 1, ADA)
    cal.upsert_event(replace(event, start=start, end=start + timedelta(hours=hours)))
    window = (start + timedelta(minutes=30), start + timedelta(days=3))
    assert cal.busy([ADA.email], *window) == {
        ADA.email: [Busy(window[0], start + timedelta(hours=hours))]
    }
