"""Check a plan against every rule; the planner turns what is left over into warnings.

`verify(plan, request)` returns one line per violated rule, `"<kind>: <rule>: <detail>"`
with rule one of: missing, timezone, duration, attendees, recurrence, exception,
earliest, order, lead, hours, holiday. An empty list means every rule holds for every
occurrence in the checked months. Hours and holiday lines name the person (with email).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from dateutil.relativedelta import relativedelta

from service.domain.business_days import zone
from service.domain.plan_words import (
    country_words,
    day_words,
    join_words,
    minutes_words,
    person_words,
)
from service.domain.planning_model import (
    CLIENT_KINDS,
    SYNC_KINDS,
    MeetingKind,
    Participant,
    Plan,
    PlannedMeeting,
    PlanRequest,
    elapsed,
    unique,
)
from service.domain.planning_slots import Hours, lead_ok, non_business_dates, outside_minutes
from service.domain.recurrence import Occurrence, excluded, occurrences, rule_line

_DAY = timedelta(days=1)
CADENCE_RULES = {
    "fortnightly": ("WEEKLY", "2"),
    "monthly": ("MONTHLY", "1"),
    "quarterly": ("MONTHLY", "3"),
}


@dataclass(frozen=True)
class Breach:
    """One violated rule, at one occurrence, maybe about one person."""

    kind: str
    rule: str
    detail: str
    person: Participant | None = None
    local: str = ""
    minutes: int = 0

    def __str__(self) -> str:
        """Return the verify line."""
        return f"{self.kind}: {self.rule}: {self.detail}"


def hours_label(hours: Hours) -> str:
    """Return '09:00-17:00'."""
    return f"{hours[0]:%H:%M}-{hours[1]:%H:%M}"


def expected_attendees(kind: str, request: PlanRequest) -> tuple[Participant, ...]:
    """Return who a meeting kind invites (the handbook's lists), organiser first."""
    am, pm = request.am, request.pm
    lead = (pm,) if pm else (am,)  # the AM stands in for an unassigned PM
    if kind == MeetingKind.SALES_HANDOVER:
        people = (*request.sales, am, *([pm] if pm else []), *request.team)
    elif kind == MeetingKind.INTERNAL_KICKOFF:
        people = (*lead, *request.team)
    elif kind == MeetingKind.CLIENT_KICKOFF:
        people = (*lead, am, *request.team, *request.exec_sponsors, *request.client_contacts)
    elif kind == MeetingKind.INTERNAL_ACCOUNT_SYNC:
        people = request.sync_pair()
    else:
        people = (*request.sync_pair(), *request.exec_sponsors)
    return unique(people)


def occurrence_breaches(
    meeting: PlannedMeeting, start: datetime, end: datetime, hours: Hours
) -> list[Breach]:
    """Return the hours and holiday breaches of one occurrence, per attendee."""
    out: list[Breach] = []
    when = f"{start.astimezone(zone(meeting.timezone)):%Y-%m-%d %H:%M} ({meeting.timezone})"
    client = meeting.kind in CLIENT_KINDS
    for person in meeting.attendees:
        if not (person.internal or client):
            continue
        tzinfo = zone(person.timezone)
        minutes = outside_minutes(tzinfo, start, end, hours)
        if minutes:
            local = f"{start.astimezone(tzinfo):%H:%M}-{end.astimezone(tzinfo):%H:%M}"
            detail = (
                f"{when}: {person.label()} ({person.timezone}) outside working hours "
                f"{hours_label(hours)}: {local} local, {minutes} min outside"
            )
            out.append(Breach(meeting.kind, "hours", detail, person, local, minutes))
        if person.internal:
            for day, why in non_business_dates(tzinfo, person.country, start, end):
                detail = f"{when}: {person.label()}: {day.isoformat()} is {why}"
                out.append(Breach(meeting.kind, "holiday", detail, person, day.isoformat()))
    return out


def window(meeting: PlannedMeeting, request: PlanRequest) -> datetime:
    """Return where a meeting's checked months begin (now, for a kept series)."""
    return max(meeting.start, request.earliest) if meeting.kept else meeting.start


def series_breaches(
    meeting: PlannedMeeting, request: PlanRequest, months: int
) -> tuple[list[Breach], list[Occurrence]]:
    """Return a meeting's per-occurrence breaches over the months, and the occurrences."""
    found = occurrences(meeting, since=window(meeting, request), months=months)
    out: list[Breach] = []
    for occurrence in found:
        end = occurrence.start + meeting.duration
        out.extend(occurrence_breaches(meeting, occurrence.start, end, request.business_hours))
    return out, found


def _shape_breaches(meeting: PlannedMeeting, request: PlanRequest) -> list[Breach]:
    """Return zone, duration, attendee and recurrence breaches of a meeting."""
    kind, out = meeting.kind, []
    if getattr(meeting.start.tzinfo, "key", None) != meeting.timezone:
        out.append(Breach(kind, "timezone", f"start is not in {meeting.timezone}"))
    existing = request.existing_sync_series
    wanted = request.durations.of(kind)
    if meeting.kept and existing is not None:
        spec = (
            existing.internal if kind == MeetingKind.INTERNAL_ACCOUNT_SYNC else existing.executive
        )
        wanted = spec.duration
    if meeting.duration != wanted:
        out.append(Breach(kind, "duration", f"lasts {meeting.duration}, not {wanted}"))
    have = {p.key for p in meeting.attendees}
    want = {p.key for p in expected_attendees(kind, request)}
    if have != want:
        detail = f"missing {sorted(want - have)}, unexpected {sorted(have - want)}"
        out.append(Breach(kind, "attendees", detail))
    line = rule_line(meeting.recurrence)
    if kind not in SYNC_KINDS:
        if meeting.recurrence or meeting.exceptions:
            out.append(Breach(kind, "recurrence", "a one-off meeting must not recur"))
    elif line is None:
        out.append(Breach(kind, "recurrence", "no RRULE"))
    elif not meeting.kept:
        parts = dict(p.split("=", 1) for p in line.split(":", 1)[1].split(";"))
        freq, interval = CADENCE_RULES[request.cadence.value]
        if (parts.get("FREQ"), parts.get("INTERVAL", "1")) != (freq, interval):
            out.append(Breach(kind, "recurrence", f"{line} is not {request.cadence.value}"))
    gone = excluded(meeting.recurrence, meeting.timezone)
    for moved in meeting.exceptions:
        near = occurrences(
            meeting, since=moved.original_start - _DAY, until=moved.original_start + _DAY
        )
        if moved.original_start not in gone or moved.original_start not in {
            o.original for o in near
        }:
            detail = f"moved occurrence {moved.original_start} is not an EXDATE'd instance"
            out.append(Breach(kind, "exception", detail))
        if elapsed(moved.start, moved.end) != meeting.duration:
            out.append(Breach(kind, "exception", f"moved occurrence {moved.start} length"))
    if len(gone) != len({m.original_start for m in meeting.exceptions} & gone):
        out.append(Breach(kind, "exception", "an EXDATE has no moved occurrence"))
    return out


def _pairing_breaches(
    internal: PlannedMeeting, executive: PlannedMeeting, request: PlanRequest, months: int
) -> list[Breach]:
    """Return lead breaches: each internal sync before its executive sync, by the lead."""
    kind, lead = MeetingKind.INTERNAL_ACCOUNT_SYNC, request.sync_lead_business_days
    since = window(executive, request)
    until = since + relativedelta(months=months)
    execs = occurrences(executive, since=executive.start, until=until)
    internals = occurrences(internal, since=internal.start, until=until)
    people = request.sync_pair()
    out = []
    for i, ex in enumerate(execs):
        if ex.original < since:
            continue
        if i >= len(internals):
            out.append(Breach(kind, "lead", f"no internal sync before {ex.start}"))
            continue
        sync = internals[i]
        if not lead_ok(sync.start, sync.start + internal.duration, ex.start, people, lead):
            detail = f"{sync.start} is not {lead} business day(s) before {ex.start}"
            out.append(Breach(kind, "lead", detail))
        if i and sync.start < execs[i - 1].start + executive.duration:
            detail = f"{sync.start} is not after the previous executive sync {execs[i - 1].start}"
            out.append(Breach(kind, "lead", detail))
    return out


def _order_breaches(plan: Plan, request: PlanRequest, firsts: dict[str, datetime]) -> list[Breach]:
    """Return breaches of the meeting order."""
    sales = plan.meeting(MeetingKind.SALES_HANDOVER)
    internal = plan.meeting(MeetingKind.INTERNAL_KICKOFF)
    client = plan.meeting(MeetingKind.CLIENT_KICKOFF)
    out = []
    if internal.start < sales.end:
        out.append(Breach(internal.kind, "order", "starts before sales_handover ends"))
    for earlier in (sales, internal):
        if client.start < earlier.end:
            out.append(Breach(client.kind, "order", f"starts before {earlier.kind} ends"))
    for kind in SYNC_KINDS:
        meeting = plan.meeting(kind)
        if not meeting.kept and kind in firsts and firsts[kind] < client.end:
            out.append(Breach(kind, "order", "first occurrence before client_kickoff ends"))
    for meeting in plan.meetings:
        if not meeting.kept and firsts.get(meeting.kind, meeting.start) < request.earliest:
            out.append(Breach(meeting.kind, "earliest", f"starts before {request.earliest}"))
    return out


def plan_breaches(plan: Plan, request: PlanRequest, months: int = 12) -> list[Breach]:
    """Return every breach of the plan over the months."""
    kinds = [m.kind for m in plan.meetings]
    if kinds != list(MeetingKind):
        return [Breach("plan", "missing", f"meetings are {kinds}, not {list(MeetingKind)}")]
    out: list[Breach] = []
    firsts: dict[str, datetime] = {}
    for meeting in plan.meetings:
        out.extend(_shape_breaches(meeting, request))
        found_breaches, found = series_breaches(meeting, request, months)
        out.extend(found_breaches)
        if found:
            firsts[meeting.kind] = found[0].start
    out.extend(_order_breaches(plan, request, firsts))
    out.extend(
        _pairing_breaches(
            plan.meeting(MeetingKind.INTERNAL_ACCOUNT_SYNC),
            plan.meeting(MeetingKind.EXECUTIVE_SPONSOR_SYNC),
            request,
            months,
        )
    )
    return out


def verify(plan: Plan, request: PlanRequest, months: int = 12) -> list[str]:
    """Return every rule the plan violates (empty when all hold) over the months."""
    return [str(breach) for breach in plan_breaches(plan, request, months)]


def breach_warnings(
    meeting: PlannedMeeting, breaches: Sequence[Breach], count: int, hours: Hours
) -> list[str]:
    """Return one sentence per person and rule, summarising a meeting's breaches."""
    grouped: dict[tuple[str, str], list[Breach]] = {}
    for breach in breaches:
        if breach.person is not None:
            grouped.setdefault((breach.rule, breach.person.key), []).append(breach)
    out = []
    recurring = bool(meeting.recurrence)
    for (rule, _), items in grouped.items():
        person = items[0].person
        assert person is not None
        tail = f" ({len(items)} of {count} meetings of the series)" if recurring else ""
        if rule == "hours":
            worst = minutes_words(max(b.minutes for b in items))
            out.append(
                f"{person_words(person)} is outside working hours {hours_label(hours)}: "
                f"{items[0].local} their time, up to {worst} outside{tail}."
            )
        elif rule == "holiday":
            days = join_words(
                [day_words(date.fromisoformat(d)) for d in sorted({b.local for b in items})[:5]]
            )
            out.append(
                f"{person_words(person)} would meet on a day off in "
                f"{country_words(person.country)}: {days}{tail}."
            )
    return out
