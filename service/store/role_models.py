"""The `role_assignments` table: roles an admin gave people in the service itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from service.store.models import Base, utcnow


class RoleAssignmentRow(Base):
    """One person's role, set on /admin/people or `PUT /api/roles/{email}`.

    The ROLES setting still wins for the people it names (the first admin cannot be
    locked out from the page); everyone else not here is Sales.
    """

    __tablename__ = "role_assignments"

    email: Mapped[str] = mapped_column(String(254), primary_key=True)  # lower case
    role: Mapped[str] = mapped_column(String(32))
    assigned_by: Mapped[str] = mapped_column(String(254))
    assigned_at: Mapped[datetime] = mapped_column(default=utcnow)
