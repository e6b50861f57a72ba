"""The meetings' dates the Project Brief carries: the plan as it stands when the brief is written.

Decision (issue 13, item 10): the brief is not written again because its meetings were
planned, sent or confirmed later: it is shared as soon as it is written, and a rewrite
would replace a PM's edits in the Google Doc. So the meetings are planned first, when they
may be (a PM is known and a calendar is configured): on Google the planning begun beside
the kickoff is waited for; otherwise the brief's step plans them through the same call the
team's email uses (`planned_for_email`), whose stored plan the `plan_meetings` step keeps:
one plan, made once, for the brief, the email and the invitations. Without a PM, or when
the planning fails, the brief says in words what happens next; the `plan_meetings` step
still plans and reports its own failure.
"""

from __future__ import annotations

from typing import Any

from service.domain.model import Handover
from service.store import handovers as repo
from service.store.db import Database
from service.workflows.context import StepContext
from service.workflows.meeting_steps import planned_for_email


def stored_plan(db: Database, handover_id: str) -> dict[str, Any] | None:
    """Return the handover's stored plan, if it has one."""
    with db.transaction() as session:
        row = repo.artifact(session, handover_id, "plan")
        return dict(row.data) if row is not None else None


def plan_for_brief(
    handover_id: str, h: Handover, ctx: StepContext, db: Database
) -> dict[str, Any] | None:
    """Return the plan whose dates the brief shows, planning the meetings first if they may
    (the same plan the team's email lists and the `plan_meetings` step keeps)."""
    if planned_for_email(handover_id, h, ctx, db) is None:
        return None  # no PM yet, no calendar, or the planning failed: the brief says so
    return stored_plan(db, handover_id)
