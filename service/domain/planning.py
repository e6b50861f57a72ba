"""Plan a handover's five meetings: ordered, inside everyone's hours, never on a holiday.

`plan_meetings(request)` is pure and deterministic (same request, same plan). The order
is sales_handover -> internal_kickoff -> client_kickoff -> the two account syncs, each
one-off meeting at the earliest quarter hour where every internal attendee is inside
working hours on a business day of their own country, the client too for client
meetings, and every required internal attendee is free. When no such slot exists (New
York and Kolkata share no 09:00-17:00), the least bad slot is taken (no holiday, fewest
minutes outside hours in total, then the client's hours, then the fairest split, then
free/busy, then earliest; see `planning_slots.best_slot`) and the warnings say who is
outside their hours and by how much; nothing raises for that. Each warning is also in
`Plan.warnings`, prefixed by the meeting's name ("Internal kickoff: ..."); rules and
warnings are sentences (`plan_words`). See `planning_syncs` for the recurring syncs and
`planning_checks.verify` for the rules a plan is checked against.

Meetings start no earlier than `request.earliest` (the caller picks it: now, or the
signing day), nor before `request.notice` allows for each meeting's own internal attendees
(by default the `MEETING_NOTICE` setting: their next business day; see `planning_notice`).

Meeting zones: internal meetings use their organiser's zone (Sales for the sales
handover, the PM for the internal kickoff, the AM for the internal sync); the client
kickoff and the executive sponsor sync use the client's zone, so the client's invitation
and its recurrence read naturally for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time, timedelta

from service.domain.business_days import localize, zone
from service.domain.model import ContactRole, Handover, Person, account_key, project_title
from service.domain.plan_words import (
    RULE_WORDS,
    count_words,
    countries_words,
    kind_label,
    person_words,
    when_words,
)
from service.domain.planning_checks import (
    Breach,
    breach_warnings,
    expected_attendees,
    hours_label,
    plan_breaches,
    verify,
    window,
)
from service.domain.planning_model import (
    CLIENT_KINDS,
    ONE_OFF_KINDS,
    SYNC_KINDS,
    BusyInterval,
    Durations,
    ExistingSyncSeries,
    MeetingKind,
    MovedOccurrence,
    Participant,
    Plan,
    PlannedMeeting,
    PlanRequest,
    SeriesSpec,
)
from service.domain.planning_notice import Notice
from service.domain.planning_slots import SlotRules, best_slot
from service.domain.planning_syncs import SyncDraft, SyncPlanner
from service.domain.recurrence import expand_occurrences, occurrences
from service.domain.recurrence_words import repeat_words, zone_words

__all__ = [
    "BusyInterval",
    "Durations",
    "ExistingSyncSeries",
    "MeetingKind",
    "MovedOccurrence",
    "Participant",
    "Plan",
    "PlanRequest",
    "PlannedMeeting",
    "SeriesSpec",
    "expand_occurrences",
    "plan_meetings",
    "request_from_handover",
    "verify",
]

_TITLES = {
    MeetingKind.SALES_HANDOVER: "Sales handover: {client}, {project}",
    MeetingKind.INTERNAL_KICKOFF: "Internal kickoff: {client}, {project}",
    MeetingKind.CLIENT_KICKOFF: "Client kickoff: {client}, {project}",
    MeetingKind.INTERNAL_ACCOUNT_SYNC: "Internal Account Sync: {client}",
    MeetingKind.EXECUTIVE_SPONSOR_SYNC: "Executive Sponsor Sync: {client}",
}
BusyLists = dict[str, list[tuple[datetime, datetime]]]


def meeting_title(kind: MeetingKind, client: str, project: str) -> str:
    """Return an invitation's title, saying nothing twice: "Client kickoff: Acme Corp,
    Website relaunch", but "Client kickoff: Acme Corp Commerce Platform" when the project's
    name already names the client."""
    return _TITLES[kind].replace("{client}, {project}", "{title}").format(
        client=client, title=project_title(client, project)
    )


def organiser(kind: str, request: PlanRequest) -> Participant:
    """Return who organises a meeting kind, as the handbook names them: Sales (the first
    named) arranges the two internal handover meetings, the PM the client kickoff, the AM
    the two account syncs (the AM stands in for a missing PM)."""
    internal = (MeetingKind.SALES_HANDOVER, MeetingKind.INTERNAL_KICKOFF)
    if kind in internal and request.sales:
        return request.sales[0]
    if kind == MeetingKind.CLIENT_KICKOFF and request.pm:
        return request.pm
    return request.am


def meeting_zone(kind: str, request: PlanRequest) -> str:
    """Return a meeting kind's IANA zone: the client's for client meetings, the PM's for
    the internal kickoff the PM leads, else the organiser's."""
    if kind in CLIENT_KINDS:
        return request.client_timezone
    if kind == MeetingKind.INTERNAL_KICKOFF and request.pm:
        return request.pm.timezone
    return organiser(kind, request).timezone


def slot_rules(kind: str, request: PlanRequest, busy: BusyLists) -> SlotRules:
    """Return the slot rules of a meeting kind."""
    return SlotRules(
        expected_attendees(kind, request),
        request.business_hours,
        busy,
        client_hours=kind in CLIENT_KINDS,
    )


def notice_floor(kind: str, request: PlanRequest) -> datetime:
    """Return the earliest start the notice rule allows a meeting kind (its own attendees)."""
    if request.notice is None:
        return request.earliest
    sent_at = request.sent_at or request.earliest
    return max(
        request.earliest, request.notice.earliest(sent_at, expected_attendees(kind, request))
    )


def _busy_warning(rules: SlotRules, start: datetime, end: datetime, horizon: int) -> list[str]:
    """Return the free/busy warning of a chosen slot, naming each conflict in their own time."""
    conflicts = rules.busy_people(start, end)
    if not conflicts:
        return []
    named = "; ".join(
        f"{person_words(p)} is busy {when_words(lo, p.timezone)}"
        f"-{hi.astimezone(zone(p.timezone)):%H:%M}"
        for p, lo, hi in conflicts
    )
    return [
        f"No time in the next {horizon} days has everyone free inside working hours, "
        f"so this one clashes: {named}."
    ]


def _meeting(
    kind: MeetingKind, request: PlanRequest, spec: SeriesSpec, *, kept: bool = False
) -> PlannedMeeting:
    """Return a planned meeting of a kind from its series, without checks yet."""
    tzinfo = zone(spec.timezone)
    title = meeting_title(kind, request.client_name, request.project_name)
    return PlannedMeeting(
        kind=kind,
        title=title,
        start=spec.start.astimezone(tzinfo),
        end=spec.end.astimezone(tzinfo),
        timezone=spec.timezone,
        organiser=organiser(kind, request),
        attendees=expected_attendees(kind, request),
        recurrence=spec.recurrence,
        exceptions=spec.exceptions,
        kept=kept,
        handled_until=spec.handled_until,
    )


def _alternatives(
    rules: SlotRules, start: datetime, length: timedelta, tz: str, horizon: int, count: int = 2
) -> tuple[tuple[datetime, datetime], ...]:
    """Return the next `count` slots after `start`, each on a later day (in the zone `tz`)."""
    out: list[tuple[datetime, datetime]] = []
    for _ in range(count):
        day = start.astimezone(zone(tz)).date() + timedelta(days=1)
        lower = localize(datetime.combine(day, time()), tz)
        start, _cost = best_slot(rules, lower, lower + timedelta(days=horizon), length)
        out.append((start, start + length))
    return tuple(out)


def _plan_warnings(request: PlanRequest) -> list[str]:
    """Return the warnings about missing people."""
    out = []
    if request.pm is None:
        out.append(
            "No Project Manager yet: the Account Manager stands in as organiser of the "
            "internal kickoff and the client kickoff until Operations assigns one, and the "
            "meetings are planned again then."
        )
    if not request.team:
        out.append("No delivery team yet: the internal kickoff invites the Project Manager only.")
    if not request.exec_sponsors:
        out.append(
            "No executive sponsor named at the client: the Executive Sponsor Sync invites "
            "the Account Manager and the Project Manager only."
        )
    return out


_ORDER = {
    MeetingKind.INTERNAL_KICKOFF: "Must come after the sales handover.",
    MeetingKind.CLIENT_KICKOFF: "Must come after the sales handover and the internal kickoff.",
    MeetingKind.INTERNAL_ACCOUNT_SYNC: "Its first meeting must come after the client kickoff.",
    MeetingKind.EXECUTIVE_SPONSOR_SYNC: "Its first meeting must come after the client kickoff.",
}


def _constraints(
    meeting: PlannedMeeting, request: PlanRequest, breaches: Sequence[Breach], busy_free: bool
) -> tuple[str, ...]:
    """Return the rules this meeting keeps, one sentence each."""
    rules = {b.rule for b in breaches}
    internal_hours = any(b.rule == "hours" and b.person and b.person.internal for b in breaches)
    client_hours = any(b.rule == "hours" and b.person and not b.person.internal for b in breaches)
    hours = hours_label(request.business_hours)
    out: list[str] = []
    if meeting.kept:
        out.append(
            "Keeps the account's existing series (its times and how it repeats); "
            "only the people invited are updated."
        )
    elif "earliest" not in rules:
        out.append(f"Starts no earlier than {when_words(request.earliest, meeting.timezone)}.")
    if request.notice is not None and not meeting.kept:
        out.append(request.notice.sentence())
    if "order" not in rules and not meeting.kept and meeting.kind in _ORDER:
        out.append(_ORDER[meeting.kind])
    series = bool(meeting.recurrence)
    within = "Every meeting of the series is within" if series else "Within"
    if not internal_hours:
        out.append(
            f"{within} working hours ({hours}) for everyone at the agency, in their own time."
        )
    if (
        meeting.kind in CLIENT_KINDS
        and not client_hours
        and any(not p.internal for p in meeting.attendees)
    ):
        out.append(
            f"{within} working hours ({hours}) for the client, in "
            f"{zone_words(request.client_timezone)}."
        )
    if "holiday" not in rules:
        countries = countries_words(p.country for p in meeting.attendees if p.internal)
        never = "No meeting of the series falls" if series else "Not"
        out.append(f"{never} on a weekend or a public holiday in {countries}.")
    if busy_free:
        first = " for the first meeting" if meeting.recurrence else ""
        out.append(f"Everyone at the agency who must come is free then{first}, by their calendars.")
    if meeting.recurrence:
        out.append(
            repeat_words(meeting.recurrence, meeting.start, meeting.end, meeting.timezone) + "."
        )
        lead = request.sync_lead_business_days
        if "lead" not in rules:
            days = count_words(lead, "business day", "business days")
            out.append(
                f"Each Internal Account Sync comes at least {days} before its Executive "
                "Sponsor Sync, for the Account Manager and the Project Manager in their own time."
            )
        out.append(f"Checked over the next {request.plan_months} months, across the clock changes.")
        if meeting.exceptions:
            moved = count_words(len(meeting.exceptions), "meeting", "meetings")
            out.append(f"{moved} of the series moved off a holiday to keep these rules.")
    return tuple(out)


def _finish(
    meetings: list[PlannedMeeting], request: PlanRequest, busy_notes: dict[str, list[str]]
) -> Plan:
    """Check the drafted meetings and attach constraints and warnings to each."""
    draft = Plan(request.handover_id, request.account_key, tuple(meetings))
    breaches = plan_breaches(draft, request, request.plan_months)
    finished = []
    warnings = list(_plan_warnings(request))
    for meeting in meetings:
        mine = [b for b in breaches if b.kind == meeting.kind]
        count = len(
            occurrences(meeting, since=window(meeting, request), months=request.plan_months)
        )
        notes = [
            *busy_notes.get(meeting.kind, []),
            *breach_warnings(meeting, mine, count, request.business_hours),
            *(f"A rule is not kept, {RULE_WORDS[b.rule]}." for b in mine if b.person is None),
        ]
        busy_free = not meeting.kept and not busy_notes.get(meeting.kind)
        done = replace(
            meeting,
            constraints=_constraints(meeting, request, mine, busy_free),
            warnings=tuple(notes),
        )
        finished.append(done)
        warnings.extend(f"{kind_label(meeting.kind)}: {note}" for note in notes)
    return Plan(request.handover_id, request.account_key, tuple(finished), tuple(warnings))


def plan_meetings(request: PlanRequest) -> Plan:
    """Return the five planned meetings of a handover, checked, with warnings."""
    busy: BusyLists = {}
    for interval in sorted(request.busy, key=lambda b: (b.start, b.end, b.email)):
        busy.setdefault(interval.email.strip().lower(), []).append((interval.start, interval.end))
    horizon = timedelta(days=request.horizon_days)
    meetings: list[PlannedMeeting] = []
    busy_notes: dict[str, list[str]] = {}
    lower = request.earliest
    for kind in ONE_OFF_KINDS:
        rules = slot_rules(kind, request, busy)
        length = request.durations.of(kind)
        lower = max(lower, notice_floor(kind, request))
        start, _ = best_slot(rules, lower, lower + horizon, length)
        busy_notes[kind] = _busy_warning(rules, start, start + length, request.horizon_days)
        spec = SeriesSpec(start, start + length, meeting_zone(kind, request), ())
        meeting = _meeting(kind, request, spec)
        if kind in CLIENT_KINDS:
            offered = _alternatives(rules, start, length, spec.timezone, request.horizon_days)
            meeting = replace(meeting, alternatives=offered)
        meetings.append(meeting)
        for person in expected_attendees(kind, request):
            busy.setdefault(person.key, []).append((start, start + length))
        lower = start + length
    exec_rules = slot_rules(MeetingKind.EXECUTIVE_SPONSOR_SYNC, request, busy)
    internal_rules = slot_rules(MeetingKind.INTERNAL_ACCOUNT_SYNC, request, busy)
    lower = max(lower, *(notice_floor(kind, request) for kind in SYNC_KINDS))
    drafts: tuple[SyncDraft, SyncDraft] = SyncPlanner(request, exec_rules, internal_rules).plan(
        lower
    )
    for kind, draft, rules in zip(SYNC_KINDS, drafts, (internal_rules, exec_rules), strict=True):
        meetings.append(_meeting(kind, request, draft.spec, kept=draft.kept))
        first = occurrences(draft.spec, months=1)
        if first and not draft.kept:
            start, length = first[0].start, draft.spec.duration
            busy_notes[kind] = _busy_warning(rules, start, start + length, request.horizon_days)
    return _finish(meetings, request, busy_notes)


def _internal(person: Person, agency_timezone: str, business_country: str) -> Participant:
    """Return an agency person as a participant, with the agency's defaults."""
    return Participant(
        email=person.email,
        name=person.name,
        timezone=person.timezone or agency_timezone,
        country=(person.country or business_country).upper(),
        internal=True,
    )


def request_from_handover(
    handover: Handover,
    *,
    handover_id: str,
    now: datetime,
    agency_timezone: str,
    business_country: str,
    business_hours: tuple[time, time] = (time(9), time(17)),
    busy: tuple[BusyInterval, ...] = (),
    existing_sync_series: ExistingSyncSeries | None = None,
    durations: Durations | None = None,
    sync_lead_business_days: int = 1,
    horizon_days: int = 30,
    notice: Notice | None = None,
) -> PlanRequest:
    """Return the plan request of a handover.

    Meetings start no earlier than now or the contract's signing day (00:00 in the
    client's zone), whichever is later, and no sooner than `notice` allows after now.
    Client contacts take the client's zone.
    """
    client = handover.client

    def to_internal(person: Person) -> Participant:
        return _internal(person, agency_timezone, business_country)

    def to_contact(name: str, email: str) -> Participant:
        return Participant(email, name, client.timezone, "", internal=False)

    signed = localize(
        datetime.combine(handover.project.contract_signed_on, time()), zone(client.timezone)
    )
    sponsors = handover.contacts_with(ContactRole.EXECUTIVE_SPONSOR)
    pm = handover.project_manager
    return PlanRequest(
        handover_id=handover_id,
        account_key=account_key(client),
        client_name=client.name,
        project_name=handover.project.name,
        client_timezone=client.timezone,
        cadence=handover.project.sync_cadence,
        earliest=max(now, signed),
        am=to_internal(handover.account_manager),
        pm=to_internal(pm) if pm else None,
        sales=tuple(map(to_internal, handover.sales)),
        team=tuple(map(to_internal, handover.delivery_team)),
        client_contacts=tuple(to_contact(c.name, c.email) for c in handover.client_contacts),
        exec_sponsors=tuple(to_contact(c.name, c.email) for c in sponsors),
        business_hours=business_hours,
        durations=durations or Durations(),
        sync_lead_business_days=sync_lead_business_days,
        busy=busy,
        horizon_days=horizon_days,
        existing_sync_series=existing_sync_series,
        notice=notice,
        sent_at=now,
    )


def next_kickoff(
    request: PlanRequest, after: datetime
) -> tuple[datetime, datetime, tuple[tuple[datetime, datetime], ...]]:
    """Return the client kickoff's earliest slot after `after` (the internal meetings as
    they really are now), with its alternatives: the same rules as the first plan."""
    kind = MeetingKind.CLIENT_KICKOFF
    busy: BusyLists = {}
    for interval in request.busy:
        busy.setdefault(interval.email.strip().lower(), []).append((interval.start, interval.end))
    rules = slot_rules(kind, request, busy)
    length = request.durations.of(kind)
    lower = max(after, request.earliest)
    start, _ = best_slot(rules, lower, lower + timedelta(days=request.horizon_days), length)
    offered = _alternatives(rules, start, length, meeting_zone(kind, request), request.horizon_days)
    return start, start + length, offered
