"""The client kickoff follows the internal handover meetings as they really happen.

People move or cancel the sales handover and the internal kickoff in their calendars. The
`follow_meetings` cron reads those events back: the plan takes their real times (so no
later update moves them back), a kickoff still proposed moves to the earliest slot after
them (its organiser is asked again), and a kickoff already sent that would now come first
is flagged on the handover page and emailed to its organiser, once per situation.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import select

from integrations.ports import Email, EventState, ReadsEvents
from service.domain.planning import next_kickoff, request_from_handover
from service.domain.planning_model import MeetingKind
from service.store import handovers as repo
from service.store.db import Database
from service.store.models import ArtifactRow, HandoverRow
from service.workflows import meeting_states
from service.workflows.context import StepContext

log = logging.getLogger(__name__)

INTERNAL = (MeetingKind.SALES_HANDOVER.value, MeetingKind.INTERNAL_KICKOFF.value)
KICKOFF = MeetingKind.CLIENT_KICKOFF.value


def follow_meetings(*, db: Database, ctx: StepContext) -> list[str]:
    """Bring each running handover's kickoff in line with its internal meetings; return the
    handovers whose kickoff moved or was flagged."""
    calendar = ctx.calendar
    if not isinstance(calendar, ReadsEvents):
        return []
    with db.transaction() as session:
        ids = list(
            session.scalars(
                select(ArtifactRow.handover_id)
                .join(HandoverRow, HandoverRow.id == ArtifactRow.handover_id)
                .where(
                    ArtifactRow.kind == meeting_states.artifact_kind(KICKOFF),
                    HandoverRow.cancelled_at.is_(None),
                )
            )
        )
    changed = []
    for handover_id in ids:
        try:
            if follow_one(handover_id, calendar=calendar, db=db, ctx=ctx):
                changed.append(handover_id)
        except Exception:
            log.exception("following the meetings failed", extra={"handover_id": handover_id})
    return changed


def follow_one(handover_id: str, *, calendar: ReadsEvents, db: Database, ctx: StepContext) -> bool:
    """Follow one handover's internal meetings; True when its kickoff moved or was flagged."""
    from service.domain.email_words import greeting
    from service.workflows.kickoff import load_handover
    from service.workflows.meeting_notice import tell_organiser, when_text

    with db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        if row is None or row.cancelled_at is not None:
            return False
        arts = {a.kind: (a.external_id, dict(a.data)) for a in row.artifacts}
        payload = dict(row.payload)
    if "plan" not in arts or any(f"event:{k}" not in arts for k in INTERNAL):
        return False
    real: dict[str, EventState | None] = {}
    for kind in INTERNAL:
        event_id, data = arts[f"event:{kind}"]
        real[kind] = calendar.read_event(event_id, calendar=str(data.get("calendar") or ""))
    plan = arts["plan"][1]
    state = meeting_states.get(db, handover_id, KICKOFF) or {}
    # The plan takes the internal meetings' real times: a later update keeps them.
    moved = _record_real_times(db, handover_id, plan, real)
    gone = [k for k, e in real.items() if e is None or e.cancelled]
    ends = [e.end for e in real.values() if e is not None and not e.cancelled]
    if not ends and not gone:
        return False
    last_end = max(ends) if ends else None
    kickoff_start = datetime.fromisoformat(str(state.get("start")))
    h = load_handover(payload)
    if state.get("state") == "proposed":
        if last_end is None or kickoff_start >= last_end:
            return moved
        request = request_from_handover(
            h,
            handover_id=handover_id,
            now=ctx.clock(),
            agency_timezone=ctx.settings.agency_timezone,
            business_country=ctx.settings.business_country,
            business_hours=ctx.settings.business_hours,
        )
        start, end, offered = next_kickoff(request, last_end)
        meeting = next(m for m in plan["meetings"] if m["kind"] == KICKOFF)
        meeting = {
            **meeting,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "alternatives": [{"start": a.isoformat(), "end": b.isoformat()} for a, b in offered],
        }
        _put_meeting(db, handover_id, meeting)
        proposal = meeting_states.propose(db, handover_id, meeting, now=ctx.clock())
        with db.transaction() as session:
            repo.record(
                session,
                actor="service",
                action="meeting.kickoff_moved",
                subject=handover_id,
                start=meeting["start"],
            )
        tell_organiser(handover_id, h, ctx, proposal, kind=KICKOFF, db=db)
        return True
    if state.get("state") not in {"sent", "confirmed"}:
        return moved
    late = [
        k for k, e in real.items() if e is not None and not e.cancelled and e.end > kickoff_start
    ]
    if not late and not gone:
        if state.get("flag"):
            meeting_states.put(db, handover_id, KICKOFF, {**state, "flag": ""})
        return moved
    zone_name = str(state.get("timezone"))
    which = (late or gone)[0]
    found = real[which]
    if found is None or found.cancelled:
        internal_when = "nowhere: it was cancelled"
        flag = f"the {which.replace('_', ' ')} was cancelled, but the client kickoff still stands"
    else:
        internal_when = when_text(found.start.isoformat(), zone_name)
        flag = (
            f"the {which.replace('_', ' ')} now comes after the client kickoff "
            f"({internal_when}): move one of them"
        )
    if state.get("flag") == flag:
        return moved
    meeting_states.put(db, handover_id, KICKOFF, {**state, "flag": flag})
    organiser = str(state["organiser"])
    # The organiser reads both times at their own wall time (the agency's when not known).
    person = next((p for p in h.internal_people() if p.email.lower() == organiser.lower()), None)
    theirs = (person.timezone if person else None) or ctx.settings.agency_timezone
    message = ctx.renderer.email(
        "kickoff_out_of_order",
        greeting=greeting([person.name] if person else []),
        client=h.client.name,
        project=h.project.name,
        kickoff=when_text(str(state["start"]), theirs),
        internal=f"the {which.replace('_', ' ')}",
        internal_when=(
            when_text(found.start.isoformat(), theirs)
            if found is not None and not found.cancelled
            else internal_when
        ),
        page_url=f"{ctx.public_base_url}/handovers/{handover_id}",
    )
    key = f"meeting:{handover_id}:{KICKOFF}:flag:{which}:{internal_when}"
    ctx.mail.send(Email(key, (organiser,), message.subject, message.text, message.html))
    return True


def _record_real_times(
    db: Database, handover_id: str, plan: dict[str, Any], real: dict[str, EventState | None]
) -> bool:
    """Write the internal meetings' real times into the plan; return True if any moved."""
    moved = False
    for kind, event in real.items():
        if event is None or event.cancelled:
            continue
        meeting = next(m for m in plan["meetings"] if m["kind"] == kind)
        if (
            datetime.fromisoformat(meeting["start"]) != event.start
            or datetime.fromisoformat(meeting["end"]) != event.end
        ):
            _put_meeting(
                db,
                handover_id,
                {**meeting, "start": event.start.isoformat(), "end": event.end.isoformat()},
            )
            moved = True
    return moved


def _put_meeting(db: Database, handover_id: str, meeting: dict[str, Any]) -> None:
    """Replace one meeting of the stored plan."""
    with db.transaction() as session:
        plan = repo.artifact(session, handover_id, "plan")
        assert plan is not None
        data = dict(plan.data)
        data["meetings"] = [
            meeting if m["kind"] == meeting["kind"] else m for m in data.get("meetings", [])
        ]
        plan.data = data
