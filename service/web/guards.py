"""Per-handover checks for the pages and the API: may this user see or change this one?
And cancelling and changing, which both do alike once the check has passed."""

from __future__ import annotations

from typing import Any

from flask import abort, g

from service.domain.access import ADMIN, OPERATIONS, may_change_handover, may_see_handover
from service.store import handovers as repo
from service.store.db import Database
from service.store.models import HandoverRow
from service.web.auth import ensure
from service.wiring import Services
from service.workflows import kickoff


def mine(row: HandoverRow | None, *, change: bool = False) -> HandoverRow:
    """Return the handover if the user may see it (or change it); else answer 404 or 403."""
    if row is None:
        abort(404)
    rule = may_change_handover if change else may_see_handover
    ensure(rule(g.user.email, g.user.role, row.payload, row.submitted_by))
    return row


def check(db: Database, handover_id: str, *, change: bool = False) -> None:
    """Answer 404 for an unknown handover, 403 for one the user may not see or change."""
    with db.transaction() as session:
        mine(repo.get_handover(session, handover_id), change=change)


def may_confirm(db: Database, handover_id: str, kind: str) -> None:
    """Let a meeting's organiser through even if they may not see the whole handover (an
    AM without a role, say); everyone else must be able to see it (then the use case
    checks that they are Operations or an admin)."""
    from service.workflows.meeting_states import artifact_kind

    with db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        if row is None:
            abort(404)
        state = repo.artifact(session, handover_id, artifact_kind(kind))
        organiser = str(state.data.get("organiser", "")) if state is not None else ""
        if organiser and organiser.lower() == g.user.email.lower():
            return
        mine(row)


def cancel(services: Services, handover_id: str) -> None:
    """Cancel a handover as the user: 404 for an unknown one, 403 for one they may not change."""
    check(services.db, handover_id, change=True)
    try:
        kickoff.cancel_handover(
            handover_id,
            actor=g.user.email,
            db=services.db,
            tasks=services.tasks,
            clock=services.clock,
        )
    except LookupError:
        abort(404)


def update(services: Services, handover_id: str, data: dict[str, Any]) -> None:
    """Store the user's change to a handover (once `check(..., change=True)` has passed).

    Raises what kickoff.update_handover raises (InvalidHandover, NotAllowed, LookupError):
    the page answers with its form, the API with JSON.
    """
    kickoff.update_handover(
        handover_id,
        data,
        actor=g.user.email,
        db=services.db,
        tasks=services.tasks,
        clock=services.clock,
        actor_role=g.user.role,
        allowed_domain=services.settings.allowed_domain,
    )


def permissions(row: HandoverRow) -> dict[str, bool]:
    """Return which of the handover page's forms this user may use."""
    user = g.user
    return {
        "change": may_change_handover(user.email, user.role, row.payload, row.submitted_by),
        "assign": user.role in {OPERATIONS, ADMIN},
        "retry": user.role in {OPERATIONS, ADMIN},
        "confirm": user.role in {OPERATIONS, ADMIN},
    }
