"""Reading and writing the roles assigned in the service (`role_assignments`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.store.db import dialect_insert
from service.store.role_models import RoleAssignmentRow


def assigned_role(session: Session, email: str) -> str | None:
    """Return the role assigned to this person in the service, if any."""
    row = session.get(RoleAssignmentRow, email.strip().lower())
    return row.role if row is not None else None


def assignments(session: Session) -> list[RoleAssignmentRow]:
    """Return every assignment, by email."""
    return list(session.scalars(select(RoleAssignmentRow).order_by(RoleAssignmentRow.email)))


def assign(session: Session, email: str, role: str, *, by: str, now: datetime) -> str | None:
    """Give the person the role; return the role they had here before (None: none).

    An upsert: two admins giving a new person a role at once both succeed (the later wins).
    """
    before = assigned_role(session, email)
    insert = dialect_insert(session)
    values = {"role": role, "assigned_by": by, "assigned_at": now}
    statement = insert(RoleAssignmentRow).values(email=email, **values)
    session.execute(statement.on_conflict_do_update(index_elements=["email"], set_=values))
    return before


def unassign(session: Session, email: str) -> str | None:
    """Remove the person's assignment; return the role it gave (None: there was none)."""
    row = session.get(RoleAssignmentRow, email)
    if row is None:
        return None
    session.execute(delete(RoleAssignmentRow).where(RoleAssignmentRow.email == email))
    return row.role
