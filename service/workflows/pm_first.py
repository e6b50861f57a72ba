"""The PM comes first: a handover without one waits for Operations, who are told at once
and reminded daily, and see the waiting handovers on their queue page.

The brief and its sharing go on meanwhile; the meetings wait (`advance_handover` stops
before `plan_meetings` while the handover has no PM).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from integrations.ports import Email
from service.domain.access import OPERATIONS
from service.store import handovers as repo
from service.store.db import Database
from service.store.models import HandoverRow
from service.store.role_models import RoleAssignmentRow
from service.workflows.context import StepContext

QUEUE_PATH = "/operations/pm-needed"
REMIND_AFTER = timedelta(hours=20)  # a daily cron reminds of handovers waiting a day or so


@dataclass(frozen=True)
class Waiting:
    """A handover waiting for its PM, and for how long."""

    handover_id: str
    client: str
    project: str
    since: datetime
    waited: timedelta

    def waited_words(self) -> str:
        """Return how long it has waited, as people say it."""
        days, hours = self.waited.days, self.waited.seconds // 3600
        if days:
            return f"{days} day{'s' if days != 1 else ''}" + (f" {hours} h" if hours else "")
        if hours:
            return f"{hours} hour{'s' if hours != 1 else ''}"
        return f"{max(1, self.waited.seconds // 60)} min"


def operations_people(db: Database, roles: Mapping[str, str]) -> list[str]:
    """Return everyone with the operations role: the ROLES setting, then the service's
    assignments (the setting wins for the people it names)."""
    with db.transaction() as session:
        assigned = {r.email.lower(): r.role for r in session.scalars(select(RoleAssignmentRow))}
    merged = {**assigned, **{e.lower(): r for e, r in roles.items()}}
    return sorted(e for e, r in merged.items() if r == OPERATIONS)


def waiting_for_pm(db: Database, now: datetime) -> list[Waiting]:
    """Return the handovers (not cancelled) waiting for a PM, the longest waiting first."""
    with db.transaction() as session:
        rows = session.execute(
            select(
                HandoverRow.id,
                HandoverRow.client_name,
                HandoverRow.project_name,
                HandoverRow.pm_needed_since,
            )
            .where(HandoverRow.pm_needed_since.is_not(None), HandoverRow.cancelled_at.is_(None))
            .order_by(HandoverRow.pm_needed_since)
        ).all()
    return [
        Waiting(i, client, project, since, now - since)
        for i, client, project, since in rows
        if since is not None
    ]


def tell_operations(handover_id: str, *, db: Database, ctx: StepContext) -> list[str]:
    """Email everyone in Operations once that this handover needs a PM; return who."""
    with db.transaction() as session:
        row = session.get(HandoverRow, handover_id)
        if row is None or row.pm_needed_since is None or row.cancelled_at is not None:
            return []
        client, project, since = row.client_name, row.project_name, row.pm_needed_since
    people = operations_people(db, ctx.settings.roles)
    if not people:
        return []
    base = ctx.public_base_url
    message = ctx.renderer.email(
        "pm_needed",
        client=client,
        project=project,
        page_url=f"{base}/handovers/{handover_id}",
        queue_url=f"{base}{QUEUE_PATH}",
    )
    key = f"pm-needed:{handover_id}:{since.isoformat()}"
    ctx.mail.send(Email(key, tuple(people), message.subject, message.text, message.html))
    with db.transaction() as session:
        repo.record(
            session, actor="service", action="pm.needed_told", subject=handover_id, to=people
        )
    return people


def remind_operations(*, db: Database, ctx: StepContext) -> int:
    """Email Operations the handovers still waiting for a PM (once a day); return how many."""
    now = ctx.clock()
    waiting = [w for w in waiting_for_pm(db, now) if w.waited >= REMIND_AFTER]
    people = operations_people(db, ctx.settings.roles)
    if not waiting or not people:
        return 0
    base = ctx.public_base_url
    message = ctx.renderer.email(
        "pm_reminder",
        waiting=[
            {
                "client": w.client,
                "project": w.project,
                "waited": w.waited_words(),
                "page_url": f"{base}/handovers/{w.handover_id}",
            }
            for w in waiting
        ],
        queue_url=f"{base}{QUEUE_PATH}",
    )
    key = f"pm-needed:reminder:{now.date().isoformat()}"
    ctx.mail.send(Email(key, tuple(people), message.subject, message.text, message.html))
    return len(waiting)
