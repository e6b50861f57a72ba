"""The meeting steps of a handover: plan, then send each invitation, in the handbook's order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import select

from integrations.ports import Attendee, Calendar, CalendarEvent
from service.domain.model import Handover, account_key
from service.domain.planning_model import SYNC_KINDS, MeetingKind
from service.store import handovers as repo
from service.store.db import Database
from service.store.models import ArtifactRow, HandoverRow
from service.workflows import meetings
from service.workflows.context import StepContext, StepFailed

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


def plan_meetings(handover_id: str, h: Handover, ctx: StepContext, db: Database) -> None:
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
    with db.transaction() as session:
        repo.put_artifact(session, handover_id, "plan", external_id="plan", data=data)


def _stored_plan(db: Database, handover_id: str) -> tuple[dict[str, Any], str, dict[str, Any]]:
    with db.transaction() as session:
        plan = repo.artifact(session, handover_id, "plan")
        brief = repo.artifact(session, handover_id, "brief")
        if plan is None:
            raise StepFailed("the meetings are not planned yet: run plan_meetings first")
        return dict(plan.data), brief.url if brief else "", dict(plan.data)


def _event(
    meeting: dict[str, Any],
    *,
    event_id: str,
    handover_id: str,
    h: Handover,
    ctx: StepContext,
    brief_url: str,
    extra: tuple[Attendee, ...] = (),
) -> CalendarEvent:
    kind = meeting["kind"]
    description = ctx.renderer.invitation(
        kind,
        meeting=meeting,
        brief_url=brief_url,
        proposal_url=h.project.proposal_url,
        status_url=f"{ctx.public_base_url}/handovers/{handover_id}",
        record=kind in meetings.RECORDED_KINDS,
    )
    attendees = {a["email"].lower(): Attendee(a["email"], a["name"]) for a in meeting["attendees"]}
    for person in extra:
        attendees.setdefault(person.email.lower(), person)
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
    )


def _send(
    handover_id: str,
    h: Handover,
    ctx: StepContext,
    db: Database,
    kind: str,
    extra: tuple[Attendee, ...] = (),
) -> None:
    assert ctx.calendar is not None
    plan, brief_url, _ = _stored_plan(db, handover_id)
    meeting = next(m for m in plan["meetings"] if m["kind"] == kind)
    event = _event(
        meeting,
        event_id=meetings.meeting_event_id(handover_id, h, kind),
        handover_id=handover_id,
        h=h,
        ctx=ctx,
        brief_url=brief_url,
        extra=extra,
    )
    ref = ctx.calendar.upsert_event(event)
    for moved in meeting.get("moved", ()):
        original = datetime.fromisoformat(moved["original_start"])
        ctx.calendar.upsert_event(
            replace(
                event,
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
        **({"handled_until": meeting["handled_until"]} if "handled_until" in meeting else {}),
    }
    with db.transaction() as session:
        repo.put_artifact(
            session, handover_id, f"event:{kind}", external_id=ref.id, url=ref.url, data=data
        )


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
    with db.transaction() as session:
        if repo.account_pending(session, handover_id):
            return
        earlier = session.scalars(
            select(ArtifactRow)
            .join(HandoverRow, HandoverRow.id == ArtifactRow.handover_id)
            .where(
                HandoverRow.account_key == account_key(h.client),
                HandoverRow.id != handover_id,
                ArtifactRow.kind.in_([f"event:{k.value}" for k in SYNC_KINDS]),
            )
        )
        previous = {(r.kind, e) for r in earlier for e in r.data.get("attendees", [])}
    for kind in SYNC_KINDS:
        extra = tuple(
            Attendee(email) for k, email in sorted(previous) if k == f"event:{kind.value}"
        )
        _send(handover_id, h, ctx, db, kind.value, extra=extra)


MEETING_STEP_FUNCTIONS: dict[str, Callable[[str, Handover, StepContext, Database], None]] = {
    "plan_meetings": plan_meetings,
    MeetingKind.SALES_HANDOVER.value: _one_off(MeetingKind.SALES_HANDOVER),
    MeetingKind.INTERNAL_KICKOFF.value: _one_off(MeetingKind.INTERNAL_KICKOFF),
    MeetingKind.CLIENT_KICKOFF.value: _one_off(MeetingKind.CLIENT_KICKOFF),
    "account_syncs": account_syncs,
}


def cancel_meetings(handover_id: str, *, db: Database, calendar: Calendar) -> list[str]:
    """Cancel a cancelled handover's meetings; the account's syncs only if nobody else has them."""
    with db.transaction() as session:
        row = session.get(HandoverRow, handover_id)
        if row is None or row.cancelled_at is None:
            return []
        events = {
            a.kind.removeprefix("event:"): a.external_id
            for a in session.scalars(
                select(ArtifactRow).where(
                    ArtifactRow.handover_id == handover_id, ArtifactRow.kind.like("event:%")
                )
            )
        }
        others = session.scalar(
            select(HandoverRow.id).where(
                HandoverRow.account_key == row.account_key,
                HandoverRow.id != handover_id,
                HandoverRow.cancelled_at.is_(None),
            )
        )
    cancelled = []
    for kind, event_id in sorted(events.items()):
        if kind in {k.value for k in SYNC_KINDS} and others is not None:
            continue  # the account's series goes on for its other projects
        calendar.cancel_event(event_id)
        cancelled.append(kind)
    return cancelled
