"""Repository of the account rhythm: items and their history, agendas, templates, health."""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.domain.account_rhythm import NewItem
from service.store.account_models import (
    AccountItemHistoryRow,
    AccountItemRow,
    AgendaRow,
    AgendaTemplateRow,
    HealthRow,
)
from service.store.models import AccountRow, ArtifactRow, AuditRow, HandoverRow
from service.store.review_models import ReviewRow


def account(session: Session, key: str) -> AccountRow | None:
    """Return the account, or None."""
    return session.get(AccountRow, key)


def handovers_of(session: Session, key: str) -> list[HandoverRow]:
    """Return the account's handovers, oldest first (cancelled ones too)."""
    return list(
        session.scalars(
            select(HandoverRow).where(HandoverRow.account_key == key).order_by(
                HandoverRow.created_at, HandoverRow.id
            )
        )
    )


def by_request_key(session: Session, request_key: str) -> AccountItemRow | None:
    """Return the item stored under this request key (a repeated submit), if any."""
    return session.scalar(select(AccountItemRow).where(AccountItemRow.request_key == request_key))


def add_item(
    session: Session,
    *,
    key: str,
    item: NewItem,
    state: str,
    raised_by: str,
    raised_as: str,
    request_key: str | None,
) -> tuple[AccountItemRow, bool]:
    """Store a new item with its first history line; (the one stored before, False) when
    the request key was used already."""
    if request_key:
        earlier = by_request_key(session, request_key)
        if earlier is not None:
            return earlier, False
    row = AccountItemRow(
        id=secrets.token_hex(16),
        account_key=key,
        kind=item.kind,
        summary=item.summary,
        state=state,
        urgent=item.urgent,
        severity=item.severity,
        owner_email=item.owner_email,
        due_on=item.due_on,
        held_on=item.held_on,
        attendees=list(item.attendees),
        raised_by=raised_by,
        raised_as=raised_as,
        request_key=request_key,
        reminders=[],
    )
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        earlier = by_request_key(session, request_key) if request_key else None
        if earlier is None:
            raise
        return earlier, False
    add_history(session, row.id, actor=raised_by, state=state)
    return row, True


def add_history(session: Session, item_id: str, *, actor: str, state: str, note: str = "") -> None:
    """Add a line to an item's history."""
    session.add(AccountItemHistoryRow(item_id=item_id, actor=actor, state=state, note=note))


def item(session: Session, key: str, item_id: str) -> AccountItemRow | None:
    """Return the account's item, or None."""
    row = session.get(AccountItemRow, item_id)
    return row if row is not None and row.account_key == key else None


def items(session: Session, key: str) -> list[AccountItemRow]:
    """Return the account's items, newest first."""
    return list(
        session.scalars(
            select(AccountItemRow)
            .where(AccountItemRow.account_key == key)
            .order_by(AccountItemRow.created_at.desc(), AccountItemRow.id)
        )
    )


def agenda_rows(
    session: Session, key: str, *, since: datetime, marked_for: datetime | None
) -> list[AccountItemRow]:
    """Return what may go on a sync's agenda, newest first: the open items, the notes
    since `since` and the items marked for the occurrence `marked_for`."""
    may_go = [
        and_(AccountItemRow.kind == "opportunity", AccountItemRow.state.not_in(["won", "lost"])),
        and_(
            AccountItemRow.kind != "opportunity",
            AccountItemRow.state.in_(["open", "acknowledged", "awaiting_pm"]),
        ),
        and_(AccountItemRow.kind == "note", AccountItemRow.created_at >= since),
    ]
    if marked_for is not None:
        may_go.append(AccountItemRow.for_executive_at == marked_for)
    return list(
        session.scalars(
            select(AccountItemRow)
            .where(AccountItemRow.account_key == key, or_(*may_go))
            .order_by(AccountItemRow.created_at.desc(), AccountItemRow.id)
        )
    )


def history(session: Session, item_ids: list[str]) -> dict[str, list[AccountItemHistoryRow]]:
    """Return each item's history, oldest first."""
    found: dict[str, list[AccountItemHistoryRow]] = {i: [] for i in item_ids}
    if not item_ids:
        return found
    rows = session.scalars(
        select(AccountItemHistoryRow)
        .where(AccountItemHistoryRow.item_id.in_(item_ids))
        .order_by(AccountItemHistoryRow.id)
    )
    for row in rows:
        found[row.item_id].append(row)
    return found


def open_tasks(session: Session, *, due_by: date) -> list[AccountItemRow]:
    """Return the open tasks due on or before `due_by` (those a reminder may be owed)."""
    return list(
        session.scalars(
            select(AccountItemRow).where(
                AccountItemRow.kind == "task",
                AccountItemRow.state == "open",
                AccountItemRow.due_on.is_not(None),
                AccountItemRow.due_on <= due_by,
            )
        )
    )


def items_to_notify(session: Session, *, since: datetime) -> list[AccountItemRow]:
    """Return the items logged since `since` whose notice may still be unsent (urgent
    opportunities, escalations, notes...)."""
    return list(
        session.scalars(
            select(AccountItemRow).where(
                AccountItemRow.kind.in_(["opportunity", "escalation", "note"]),
                AccountItemRow.state.in_(["new", "awaiting_pm", "open", "recorded"]),
                AccountItemRow.created_at >= since,
            )
        )
    )


def mark_sent(session: Session, item_id: str, mark: str) -> None:
    """Remember that a notice or reminder went out for the item."""
    row = session.get(AccountItemRow, item_id, with_for_update=True)
    if row is not None and mark not in row.reminders:
        row.reminders = [*row.reminders, mark]


def reviews_of(session: Session, key: str) -> list[ReviewRow]:
    """Return the account's contract reviews, newest first."""
    return list(
        session.scalars(
            select(ReviewRow)
            .where(ReviewRow.account_key == key)
            .order_by(ReviewRow.created_at.desc())
        )
    )


def changes_since(session: Session, handover_ids: list[str], since: datetime) -> list[AuditRow]:
    """Return the audit lines about the account's projects after `since`, oldest first."""
    if not handover_ids:
        return []
    return list(
        session.scalars(
            select(AuditRow)
            .where(AuditRow.subject.in_(handover_ids), AuditRow.at > since)
            .order_by(AuditRow.id)
        )
    )


def agenda(session: Session, key: str, kind: str, occurrence: datetime) -> AgendaRow | None:
    """Return the agenda of one sync occurrence, if it was made."""
    return session.scalar(
        select(AgendaRow).where(
            AgendaRow.account_key == key,
            AgendaRow.meeting_kind == kind,
            AgendaRow.occurrence_start == occurrence,
        )
    )


def ensure_agenda(
    session: Session, key: str, kind: str, occurrence: datetime, starts_at: datetime
) -> AgendaRow:
    """Return the agenda row of the occurrence, making it once (two workers agree)."""
    row = agenda(session, key, kind, occurrence)
    if row is not None:
        return row
    try:
        with session.begin_nested():
            row = AgendaRow(
                account_key=key,
                meeting_kind=kind,
                occurrence_start=occurrence,
                starts_at=starts_at,
                document_url="",
                items=[],
            )
            session.add(row)
            session.flush()
            return row
    except IntegrityError:
        found = agenda(session, key, kind, occurrence)
        assert found is not None
        return found


def claim_agenda(session: Session, agenda_id: int, *, now: datetime, until: datetime) -> bool:
    """Hold the agenda for one worker until `until`; False when another holds it."""
    result = session.execute(
        update(AgendaRow)
        .where(
            AgendaRow.id == agenda_id,
            or_(AgendaRow.lease_until.is_(None), AgendaRow.lease_until < now),
        )
        .values(lease_until=until)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def release_agenda(session: Session, agenda_id: int) -> None:
    """Let the agenda go (its work is recorded)."""
    session.execute(
        update(AgendaRow)
        .where(AgendaRow.id == agenda_id)
        .values(lease_until=None)
        .execution_options(synchronize_session=False)
    )


def agendas(session: Session, key: str) -> list[AgendaRow]:
    """Return the account's agendas, newest occurrence first."""
    return list(
        session.scalars(
            select(AgendaRow)
            .where(AgendaRow.account_key == key)
            .order_by(AgendaRow.occurrence_start.desc())
        )
    )


def template(session: Session, key: str) -> AgendaTemplateRow | None:
    """Return the client's own agenda questions, if the AM or PM set them."""
    return session.get(AgendaTemplateRow, key)


def put_template(session: Session, key: str, questions: list[str], *, actor: str) -> None:
    """Store the client's agenda questions."""
    row = session.get(AgendaTemplateRow, key)
    if row is None:
        session.add(AgendaTemplateRow(account_key=key, questions=questions, updated_by=actor))
    else:
        row.questions, row.updated_by = questions, actor


def health(session: Session, key: str) -> list[HealthRow]:
    """Return the account's health answers, oldest sync first."""
    return list(
        session.scalars(
            select(HealthRow).where(HealthRow.account_key == key).order_by(HealthRow.sync_on)
        )
    )


def put_health(
    session: Session, key: str, day: date, answers: dict[str, Any], *, actor: str
) -> None:
    """Store the answers of one sync (a second answer for the same sync replaces it)."""
    row = session.scalar(
        select(HealthRow).where(HealthRow.account_key == key, HealthRow.sync_on == day)
    )
    if row is None:
        session.add(HealthRow(account_key=key, sync_on=day, answers=answers, answered_by=actor))
    else:
        row.answers, row.answered_by = answers, actor


def newest_series(session: Session, key: str, kind: str) -> tuple[str, dict[str, Any]] | None:
    """Return the newest sent series of this kind among the account's running handovers:
    (event id, stored data); one query however many projects the account has."""
    found = session.execute(
        select(ArtifactRow.external_id, ArtifactRow.data)
        .join(HandoverRow, HandoverRow.id == ArtifactRow.handover_id)
        .where(
            HandoverRow.account_key == key,
            HandoverRow.cancelled_at.is_(None),
            ArtifactRow.kind == f"event:{kind}",
        )
        .order_by(ArtifactRow.created_at.desc(), ArtifactRow.id.desc())
        .limit(1)
    ).first()
    return (found[0], dict(found[1])) if found else None


def account_keys_with_syncs(session: Session) -> list[str]:
    """Return the accounts that have at least one handover not cancelled."""
    return list(
        session.scalars(
            select(HandoverRow.account_key)
            .where(HandoverRow.cancelled_at.is_(None))
            .distinct()
        )
    )


def overview(
    session: Session, *, person: str | None = None
) -> list[tuple[str, str, list[dict[str, Any]], set[str], int]]:
    """Return each account with its running handovers' payloads and submitters, and its
    open item count; with `person`, only the handovers that name that address or that
    they submitted (the caller checks the role), so a person's list does not read
    every handover of the agency."""
    from sqlalchemy import Text, cast, func, true

    open_counts = dict(
        session.execute(
            select(AccountItemRow.account_key, func.count())
            .where(AccountItemRow.state.in_(["new", "awaiting_pm", "open", "acknowledged",
                                             "discussed_with_pm", "with_client",
                                             "handed_to_sales"]))
            .group_by(AccountItemRow.account_key)
        ).all()
    )  # fmt: skip
    found: dict[str, tuple[str, list[dict[str, Any]], set[str]]] = {}
    rows = session.execute(
        select(AccountRow.key, AccountRow.client_name, HandoverRow.payload,
               HandoverRow.submitted_by, HandoverRow.cancelled_at)
        .join(HandoverRow, HandoverRow.account_key == AccountRow.key)
        .where(
            or_(
                func.lower(HandoverRow.submitted_by) == person.strip().lower(),
                func.lower(cast(HandoverRow.payload, Text)).contains(
                    person.strip().lower(), autoescape=True
                ),
            )
            if person
            else true()
        )
        .order_by(AccountRow.client_name)
    )  # fmt: skip
    for key, client, payload, submitter, cancelled_at in rows:
        entry = found.setdefault(key, (client, [], set()))
        if cancelled_at is None:  # a cancelled handover names nobody on the account
            entry[1].append(dict(payload))
            entry[2].add(str(submitter).lower())
    return [
        (key, client, payloads, submitters, int(open_counts.get(key, 0)))
        for key, (client, payloads, submitters) in found.items()
    ]
