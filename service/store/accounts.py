"""The account folders as Drive shows them: trashed or deleted ones are marked lost."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.store.models import AccountRow, ArtifactRow, HandoverRow

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


def reserve_folder(session: Session, key: str, which: str, new_id: str) -> str:
    """Store new_id as the account's folder unless one is stored; return the one stored
    (ids are kept before the folder is made, so a repeat makes the same one)."""
    column, _ = COLUMNS[which]
    session.execute(
        update(AccountRow)
        .where(AccountRow.key == key, column.is_(None))
        .values({column.key: new_id})
        .execution_options(synchronize_session=False)
    )
    return str(session.scalar(select(column).where(AccountRow.key == key)))


def recorded_folders(session: Session, key: str) -> dict[str, tuple[str, str]] | None:
    """Return the account's two folders (which -> id, url) if an earlier handover made and
    recorded them and neither is lost; None otherwise. LookupError: no such account."""
    account = session.get(AccountRow, key)
    if account is None:
        raise LookupError(key)
    ids = {"folder": account.folder_id, "contracts_folder": account.contracts_folder_id}
    if None in ids.values() or account.folder_lost_at or account.contracts_lost_at:
        return None
    rows = session.execute(
        select(ArtifactRow.kind, ArtifactRow.external_id, ArtifactRow.url)
        .join(HandoverRow, HandoverRow.id == ArtifactRow.handover_id)
        .where(HandoverRow.account_key == key, ArtifactRow.kind.in_(list(ids)))
    )
    found = {kind: (file_id, url) for kind, file_id, url in rows if ids[kind] == file_id}
    return found if len(found) == 2 else None


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
