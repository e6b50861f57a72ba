"""Reading and writing the Drive push channels the service opened."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.store.channel_models import DriveChannelRow


def add_channel(
    session: Session,
    *,
    channel_id: str,
    token: str,
    expires_at: datetime,
    created_at: datetime,
    feed: str = "",
) -> DriveChannelRow:
    """Store a channel about to be opened (its resource id comes with Drive's answer);
    `feed` names the change log it watches ("" the user's, "drive:<id>" a shared drive's)."""
    row = DriveChannelRow(
        id=channel_id, token=token, expires_at=expires_at, created_at=created_at, feed=feed
    )
    session.add(row)
    session.flush()
    return row


def record_opened(
    session: Session, channel_id: str, *, resource_id: str, expires_at: datetime
) -> None:
    """Keep what Drive answered to the watch: the resource id and the real expiry."""
    session.execute(
        update(DriveChannelRow)
        .where(DriveChannelRow.id == channel_id)
        .values(resource_id=resource_id, expires_at=expires_at)
    )


def get_channel(session: Session, channel_id: str) -> DriveChannelRow | None:
    """Return the channel with this id, live or stopped."""
    return session.get(DriveChannelRow, channel_id)


def live_channels(session: Session) -> list[DriveChannelRow]:
    """Return the channels not stopped, the soonest to expire first."""
    query = (
        select(DriveChannelRow)
        .where(DriveChannelRow.stopped_at.is_(None))
        .order_by(DriveChannelRow.expires_at, DriveChannelRow.id)
    )
    return list(session.scalars(query))


def mark_stopped(session: Session, channel_id: str, at: datetime) -> None:
    """Record that the channel is no longer ours to listen to."""
    session.execute(
        update(DriveChannelRow)
        .where(DriveChannelRow.id == channel_id, DriveChannelRow.stopped_at.is_(None))
        .values(stopped_at=at)
    )
