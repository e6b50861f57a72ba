"""The `mail_drafts` table: each email's Gmail draft, recorded between create and send."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from service.store.models import Base, utcnow


class MailDraftRow(Base):
    """One email key's draft: made, recorded here, then sent (`sent_at` set).

    `key` is a hash of the email's idempotency key (hex; see `key_hash`), so long keys fit.
    """

    __tablename__ = "mail_drafts"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    draft_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))  # the draft's message, not the sent one
    sent_id: Mapped[str | None] = mapped_column(String(64))  # None: unknown (answer lost)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()
