"""Calendar v3 event bodies: what the service sends for a planned meeting and how it reads
what Google answers (ids, times, attendees, Meet links), with no call to Google."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from integrations.ports import CalendarEvent, EventRef

EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")
SERVICE = "primary"  # the service user's own calendar


def check_event_id(event_id: str) -> str:
    """Return the id if Google accepts it as an event id, else raise ValueError."""
    if not EVENT_ID.fullmatch(event_id):
        raise ValueError(
            f"calendar event id must be 5 to 1024 base32hex characters [a-v0-9]: {event_id!r}"
        )
    return event_id


MAX_GENERATIONS = 20  # ids tried after a purged one, before giving up
MEET_READS = 5  # reads of an event whose Meet is still `pending` before leaving it for later


def meet_status(item: Mapping[str, Any]) -> str:
    """Return the Meet createRequest's status: pending, success, failure, or "" (none)."""
    request = (item.get("conferenceData") or {}).get("createRequest") or {}
    return str((request.get("status") or {}).get("statusCode", ""))


def next_meet_request(item: Mapping[str, Any]) -> dict[str, Any]:
    """Return conferenceData asking for a Meet again after a `failure`: a createRequest
    with a new requestId (Calendar answers the same failure to the same requestId)."""
    request = (item.get("conferenceData") or {}).get("createRequest") or {}
    request_id = str(request.get("requestId", ""))
    base, _, tries = request_id.partition("~")
    again = f"{base}~{int(tries or 0) + 1}"
    return {
        "createRequest": {"requestId": again, "conferenceSolutionKey": {"type": "hangoutsMeet"}}
    }


def meet_request_id(event_id: str) -> str:
    """Return the conference createRequest id for the event: the same on every attempt."""
    return "handover-" + hashlib.sha256(event_id.encode("ascii")).hexdigest()[:32]


def event_time(moment: datetime, timezone: str) -> dict[str, str]:
    """Return Calendar's `{dateTime, timeZone}`: wall time in the zone, with its offset."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"calendar event time zone must be an IANA zone: {timezone!r}") from None
    local = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)
    return {"dateTime": local.isoformat(), "timeZone": timezone}


def event_body(event: CalendarEvent) -> dict[str, Any]:
    """Return the Calendar v3 resource for the event (conference request included)."""
    check_event_id(event.id)
    if event.end <= event.start:
        raise ValueError(f"event {event.id} ends before it starts")
    body: dict[str, Any] = {
        "id": event.id,
        "summary": event.summary,
        "description": event.description,
        "start": event_time(event.start, event.timezone),
        "end": event_time(event.end, event.timezone),
        "attendees": [
            {"email": a.email, "displayName": a.name, "optional": a.optional}
            if a.name
            else {"email": a.email, "optional": a.optional}
            for a in event.attendees
        ],
        "recurrence": list(event.recurrence),
        "extendedProperties": {"private": dict(event.properties)},
    }
    if event.with_meet:
        body["conferenceData"] = {
            "createRequest": {
                "requestId": meet_request_id(event.id),
                "conferenceSolutionKey": {"type": "hangoutsMeet"},
            }
        }
    return body


def meet_url(item: Mapping[str, Any]) -> str:
    """Return the event's Meet link, or "" while Google is still creating it."""
    if item.get("hangoutLink"):
        return str(item["hangoutLink"])
    for entry in (item.get("conferenceData") or {}).get("entryPoints") or []:
        if entry.get("entryPointType") == "video" and entry.get("uri"):
            return str(entry["uri"])
    return ""


def to_ref(item: Mapping[str, Any], calendar: str = SERVICE, fallback: str = "") -> EventRef:
    """Return our EventRef for a Calendar v3 event resource."""
    return EventRef(
        id=str(item["id"]),
        url=str(item.get("htmlLink", "")),
        meet_url=meet_url(item),
        calendar=calendar,
        fallback=fallback,
    )


def changes(existing: Mapping[str, Any], plan: Mapping[str, Any]) -> dict[str, Any]:
    """Return the patch that brings the existing event to the plan; empty when it is there."""
    patch: dict[str, Any] = {}
    for name in ("summary", "description"):
        if (existing.get(name) or "") != plan[name]:
            patch[name] = plan[name]
    for name in ("start", "end"):
        if not _same_time(existing.get(name) or {}, plan[name]):
            patch[name] = plan[name]
    if list(existing.get("recurrence") or []) != plan["recurrence"]:
        patch["recurrence"] = plan["recurrence"]
    guests = _guests(existing.get("attendees") or [], plan["attendees"])
    if not _same_attendees(guests, plan["attendees"]):
        patch["attendees"] = _keep_answers(guests, plan["attendees"])
    private = (existing.get("extendedProperties") or {}).get("private") or {}
    wanted = plan["extendedProperties"]["private"]
    if any(private.get(k) != v for k, v in wanted.items()):
        patch["extendedProperties"] = plan["extendedProperties"]
    if existing.get("status") == "cancelled":
        patch["status"] = "confirmed"  # brings a cancelled event back
    if "conferenceData" in plan and not existing.get("conferenceData"):
        patch["conferenceData"] = plan["conferenceData"]
    elif "conferenceData" in plan and meet_status(existing) == "failure":
        patch["conferenceData"] = next_meet_request(existing)
    return patch


def _same_time(existing: Mapping[str, Any], plan: Mapping[str, str]) -> bool:
    if existing.get("timeZone") != plan["timeZone"] or not existing.get("dateTime"):
        return False
    zone = ZoneInfo(plan["timeZone"])
    return parse_instant(existing["dateTime"], zone) == parse_instant(plan["dateTime"], zone)


def _attendee_key(attendee: Mapping[str, Any]) -> tuple[str, bool]:
    return str(attendee.get("email", "")).lower(), bool(attendee.get("optional", False))


def _guests(
    existing: Sequence[Mapping[str, Any]], plan: Sequence[Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    """Return the existing attendees without the organizer Google adds, unless planned."""
    planned = {str(a["email"]).lower() for a in plan}
    return [
        a for a in existing if not a.get("organizer") or str(a.get("email", "")).lower() in planned
    ]


def _same_attendees(
    existing: Sequence[Mapping[str, Any]], plan: Sequence[Mapping[str, Any]]
) -> bool:
    # Names are compared only where Google kept one: it may drop them for known users.
    if sorted(map(_attendee_key, existing)) != sorted(map(_attendee_key, plan)):
        return False
    names = {_attendee_key(a)[0]: a.get("displayName") for a in existing}
    return all(names.get(_attendee_key(a)[0]) in (None, a.get("displayName")) for a in plan)


def _keep_answers(
    existing: Sequence[Mapping[str, Any]], plan: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """Return the planned attendees, each keeping the answer they gave already."""
    answers = {str(a.get("email", "")).lower(): a.get("responseStatus") for a in existing}
    kept = []
    for attendee in plan:
        answer = answers.get(str(attendee["email"]).lower())
        kept.append({**attendee, "responseStatus": answer} if answer else dict(attendee))
    return kept


def parse_instant(value: str, zone: ZoneInfo | None = None) -> datetime:
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone or UTC)


def utc_text(moment: datetime, name: str) -> str:
    if moment.tzinfo is None:
        raise ValueError(f"busy() needs an aware {name} datetime, got {moment!r}")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
