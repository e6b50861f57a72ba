"""Confirming a proposed client meeting, sending it, and reminding organisers who have not.

`confirm_meeting` is the organiser (the PM for the client kickoff, the AM for the
Executive Sponsor Sync), Operations or an admin saying "this time" (or one of the offered
alternatives); the invitation then goes out from the organiser's calendar (`send_meeting`
job). Until then nothing reaches the client. A proposal left unconfirmed for one business
day (in the organiser's country) reminds the organiser once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from integrations.ports import Email, Tasks
from service.domain.access import EVERYWHERE
from service.domain.business_days import add_business_days, zone
from service.domain.planning_model import MeetingKind
from service.schema import FieldError, InvalidHandover
from service.store import handovers as repo
from service.store.db import Database
from service.store.models import ArtifactRow, HandoverRow
from service.workflows import meeting_states
from service.workflows.context import StepContext, StepFailed


class NotYours(Exception):  # noqa: N818 - a refusal
    """The person may not confirm this meeting (not its organiser, Operations or an admin)."""


class NothingToConfirm(Exception):  # noqa: N818 - a state, said in words
    """The meeting is not waiting for a confirmation; the message says why."""


def confirm_meeting(
    handover_id: str,
    kind: str,
    *,
    start: str | None,
    actor: str,
    role: str,
    db: Database,
    tasks: Tasks,
    now: datetime,
) -> dict[str, Any]:
    """Confirm a proposed meeting at its time or at one of its alternatives; queue the send.

    A meeting confirmed or sent already answers as it is (a double click changes nothing).
    """
    if kind not in meeting_states.PROPOSED_KINDS:
        raise NothingToConfirm(f"the {kind.replace('_', ' ')} is sent at once: nothing to confirm")
    state = meeting_states.get(db, handover_id, kind)
    if state is None:
        raise NothingToConfirm(
            f"the {kind.replace('_', ' ')} is not proposed yet (it waits for the PM)"
        )
    if role not in EVERYWHERE and actor.strip().lower() != str(state["organiser"]).lower():
        raise NotYours(f"only {state['organiser']}, Operations or an admin may confirm it")
    if state["state"] in {"confirmed", "sent"}:
        return state
    if state["state"] != "proposed":
        raise NothingToConfirm(f"the {kind.replace('_', ' ')} was {state['state']}")
    chosen = _chosen(state, start)
    data = {
        **state,
        "state": "confirmed",
        "start": chosen["start"],
        "end": chosen["end"],
        "confirmed_by": actor,
        "confirmed_at": now.isoformat(),
    }
    with db.transaction() as session:
        plan = repo.artifact(session, handover_id, "plan")
        if plan is None:
            raise NothingToConfirm("the meetings are not planned yet")
        plan.data = _with_time(dict(plan.data), kind, chosen)
        repo.put_artifact(
            session,
            handover_id,
            meeting_states.artifact_kind(kind),
            external_id=kind,
            data=data,
        )
        repo.record(
            session,
            actor=actor,
            action="meeting.confirmed",
            subject=handover_id,
            kind=kind,
            start=chosen["start"],
        )
    tasks.enqueue(
        "send_meeting",
        {"handover_id": handover_id, "kind": kind},
        key=f"send-{handover_id}-{kind}-{chosen['start']}",
    )
    return data


def _chosen(state: dict[str, Any], start: str | None) -> dict[str, str]:
    """Return the offered slot that `start` names (the proposed one when None)."""
    slots = meeting_states.offered(state)
    if start is None:
        return slots[0]
    try:
        wanted = datetime.fromisoformat(start)
    except ValueError:
        raise InvalidHandover(
            [FieldError("start", "must be a date and time such as 2026-12-08T10:00:00-05:00")]
        ) from None
    if wanted.tzinfo is None:
        wanted = wanted.replace(tzinfo=zone(str(state["timezone"])))
    for slot in slots:
        if datetime.fromisoformat(slot["start"]) == wanted:
            return slot
    offered = ", ".join(s["start"] for s in slots)
    raise InvalidHandover([FieldError("start", f"must be one of the offered times: {offered}")])


def _with_time(plan: dict[str, Any], kind: str, slot: dict[str, str]) -> dict[str, Any]:
    """Return the plan with the meeting at the chosen slot (the send works from the plan)."""
    meetings = []
    for meeting in plan.get("meetings", []):
        if meeting["kind"] == kind and meeting["start"] != slot["start"]:
            meeting = {**meeting, "start": slot["start"], "end": slot["end"]}
        meetings.append(meeting)
    return {**plan, "meetings": meetings}


def send_meeting(handover_id: str, kind: str, *, db: Database, ctx: StepContext) -> str:
    """Send a confirmed meeting from its organiser's calendar; return its state after."""
    from service.workflows.kickoff import load_handover
    from service.workflows.meeting_steps import account_syncs, send_one

    with db.transaction() as session:
        row = session.get(HandoverRow, handover_id)
        if row is None:
            raise LookupError(f"no handover {handover_id}")
        if row.cancelled_at is not None:
            return "cancelled"
        payload = dict(row.payload)
    handover = load_handover(payload)
    try:
        if kind == MeetingKind.EXECUTIVE_SPONSOR_SYNC.value:
            account_syncs(handover_id, handover, ctx, db)
        else:
            send_one(handover_id, handover, ctx, db, kind)
    except StepFailed:
        raise
    state = meeting_states.get(db, handover_id, kind) or {}
    return str(state.get("state", ""))


def remind_organisers(*, db: Database, ctx: StepContext) -> list[tuple[str, str]]:
    """Remind each organiser of a proposal unconfirmed for one business day, once."""
    from service.domain.email_words import greeting
    from service.workflows.meeting_notice import when_text

    now = ctx.clock()
    kinds = [meeting_states.artifact_kind(k) for k in sorted(meeting_states.PROPOSED_KINDS)]
    with db.transaction() as session:
        rows = session.execute(
            select(ArtifactRow.handover_id, ArtifactRow.kind, ArtifactRow.data, HandoverRow)
            .join(HandoverRow, HandoverRow.id == ArtifactRow.handover_id)
            .where(ArtifactRow.kind.in_(kinds), HandoverRow.cancelled_at.is_(None))
        ).all()
        due = []
        for handover_id, artifact_kind, data, row in rows:
            if data.get("state") != "proposed" or data.get("reminded_at"):
                continue
            proposed = datetime.fromisoformat(data["proposed_at"])
            person = _organiser_of(row.payload, str(data["organiser"]))
            tz, country = person.get("timezone"), person.get("country")
            local = proposed.astimezone(zone(tz or ctx.settings.agency_timezone))
            deadline = datetime.combine(
                add_business_days(local.date(), 1, country or ctx.settings.business_country),
                local.timetz(),
            )
            if now >= deadline:
                due.append((handover_id, artifact_kind, dict(data), row.client_name,
                            row.project_name, person))  # fmt: skip
    sent = []
    for handover_id, artifact_kind, data, client, project, person in due:
        kind = artifact_kind.removeprefix("meeting:")
        # At the organiser's own wall time (the agency's when their zone is not known).
        zone_name = str(person.get("timezone") or ctx.settings.agency_timezone)
        message = ctx.renderer.email(
            "meeting_reminder",
            greeting=greeting([str(person.get("name") or "")]),
            meeting=kind.replace("_", " "),
            client=client,
            project=project,
            proposed_on=when_text(data["proposed_at"], zone_name),
            slots=[when_text(s["start"], zone_name) for s in meeting_states.offered(data)],
            page_url=f"{ctx.public_base_url}/handovers/{handover_id}",
        )
        key = f"meeting:{handover_id}:{kind}:reminder:{data['proposed_at']}"
        organiser = str(data["organiser"])
        ctx.mail.send(Email(key, (organiser,), message.subject, message.text, message.html))
        meeting_states.put(db, handover_id, kind, {**data, "reminded_at": now.isoformat()})
        sent.append((handover_id, kind))
    return sent


def _organiser_of(payload: dict[str, Any], email: str) -> dict[str, Any]:
    """Return the organiser's stored person (zone and country), or an empty one."""
    people = [payload.get("account_manager"), payload.get("project_manager")]
    people += list(payload.get("sales") or [])
    for person in people:
        if isinstance(person, dict) and str(person.get("email", "")).lower() == email.lower():
            return person
    return {}
