"""Use cases of the meetings: plan them (before anything is created), then send them.

The plan is stored as an artifact of the handover so that every later step, retry or
change works from the same times; a re-plan keeps the times already sent and only
changes attendees (and, for a new cadence, the account's sync series).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from integrations.ports import Calendar
from service.config import Settings
from service.domain.business_days import zone
from service.domain.model import Handover, account_key
from service.domain.planning import plan_meetings, request_from_handover
from service.domain.planning_model import (
    SYNC_KINDS,
    BusyInterval,
    ExistingSyncSeries,
    MeetingKind,
    MovedOccurrence,
    Plan,
    PlannedMeeting,
    SeriesSpec,
)

RECORDED_KINDS = (MeetingKind.SALES_HANDOVER, MeetingKind.INTERNAL_KICKOFF)


def event_id(*parts: str) -> str:
    """Return a deterministic Calendar event id (base32hex, `[a-v0-9]`) for these parts."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()[:20]
    return base64.b32hexencode(digest).decode().lower().rstrip("=")


def meeting_event_id(handover_id: str, h: Handover, kind: str) -> str:
    """Return a meeting's event id: syncs belong to the account, the rest to the handover."""
    if kind in SYNC_KINDS:
        return event_id("account", account_key(h.client), kind)
    return event_id("handover", handover_id, kind)


def make_plan(
    handover_id: str,
    h: Handover,
    *,
    settings: Settings,
    now: datetime,
    busy: tuple[BusyInterval, ...] = (),
    existing_syncs: ExistingSyncSeries | None = None,
    sent: dict[str, SeriesSpec] | None = None,
) -> Plan:
    """Plan the five meetings; times already sent (`sent`) are kept as they were."""
    request = request_from_handover(
        h,
        handover_id=handover_id,
        now=now,
        agency_timezone=settings.agency_timezone,
        business_country=settings.business_country,
        business_hours=settings.business_hours,
        busy=busy,
        existing_sync_series=existing_syncs,
        notice=settings.meeting_notice,
    )
    plan = plan_meetings(request)
    if not sent:
        return plan
    kept = []
    for meeting in plan.meetings:
        spec = sent.get(meeting.kind)
        if spec is not None and meeting.kind not in SYNC_KINDS:
            meeting = _with_series(meeting, spec)
        kept.append(meeting)
    return Plan(plan.handover_id, plan.account_key, tuple(kept), plan.warnings)


def _with_series(meeting: PlannedMeeting, spec: SeriesSpec) -> PlannedMeeting:
    return replace(meeting, start=spec.start, end=spec.end, timezone=spec.timezone)


def busy_of(
    calendar: Calendar, h: Handover, *, now: datetime, days: int = 30
) -> tuple[BusyInterval, ...]:
    """Return the internal people's busy times over the planning horizon."""
    emails = [p.email for p in h.internal_people()]
    found = calendar.busy(emails, now, now + timedelta(days=days))
    return tuple(
        BusyInterval(email, b.start, b.end) for email, intervals in found.items() for b in intervals
    )


# --- the plan as JSON (stored as the handover's `plan` artifact, shown by the API) ---


def plan_json(plan: Plan) -> dict[str, Any]:
    """Return the plan as JSON: every meeting with time, zone, attendees, rules, constraints."""
    return {
        "warnings": list(plan.warnings),
        "meetings": [
            {
                "kind": m.kind.value,
                "title": m.title,
                "start": m.start.isoformat(),
                "end": m.end.isoformat(),
                "timezone": m.timezone,
                "organiser": m.organiser.email,
                "attendees": [
                    {
                        "email": p.email,
                        "name": p.name,
                        "timezone": p.timezone,
                        "internal": p.internal,
                    }
                    for p in m.attendees
                ],
                "recurrence": list(m.recurrence),
                "moved": [_moved_json(x) for x in m.exceptions],
                "constraints": list(m.constraints),
                "warnings": list(m.warnings),
                "kept": m.kept,
                "alternatives": [
                    {"start": a.isoformat(), "end": b.isoformat()} for a, b in m.alternatives
                ],
                **_handled_json(m.handled_until),
            }
            for m in plan.meetings
        ],
    }


def series_json(spec: SeriesSpec) -> dict[str, Any]:
    """Return a series' fields as a stored meeting holds them (the inverse of series_from_json)."""
    tzinfo = zone(spec.timezone)
    return {
        "start": spec.start.astimezone(tzinfo).isoformat(),
        "end": spec.end.astimezone(tzinfo).isoformat(),
        "timezone": spec.timezone,
        "recurrence": list(spec.recurrence),
        "moved": [_moved_json(x) for x in spec.exceptions],
        **_handled_json(spec.handled_until),
    }


def _handled_json(until: datetime | None) -> dict[str, str]:
    """Return how far a series is handled, for a series that says."""
    return {"handled_until": until.isoformat()} if until is not None else {}


def _moved_json(moved: MovedOccurrence) -> dict[str, str]:
    return {
        "original_start": moved.original_start.isoformat(),
        "start": moved.start.isoformat(),
        "end": moved.end.isoformat(),
        "reason": moved.reason,
    }


def series_from_json(meeting: dict[str, Any]) -> SeriesSpec:
    """Return a stored meeting's series (times, zone, rules, moves)."""
    return SeriesSpec(
        start=datetime.fromisoformat(meeting["start"]),
        end=datetime.fromisoformat(meeting["end"]),
        timezone=meeting["timezone"],
        recurrence=tuple(meeting.get("recurrence", ())),
        exceptions=tuple(
            MovedOccurrence(
                datetime.fromisoformat(m["original_start"]),
                datetime.fromisoformat(m["start"]),
                datetime.fromisoformat(m["end"]),
                m["reason"],
            )
            for m in meeting.get("moved", ())
        ),
        handled_until=(
            datetime.fromisoformat(meeting["handled_until"])
            if meeting.get("handled_until")
            else None
        ),
    )


def sent_series(plan: dict[str, Any]) -> dict[str, SeriesSpec]:
    """Return each meeting's series from a stored plan, by kind."""
    return {m["kind"]: series_from_json(m) for m in plan.get("meetings", ())}


def sync_series_of(plan: dict[str, Any]) -> ExistingSyncSeries | None:
    """Return the account's sync series from a stored plan, if it has both."""
    series = sent_series(plan)
    internal = series.get(MeetingKind.INTERNAL_ACCOUNT_SYNC.value)
    executive = series.get(MeetingKind.EXECUTIVE_SPONSOR_SYNC.value)
    if internal is None or executive is None:
        return None
    return ExistingSyncSeries(internal=internal, executive=executive)


def preview(
    h: Handover, *, settings: Settings, calendar: Calendar, now: datetime
) -> dict[str, Any]:
    """Return the plan a handover would get, without storing or sending anything."""
    plan = make_plan("preview", h, settings=settings, now=now, busy=busy_of(calendar, h, now=now))
    return plan_json(plan)
