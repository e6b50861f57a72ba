"""The Mail ledger on the database: the Gmail adapter's drafts, keyed by email key."""

from __future__ import annotations

from sqlalchemy import update

from integrations.ports import StoredDraft
from service.store.db import Database, dialect_insert
from service.store.mail_models import MailDraftRow
from service.store.models import utcnow


def _stored(row: MailDraftRow) -> StoredDraft:
    return StoredDraft(row.draft_id, row.message_id, row.sent_at is not None, row.sent_id)


class DatabaseMailLedger:
    """Implements `MailLedger`: one row per key; the first draft recorded wins, and the
    first word on its send (a worker that found the draft gone later changes nothing)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def draft_of(self, key: str) -> StoredDraft | None:
        with self._db.transaction() as session:
            row = session.get(MailDraftRow, key)
            return _stored(row) if row is not None else None

    def keep_draft(self, key: str, draft_id: str, message_id: str) -> StoredDraft:
        with self._db.transaction() as session:
            insert = dialect_insert(session)
            session.execute(
                insert(MailDraftRow)
                .values(key=key, draft_id=draft_id, message_id=message_id, created_at=utcnow())
                .on_conflict_do_nothing(index_elements=["key"])
            )
            row = session.get(MailDraftRow, key, populate_existing=True)
            assert row is not None
            return _stored(row)

    def mark_sent(self, key: str, sent_id: str | None) -> None:
        with self._db.transaction() as session:
            session.execute(
                update(MailDraftRow)
                .where(MailDraftRow.key == key, MailDraftRow.sent_at.is_(None))
                .values(sent_id=sent_id, sent_at=utcnow())
            )
