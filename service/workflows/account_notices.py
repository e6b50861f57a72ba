"""The account rhythm's notices and reminders: the emails an item owes when it is logged
(an urgent opportunity, an escalation, an AM's opportunity for the PM, ad-hoc notes), and
the task reminders before the due date and when overdue.

Every notice is an email with a stable key (`opportunity:<id>:urgent`,
`escalation:<id>:raised`, `note:<id>:shared`, `task:<id>:overdue:<due>`...), so a retry,
a double submit or the reminders job sending what a crash left unsent never sends twice;
the item remembers what went out (`reminders`) so the job does not ask again.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from integrations.ports import Email
from service.domain import account_rhythm as rules
from service.domain.email_words import greeting
from service.store import account_items as repo
from service.store import handovers as handover_repo
from service.store.account_models import AccountItemRow
from service.workflows.account_items import RhythmContext, item_json, people_of, today_of

log = logging.getLogger(__name__)
# How long the reminders job keeps trying a notice that could not be sent when the item
# was logged (mail down); older items are not read again on every run.
NOTICE_RETRY = timedelta(days=14)


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
            raised_by=_who(people, row.raised_by), greeting=greeting(map(people.name, to)),
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
    today, lead = today_of(ctx), ctx.settings.task_reminder_days
    country = ctx.settings.business_country
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
            for r in repo.open_tasks(session, due_by=today + timedelta(days=2 * lead + 14))
            if r.due_on and (mark := rules.reminder_mark(r.due_on, today, lead, country))
            and mark not in r.reminders
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
    today = today_of(ctx)
    with ctx.db.transaction() as session:
        row = session.get(AccountItemRow, item_id)
        if row is None or row.due_on is None or row.state != "open":
            return 0
        due, owner, marks = row.due_on, row.owner_email or "", list(row.reminders)
        view = _item_view(row)
        client = repo.account(session, key)
        client_name = client.client_name if client else key
    mark = rules.reminder_mark(
        due, today, ctx.settings.task_reminder_days, ctx.settings.business_country
    )
    if mark is None or mark in marks:
        return 0
    which = mark.partition(":")[0]
    people = people_of(ctx, key)
    rendered = ctx.renderer.email(
        "task_reminder", item=view, client=client_name, account_url=ctx.url(key),
        overdue=which == "overdue", greeting=greeting([people.name(owner)]),
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


def _item_view(row: AccountItemRow) -> Mapping[str, Any]:
    """The item as the emails show it: its dates in words."""
    return {**item_json(row, []), "due_words": rules.day_in_words(row.due_on),
            "held_words": rules.day_in_words(row.held_on)}  # fmt: skip


def _who(people: rules.AccountPeople, email: str) -> str:
    """Return who logged an item as people read it: a name, an address, or an integration
    (an API token's internal name is never shown)."""
    return "An integration (through the API)" if email.startswith("token:") else people.name(email)
