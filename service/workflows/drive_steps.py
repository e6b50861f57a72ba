"""The kickoff steps on a Drive that reserves file ids (Google): each effect once, few round trips.

A file's id is stored before the call that makes it, so a repeated call (a retry, a crash)
is refused by Drive instead of making a second file, and nothing is looked up first: the
account's folder ids live on its row (set once by compare-and-set, so two handovers of a
new client make one folder), the brief's in the handover's `planned_ids` artifact. Only an
account with no id stored yet is looked up once, by appProperties: its folders may be
older than this database. A folder recorded by an earlier handover is used as recorded.

Work that needs only what is known early starts early, on a helper thread: the brief is
written while the Contracts folder is made, the email goes out while the files are shared.
It is recorded exactly as its own step records it, so that step finds it done; a failure is
only logged, and the step it belongs to does the work again and reports its own failure.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from integrations.ports import FOLDER_MIME, DriveFile, DriveIds, Grant, SharesFiles
from service.domain.model import Handover, account_key
from service.store import accounts
from service.store import handovers as repo
from service.store.db import Database
from service.store.models import AccountRow
from service.workflows.context import StepContext, StepFailed

log = logging.getLogger(__name__)

_helpers: ThreadPoolExecutor | None = None
_helpers_lock = threading.Lock()


def guarded(work: Callable[[], None], what: str, handover_id: str) -> Callable[[], None]:
    """Return work that logs its failure instead of raising it (its own step will redo it)."""

    def run() -> None:
        try:
            work()
        except Exception:
            log.warning(
                "%s ahead of its step failed; that step will do it",
                what,
                exc_info=True,
                extra={"handover_id": handover_id},
            )

    return run


def aside(work: Callable[[], None]) -> Future[None]:
    """Run work on a helper thread; the caller waits for it before its step ends."""
    global _helpers
    with _helpers_lock:
        if _helpers is None:
            # Kept for the process: each helper thread makes its API clients once (they
            # are per thread, httplib2 being unsafe across threads).
            _helpers = ThreadPoolExecutor(max_workers=4, thread_name_prefix="kickoff-ahead")
        return _helpers.submit(work)


def digest(*parts: str) -> str:
    """Return a fingerprint of what a file was written from."""
    return hashlib.sha256("\0".join(parts).encode("utf-8")).hexdigest()


def planned_id(db: Database, handover_id: str, name: str, drive: DriveIds) -> str:
    """Return the id reserved for this handover's file `name`, reserving and storing it once."""
    with db.transaction() as session:
        row = repo.artifact(session, handover_id, "planned_ids")
        if row is not None and name in row.data:
            return str(row.data[name])
    fresh = drive.new_id()
    with db.transaction() as session:
        row = repo.artifact(session, handover_id, "planned_ids")
        data = dict(row.data) if row is not None else {}
        data.setdefault(name, fresh)
        repo.put_artifact(session, handover_id, "planned_ids", external_id="-", data=data)
    return str(data[name])


# --- client_folder ------------------------------------------------------------------


def _recorded_folders(db: Database, key: str) -> dict[str, DriveFile] | None:
    """Return the account's two folders if an earlier handover recorded them made."""
    with db.transaction() as session:
        try:
            recorded = accounts.recorded_folders(session, key)
        except LookupError:
            raise StepFailed(f"the account {key} is missing") from None
    if recorded is None:
        return None
    return {
        kind: DriveFile(id=file_id, name="", url=url, mime_type=FOLDER_MIME)
        for kind, (file_id, url) in recorded.items()
    }


def _reserve_folders(
    ctx: StepContext, db: Database, drive: DriveIds, key: str
) -> tuple[str, str, dict[str, DriveFile]]:
    """Return the ids of the account's folders, stored before they are made, and those found.

    Only an account with no id stored looks first: its folders may exist from before this
    database (or from a version that did not store ids first). So does one whose folder
    Drive showed trashed or deleted (lost): a folder of the account's that is not in the
    trash is taken, else a new one is made; the Contracts folder of a lost client folder is
    lost with it.
    """
    with db.transaction() as session:
        account = session.get(AccountRow, key)
        assert account is not None
        folder_id, contracts_id = account.folder_id, account.contracts_folder_id
        folder_lost = account.folder_lost_at is not None
        contracts_lost = folder_lost or account.contracts_lost_at is not None
    found: dict[str, DriveFile] = {}
    if folder_id is None or folder_lost:
        item = ctx.drive.find({"accountKey": key, "kind": "client_folder"})
        folder_id = _keep(db, key, "folder", item.id if item else drive.new_id(), folder_lost)
        if item is not None and item.id == folder_id:
            found["folder"] = item
    if contracts_id is None or contracts_lost:
        look = "folder" in found
        item = ctx.drive.find({"accountKey": key, "kind": "contracts_folder"}) if look else None
        new = item.id if item else drive.new_id()
        contracts_id = _keep(db, key, "contracts_folder", new, contracts_lost)
        if item is not None and item.id == contracts_id:
            found["contracts_folder"] = item
    return folder_id, contracts_id, found


def _keep(db: Database, key: str, which: str, new_id: str, lost: bool) -> str:
    """Store new_id as the account's folder (in place of a lost one); return the one kept."""
    with db.transaction() as session:
        if lost:
            return accounts.replace_lost_folder(session, key, which, new_id)
        return accounts.reserve_folder(session, key, which, new_id)


def client_folder(
    handover_id: str,
    h: Handover,
    ctx: StepContext,
    db: Database,
    drive: DriveIds,
    *,
    early_brief: Callable[[str, str], None] | None,
) -> None:
    """Make the account's folder and Contracts subfolder once, the brief alongside."""
    key = account_key(h.client)
    recorded = _recorded_folders(db, key)
    if recorded is not None:  # an earlier handover made and recorded them: nothing to call
        folder, contracts, fresh = recorded["folder"], recorded["contracts_folder"], False
    else:
        folder, contracts, fresh = _make_folders(handover_id, h, ctx, db, drive, early_brief)
    with db.transaction() as session:
        account = session.get(AccountRow, key)
        assert account is not None
        account.folder_id, account.contracts_folder_id = folder.id, contracts.id
        repo.put_artifact(
            session,
            handover_id,
            "folder",
            external_id=folder.id,
            url=folder.url,
            data={"fresh": fresh},
        )
        repo.put_artifact(
            session, handover_id, "contracts_folder", external_id=contracts.id, url=contracts.url
        )


def _make_folders(
    handover_id: str,
    h: Handover,
    ctx: StepContext,
    db: Database,
    drive: DriveIds,
    early_brief: Callable[[str, str], None] | None,
) -> tuple[DriveFile, DriveFile, bool]:
    """Make both folders with their stored ids; write the brief while Contracts is made."""
    key = account_key(h.client)
    folder_id, contracts_id, found = _reserve_folders(ctx, db, drive, key)
    folder, fresh = found.get("folder"), False
    if folder is None:
        made = drive.create_folder(
            h.client.name,
            file_id=folder_id,
            parent_id=ctx.clients_folder_id,
            properties={"accountKey": key, "kind": "client_folder"},
        )
        folder, fresh = made.file, made.new
    ahead = None
    if early_brief is not None:  # it needs the two ids only, not the Contracts folder itself
        args = (folder.id, drive.address(contracts_id, FOLDER_MIME))
        ahead = aside(guarded(lambda: early_brief(*args), "brief", handover_id))
    try:
        contracts = (
            found.get("contracts_folder")
            or drive.create_folder(
                "Contracts",
                file_id=contracts_id,
                parent_id=folder.id,
                properties={"accountKey": key, "kind": "contracts_folder"},
            ).file
        )
    finally:
        if ahead is not None:
            ahead.result()
    return folder, contracts, fresh


# --- project_brief ------------------------------------------------------------------


def write_brief(
    handover_id: str,
    h: Handover,
    ctx: StepContext,
    db: Database,
    drive: DriveIds,
    *,
    folder_id: str,
    contracts_url: str,
    plan: Mapping[str, Any] | None = None,
) -> None:
    """Write the brief with its stored id, or into the recorded one; skip it if unchanged."""
    name = f"Project Brief - {h.project.name}"
    html = ctx.renderer.brief(
        h,
        links={"contracts_folder": contracts_url},
        plan=plan,
        agency_timezone=ctx.settings.agency_timezone,
    )
    sha = digest(name, html)
    with db.transaction() as session:
        row = repo.artifact(session, handover_id, "brief")
        existing = (row.external_id, dict(row.data)) if row is not None else None
    if existing is not None and existing[1].get("sha") == sha:
        return  # written from this very content already (ahead, or by a run that crashed)
    props = {"handoverId": handover_id, "kind": "project_brief"}
    if existing is not None:
        doc = ctx.drive.write_document(
            name, html, parent_id=folder_id, properties=props, existing_id=existing[0]
        )
    else:
        brief_id = planned_id(db, handover_id, "brief", drive)
        doc = drive.create_document(
            name, html, file_id=brief_id, parent_id=folder_id, properties=props
        ).file
    record_brief(db, handover_id, doc, {"sha": sha}, previous=existing[0] if existing else None)


def record_brief(
    db: Database,
    handover_id: str,
    doc: DriveFile,
    data: Mapping[str, object],
    *,
    previous: str | None,
) -> None:
    """Record the brief; a document recorded for the first time was shared with nobody yet."""
    with db.transaction() as session:
        repo.put_artifact(
            session,
            handover_id,
            "brief",
            external_id=doc.id,
            url=doc.url,
            data={**data, "fresh": doc.id != previous},
        )


# --- share_brief --------------------------------------------------------------------


def share_brief(
    handover_id: str,
    ctx: StepContext,
    db: Database,
    drive: SharesFiles,
    *,
    folder_grants: Sequence[Grant],
    brief_grants: Sequence[Grant],
    early_email: Callable[[], None],
) -> None:
    """Share the folder and the brief side by side while the email goes out."""
    with db.transaction() as session:
        folder = repo.artifact(session, handover_id, "folder")
        brief = repo.artifact(session, handover_id, "brief")
        if folder is None or brief is None:
            raise StepFailed("the folder or the brief is missing: run the earlier steps first")
        shares = {folder.external_id: folder_grants, brief.external_id: brief_grants}
        new_files = [a.external_id for a in (folder, brief) if a.data.get("fresh")]
        for row in (folder, brief):  # used up before any call: a retry lists permissions
            row.data = {**row.data, "fresh": False}
    ahead = aside(guarded(early_email, "email", handover_id))
    try:
        drive.share_files(
            {f: g for f, g in shares.items() if g}, notify=ctx.share_notify, new_files=new_files
        )
    finally:
        ahead.result()
