"""Use cases of the account rhythm between the syncs: log an opportunity, raise an
escalation, add a task, record an ad-hoc meeting's notes, move them on; and the notices
and reminders they owe people.

Every notice is an email with a stable key (`opportunity:<id>:urgent`,
`escalation:<id>:raised`, `note:<id>:shared`, `task:<id>:overdue:<due>`...), so a retry,
a double submit or the reminders job sending what a crash left unsent never sends twice;
the item remembers what went out (`reminders`) so the job does not ask again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from integrations.ports import Calendar, Drive, Email, Mail
from service.config import Settings
from service.domain import account_rhythm as rules
from service.domain.business_days import zone
from service.rendering import Renderer
from service.store import account_items as repo
from service.store import handovers as handover_repo
from service.store.account_models import AccountItemRow
from service.store.db import Database

log = logging.getLogger(__name__)
# How long the reminders job keeps trying a notice that could not be sent when the item
# was logged (mail down); older items are not read again on every run.
NOTICE_RETRY = timedelta(days=14)


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
    """Return the account's AMs and PMs. LookupError: no such account."""
    with ctx.db.transaction() as session:
        if repo.account(session, key) is None:
            raise LookupError(key)
        return rules.account_people(dict(h.payload) for h in repo.handovers_of(session, key))


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
        item = rules.note(body, today=_today(ctx))
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
    note = rules.remark(note)
    with ctx.db.transaction() as session:
        kind = _item(session, key, item_id, None).kind
    if kind not in {"opportunity", "escalation"}:
        raise Refused("id", "only opportunities and escalations are acknowledged")
    _check(ctx, key, f"acknowledge_{kind}", email, role)
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
    note = rules.remark(note)
    with ctx.db.transaction() as session:
        row = _item(session, key, item_id, None)
        kind, owner = row.kind, row.owner_email
    if kind not in {"escalation", "task"}:
        raise Refused("id", "only escalations are resolved and tasks done")
    if not (kind == "task" and owner == email.lower()):
        _check(ctx, key, "resolve_escalation" if kind == "escalation" else "finish_task",
               email, role)  # fmt: skip
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


# --- notices ----------------------------------------------------------------------------


def _notices(row: AccountItemRow, people: rules.AccountPeople) -> list[tuple[str, str, list[str]]]:
    """Return the notices an item owes: (mark, email template, recipients)."""
    ams, pms = sorted(people.ams), sorted(people.pms)
    owed: list[tuple[str, str, list[str]]] = []
    if row.kind == "opportunity" and row.urgent:
        owed.append(("urgent", "opportunity_urgent", ams))
    if row.kind == "opportunity" and row.state == "awaiting_pm":
        owed.append(("check_with_pm", "opportunity_check_with_pm", pms))
    if row.kind == "escalation":
        owed.append(("raised", "escalation_raised", ams))
    if row.kind == "note":
        others = {rules.AM: pms, rules.PM: ams}.get(row.raised_as, ams + pms)
        owed.append(("shared", "adhoc_notes", [e for e in others if e != row.raised_by.lower()]))
    return [(mark, name, to) for mark, name, to in owed if to]


def send_notices(item_id: str, *, ctx: RhythmContext) -> int:
    """Send the notices the item owes and has not sent; return how many went out."""
    with ctx.db.transaction() as session:
        row = session.get(AccountItemRow, item_id)
        if row is None:
            return 0
        key = row.account_key
        client = repo.account(session, key)
        client_name = client.client_name if client else key
        view = _item_view(row)
    people = people_of(ctx, key)
    sent = 0
    for mark, template, to in _notices(row, people):
        if mark in row.reminders:
            continue
        rendered = ctx.renderer.email(
            template, item=view, client=client_name, account_url=ctx.url(key),
            raised_by=people.name(row.raised_by),
        )  # fmt: skip
        ctx.mail.send(
            Email(
                key=f"{row.kind}:{row.id}:{mark}",
                to=tuple(to),
                subject=rendered.subject,
                text=rendered.text,
                html=rendered.html,
            )
        )
        with ctx.db.transaction() as session:
            repo.mark_sent(session, row.id, mark)
        sent += 1
    return sent


def send_reminders(*, ctx: RhythmContext) -> int:
    """Remind task owners (and the AM) before the due date and when overdue; send notices
    a crash left unsent. Return how many emails went out."""
    sent = 0
    today, lead = _today(ctx), ctx.settings.task_reminder_days
    with ctx.db.transaction() as session:
        # Only what may still be owed: a notice unsent (within NOTICE_RETRY of the item),
        # a reminder whose day has come and that did not go out yet.
        since = ctx.clock() - NOTICE_RETRY
        waiting = [
            r.id for r in repo.items_to_notify(session, since=since)
            if rules.notice_marks(r.kind, urgent=r.urgent, state=r.state) - set(r.reminders)
        ]  # fmt: skip
        tasks = [
            (r.id, r.account_key)
            for r in repo.open_tasks(session, due_by=today + timedelta(days=lead))
            if r.due_on and rules.reminder_mark(r.due_on, today, lead) not in r.reminders
        ]
    for item_id in waiting:
        try:
            sent += send_notices(item_id, ctx=ctx)
        except Exception:  # noqa: BLE001 - the others go on; this one at the next run
            log.warning("the notice of %s waits for the next run", item_id, exc_info=True)
    for item_id, key in tasks:
        try:
            sent += _remind(item_id, key, ctx=ctx)
        except Exception:  # noqa: BLE001 - the others go on; this one at the next run
            log.warning("the reminder of task %s waits for the next run", item_id,
                        exc_info=True)  # fmt: skip
    return sent


def _remind(item_id: str, key: str, *, ctx: RhythmContext) -> int:
    """Send the task's reminder that is due and not sent; return 1 when one went out."""
    today = _today(ctx)
    with ctx.db.transaction() as session:
        row = session.get(AccountItemRow, item_id)
        if row is None or row.due_on is None or row.state != "open":
            return 0
        due, owner, marks = row.due_on, row.owner_email or "", list(row.reminders)
        view = _item_view(row)
        client = repo.account(session, key)
        client_name = client.client_name if client else key
    mark = rules.reminder_mark(due, today, ctx.settings.task_reminder_days)
    if mark is None or mark in marks:
        return 0
    which = mark.partition(":")[0]
    people = people_of(ctx, key)
    rendered = ctx.renderer.email(
        "task_reminder", item=view, client=client_name, account_url=ctx.url(key),
        overdue=which == "overdue", owner=people.name(owner),
    )  # fmt: skip
    ctx.mail.send(
        Email(
            key=f"task:{item_id}:{mark}",
            to=(owner,),
            cc=tuple(e for e in sorted(people.ams) if e != owner),
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
        )
    )
    with ctx.db.transaction() as session:
        repo.mark_sent(session, item_id, mark)
        handover_repo.record(
            session, actor="cron", action=f"task.{which}", subject=key, item=item_id
        )
    return 1


# --- helpers ----------------------------------------------------------------------------


def _today(ctx: RhythmContext) -> date:
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


def _item_view(row: AccountItemRow) -> Mapping[str, Any]:
    """The item as the emails show it: its dates in words."""
    return {**item_json(row, []), "due_words": rules.day_in_words(row.due_on),
            "held_words": rules.day_in_words(row.held_on)}  # fmt: skip


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
