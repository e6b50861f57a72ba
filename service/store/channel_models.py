"""The `drive_channels` table: Drive push channels the service opened, and their secrets."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from service.store.models import Base, utcnow


class DriveChannelRow(Base):
    """One push channel on the change feed; live while `stopped_at` is empty.

    `resource_id` is empty between storing the channel and Drive's answer to the watch:
    Drive's first (`sync`) notification may arrive before that answer.
    """

    __tablename__ = "drive_channels"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(256))  # secret: proves a notification is Drive's
    resource_id: Mapped[str | None] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column()
    # Which change log it watches: "" the service user's, "drive:<id>" a shared drive's.
    feed: Mapped[str] = mapped_column(String(64), default="", server_default="")
