"""The local Calendar adapter: .ics files, invitation emails, busy times and feeds."""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from pathlib import Path
from types import SimpleNamespace

import pytest
import recurring_ical_events
from flask import Flask
from icalendar import Calendar

from integrations.local.calendar import LocalCalendar
from integrations.local.mail import LocalMail
from integrations.ports import Busy, CalendarEvent, Email
from service.web.calendar_feed import bp
from tests.calendar_support import ADA, BERLIN, CLEO, PAT, sync_event


def kickoff_event() -> CalendarEvent:
    """A one-off internal meeting with Ada only."""
    return CalendarEvent(
        id="h0kick0001",
        summary="Internal kickoff",
        description="Plan the work",
        start=datetime(2026, 10, 7, 14, tzinfo=UTC),
        end=datetime(2026, 10, 7, 15, tzinfo=UTC),
        timezone="America/New_York",
        attendees=(ADA,),
    )


@pytest.fixture
def cal(tmp_path: Path) -> LocalCalendar:
    return LocalCalendar(tmp_path, mail=LocalMail(tmp_path / "outbox"), feed_secret="x" * 32)


def sent(tmp_path: Path) -> list[EmailMessage]:
    """Return the outbox's messages."""
    return [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((tmp_path / "outbox").glob("*.eml"))
    ]


def subjects(tmp_path: Path) -> list[str]:
    return sorted(str(m["Subject"]) for m in sent(tmp_path))


def invite(message: EmailMessage) -> Calendar:
    """Return the parsed invite.ics attached to a message."""
    (part,) = [p for p in message.iter_attachments() if p.get_filename() == "invite.ics"]
    assert part.get_content_type() == "text/calendar"
    return Calendar.from_ical(part.get_payload(decode=True))


def stored(tmp_path: Path, event_id: str) -> Calendar:
    return Calendar.from_ical((tmp_path / "events" / f"{event_id}.ics").read_bytes())


def test_fortnightly_series_expands_across_dst_with_its_exdate(
    cal: LocalCalendar, tmp_path: Path
) -> None:
    cal.upsert_event(sync_event())
    parsed = stored(tmp_path, "h0spon0001")
    window = (datetime(2026, 10, 1, tzinfo=BERLIN), datetime(2027, 10, 1, tzinfo=BERLIN))
    got = [o.start for o in recurring_ical_events.of(parsed).between(*window)]
    days = [date(2026, 10, 6) + timedelta(days=14 * k) for k in range(26)]
    expected = [datetime.combine(d, time(10), BERLIN) for d in days if d != date(2026, 11, 3)]
    assert got == expected and len(got) == 25
    assert {o.end - o.start for o in recurring_ical_events.of(parsed).between(*window)} == {
        timedelta(minutes=45)
    }
    # Same wall time on both sides of the change to CET on 25 Oct 2026.
    assert got[0].astimezone(UTC).hour == 8 and got[2].astimezone(UTC).hour == 9
    (zone,) = parsed.timezones
    assert zone["TZID"] == "Europe/Berlin"
    tz = zone.to_tz()
    assert datetime(2027, 7, 1, 12, tzinfo=tz).utcoffset() == timedelta(hours=2)
    assert datetime(2027, 1, 5, 12, tzinfo=tz).utcoffset() == timedelta(hours=1)


def test_invitation_file_carries_the_rfc5545_properties(cal: LocalCalendar, tmp_path: Path) -> None:
    ref = cal.upsert_event(sync_event())
    assert ref.id == "h0spon0001" and ref.meet_url == ""
    # Stored as a path of ours: shown on today's base (service/links.py).
    assert ref.url == "/handovers/h0"
    parsed = stored(tmp_path, "h0spon0001")
    assert parsed["METHOD"] == "REQUEST" and parsed["PRODID"]
    (event,) = parsed.events
    assert event["UID"] == "h0spon0001@handover" and event["SEQUENCE"] == 0
    assert event["STATUS"] == "CONFIRMED" and event["SUMMARY"] == "Executive Sponsor Sync"
    assert event["DESCRIPTION"] == "Agenda:\n- scope\n- hours"
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event["DTEND"].params["TZID"] == "Europe/Berlin"
    assert event.decoded("DTSTAMP").tzinfo is not None
    assert event["ORGANIZER"] == "mailto:handover@agency.local" and event["ORGANIZER"].params["CN"]
    people = {str(a): a.params for a in event["ATTENDEE"]}
    assert set(people) == {f"mailto:{p.email}" for p in (ADA, PAT, CLEO)}
    assert people["mailto:ada@agency.example"]["CN"] == "Ada Lane"
    assert people["mailto:ada@agency.example"]["ROLE"] == "REQ-PARTICIPANT"
    assert people["mailto:cleo@acme.example"]["ROLE"] == "OPT-PARTICIPANT"
    assert all(p["RSVP"] == "TRUE" and p["PARTSTAT"] == "NEEDS-ACTION" for p in people.values())
    assert event["RRULE"]["FREQ"] == ["WEEKLY"] and event["RRULE"]["INTERVAL"] == [2]
    assert event["X-HANDOVER-HANDOVER-ID"] == "h0"
    assert event["X-HANDOVER-MEETING-KIND"] == "executive_sponsor_sync"
    # A client's invitation carries no link of ours (the event was given none).
    assert "URL" not in event


def test_an_internal_meeting_links_the_page_it_was_given(
    cal: LocalCalendar, tmp_path: Path
) -> None:
    page = "http://127.0.0.1:8093/handovers/h0"
    cal.upsert_event(replace(kickoff_event(), link=page))
    (event,) = stored(tmp_path, "h0kick0001").events
    assert str(event["URL"]) == page


def test_unchanged_upsert_sends_one_email_and_keeps_sequence(
    cal: LocalCalendar, tmp_path: Path
) -> None:
    cal.upsert_event(sync_event())
    before = (tmp_path / "events" / "h0spon0001.ics").read_bytes()
    cal.upsert_event(sync_event())
    assert (tmp_path / "events" / "h0spon0001.ics").read_bytes() == before
    (message,) = sent(tmp_path)
    assert message["Subject"] == "Invitation: Executive Sponsor Sync"
    assert {a.addr_spec for a in message["To"].addresses} == {ADA.email, PAT.email, CLEO.email}
    body = message.get_body(("plain",)).get_content()
    assert "Tuesday 6 October 2026, 10:00–10:45 (Berlin time)" in body
    assert "every 2 weeks, except 3 November 2026" in body and "- scope" in body
    assert "Cleo Buyer <cleo@acme.example> (optional)" in body
    assert "&lt;ada@agency.example&gt;" in message.get_body(("html",)).get_content()
    assert invite(message).events[0]["SEQUENCE"] == 0


def test_changes_raise_the_sequence_and_send_updates(cal: LocalCalendar, tmp_path: Path) -> None:
    cal.upsert_event(sync_event())
    cal.upsert_event(sync_event(attendees=(ADA, CLEO)))
    assert stored(tmp_path, "h0spon0001").events[0]["SEQUENCE"] == 1
    messages = {str(m["Subject"]): m for m in sent(tmp_path)}
    assert sorted(messages) == [
        "Cancelled: Executive Sponsor Sync",  # to Pat, who was taken off
        "Invitation: Executive Sponsor Sync",
        "Updated invitation: Executive Sponsor Sync",
    ]
    update = invite(messages["Updated invitation: Executive Sponsor Sync"])
    assert update.events[0]["SEQUENCE"] == 1
    removed = messages["Cancelled: Executive Sponsor Sync"]
    assert removed["To"] == PAT.email
    assert invite(removed)["METHOD"] == "CANCEL"
    assert str(invite(removed).events[0]["ATTENDEE"]) == f"mailto:{PAT.email}"


def test_cancel_sends_a_cancel_once_and_ignores_missing_events(
    cal: LocalCalendar, tmp_path: Path
) -> None:
    cal.upsert_event(sync_event())
    cal.cancel_event("h0spon0001")
    cal.cancel_event("h0spon0001")
    cal.cancel_event("nosuchevent")
    cancels = [m for m in sent(tmp_path) if str(m["Subject"]).startswith("Cancelled")]
    (message,) = cancels
    attached = invite(message)
    assert attached["METHOD"] == "CANCEL"
    assert attached.events[0]["STATUS"] == "CANCELLED" and attached.events[0]["SEQUENCE"] == 1
    assert "has been cancelled" in message.get_body(("plain",)).get_content()
    assert stored(tmp_path, "h0spon0001")["METHOD"] == "CANCEL"
    assert not (tmp_path / "events" / "nosuchevent.ics").exists()
    # Planning the meeting again revives it with a higher sequence.
    cal.upsert_event(sync_event())
    revived = stored(tmp_path, "h0spon0001").events[0]
    assert revived["STATUS"] == "CONFIRMED" and revived["SEQUENCE"] == 2


def test_a_failed_send_writes_nothing_and_the_retry_sends_once(tmp_path: Path) -> None:
    class FlakyMail:
        def __init__(self) -> None:
            self.inner, self.failures = LocalMail(tmp_path / "outbox"), 1

        def send(self, message: Email) -> str:
            if self.failures:
                self.failures -= 1
                raise ConnectionError("SMTP went away")
            return self.inner.send(message)

    cal = LocalCalendar(tmp_path, mail=FlakyMail(), feed_secret="x" * 32)
    with pytest.raises(ConnectionError):
        cal.upsert_event(sync_event())
    assert not (tmp_path / "events" / "h0spon0001.ics").exists()
    cal.upsert_event(sync_event())
    cal.upsert_event(sync_event())
    assert subjects(tmp_path) == ["Invitation: Executive Sponsor Sync"]


def test_concurrent_upserts_of_one_event_send_one_invitation(
    cal: LocalCalendar, tmp_path: Path
) -> None:
    threads = [threading.Thread(target=cal.upsert_event, args=(sync_event(),)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert subjects(tmp_path) == ["Invitation: Executive Sponsor Sync"]
    assert stored(tmp_path, "h0spon0001").events[0]["SEQUENCE"] == 0


def test_bad_ids_and_recurrence_lines_are_refused(cal: LocalCalendar) -> None:
    with pytest.raises(ValueError, match="base32hex"):
        cal.upsert_event(sync_event(id="../../etc"))
    with pytest.raises(ValueError, match="recurrence"):
        cal.upsert_event(sync_event(recurrence=("DTSTART:20260101T000000Z",)))
    with pytest.raises(ValueError, match="base32hex"):
        cal.cancel_event("Z")


def test_busy_returns_overlapping_occurrences_for_attendees_only(cal: LocalCalendar) -> None:
    cal.upsert_event(sync_event())
    cal.upsert_event(kickoff_event())
    window = (datetime(2026, 10, 19, tzinfo=UTC), datetime(2026, 11, 18, tzinfo=UTC))
    answer = cal.busy(["PAT@agency.example", "stranger@else.example"], *window)
    at = lambda d: datetime.combine(d, time(10), BERLIN).astimezone(UTC)  # noqa: E731
    assert answer == {
        "PAT@agency.example": [  # 3 Nov is skipped by the EXDATE
            Busy(at(date(2026, 10, 20)), at(date(2026, 10, 20)) + timedelta(minutes=45)),
            Busy(at(date(2026, 11, 17)), at(date(2026, 11, 17)) + timedelta(minutes=45)),
        ],
        "stranger@else.example": [],
    }
    # Clipped to the window; the organizer is busy too; a cancelled meeting frees everyone.
    clipped = cal.busy([ADA.email], datetime(2026, 10, 7, 14, 30, tzinfo=UTC), window[1])
    assert clipped[ADA.email][0] == Busy(
        datetime(2026, 10, 7, 14, 30, tzinfo=UTC), datetime(2026, 10, 7, 15, tzinfo=UTC)
    )
    assert len(cal.busy(["handover@agency.local"], *window)["handover@agency.local"]) == 2
    cal.cancel_event("h0spon0001")
    assert cal.busy([PAT.email], *window) == {PAT.email: []}


def test_feed_holds_only_that_persons_events(cal: LocalCalendar) -> None:
    cal.upsert_event(sync_event())
    cal.upsert_event(kickoff_event())
    cal.cancel_event("h0spon0001")
    token = cal.feed_token("Pat@Agency.example")
    assert len(token) == 32 and token == cal.feed_token(PAT.email)
    assert cal.feed_url(PAT.email) == f"http://127.0.0.1:8080/calendar/{token}.ics"
    data = cal.feed(token)
    assert data is not None
    parsed = Calendar.from_ical(data)
    assert "METHOD" not in parsed and parsed["X-WR-CALNAME"] == "Handover meetings"
    assert [e["UID"] for e in parsed.events] == ["h0spon0001@handover"]
    assert parsed.events[0]["STATUS"] == "CANCELLED"
    assert [z["TZID"] for z in parsed.timezones] == ["Europe/Berlin"]
    ada = Calendar.from_ical(cal.feed(cal.feed_token(ADA.email)) or b"")
    assert sorted(e["UID"] for e in ada.events) == ["h0kick0001@handover", "h0spon0001@handover"]


def test_unknown_or_stale_tokens_have_no_feed(cal: LocalCalendar, tmp_path: Path) -> None:
    cal.upsert_event(sync_event())
    token = cal.feed_token(PAT.email)
    assert cal.feed("A" * 32) is None and cal.feed("") is None
    assert cal.feed(token[:-1]) is None
    rotated = LocalCalendar(tmp_path, mail=LocalMail(tmp_path / "outbox"), feed_secret="y" * 32)
    assert rotated.feed(token) is None
    assert rotated.feed(rotated.feed_token(PAT.email)) is not None


def test_feed_blueprint_serves_the_feed_by_token(cal: LocalCalendar) -> None:
    cal.upsert_event(sync_event())
    app = Flask(__name__)
    app.extensions["handover"] = SimpleNamespace(calendar=cal)
    app.register_blueprint(bp)
    client = app.test_client()
    answer = client.get(f"/calendar/{cal.feed_token(PAT.email)}.ics")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert Calendar.from_ical(answer.data).events[0]["UID"] == "h0spon0001@handover"
    assert client.get(f"/calendar/{'A' * 32}.ics").status_code == 404
    assert client.get("/calendar/.ics").status_code == 404
    app.extensions["handover"] = SimpleNamespace(calendar=object())
    assert client.get(f"/calendar/{cal.feed_token(PAT.email)}.ics").status_code == 404
