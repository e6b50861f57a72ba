"""The contract review tables; migration 0002 creates them, keep both in step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from service.store.models import Base, utcnow


class ReviewRow(Base):
    """One review round of a contract draft: unique per Drive file and revision."""

    __tablename__ = "contract_reviews"
    __table_args__ = (UniqueConstraint("file_id", "revision", name="uq_contract_reviews_file"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    file_id: Mapped[str] = mapped_column(String(200))
    revision: Mapped[int] = mapped_column(Integer)
    version: Mapped[str] = mapped_column(String(200), default="")
    name: Mapped[str] = mapped_column(String(500))
    mime_type: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(32))
    web_url: Mapped[str] = mapped_column(String(2000), default="")
    folder_id: Mapped[str] = mapped_column(String(200))
    account_key: Mapped[str | None] = mapped_column(ForeignKey("accounts.key"))
    state: Mapped[str] = mapped_column(String(24))
    can_start_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    approval_id: Mapped[str | None] = mapped_column(String(200))
    client_name: Mapped[str] = mapped_column(String(200), default="")
    project_name: Mapped[str] = mapped_column(String(200), default="")
    pm_email: Mapped[str | None] = mapped_column(String(254))
    pm_name: Mapped[str] = mapped_column(String(200), default="")
    pm_timezone: Mapped[str] = mapped_column(String(64), default="")
    pm_country: Mapped[str] = mapped_column(String(8), default="")
    am_email: Mapped[str | None] = mapped_column(String(254))
    am_name: Mapped[str] = mapped_column(String(200), default="")
    arrived_at: Mapped[datetime] = mapped_column(default=utcnow)
    routed_at: Mapped[datetime | None] = mapped_column()
    deadline: Mapped[datetime | None] = mapped_column()
    route_lease_until: Mapped[datetime | None] = mapped_column()
    route_queued_at: Mapped[datetime | None] = mapped_column()  # a sync last queued it
    route_error: Mapped[str | None] = mapped_column(Text)
    notified_at: Mapped[datetime | None] = mapped_column()
    chat_posted_at: Mapped[datetime | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column()
    decided_by: Mapped[str | None] = mapped_column(String(254))
    comment: Mapped[str] = mapped_column(Text, default="")
    reminded_at: Mapped[datetime | None] = mapped_column()
    flagged_external_at: Mapped[datetime | None] = mapped_column()
    external_recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    external_alerted_at: Mapped[datetime | None] = mapped_column()
    # Who put the draft there (Drive's lastModifyingUser, or the person who uploaded it in
    # the service); None when nobody could say. Told of the decision if of the agency.
    uploaded_by: Mapped[str | None] = mapped_column(String(254))
    uploaded_by_name: Mapped[str | None] = mapped_column(String(200))
    decision_told_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


Index("ix_contract_reviews_state", ReviewRow.state)
Index("ix_contract_reviews_file", ReviewRow.file_id)
Index("ix_contract_reviews_flagged", ReviewRow.flagged_external_at)
# The nav badge's count of a PM's open reviews, and how many are overdue (migration 0013).
Index("ix_contract_reviews_due", ReviewRow.state, ReviewRow.pm_email, ReviewRow.deadline)
Index("ix_contract_reviews_untold", ReviewRow.decision_told_at, ReviewRow.decided_at)


class SeenFileRow(Base):
    """A Drive file as last seen in (or once in) a watched folder, and as last evaluated.

    `parents` and the rest are the newest sighting; the `known_*` columns are what the
    arrival rule compared against last time (None: never evaluated).
    """

    __tablename__ = "drive_seen_files"

    file_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str] = mapped_column(String(500), default="")
    mime_type: Mapped[str] = mapped_column(String(200), default="")
    parents: Mapped[list[str]] = mapped_column(JSON, default=list)
    version: Mapped[str] = mapped_column(String(200), default="")
    web_url: Mapped[str] = mapped_column(String(2000), default="")
    can_start_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    shared_with: Mapped[list[str]] = mapped_column(JSON, default=list)
    # False when Drive would not say who the file is shared with (the service user may not
    # share it): the review page shows sharing as unknown, never as "not shared".
    sharing_known: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    modified_time: Mapped[datetime | None] = mapped_column()
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    pending: Mapped[bool] = mapped_column(Boolean, default=True)
    known_name: Mapped[str | None] = mapped_column(String(500))
    known_mime_type: Mapped[str | None] = mapped_column(String(200))
    known_parents: Mapped[list[str] | None] = mapped_column(JSON)
    evaluated_at: Mapped[datetime | None] = mapped_column()
    modified_by: Mapped[str | None] = mapped_column(String(254))  # as the feed last said
    modified_by_name: Mapped[str | None] = mapped_column(String(200))
    # The top-level folder the file lies under, when the feed says (the local backend): a
    # draft under a folder no account has is listed for Operations, as the intake's are.
    top_folder: Mapped[str | None] = mapped_column(String(200))


Index("ix_drive_seen_files_pending", SeenFileRow.pending)


class DriveSyncRow(Base):
    """Where the change feed was read up to: the page token, and a serial to compare-and-set."""

    __tablename__ = "drive_sync_state"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    page_token: Mapped[str] = mapped_column(String(500))
    serial: Mapped[int] = mapped_column(Integer, default=0)
    synced_at: Mapped[datetime] = mapped_column(default=utcnow)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DraftUploadRow(Base):
    """A draft upload from the browser, by the form's key: the Drive id reserved for it is
    stored before the upload, so a double submit (two requests at once) makes one file."""

    __tablename__ = "draft_uploads"

    upload_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    file_id: Mapped[str | None] = mapped_column(String(200))
    uploaded_by: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
