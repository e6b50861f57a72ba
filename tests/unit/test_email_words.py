"""Emails greet people by first name and give times at the reader's wall time, zone named."""

from __future__ import annotations

from datetime import UTC, datetime

from service.domain.email_words import (
    deadline_words,
    greeting,
    meeting_lines,
    meeting_name,
    when_words,
)

PRIYA = "priya@agency.example"


def test_greeting_by_first_name() -> None:
    assert greeting(["Priya Patel"]) == "Hi Priya,"
    assert greeting(["Priya Patel", "Sam Lee"]) == "Hi Priya and Sam,"
    assert greeting(["Priya Patel", "Sam Lee", "Ada Lane"]) == "Hi Priya, Sam and Ada,"
    assert greeting(["Priya Patel", "Priya Patel"]) == "Hi Priya,"
    assert greeting([""]) == "Hello,"
    assert greeting([]) == "Hello,"


def test_meeting_kinds_in_plain_words() -> None:
    assert meeting_name("client_kickoff") == "Client kickoff"
    assert meeting_name("executive_sponsor_sync") == "Executive Sponsor Sync"


def test_a_time_is_shown_at_the_readers_wall_time_with_the_zone_named() -> None:
    start, end = datetime(2026, 12, 7, 15, tzinfo=UTC), datetime(2026, 12, 7, 16, tzinfo=UTC)
    assert when_words(start, "Europe/Berlin", end) == (
        "Monday 7 December 2026, 16:00–17:00 (Berlin time)"
    )
    assert when_words(start, "America/New_York", end) == (
        "Monday 7 December 2026, 10:00–11:00 (New York time)"
    )
    assert when_words(start, "Asia/Tokyo") == "Tuesday 8 December 2026, 00:00 (Tokyo time)"


def test_the_review_deadline_in_the_pms_zone() -> None:
    deadline = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)
    assert deadline_words(deadline, "America/Los_Angeles") == (
        "Tuesday 1 December, 13:30 (Los Angeles time)"
    )
    assert deadline_words(deadline, "Asia/Kolkata") == "Wednesday 2 December, 03:00 (Kolkata time)"


def test_the_meetings_a_person_attends_in_their_zone_first_one_first() -> None:
    plan = [
        {
            "kind": "internal_account_sync",
            "start": "2026-12-08T15:00:00+00:00",
            "end": "2026-12-08T15:30:00+00:00",
            "attendees": [{"email": "Priya@Agency.example"}],
            "recurrence": ["RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"],
        },
        {
            "kind": "client_kickoff",
            "start": "2026-12-07T15:00:00+00:00",
            "end": "2026-12-07T16:00:00+00:00",
            "attendees": [{"email": PRIYA}],
            "recurrence": [],
        },
        {
            "kind": "sales_handover",
            "start": "2026-12-03T15:00:00+00:00",
            "end": "2026-12-03T16:00:00+00:00",
            "attendees": [{"email": "sam@agency.example"}],
            "recurrence": [],
        },
    ]
    assert meeting_lines(plan, PRIYA, "Europe/Berlin") == [
        "Client kickoff: Monday 7 December 2026, 16:00–17:00 (Berlin time)",
        "Internal Account Sync: Tuesday 8 December 2026, 16:00–16:30 (Berlin time); "
        "from then on: every 2 weeks on Tuesday, 16:00-16:30 (Berlin time)",
    ]
    assert meeting_lines(plan, "nobody@agency.example", "Europe/Berlin") == []
