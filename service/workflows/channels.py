"""Drive push channels: open one, renew them before they expire, verify what they post.

A channel is stored before Drive is asked to open it, because Drive's first notification
(`sync`) can arrive before its answer to the watch; until that answer the token alone
proves a notification. Renewal opens the new channel before stopping the old one, so
there is never a moment without a channel (a duplicate notification is harmless: the
sync job is keyed).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from integrations.ports import ChangeFeed, Channel, ChannelUnconfirmed, SharedDriveFeeds
from service.store import channels as repo
from service.store import reviews as reviews_repo
from service.store.db import Database
from service.store.reviews import FEED

log = logging.getLogger(__name__)

HOOK_PATH = "/hooks/drive"
USER_FEED = ""  # the channel feed name of the user's own change log
TTL = timedelta(days=7)  # what we ask for; Drive's answer is what we keep
OPEN_ATTEMPTS = 3  # channels opened before giving up, when watch answers keep getting lost
RENEW_WITHIN = timedelta(days=1)
# A channel still without a resource id after this long was never opened (a crash or a
# failure between storing it and Drive's answer): it covers nothing.
PENDING_GRACE = timedelta(minutes=10)
UNKNOWN = datetime.min.replace(tzinfo=UTC)  # the expiry of a channel we only know by id


@dataclass(frozen=True)
class _Live:
    id: str
    resource_id: str | None
    expires_at: datetime
    created_at: datetime
    feed: str = USER_FEED


def hook_address(public_base_url: str) -> str:
    """Return the address Drive posts notifications to."""
    return public_base_url.rstrip("/") + HOOK_PATH


def open_channel(
    *,
    db: Database,
    feed: ChangeFeed,
    address: str,
    now: datetime,
    start_token: str | None = None,
    name: str = USER_FEED,
) -> Channel:
    """Open a push channel on the change feed and remember its id and secret token.

    `name` says which change log it is: "" the user's, "drive:<id>" a shared drive's.
    A watch whose answer was lost (ChannelUnconfirmed) is given up, and a channel with a
    new id opened instead; the lost one is refused and stopped when it first posts.
    """
    start_token = start_token or feed.start_token()
    for _ in range(OPEN_ATTEMPTS - 1):
        try:
            return _open(
                db=db, feed=feed, address=address, now=now, start_token=start_token, name=name
            )
        except ChannelUnconfirmed as exc:
            log.warning("drive channel not confirmed, opening another: %s", exc)
    return _open(db=db, feed=feed, address=address, now=now, start_token=start_token, name=name)


def _open(
    *, db: Database, feed: ChangeFeed, address: str, now: datetime, start_token: str, name: str
) -> Channel:
    channel_id = uuid.uuid4().hex
    token = secrets.token_urlsafe(32)
    with db.transaction() as session:
        repo.add_channel(
            session,
            channel_id=channel_id,
            token=token,
            expires_at=now + TTL,
            created_at=now,
            feed=name,
        )
        # The sync reads on from where the channel starts watching, unless it reads from
        # somewhere already: a first sync would otherwise take its token after the change
        # that woke it, and that change (the first draft) would never be seen.
        reviews_repo.init_sync_state(session, start_token, now=now, name=name or FEED)
    try:
        channel = feed.watch(
            channel_id=channel_id, token=token, address=address, start_token=start_token
        )
    except Exception:
        with db.transaction() as session:
            repo.mark_stopped(session, channel_id, now)
        raise
    with db.transaction() as session:
        repo.record_opened(
            session, channel_id, resource_id=channel.resource_id, expires_at=channel.expires_at
        )
    log.info("drive channel %s open until %s", channel.id, channel.expires_at.isoformat())
    return channel


def ensure_channel(*, db: Database, feed: ChangeFeed, address: str, now: datetime) -> bool:
    """Open a channel on each change log read (the user's, each shared drive's) unless a
    live one is there already; return True if one was opened."""
    opened = False
    live = _live(db)
    for name, one in _feeds(db, feed).items():
        if any(c.feed == name and not _due(c, now, timedelta(0)) for c in live):
            continue
        open_channel(db=db, feed=one, address=address, now=now, name=name)
        opened = True
    return opened


def _feeds(db: Database, feed: ChangeFeed) -> dict[str, ChangeFeed]:
    """Return every change log the sync reads, by channel feed name."""
    feeds: dict[str, ChangeFeed] = {USER_FEED: feed}
    if isinstance(feed, SharedDriveFeeds):
        with db.transaction() as session:
            drives = reviews_repo.shared_drive_feeds(session)
        feeds.update({name: feed.for_drive(drive) for name, drive in drives.items()})
    return feeds


def renew_channels(
    now: datetime,
    *,
    db: Database,
    feed: ChangeFeed,
    address: str,
    within: timedelta = RENEW_WITHIN,
) -> list[Channel]:
    """Replace the channels expiring within `within`: open the new one, then stop the old.
    With no live channel at all (a new deployment, or one that lapsed), open one: nobody
    has to run `handover watch-drive`."""
    live = _live(db)
    opened = []
    expiring = [c for c in live if _due(c, now, within)]
    for name, one in _feeds(db, feed).items():
        mine = [c for c in live if c.feed == name]
        if not mine or all(c in expiring for c in mine):  # nothing carries on after these
            opened.append(open_channel(db=db, feed=one, address=address, now=now, name=name))
    for old in expiring:
        if old.resource_id is not None:
            _stop_quietly(feed, old.id, old.resource_id)
        with db.transaction() as session:
            repo.mark_stopped(session, old.id, now)
    return opened


def verify_notification(
    channel_id: str, token: str, resource_id: str, *, db: Database, feed: ChangeFeed
) -> bool:
    """Return True when a notification comes from a live channel of ours.

    Anyone can post here, so only a channel this service opened, proven by its secret
    token, makes it call Google: one of ours stopped since (renewed, or its watch's answer
    lost) is stopped at Drive, best-effort. A channel unknown here is refused and left
    alone, never stopped on a stranger's word.
    """
    if not channel_id:
        return False
    with db.transaction() as session:
        row = repo.get_channel(session, channel_id)
        if row is None:
            return False
        live = row.stopped_at is None
        want_token, want_resource = row.token, row.resource_id
    if not hmac.compare_digest(want_token.encode(), token.encode()):
        return False
    if not live:
        if resource_id and want_resource in (None, resource_id):
            _stop_quietly(feed, channel_id, resource_id)
        return False
    if want_resource is None:  # Drive's answer to the watch is not stored yet
        return True
    return hmac.compare_digest(want_resource.encode(), resource_id.encode())


def _live(db: Database) -> list[_Live]:
    with db.transaction() as session:
        return [
            _Live(row.id, row.resource_id, row.expires_at, row.created_at, row.feed or "")
            for row in repo.live_channels(session)
        ]


def _due(channel: _Live, now: datetime, within: timedelta) -> bool:
    if channel.resource_id is None:
        return channel.created_at <= now - PENDING_GRACE
    return channel.expires_at <= now + within


def _stop_quietly(feed: ChangeFeed, channel_id: str, resource_id: str) -> None:
    # Best-effort: a channel left running only posts notifications we refuse, until it
    # expires; failing the renewal or the hook for it would help nobody.
    try:
        feed.stop(Channel(channel_id, "", resource_id, UNKNOWN))
    except Exception:
        log.warning("could not stop drive channel %s", channel_id, exc_info=True)
