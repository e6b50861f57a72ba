"""Use cases of the people page: an admin gives someone a role, or takes it back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from service.domain.access import ADMIN, assignment_errors
from service.store import handovers as audit
from service.store import roles as repo
from service.store.db import Database

Clock = Callable[[], datetime]


class RoleRefused(Exception):  # noqa: N818 - a refusal with its reasons, by field
    """The assignment cannot be made; `errors` says why, by field."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__("; ".join(f"{k} {v}" for k, v in errors.items()))
        self.errors = dict(errors)


def _not_yourself(email: str, actor: str) -> dict[str, str]:
    """An admin does not take away their own role: another admin must (no lock-out)."""
    if email.strip().lower() == actor.strip().lower():
        return {"email": "is you: another admin must change your own role"}
    return {}


def assign_role(
    email: str,
    role: str,
    *,
    actor: str,
    configured: Mapping[str, str],
    allowed_domain: str | None,
    db: Database,
    clock: Clock,
) -> str | None:
    """Give the person the role from their next request on; return their previous one."""
    errors = assignment_errors(email, role, allowed_domain=allowed_domain, configured=configured)
    if not errors and role != ADMIN:
        errors = _not_yourself(email, actor)
    if errors:
        raise RoleRefused(errors)
    address = email.strip().lower()
    with db.transaction() as session:
        before = repo.assign(session, address, role, by=actor, now=clock())
        if before != role:
            audit.record(
                session,
                actor=actor,
                action="role.assigned",
                subject=address,
                role=role,
                before=before,
            )
    return before


def remove_role(
    email: str,
    *,
    actor: str,
    configured: Mapping[str, str],
    allowed_domain: str | None,
    db: Database,
) -> str | None:
    """Take back the role assigned here (the person is Sales again); return it, or None."""
    errors = assignment_errors(email, None, allowed_domain=allowed_domain, configured=configured)
    errors = errors or _not_yourself(email, actor)
    if errors:
        raise RoleRefused(errors)
    address = email.strip().lower()
    with db.transaction() as session:
        before = repo.unassign(session, address)
        if before is not None:
            audit.record(session, actor=actor, action="role.removed", subject=address, role=before)
    return before
