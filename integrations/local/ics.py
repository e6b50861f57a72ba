"""Builds and reads the RFC 5545 objects of the local calendar: invitations and feeds."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vRecur

from integrations.ports import Attendee, CalendarEvent

PRODID = "-//Agency//Handover service//EN"
FEED_NAME = "Handover meetings"
RECURRENCE_NAMES = frozenset({"RRULE", "EXRULE", "RDATE", "EXDATE"})
FINGERPRINT = "X-HANDOVER-FINGERPRINT"
# Google's rule for event ids; it also keeps ids safe as file names.
_EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")
_UNITS = {"DAILY": "day", "WEEKLY": "week", "MONTHLY": "month", "YEARLY": "year"}
_TIMEZONE_YEARS = 10  # how far ahead a generated VTIMEZONE spells out the transitions


def check_event_id(event_id: str) -> str:
    """Return the id if it is base32hex (Google's rule), else raise ValueError."""
    if not _EVENT_ID.fullmatch(event_id):
        raise ValueError(f"calendar event id must be base32hex [a-v0-9]{{5,}}: {event_id!r}")
    return event_id


def uid_of(event_id: str) -> str:
    """Return the iCalendar UID of an event id."""
    return f"{event_id}@handover"


def fingerprint(event: CalendarEvent, organizer: str) -> str:
    """Return a digest of everything an invitation shows, to tell a change from a retry."""
    content = {
        "organizer": organizer.lower(),
        "summary": event.summary,
        "description": event.description,
        "start": event.start.astimezone(UTC).isoformat(),
        "end": event.end.astimezone(UTC).isoformat(),
        "timezone": event.timezone,
        "attendees": sorted([a.email.lower(), a.name, a.optional] for a in _unique(event)),
        "recurrence": list(event.recurrence),
        "properties": sorted(event.properties.items()),
        "link": event.link,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:32]


def build_vevent(
    event: CalendarEvent,
    *,
    organizer: str,
    sequence: int,
    stamp: datetime,
    url: str,
    organizer_name: str = "Handover service",
) -> Event:
    """Return the VEVENT of a confirmed meeting."""
    zone = ZoneInfo(event.timezone)
    vevent = Event()
    vevent.add("UID", uid_of(event.id))
    vevent.add("SEQUENCE", sequence)
    vevent.add("DTSTAMP", stamp.astimezone(UTC))
    vevent.add("DTSTART", event.start.astimezone(zone))
    vevent.add("DTEND", event.end.astimezone(zone))
    vevent.add("SUMMARY", event.summary)
    if event.description:
        vevent.add("DESCRIPTION", event.description)
    vevent.add("ORGANIZER", _address(organizer, organizer_name))
    for person in _unique(event):
        address = _address(person.email, person.name)
        address.params["ROLE"] = "OPT-PARTICIPANT" if person.optional else "REQ-PARTICIPANT"
        address.params["CUTYPE"] = "INDIVIDUAL"
        address.params["PARTSTAT"] = "NEEDS-ACTION"
        address.params["RSVP"] = "TRUE"
        vevent.add("ATTENDEE", address)
    for name, value in _recurrence(event.recurrence):
        vevent.add(name, value)
    for key, value in sorted(event.properties.items()):
        vevent.add(_x_name(key), value)
    vevent.add("STATUS", "CONFIRMED")
    vevent.add("TRANSP", "OPAQUE")
    if url:  # only an internal meeting links a page of ours
        vevent.add("URL", url)
    vevent.add(FINGERPRINT, fingerprint(event, organizer))
    return vevent


def restamped(vevent: Event, *, sequence: int, stamp: datetime, status: str) -> Event:
    """Return a copy of the VEVENT with a new sequence, stamp and status."""
    copy = _clone(vevent)
    for name, value in (
        ("SEQUENCE", sequence),
        ("DTSTAMP", stamp.astimezone(UTC)),
        ("STATUS", status),
    ):
        copy.pop(name, None)
        copy.add(name, value)
    return copy


def only_attendees(vevent: Event, emails: Iterable[str]) -> Event:
    """Return a copy of the VEVENT whose attendee list keeps only these people."""
    keep = {e.lower() for e in emails}
    copy = _clone(vevent)
    copy.pop("ATTENDEE", None)
    for address in _as_list(vevent.get("ATTENDEE")):
        if _email(address) in keep:
            copy.add("ATTENDEE", address)
    return copy


def invitation(vevent: Event, method: str) -> bytes:
    """Return the VCALENDAR that carries one VEVENT by email (METHOD:REQUEST or CANCEL)."""
    cal = _calendar(method=method, subcomponents=[vevent])
    return bytes(_with_timezones(cal, [vevent]).to_ical())


def feed(vevents: list[Event]) -> bytes:
    """Return a subscribable VCALENDAR (no METHOD; NAME and X-WR-CALNAME) of these VEVENTs."""
    cal = _calendar(name=FEED_NAME, subcomponents=vevents)
    cal.add("X-PUBLISHED-TTL", "PT1H")
    return bytes(_with_timezones(cal, vevents).to_ical())


def parse(data: bytes) -> Event:
    """Return the main VEVENT of a stored event file (not an occurrence's override)."""
    events = [e for e in Calendar.from_ical(data).events if "RECURRENCE-ID" not in e]
    if len(events) != 1:
        raise ValueError(f"an event file must hold one main VEVENT, not {len(events)}")
    return events[0]


def overrides(data: bytes) -> list[Event]:
    """Return the occurrence overrides (VEVENTs with a RECURRENCE-ID) of a stored file."""
    return [e for e in Calendar.from_ical(data).events if "RECURRENCE-ID" in e]


def recurrence_id(vevent: Event) -> datetime:
    """Return the instant an override replaces, in UTC."""
    value = vevent.decoded("RECURRENCE-ID")
    return value.astimezone(UTC) if isinstance(value, datetime) else value


def override(master: Event, original: datetime, description: str) -> Event:
    """Return an override of the series' occurrence at `original` (RFC 5545 RECURRENCE-ID)
    that keeps everything of the series but the description."""
    start, end = master.start, master.end
    if not (isinstance(start, datetime) and isinstance(end, datetime)):
        raise ValueError("only timed series have occurrence overrides here")
    moment = original.astimezone(start.tzinfo)
    copy = _clone(master)
    for name in (*RECURRENCE_NAMES, "DTSTART", "DTEND", "DESCRIPTION", FINGERPRINT):
        copy.pop(name, None)
    copy.add("RECURRENCE-ID", moment)
    copy.add("DTSTART", moment)
    copy.add("DTEND", moment + (end - start))
    copy.add("DESCRIPTION", description)
    return copy


def with_description(vevent: Event, description: str) -> Event:
    """Return a copy of the VEVENT with this description."""
    copy = _clone(vevent)
    copy.pop("DESCRIPTION", None)
    copy.add("DESCRIPTION", description)
    return copy


def stored(master: Event, extra: Iterable[Event], method: str = "REQUEST") -> bytes:
    """Return the file of a series with its occurrence overrides."""
    events = [master, *extra]
    cal = _calendar(method=method, subcomponents=events)
    return bytes(_with_timezones(cal, events).to_ical())


def status(vevent: Event) -> str:
    """Return the VEVENT's STATUS, CONFIRMED when absent."""
    return str(vevent.get("STATUS", "CONFIRMED")).upper()


def attendees(vevent: Event) -> list[Attendee]:
    """Return the VEVENT's attendees as the port's dataclass."""
    return [
        Attendee(_email(a), str(a.params.get("CN", "")), a.params.get("ROLE") == "OPT-PARTICIPANT")
        for a in _as_list(vevent.get("ATTENDEE"))
    ]


def organizer_email(vevent: Event) -> str:
    """Return the organizer's lower-cased email, or an empty string."""
    address = vevent.get("ORGANIZER")
    return _email(address) if address is not None else ""


def organizer_words(vevent: Event) -> str:
    """Return the organizer as people read them: "Pat Moss <pat@agency.example>"."""
    address = vevent.get("ORGANIZER")
    if address is None:
        return ""
    name = str(address.params.get("CN", "")).strip()
    return f"{name} <{_email(address)}>" if name else _email(address)


def describe_when(vevent: Event) -> str:
    """Return the time of the (first) meeting in its own zone, for people."""
    start, end = vevent.start, vevent.end
    if not (isinstance(start, datetime) and isinstance(end, datetime)):
        return f"{start} to {end}"  # all-day: the service never writes these, a person might
    zone = getattr(start.tzinfo, "key", None) or start.tzname() or "UTC"
    if "/" in zone:  # "America/New_York" -> "New York time", as people say it
        zone = zone.rsplit("/", 1)[-1].replace("_", " ") + " time"
    day = f"{start:%A} {start.day} {start:%B %Y}"
    if end.date() == start.date():
        return f"{day}, {start:%H:%M}–{end:%H:%M} ({zone})"
    return f"{day} {start:%H:%M} – {end:%A} {end.day} {end:%B %Y} {end:%H:%M} ({zone})"


def describe_repeats(vevent: Event) -> str:
    """Return how the meeting repeats, for people; empty when it does not."""
    parts = [_describe_rule(rule) for rule in _as_list(vevent.get("RRULE"))]
    skipped = [f"{d.day} {d:%B %Y}" for d in sorted(_day(x) for x in vevent.exdates)]
    text = "; ".join(parts)
    return f"{text}, except {', '.join(skipped)}" if parts and skipped else text


# --- internals ----------------------------------------------------------------------


def _unique(event: CalendarEvent) -> list[Attendee]:
    seen: set[str] = set()
    people = []
    for person in event.attendees:
        if person.email.lower() not in seen:
            seen.add(person.email.lower())
            people.append(person)
    return people


def _calendar(**fields: Any) -> Calendar:
    cal = Calendar.new(prodid=PRODID, **fields)
    cal.pop("UID", None)  # a random one per call would make every rewrite differ
    return cal


def _clone(vevent: Event) -> Event:
    copy = Event.from_ical(vevent.to_ical())
    if not isinstance(copy, Event):
        raise TypeError("expected a VEVENT")
    return copy


def _address(email: str, name: str) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = name
    return address


def _email(address: object) -> str:
    text = str(address)
    return (text[7:] if text.lower().startswith("mailto:") else text).strip().lower()


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def _x_name(key: str) -> str:
    kebab = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", key)
    return "X-HANDOVER-" + re.sub(r"[^A-Za-z0-9-]+", "-", kebab).upper()


def _recurrence(lines: Iterable[str]) -> list[tuple[str, object]]:
    """Parse lines like 'RRULE:FREQ=WEEKLY' or 'EXDATE;TZID=Europe/Berlin:20270105T100000'."""
    lines = list(lines)
    for line in lines:
        name = re.split(r"[;:]", line, maxsplit=1)[0].upper()
        if name not in RECURRENCE_NAMES or "\n" in line or "\r" in line:
            raise ValueError(f"not a recurrence line: {line!r}")
    if not lines:
        return []
    parsed = Event.from_ical("BEGIN:VEVENT\r\n" + "\r\n".join(lines) + "\r\nEND:VEVENT\r\n")
    if parsed.errors:
        raise ValueError(f"bad recurrence lines {lines!r}: {parsed.errors}")
    return [(name, value) for name, values in parsed.items() for value in _as_list(values)]


def _with_timezones(cal: Calendar, vevents: Iterable[Event]) -> Calendar:
    years = [v.start.year for v in vevents if isinstance(v.start, date)]
    if years:
        cal.add_missing_timezones(
            first_date=date(min(years), 1, 1),
            last_date=date(max(years) + _TIMEZONE_YEARS, 1, 1),
        )
    return cal


def _describe_rule(rule: vRecur) -> str:
    freq = str(rule.get("FREQ", [""])[0]).upper()
    interval = int(rule.get("INTERVAL", [1])[0])
    unit = _UNITS.get(freq)
    if unit is None or set(rule) - {"FREQ", "INTERVAL", "UNTIL", "COUNT", "WKST"}:
        return "repeats: " + bytes(rule.to_ical()).decode()  # type: ignore[no-untyped-call]
    text = f"every {unit}" if interval == 1 else f"every {interval} {unit}s"
    if "UNTIL" in rule:
        until = _day(rule["UNTIL"][0])
        text += f" until {until.day} {until:%B %Y}"
    if "COUNT" in rule:
        text += f", {int(rule['COUNT'][0])} times"
    return text


def _day(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value
