"""Use cases of the account rhythm between the syncs: log an opportunity, raise an
escalation, add a task, record an ad-hoc meeting's notes, move them on. The notices and
reminders they owe people are sent by `account_notices`.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from integrations.ports import Calendar, Drive, Mail
from service.config import Settings
from service.domain import account_rhythm as rules
from service.domain.business_days import zone
from service.rendering import Renderer
from service.store import account_items as repo
from service.store import handovers as handover_repo
from service.store.account_models import AccountItemRow
from service.store.db import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RhythmContext:
    """What the account rhythm needs from outside: the ports, the settings, the clock."""

    db: Database
    mail: Mail
    renderer: Renderer
    drive: Drive
    calendar: Calendar
    settings: Settings
    clock: Callable[[], datetime]

    def url(self, key: str) -> str:
        """Return the account page's address."""
        return f"{self.settings.public_base_url}/accounts/{key}"


class NotAllowed(Exception):  # noqa: N818 - an answer to the person
    """The person may not do this on this account (the message says what)."""


class Refused(ValueError):
    """The item is not in a state that allows this; `field` names what the person sent."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Logged:
    id: str
    created: bool


def people_of(ctx: RhythmContext, key: str) -> rules.AccountPeople:
    """Return the account's AMs and PMs: those its running handovers name (a cancelled
    handover, say one sent for the wrong client, opens nothing). LookupError: no such
    account."""
    with ctx.db.transaction() as session:
        if repo.account(session, key) is None:
            raise LookupError(key)
        return rules.account_people(
            dict(h.payload) for h in repo.handovers_of(session, key) if h.cancelled_at is None
        )


def standing_of(ctx: RhythmContext, key: str, email: str, role: str) -> str | None:
    """Return what the person is on the account (LookupError: no such account)."""
    return rules.standing(email, role, people_of(ctx, key))


def _check(ctx: RhythmContext, key: str, action: str, email: str, role: str) -> str:
    who = standing_of(ctx, key, email, role)
    if not rules.may(action, who):
        raise NotAllowed("This is not one of your accounts, or not your part of it.")
    assert who is not None
    return who


def log_item(
    key: str,
    kind: str,
    body: Any,
    *,
    email: str,
    role: str,
    request_key: str | None,
    ctx: RhythmContext,
) -> Logged:
    """Validate and store an opportunity, escalation, task or note; send what it owes."""
    action = {
        "opportunity": "log_opportunity",
        "escalation": "raise_escalation",
        "task": "add_task",
        "note": "add_note",
    }[kind]
    who = _check(ctx, key, action, email, role)
    people = people_of(ctx, key)
    if kind == "opportunity":
        item = rules.opportunity(body)
    elif kind == "escalation":
        item = rules.escalation(body)
    elif kind == "task":
        item = rules.task(body, agency=rules.agency_domain(ctx.settings.allowed_domain, people))
    else:
        item = rules.note(body, today=today_of(ctx))
    with ctx.db.transaction() as session:
        row, created = repo.add_item(
            session,
            key=key,
            item=item,
            state=rules.first_state(item, who),
            raised_by=email,
            raised_as=who,
            request_key=_request_key(key, kind, email, request_key),
        )
        if created:
            handover_repo.record(
                session, actor=email, action=f"{kind}.logged", subject=key, item=row.id,
                urgent=item.urgent, severity=item.severity,
            )  # fmt: skip
        item_id = row.id
    from service.workflows.account_notices import send_notices

    try:
        send_notices(item_id, ctx=ctx)
    except Exception:  # noqa: BLE001 - stored already; the reminders job sends it later
        log.warning("the notice of %s %s waits for the next reminders run", kind, item_id,
                    exc_info=True)  # fmt: skip
    return Logged(item_id, created)


def move_opportunity(
    key: str, item_id: str, to: str, note: Any, *, email: str, role: str, ctx: RhythmContext
) -> str:
    """Move an opportunity on (the AM); return its new state."""
    _check(ctx, key, "move_opportunity", email, role)
    note = rules.remark(note)
    with ctx.db.transaction() as session:
        row = _item(session, key, item_id, "opportunity")
        if row.state == to:
            return to  # a double submit: the step is recorded once
        why = rules.move_error(
            row.state, to, acknowledged=row.acknowledged_at is not None, raised_as=row.raised_as
        )
        if why:
            raise Refused("state", why)
        row.state = to
        repo.add_history(session, row.id, actor=email, state=to, note=note)
        handover_repo.record(
            session, actor=email, action="opportunity.moved", subject=key, item=row.id, state=to
        )
        return to


def acknowledge(
    key: str, item_id: str, note: Any, *, email: str, role: str, ctx: RhythmContext
) -> str:
    """The PM acknowledges an opportunity the AM raised, or the AM an escalation."""
    with ctx.db.transaction() as session:
        kind = _item(session, key, item_id, None).kind
    if kind not in {"opportunity", "escalation"}:
        raise Refused("id", "only opportunities and escalations are acknowledged")
    _check(ctx, key, f"acknowledge_{kind}", email, role)
    note = rules.remark(note)
    with ctx.db.transaction() as session:
        row = _item(session, key, item_id, kind)
        if row.acknowledged_at is not None:
            return row.state
        if kind == "escalation" and row.state != "open":
            raise Refused("state", f"the escalation is {rules.STATE_WORDS[row.state]} already")
        if kind == "opportunity" and row.state != "awaiting_pm":
            raise Refused("state", "only an opportunity the AM raised waits for the PM")
        row.acknowledged_by, row.acknowledged_at = email, ctx.clock()
        row.state = "acknowledged" if kind == "escalation" else "discussed_with_pm"
        repo.add_history(session, row.id, actor=email, state=row.state, note=note)
        handover_repo.record(
            session, actor=email, action=f"{kind}.acknowledged", subject=key, item=row.id
        )
        return row.state


def close_item(
    key: str, item_id: str, note: Any, *, email: str, role: str, ctx: RhythmContext
) -> str:
    """Resolve an escalation or mark a task done (the task's owner may too)."""
    with ctx.db.transaction() as session:
        row = _item(session, key, item_id, None)
        kind, owner = row.kind, row.owner_email
    if kind not in {"escalation", "task"}:
        raise Refused("id", "only escalations are resolved and tasks done")
    if not (kind == "task" and owner == email.lower()):
        _check(ctx, key, "resolve_escalation" if kind == "escalation" else "finish_task",
               email, role)  # fmt: skip
    note = rules.remark(note)
    final = "resolved" if kind == "escalation" else "done"
    with ctx.db.transaction() as session:
        row = _item(session, key, item_id, kind)
        if row.state != final:
            row.state = final
            repo.add_history(session, row.id, actor=email, state=final, note=note)
            handover_repo.record(
                session, actor=email, action=f"{kind}.{final}", subject=key, item=row.id
            )
        return final


def mark_for_executive(
    key: str, item_ids: list[str], executive_start: datetime | None, *, email: str, role: str,
    ctx: RhythmContext,
) -> list[str]:  # fmt: skip
    """The AM puts items on the next Executive Sponsor Sync's agenda (others come off it)."""
    _check(ctx, key, "mark_executive", email, role)
    if executive_start is None:
        raise Refused("items", "the account has no Executive Sponsor Sync coming up")
    with ctx.db.transaction() as session:
        rows = {r.id: r for r in repo.items(session, key)}
        unknown = [i for i in item_ids if i not in rows]
        if unknown:
            raise Refused("items", "names an item that is not on this account")
        for row in rows.values():
            wanted = row.id in item_ids
            if wanted and row.for_executive_at != executive_start:
                row.for_executive_at = executive_start
            elif not wanted and row.for_executive_at == executive_start:
                row.for_executive_at = None
        handover_repo.record(
            session, actor=email, action="agenda.executive_marked", subject=key,
            items=sorted(item_ids), sync=executive_start.isoformat(),
        )  # fmt: skip
    return sorted(item_ids)


def save_template(key: str, body: Any, *, email: str, role: str, ctx: RhythmContext) -> list[str]:
    """Store the client's agenda questions (the AM or PM)."""
    _check(ctx, key, "edit_template", email, role)
    questions = rules.questions(body)
    with ctx.db.transaction() as session:
        repo.put_template(session, key, questions, actor=email)
        handover_repo.record(
            session, actor=email, action="agenda.template_changed", subject=key,
            count=len(questions),
        )  # fmt: skip
    return questions


def answer_health(key: str, body: Any, *, email: str, role: str, ctx: RhythmContext) -> date:
    """Store the AM's and PM's answers to the handbook's questions at one internal sync."""
    _check(ctx, key, "answer_health", email, role)
    day, answers = rules.health_answers(body)
    with ctx.db.transaction() as session:
        repo.put_health(session, key, day, answers, actor=email)
        handover_repo.record(
            session, actor=email, action="health.answered", subject=key, sync_on=day.isoformat(),
            **answers,
        )  # fmt: skip
    return day


# --- helpers ----------------------------------------------------------------------------


def today_of(ctx: RhythmContext) -> date:
    return ctx.clock().astimezone(zone(ctx.settings.agency_timezone)).date()


def _request_key(key: str, kind: str, email: str, given: str | None) -> str | None:
    """Return the stored key of a request: one person's key on one account and kind (two
    people choosing the same key each get their item), of a fixed length."""
    if not given:
        return None
    whole = "\n".join((key, kind, email.strip().lower(), given))
    return hashlib.sha256(whole.encode("utf-8", "surrogateescape")).hexdigest()


def _item(session: Any, key: str, item_id: str, kind: str | None) -> AccountItemRow:
    row = repo.item(session, key, item_id)
    if row is None or (kind is not None and row.kind != kind):
        raise LookupError(item_id)
    return row


def item_json(row: AccountItemRow, history: list[Any]) -> dict[str, Any]:
    """Return an item as the API and the templates show it."""
    return {
        "id": row.id,
        "kind": row.kind,
        "summary": row.summary,
        "state": row.state,
        "state_text": rules.STATE_WORDS.get(row.state, row.state),
        "urgent": row.urgent,
        "severity": row.severity,
        "owner": row.owner_email,
        "due_on": row.due_on.isoformat() if row.due_on else None,
        "held_on": row.held_on.isoformat() if row.held_on else None,
        "attendees": list(row.attendees or []),
        "raised_by": row.raised_by,
        "raised_as": row.raised_as,
        "acknowledged_by": row.acknowledged_by,
        "acknowledged_at": row.acknowledged_at.isoformat() if row.acknowledged_at else None,
        "for_executive_at": row.for_executive_at.isoformat() if row.for_executive_at else None,
        "created_at": row.created_at.isoformat(),
        "open": rules.is_open(row.kind, row.state),
        "history": [
            {"at": h.at.isoformat(), "by": h.actor, "state": h.state, "note": h.note}
            for h in history
        ],
    }
