"""A page of handovers with their steps and artifacts read in two queries, not two a row."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service.store.models import HandoverRow


def load_parts(session: Session, rows: Sequence[HandoverRow]) -> None:
    """Load the steps and artifacts of these handovers (already in the session) at once."""
    if not rows:
        return
    session.scalars(
        select(HandoverRow)
        .where(HandoverRow.id.in_([r.id for r in rows]))
        .options(selectinload(HandoverRow.steps), selectinload(HandoverRow.artifacts))
    ).all()
