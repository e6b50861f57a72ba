"""What the audit lines of one page are about, read in one query per kind (flat cost)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.models import AccountRow, HandoverRow
from service.store.review_models import ReviewRow


def handovers(session: Session, ids: Collection[str]) -> dict[str, tuple[str, str, Any]]:
    """Return (client, project, stored data) of each handover named, by id."""
    if not ids:
        return {}
    rows = session.execute(
        select(HandoverRow.id, HandoverRow.client_name, HandoverRow.project_name,
               HandoverRow.payload).where(HandoverRow.id.in_(list(ids)))
    )  # fmt: skip
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def reviews(session: Session, ids: Collection[str]) -> dict[str, tuple[str, str, str]]:
    """Return (draft's name, PM's email, PM's name) of each review named, by id."""
    if not ids:
        return {}
    rows = session.execute(
        select(ReviewRow.id, ReviewRow.name, ReviewRow.pm_email, ReviewRow.pm_name).where(
            ReviewRow.id.in_(list(ids))
        )
    )
    return {r[0]: (r[1], r[2] or "", r[3] or "") for r in rows}


def accounts(session: Session, keys: Collection[str]) -> dict[str, str]:
    """Return the client's name of each account named, by key."""
    if not keys:
        return {}
    rows = session.execute(
        select(AccountRow.key, AccountRow.client_name).where(AccountRow.key.in_(list(keys)))
    )
    return {r[0]: r[1] for r in rows}
