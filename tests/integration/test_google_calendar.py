"""GoogleCalendar against the loopback fake: real HTTP and batches, faults; never a second event."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from integrations.google.auth import Clients
from integrations.google.calendar import GoogleCalendar
from integrations.google.calendar_body import meet_request_id
from integrations.google.execute import RetryPolicy
from integrations.ports import Attendee, Busy, CalendarEvent
from tests.calendar_support import ADA, BERLIN, PAT, sync_event
from tests.fakes import FakeGoogle, Fault

FAST = RetryPolicy(base=0.01, cap=0.05, deadline=10.0, max_attempts=8)
DEV = Attendee("dev1@agency.example")


def meeting(n: int) -> CalendarEvent:
    """A one-off meeting, different for each n."""
    return CalendarEvent(
        id=f"h{n}kick0001",
        summary=f"Internal kickoff {n}",
        description="Plan the work",
        start=datetime(2026, 10, 7, 14 + n % 3, tzinfo=UTC),
        end=datetime(2026, 10, 7, 15 + n % 3, tzinfo=UTC),
        timezone="America/New_York",
        attendees=(ADA, DEV),
        properties={"handoverId": f"h{n}", "meetingKind": "internal_kickoff"},
    )


@pytest.fixture
def clients(fake_google: FakeGoogle) -> Iterator[Clients]:
    made = Clients(credentials=None, endpoint=fake_google.url)
    yield made
    made.close()


@pytest.fixture
def cal(clients: Clients) -> GoogleCalendar:
    return GoogleCalendar(clients, policy=FAST)


def stored(fake: FakeGoogle) -> dict[str, dict[str, Any]]:
    """The fake's events of the primary calendar, by id."""
    return {key[1]: event for key, event in fake.calendar.events.items() if key[0] == "primary"}


def calls(fake: FakeGoogle, method_id: str) -> list[Any]:
    return [r for r in fake.requests if r.method_id == method_id and r.status < 400]


def test_insert_carries_zone_recurrence_properties_and_meet(
    cal: GoogleCalendar, fake_google: FakeGoogle
) -> None:
    ref = cal.upsert_event(sync_event())

    event = stored(fake_google)["h0spon0001"]
    assert ref.id == "h0spon0001"
    assert ref.url == event["htmlLink"]
    # Google answers the insert with the Meet `pending`: the event is read again until it
    # is there, so the invitation's link is known at once.
    assert ref.meet_url == event["hangoutLink"] and ref.meet_url.startswith("https://meet.")
    assert event["start"] == {"dateTime": "2026-10-06T10:00:00+02:00", "timeZone": "Europe/Berlin"}
    assert event["end"] == {"dateTime": "2026-10-06T10:45:00+02:00", "timeZone": "Europe/Berlin"}
    assert event["recurrence"] == [
        "RRULE:FREQ=WEEKLY;INTERVAL=2",
        "EXDATE;TZID=Europe/Berlin:20261103T100000",
    ]
    assert event["extendedProperties"]["private"] == {
        "handoverId": "h0",
        "meetingKind": "executive_sponsor_sync",
    }
    assert event["description"] == "Agenda:\n- scope\n- hours"
    assert [(a["email"], a.get("displayName"), a["optional"]) for a in event["attendees"]] == [
        ("ada@agency.example", "Ada Lane", False),
        ("pat@agency.example", "Pat Moss", False),
        ("cleo@acme.example", "Cleo Buyer", True),
    ]
    request = event["conferenceData"]["createRequest"]
    assert request["requestId"] == meet_request_id("h0spon0001")
    assert request["conferenceSolutionKey"] == {"type": "hangoutsMeet"}
    (insert,) = calls(fake_google, "calendar.events.insert")
    assert insert.query["conferenceDataVersion"] == "1"
    assert insert.query["sendUpdates"] == "all"
    assert [i["action"] for i in fake_google.calendar.invitations] == ["insert"]


def test_a_meet_still_pending_is_read_again_and_a_failed_one_asked_again(
    cal: GoogleCalendar, fake_google: FakeGoogle
) -> None:
    fake_google.calendar.meet_failures = 1  # the first createRequest ends in failure

    ref = cal.upsert_event(sync_event())

    event = stored(fake_google)["h0spon0001"]
    assert ref.meet_url and ref.meet_url == event["hangoutLink"]
    request = event["conferenceData"]["createRequest"]
    assert request["status"] == {"statusCode": "success"}
    assert request["requestId"] != meet_request_id("h0spon0001")  # a new one after failure
    assert len(fake_google.calendar.invitations) == 1  # asking again told nobody


def test_an_event_id_purged_after_a_cancel_moves_on_to_its_next_generation(
    cal: GoogleCalendar, fake_google: FakeGoogle
) -> None:
    first = cal.upsert_event(sync_event())
    cal.cancel_event(first.id)
    fake_google.calendar.purge_deleted()  # a while later: 404 on get, still 409 on insert

    again = cal.upsert_event(sync_event())

    assert again.id == f"{first.id}g1"
    live = stored(fake_google)[again.id]
    assert live["status"] == "confirmed" and live["summary"] == sync_event().summary
    assert cal.upsert_event(sync_event()).id == again.id  # the same one every time after
    assert len(stored(fake_google)) == 1


def test_naive_times_are_wall_times_in_the_event_zone(
    cal: GoogleCalendar, fake_google: FakeGoogle
) -> None:
    naive = meeting(0)
    cal.upsert_event(replace(naive, start=datetime(2026, 7, 1, 9), end=datetime(2026, 7, 1, 10)))
    event = stored(fake_google)[naive.id]
    assert event["start"] == {"dateTime": "2026-07-01T09:00:00-04:00", "timeZone": naive.timezone}


def test_same_upsert_again_reads_and_changes_nothing(
    cal: GoogleCalendar, fake_google: FakeGoogle
) -> None:
    first = cal.upsert_event(sync_event())
    second = cal.upsert_event(sync_event())

    assert second.id == first.id and second.url == first.url
    assert second.meet_url.startswith("https://meet.google.com/")  # pending, then present
    assert len(stored(fake_google)) == 1
    assert calls(fake_google, "calendar.events.patch") == []
    assert len(fake_google.calendar.invitations) == 1  # nobody was told twice
    assert cal.upsert_event(sync_event()).meet_url == second.meet_url


def test_changed_plan_patches_the_same_event(cal: GoogleCalendar, fake_google: FakeGoogle) -> None:
    cal.upsert_event(sync_event())
    fake_google.calendar.event("h0spon0001")["attendees"][0]["responseStatus"] = "accepted"

    moved = datetime(2026, 10, 8, 11, tzinfo=BERLIN)
    ref = cal.upsert_event(
        sync_event(attendees=(ADA, DEV), start=moved, end=moved + timedelta(minutes=30))
    )

    assert ref.id == "h0spon0001"
    assert list(stored(fake_google)) == ["h0spon0001"]
    event = stored(fake_google)["h0spon0001"]
    assert [a["email"] for a in event["attendees"]] == ["ada@agency.example", "dev1@agency.example"]
    assert event["attendees"][0]["responseStatus"] == "accepted"  # Ada's answer is kept
    assert event["start"]["dateTime"] == "2026-10-08T11:00:00+02:00"
    assert event["conferenceData"]["createRequest"]["requestId"] == meet_request_id(ref.id)
    (patch,) = calls(fake_google, "calendar.events.patch")
    assert set(patch.body) == {"attendees", "start", "end"}
    assert patch.query["sendUpdates"] == "all"


@pytest.mark.parametrize(
    "change",
    [
        {"id": "H0SPON0001"},  # upper case is not base32hex
        {"id": "h0w"},  # w is past v, and too short
        {"id": "h0-spon"},
        {"timezone": "CEST"},
        {"end": datetime(2026, 10, 6, 9, tzinfo=BERLIN)},
    ],
)
def test_a_bad_event_is_refused_before_any_call(
    cal: GoogleCalendar, fake_google: FakeGoogle, change: dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        cal.upsert_event(sync_event(**change))
    with pytest.raises(ValueError):
        cal.upsert_events([meeting(1), sync_event(**change)])
    assert fake_google.requests == []


def test_rate_limit_bursts_make_exactly_one_event_each(
    cal: GoogleCalendar, fake_google: FakeGoogle
) -> None:
    burst = fake_google.faults.add(Fault(status=429, path=r"^/calendar/v3/", rate=0.3, seed=1))
    for n in range(8):
        cal.upsert_event(meeting(n))
        cal.upsert_event(replace(meeting(n), attendees=(ADA, PAT)))
    assert burst.fired > 0
    events = stored(fake_google)
    assert sorted(events) == sorted(meeting(n).id for n in range(8))
    assert all(
        [a["email"] for a in e["attendees"]] == [ADA.email, PAT.email] for e in events.values()
    )


def test_a_lost_insert_answer_is_not_a_second_event(
    cal: GoogleCalendar, fake_google: FakeGoogle
) -> None:
    fake_google.faults.add(
        Fault(status=503, method_id="calendar.events.insert", times=1, after=True)
    )
    ref = cal.upsert_event(sync_event())
    assert ref.id == "h0spon0001" and ref.url
    assert len(stored(fake_google)) == 1
    assert calls(fake_google, "calendar.events.patch") == []  # the retry found it as planned


def test_cancel_twice_and_unknown_are_fine(cal: GoogleCalendar, fake_google: FakeGoogle) -> None:
    cal.upsert_event(sync_event())
    cal.cancel_event("h0spon0001")
    cal.cancel_event("h0spon0001")  # 410 Gone
    cal.cancel_event("h9nothere0")  # 404
    assert stored(fake_google)["h0spon0001"]["status"] == "cancelled"
    (delete,) = calls(fake_google, "calendar.events.delete")
    assert delete.query["sendUpdates"] == "all"
    with pytest.raises(ValueError):
        cal.cancel_event("Not-An-Id")

    cal.upsert_event(sync_event())  # planned again: the same event comes back
    assert stored(fake_google)["h0spon0001"]["status"] == "confirmed"
    assert len(stored(fake_google)) == 1


def test_busy_comes_from_freebusy(cal: GoogleCalendar, fake_google: FakeGoogle) -> None:
    fake_google.calendar.add_busy(
        "dev1@agency.example", "2026-10-07T08:00:00Z", "2026-10-07T09:00:00Z"
    )
    cal.upsert_event(meeting(0))  # Ada and Dev, 14:00-15:00 UTC
    low, high = datetime(2026, 10, 7, tzinfo=UTC), datetime(2026, 10, 8, tzinfo=UTC)

    found = cal.busy(["dev1@agency.example", "ADA@agency.example", "who@else.example"], low, high)

    assert found == {
        "dev1@agency.example": [
            Busy(datetime(2026, 10, 7, 8, tzinfo=UTC), datetime(2026, 10, 7, 9, tzinfo=UTC)),
            Busy(datetime(2026, 10, 7, 14, tzinfo=UTC), datetime(2026, 10, 7, 15, tzinfo=UTC)),
        ],
        "ADA@agency.example": [
            Busy(datetime(2026, 10, 7, 14, tzinfo=UTC), datetime(2026, 10, 7, 15, tzinfo=UTC)),
        ],
        "who@else.example": [],
    }
    (query,) = calls(fake_google, "calendar.freebusy.query")
    assert query.body["items"] == [
        {"id": "dev1@agency.example"},
        {"id": "ada@agency.example"},
        {"id": "who@else.example"},
    ]
    with pytest.raises(ValueError):
        cal.busy(["ada@agency.example"], datetime(2026, 10, 7), high)


def test_busy_of_an_unreadable_calendar_is_unknown(
    cal: GoogleCalendar, fake_google: FakeGoogle, caplog: pytest.LogCaptureFixture
) -> None:
    # The fake never answers per-calendar errors: wrap its handler to add one.
    handlers = fake_google.dispatcher.handlers
    plain = handlers["calendar.freebusy.query"]

    def with_error(call: Any) -> Any:
        reply = plain(call)
        reply.json["calendars"]["who@else.example"] = {
            "busy": [],
            "errors": [{"domain": "global", "reason": "notFound"}],
        }
        return reply

    handlers["calendar.freebusy.query"] = with_error
    low, high = datetime(2026, 10, 7, tzinfo=UTC), datetime(2026, 10, 8, tzinfo=UTC)
    assert cal.busy(["who@else.example"], low, high) == {"who@else.example": []}
    assert "who@else.example" in caplog.text and "notFound" in caplog.text


def test_busy_asks_fifty_calendars_at_a_time(cal: GoogleCalendar, fake_google: FakeGoogle) -> None:
    people = [f"p{n}@agency.example" for n in range(120)]
    low, high = datetime(2026, 10, 7, tzinfo=UTC), datetime(2026, 10, 8, tzinfo=UTC)
    assert cal.busy(people, low, high) == {p: [] for p in people}
    queries = calls(fake_google, "calendar.freebusy.query")
    assert [len(q.body["items"]) for q in queries] == [50, 50, 20]


def test_five_events_are_inserted_in_one_batch(
    cal: GoogleCalendar, fake_google: FakeGoogle
) -> None:
    events = [meeting(n) for n in range(5)]
    refs = cal.upsert_events(events)

    assert [r.id for r in refs] == [e.id for e in events]
    assert all(r.url for r in refs)
    batches = [r for r in fake_google.requests if r.path.startswith("/batch")]
    assert len(batches) == 2 and {b.status for b in batches} == {200}
    # One batch of inserts, then one batch reading the Meets Google answered `pending`.
    assert [r.in_batch for r in fake_google.requests].count(False) == 2
    assert len(calls(fake_google, "calendar.events.insert")) == 5
    assert all(r.meet_url for r in refs)
    assert sorted(stored(fake_google)) == sorted(e.id for e in events)

    # Again, with one changed: the 409 parts are read, and only the changed one is patched.
    events[2] = replace(events[2], summary="Internal kickoff (moved room)")
    again = cal.upsert_events(events)
    assert [r.id for r in again] == [e.id for e in events]
    assert all(r.meet_url for r in again)
    assert len(stored(fake_google)) == 5
    (patch,) = calls(fake_google, "calendar.events.patch")
    assert patch.path.endswith(events[2].id) and patch.body == {"summary": events[2].summary}


def test_a_batch_under_rate_limits_makes_each_event_once(
    cal: GoogleCalendar, fake_google: FakeGoogle
) -> None:
    fake_google.faults.add(Fault(status=429, path=r"^/calendar/v3/", rate=0.3, seed=1))
    fake_google.faults.add(
        Fault(status=500, method_id="calendar.events.insert", times=2, after=True)
    )
    events = [meeting(n) for n in range(12)]
    refs = cal.upsert_events(events)
    assert [r.id for r in refs] == [e.id for e in events]
    assert sorted(stored(fake_google)) == sorted(e.id for e in events)


def test_the_organizer_google_lists_among_attendees_is_no_change(
    cal: GoogleCalendar, fake_google: FakeGoogle
) -> None:
    cal.upsert_event(sync_event())
    organizer = {"email": fake_google.user_email, "organizer": True, "self": True}
    fake_google.calendar.event("h0spon0001")["attendees"].append(
        {**organizer, "responseStatus": "accepted"}
    )
    cal.upsert_event(sync_event())
    assert calls(fake_google, "calendar.events.patch") == []
