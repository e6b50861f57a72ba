"""The meeting steps of a handover: plan, then send each invitation, in the handbook's order."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from integrations.ports import (
    DOC_MIME,
    Attendee,
    Calendar,
    CalendarEvent,
    DriveIds,
)
from service.domain.model import Handover, account_key
from service.domain.planning_model import CLIENT_KINDS, SYNC_KINDS, MeetingKind
from service.links import absolute
from service.store import handovers as repo
from service.store.db import Database
from service.store.models import ArtifactRow, HandoverRow
from service.workflows import meeting_states, meetings
from service.workflows.context import StepContext, StepFailed
from service.workflows.meeting_notice import tell_organiser

log = logging.getLogger(__name__)

MEETING_STEPS: tuple[str, ...] = (
    "plan_meetings",
    MeetingKind.SALES_HANDOVER.value,
    MeetingKind.INTERNAL_KICKOFF.value,
    MeetingKind.CLIENT_KICKOFF.value,
    "account_syncs",
)


def _account_plans(db: Database, handover_id: str, key: str) -> list[dict[str, Any]]:
    """Return the stored plans of the account's other handovers, newest first."""
    with db.transaction() as session:
        rows = session.scalars(
            select(ArtifactRow)
            .join(HandoverRow, HandoverRow.id == ArtifactRow.handover_id)
            .where(
                HandoverRow.account_key == key,
                HandoverRow.id != handover_id,
                ArtifactRow.kind == "plan",
            )
            .order_by(ArtifactRow.created_at.desc())
        )
        return [dict(r.data) for r in rows]


def plan_step(handover_id: str, h: Handover, ctx: StepContext, db: Database) -> None:
    """Plan the meetings, unless the work begun beside the kickoff did (waited for here),
    or the team's email planned them just before, from this same handover (it listed
    their times: the invitations keep them)."""
    from service.workflows import meetings_ahead

    if meetings_ahead.wait(handover_id):
        return  # planned beside the kickoff, from this same handover: nothing to redo
    with db.transaction() as session:
        stored = repo.artifact(session, handover_id, "plan")
        if stored is not None and stored.data.get("for_email") == plan_digest(h):
            stored.data = {k: v for k, v in stored.data.items() if k != "for_email"}
            return
    plan_meetings(handover_id, h, ctx, db)


def plan_digest(h: Handover) -> str:
    """Return a digest of the handover as planned: a plan made from it is still its plan."""
    return hashlib.sha256(repr(h).encode("utf-8")).hexdigest()[:32]


def planned_for_email(
    handover_id: str, h: Handover, ctx: StepContext, db: Database
) -> list[dict[str, Any]] | None:
    """Return the planned meetings the team's email lists, planning them first when the
    stored plan is not of this handover as it is (the plan step then keeps this plan);
    None when they wait (no PM yet, no calendar) or cannot be planned now (the plan step
    says why)."""
    from service.workflows import meetings_ahead

    if h.project_manager is None or ctx.calendar is None:
        return None
    meetings_ahead.wait_planned(handover_id, 120.0)  # planned beside the kickoff: that plan
    digest = plan_digest(h)
    with db.transaction() as session:
        stored = repo.artifact(session, handover_id, "plan")
        data = dict(stored.data) if stored is not None else None
    if data is None or data.get("for") != digest:
        try:
            plan_meetings(handover_id, h, ctx, db, for_email=True)
        except Exception:  # the plan step plans again and reports the failure
            log.warning("the meetings could not be planned for the team's email", exc_info=True)
            return None
        with db.transaction() as session:
            stored = repo.artifact(session, handover_id, "plan")
            data = dict(stored.data) if stored is not None else None
    return list(data["meetings"]) if data else None


def plan_meetings(
    handover_id: str, h: Handover, ctx: StepContext, db: Database, *, for_email: bool = False
) -> None:
    """Plan the five meetings (keeping times already sent) and store the plan."""
    if ctx.calendar is None:
        raise StepFailed("no calendar is configured")
    with db.transaction() as session:
        stored = repo.artifact(session, handover_id, "plan")
        previous = dict(stored.data) if stored else None
    cadence = h.project.sync_cadence.value
    existing = None
    for other in _account_plans(db, handover_id, account_key(h.client)):
        if other.get("cadence") == cadence:
            existing = meetings.sync_series_of(other)
            break
    if existing is None and previous and previous.get("cadence") == cadence:
        existing = meetings.sync_series_of(previous)
    now = ctx.clock()
    sent = meetings.sent_series(previous) if previous else None
    busy = () if sent else meetings.busy_of(ctx.calendar, h, now=now)
    plan = meetings.make_plan(
        handover_id,
        h,
        settings=ctx.settings,
        now=now,
        busy=busy,
        existing_syncs=existing,
        sent=sent,
    )
    data = {**meetings.plan_json(plan), "cadence": cadence, "planned_at": now.isoformat()}
    data["for"] = plan_digest(h)
    if for_email:
        data["for_email"] = data["for"]
    with db.transaction() as session:
        repo.put_artifact(session, handover_id, "plan", external_id="plan", data=data)


def _stored_plan(
    db: Database, handover_id: str, ctx: StepContext
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    with db.transaction() as session:
        plan = repo.artifact(session, handover_id, "plan")
        brief = repo.artifact(session, handover_id, "brief")
        planned = repo.artifact(session, handover_id, "planned_ids")
        if plan is None:
            raise StepFailed("the meetings are not planned yet: run plan_meetings first")
        url = absolute(brief.url, ctx.public_base_url) if brief else ""
        reserved = planned.data.get("brief") if planned is not None else None
        if not url and reserved and isinstance(ctx.drive, DriveIds):
            # The brief is being written beside: its address is known from its reserved id.
            url = ctx.drive.address(str(reserved), DOC_MIME)
        return dict(plan.data), url, dict(plan.data)


def _event(
    meeting: dict[str, Any],
    *,
    event_id: str,
    handover_id: str,
    h: Handover,
    ctx: StepContext,
    brief_url: str,
    extra: tuple[Attendee, ...] = (),
    calendar: str = "",
) -> CalendarEvent:
    kind = meeting["kind"]
    # A client receives no link of ours (the handover page, the brief in the agency's
    # drive): their invitations carry the agenda and the client's own proposal only.
    internal = kind not in {k.value for k in CLIENT_KINDS}
    page = f"{ctx.public_base_url}/handovers/{handover_id}" if internal else ""
    description = ctx.renderer.invitation(
        kind,
        meeting=meeting,
        brief_url=brief_url if internal else "",
        proposal_url=h.project.proposal_url,
        status_url=page,
        record=kind in meetings.RECORDED_KINDS,
    )
    attendees = {a["email"].lower(): Attendee(a["email"], a["name"]) for a in meeting["attendees"]}
    for person in extra:
        attendees.setdefault(person.email.lower(), person)
    organiser = str(meeting.get("organiser") or "")
    return CalendarEvent(
        id=event_id,
        summary=meeting["title"],
        description=description,
        start=datetime.fromisoformat(meeting["start"]),
        end=datetime.fromisoformat(meeting["end"]),
        timezone=meeting["timezone"],
        attendees=tuple(attendees.values()),
        recurrence=tuple(meeting["recurrence"]),
        properties={"handoverId": handover_id, "meetingKind": kind},
        organizer=_organizer(organiser, h) if organiser else None,
        calendar=calendar,
        link=page,
    )


def _organizer(email: str, h: Handover) -> Attendee:
    """Return the organiser with their name, as the handover names them."""
    named = {p.email.lower(): p.name for p in h.internal_people()}
    return Attendee(email, named.get(email.lower(), ""))


def _account_sent(db: Database, handover_id: str, h: Handover, kind: str) -> bool:
    """Return True when another handover of the account sent this series already."""
    if kind not in {k.value for k in SYNC_KINDS}:
        return False  # a one-off meeting belongs to its handover alone
    with db.transaction() as session:
        found = session.scalar(
            select(ArtifactRow.id)
            .join(HandoverRow, HandoverRow.id == ArtifactRow.handover_id)
            .where(
                HandoverRow.account_key == account_key(h.client),
                HandoverRow.id != handover_id,
                ArtifactRow.kind == f"event:{kind}",
            )
            .limit(1)
        )
    return found is not None


def _held_in(db: Database, handover_id: str, h: Handover, kind: str) -> str:
    """Return the calendar that holds the meeting's event already ("": none yet)."""
    with db.transaction() as session:
        query = (
            select(ArtifactRow.data)
            .join(HandoverRow, HandoverRow.id == ArtifactRow.handover_id)
            .where(ArtifactRow.kind == f"event:{kind}")
        )
        if kind in {k.value for k in SYNC_KINDS}:
            query = query.where(HandoverRow.account_key == account_key(h.client))
        else:
            query = query.where(HandoverRow.id == handover_id)
        for data in session.scalars(query):
            if data.get("calendar"):
                return str(data["calendar"])
    return ""


def _send(
    handover_id: str,
    h: Handover,
    ctx: StepContext,
    db: Database,
    kind: str,
    extra: tuple[Attendee, ...] = (),
) -> None:
    """Send the meeting's invitation, or, for a client meeting not confirmed, propose it."""
    assert ctx.calendar is not None
    plan, brief_url, _ = _stored_plan(db, handover_id, ctx)
    meeting = next(m for m in plan["meetings"] if m["kind"] == kind)
    state = meeting_states.get(db, handover_id, kind)
    with db.transaction() as session:
        sent_before = repo.artifact(session, handover_id, f"event:{kind}") is not None
    if (
        kind in meeting_states.PROPOSED_KINDS
        and not meeting_states.released(state)
        and not sent_before
        and not _account_sent(db, handover_id, h, kind)
    ):
        proposal = meeting_states.propose(db, handover_id, meeting, now=ctx.clock())
        tell_organiser(handover_id, h, ctx, proposal, kind=kind, db=db)
        return
    event = _event(
        meeting,
        event_id=meetings.meeting_event_id(handover_id, h, kind),
        handover_id=handover_id,
        h=h,
        ctx=ctx,
        brief_url=brief_url,
        extra=extra,
        calendar=_held_in(db, handover_id, h, kind),
    )
    sha = _digest(event, meeting.get("moved", []))
    with db.transaction() as session:
        recorded = repo.artifact(session, handover_id, f"event:{kind}")
        done = recorded is not None and recorded.data.get("sha") == sha
    if done and meeting_states.released(state):
        return  # sent as it is now (beside the kickoff, or by a run that crashed after)
    ref = ctx.calendar.upsert_event(event)
    # Moved occurrences go where their series is: known, or just made (then insert them
    # straight away, in the service's calendar if the organiser's was refused).
    if event.calendar:
        held = event
    elif ref.fallback:
        held = replace(event, organizer=None)
    else:
        held = event
    for moved in meeting.get("moved", ()):
        original = datetime.fromisoformat(moved["original_start"])
        ctx.calendar.upsert_event(
            replace(
                held,
                id=f"{event.id}{original:%Y%m%d}",
                start=datetime.fromisoformat(moved["start"]),
                end=datetime.fromisoformat(moved["end"]),
                recurrence=(),
                description=f"{event.description}\nMoved from {original:%a %d %b %H:%M}: "
                f"{moved['reason']}\n",
            )
        )
    data = {
        "start": meeting["start"],
        "end": meeting["end"],
        "timezone": meeting["timezone"],
        "attendees": [a.email for a in event.attendees],
        "recurrence": meeting["recurrence"],
        "moved": meeting.get("moved", []),
        "meet_url": ref.meet_url,
        "calendar": ref.calendar,
        "sha": sha,
        **({"handled_until": meeting["handled_until"]} if "handled_until" in meeting else {}),
    }
    with db.transaction() as session:
        repo.put_artifact(
            session, handover_id, f"event:{kind}", external_id=ref.id, url=ref.url, data=data
        )
    meeting_states.mark_sent(
        db, handover_id, meeting, calendar=ref.calendar, fallback=ref.fallback
    )


def _digest(event: CalendarEvent, moved: Any) -> str:
    """Return a fingerprint of what an invitation says (a retry with the same one calls nothing)."""
    text = repr((event.id, event.summary, event.description, event.start.isoformat(),
                 event.end.isoformat(), event.timezone, event.attendees, event.recurrence,
                 sorted(event.properties.items()), event.organizer, moved))  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()


def send_one(handover_id: str, h: Handover, ctx: StepContext, db: Database, kind: str) -> None:
    """Send (or propose) one one-off meeting."""
    _send(handover_id, h, ctx, db, kind)


def _one_off(kind: MeetingKind) -> Callable[[str, Handover, StepContext, Database], None]:
    def step(handover_id: str, h: Handover, ctx: StepContext, db: Database) -> None:
        _send(handover_id, h, ctx, db, kind.value)

    step.__doc__ = f"Send the {kind.value.replace('_', ' ')} invitation."
    return step


def account_syncs(handover_id: str, h: Handover, ctx: StepContext, db: Database) -> None:
    """Send (or update) the account's two sync series; earlier attendees stay invited.

    Skipped while the handover waits for Operations to confirm it joins the account; the
    confirmation runs this step again.
    """
    for kind in SYNC_KINDS:
        send_sync(handover_id, h, ctx, db, kind.value)


def send_sync(handover_id: str, h: Handover, ctx: StepContext, db: Database, kind: str) -> None:
    """Send (or propose) one of the account's series, keeping everyone invited earlier."""
    with db.transaction() as session:
        if repo.account_pending(session, handover_id):
            return
        earlier = session.scalars(
            select(ArtifactRow)
            .join(HandoverRow, HandoverRow.id == ArtifactRow.handover_id)
            .where(
                HandoverRow.account_key == account_key(h.client),
                HandoverRow.id != handover_id,
                ArtifactRow.kind == f"event:{kind}",
            )
        )
        previous = sorted({e for r in earlier for e in r.data.get("attendees", [])})
    _send(handover_id, h, ctx, db, kind, extra=tuple(Attendee(email) for email in previous))


MEETING_STEP_FUNCTIONS: dict[str, Callable[[str, Handover, StepContext, Database], None]] = {
    "plan_meetings": plan_step,
    MeetingKind.SALES_HANDOVER.value: _one_off(MeetingKind.SALES_HANDOVER),
    MeetingKind.INTERNAL_KICKOFF.value: _one_off(MeetingKind.INTERNAL_KICKOFF),
    MeetingKind.CLIENT_KICKOFF.value: _one_off(MeetingKind.CLIENT_KICKOFF),
    "account_syncs": account_syncs,
}


def cancel_meetings(handover_id: str, *, db: Database, calendar: Calendar) -> list[str]:
    """Cancel a cancelled handover's meetings; the account's syncs only if nobody else has them.

    A meeting only proposed was never sent: it is marked cancelled, nobody is told.
    """
    with db.transaction() as session:
        row = session.get(HandoverRow, handover_id)
        if row is None or row.cancelled_at is None:
            return []
        events = {
            a.kind.removeprefix("event:"): (a.external_id, str(a.data.get("calendar") or ""))
            for a in session.scalars(
                select(ArtifactRow).where(
                    ArtifactRow.handover_id == handover_id, ArtifactRow.kind.like("event:%")
                )
            )
        }
        states = [
            a.kind.removeprefix("meeting:")
            for a in session.scalars(
                select(ArtifactRow).where(
                    ArtifactRow.handover_id == handover_id, ArtifactRow.kind.like("meeting:%")
                )
            )
        ]
        others = session.scalar(
            select(HandoverRow.id).where(
                HandoverRow.account_key == row.account_key,
                HandoverRow.id != handover_id,
                HandoverRow.cancelled_at.is_(None),
            )
        )
    cancelled = []
    for kind, (event_id, held) in sorted(events.items()):
        if kind in {k.value for k in SYNC_KINDS} and others is not None:
            continue  # the account's series goes on for its other projects
        calendar.cancel_event(event_id, calendar=held)
        cancelled.append(kind)
    for kind in states:
        state = meeting_states.get(db, handover_id, kind) or {}
        if kind in {k.value for k in SYNC_KINDS} and others is not None and kind in events:
            continue
        if state.get("state") != "cancelled":
            meeting_states.put(db, handover_id, kind, {**state, "state": "cancelled"})
    return cancelled
