"""Upload a contract draft from the browser into a client's Contracts folder.

The file is written through the Drive port (carrying who uploaded it and the form's
upload key; on Google with a Drive id reserved and stored under that key first, so two
submits at once make one file), then the change feed is read as
for any draft dropped there: the review opens on that one path, keyed by the file, and a
later sync or push notification that sees the same file opens nothing more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from integrations.ports import (
    UPLOAD_KEY,
    UPLOADED_BY,
    UPLOADED_BY_NAME,
    Drive,
    DriveIds,
    UploadsFiles,
)
from service.domain import draft_upload as rules
from service.domain.access import EVERYWHERE, named_on
from service.store import reviews as repo
from service.store.db import Database
from service.store.models import AccountRow, HandoverRow


@dataclass(frozen=True)
class Uploaded:
    """What an upload made: the file, and its review once the feed has shown it."""

    file_id: str
    name: str
    review_id: str | None


@dataclass(frozen=True)
class Uploader:
    """Who is uploading: the accounts they may upload to (key, client name), and their
    name as the handovers give it ("" when none does)."""

    accounts: list[tuple[str, str]]
    name: str


def uploader(db: Database, email: str, role: str) -> Uploader:
    """Return the accounts this person may upload a draft to (every account with a
    Contracts folder for Operations and admins; for the others, those whose running
    projects name them as Sales, AM or PM) and their name."""
    me = email.strip().lower()
    with db.transaction() as session:
        accounts = {
            k: n
            for k, n in session.execute(
                select(AccountRow.key, AccountRow.client_name).where(
                    AccountRow.contracts_folder_id.is_not(None),
                    AccountRow.contracts_lost_at.is_(None),
                )
            )
        }
        rows = session.execute(
            select(HandoverRow.account_key, HandoverRow.payload).where(
                HandoverRow.cancelled_at.is_(None),
                HandoverRow.account_pending_since.is_(None),
            )
        )
        mine, name = set(), ""
        for key, payload in rows:
            if any(me in people for people in named_on(payload).values()):
                mine.add(key)
                name = name or _name_in(payload, me)
    if role in EVERYWHERE:
        mine = set(accounts)
    listed = sorted(
        ((k, n) for k, n in accounts.items() if k in mine), key=lambda kv: kv[1].lower()
    )
    return Uploader(listed, name)


def _name_in(payload: dict[str, Any], email: str) -> str:
    """Return the name the handover gives the person with this email, if any."""
    people = [payload.get("account_manager"), payload.get("project_manager")]
    people += list(payload.get("sales") or [])
    for person in people:
        if isinstance(person, dict) and str(person.get("email", "")).lower() == email:
            return str(person.get("name", ""))
    return ""


def upload_draft(
    account_key: str,
    file_name: str,
    data: bytes,
    *,
    uploader_email: str,
    uploader_name: str,
    upload_key: str,
    allowed: list[tuple[str, str]],
    db: Database,
    drive: Drive,
    sync: Callable[[], object],
) -> Uploaded:
    """Check the upload, store it in the account's Contracts folder and read the change
    feed so that its review opens now; raise InvalidUpload naming each bad field."""
    known = account_key in dict(allowed)
    draft = rules.check_upload(file_name, len(data), account_known=known)
    with db.transaction() as session:
        account = session.get(AccountRow, account_key)
        folder = account.contracts_folder_id if account is not None else None
    if folder is None:
        raise rules.InvalidUpload({"account": "this account has no Contracts folder yet"})
    if not isinstance(drive, UploadsFiles):
        raise rules.InvalidUpload({"file": "cannot be stored: this Drive does not take uploads"})
    # One person's key (another's form cannot name their upload) and one file's: the same
    # form sent again with another file (back, choose, send) is another upload.
    me = uploader_email.strip().lower()
    who, what = (hashlib.sha256(v).hexdigest()[:16] for v in (me.encode(), data))
    key = f"{who}:{what}:{upload_key[:64]}"
    reserved = drive.new_id() if isinstance(drive, DriveIds) else None
    with db.transaction() as session:
        claimed = repo.claim_upload(session, key, file_id=reserved, uploaded_by=me)
        file_id = claimed.file_id
    properties = {
        UPLOAD_KEY: _fit(UPLOAD_KEY, key),
        UPLOADED_BY: _fit(UPLOADED_BY, me),
        UPLOADED_BY_NAME: _fit(UPLOADED_BY_NAME, uploader_name),
    }
    stored = drive.upload(
        draft.name,
        data,
        mime_type=draft.mime_type,
        parent_id=folder,
        properties=properties,
        file_id=file_id,
    )
    sync()
    with db.transaction() as session:
        review = repo.latest_review(session, stored.id)
        review_id = review.id if review is not None else None
    return Uploaded(stored.id, stored.name, review_id)


def _fit(key: str, value: str) -> str:
    """Return the value cut so that key and value fit Drive's 124 bytes per property."""
    room = 124 - len(key.encode("utf-8"))
    return value.encode("utf-8")[:room].decode("utf-8", "ignore")
