"""The account folders as Drive shows them: trashed or deleted ones are marked lost."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.store.models import AccountRow

# Which folder: the client folder, or its Contracts folder (the account's columns).
COLUMNS = {
    "folder": (AccountRow.folder_id, AccountRow.folder_lost_at),
    "contracts_folder": (AccountRow.contracts_folder_id, AccountRow.contracts_lost_at),
}


def account_folders(session: Session) -> dict[str, tuple[str, str]]:
    """Return every account folder id the service keeps: id -> (account key, which)."""
    found: dict[str, tuple[str, str]] = {}
    rows = session.execute(
        select(AccountRow.key, AccountRow.folder_id, AccountRow.contracts_folder_id)
    )
    for key, folder_id, contracts_id in rows:
        if folder_id:
            found[str(folder_id)] = (key, "folder")
        if contracts_id:
            found[str(contracts_id)] = (key, "contracts_folder")
    return found


def mark_folder(session: Session, key: str, which: str, *, lost: bool, now: datetime) -> bool:
    """Mark the folder lost (trashed, deleted) or there again; True when that changed it.

    The Contracts folder inside a client folder goes to the trash, and comes back, with it.
    """
    _, lost_at = COLUMNS[which]
    values = {lost_at.key: now if lost else None}
    if which == "folder":
        values[AccountRow.contracts_lost_at.key] = now if lost else None
    unchanged = lost_at.is_not(None) if lost else lost_at.is_(None)
    result = session.execute(
        update(AccountRow)
        .where(AccountRow.key == key, ~unchanged)
        .values(values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def replace_lost_folder(session: Session, key: str, which: str, new_id: str) -> str:
    """Put new_id in place of a lost folder's id unless another handover did first; return
    the id now kept (two handovers of the client at once agree on one new folder)."""
    column, lost_at = COLUMNS[which]
    session.execute(
        update(AccountRow)
        .where(AccountRow.key == key, lost_at.is_not(None))
        .values({column.key: new_id, lost_at.key: None})
        .execution_options(synchronize_session=False)
    )
    kept = session.scalar(select(column).where(AccountRow.key == key))
    return str(kept)
