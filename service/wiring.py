"""Builds the outside world's adapters from the settings: local or Google."""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from integrations.local.calendar import LocalCalendar
from integrations.local.drive import LocalDrive
from integrations.local.mail import LocalMail
from integrations.ports import Approvals, Calendar, ChangeFeed, Chat, Drive, Mail, Tasks
from service.config import Settings, SettingsError
from service.domain.contracts import ReviewPolicy
from service.rendering import Renderer
from service.store.db import Database
from service.store.mail_drafts import DatabaseMailLedger
from service.workflows.account_items import RhythmContext
from service.workflows.context import StepContext
from service.workflows.review_routing import ReviewContext

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Services:
    """Everything the views, jobs and CLI use; kept in `app.extensions["handover"]`."""

    settings: Settings
    db: Database
    drive: Drive
    mail: Mail
    calendar: Calendar
    renderer: Renderer
    tasks: Tasks = field(init=False)
    clock: Any = utcnow
    closers: list[Callable[[], None]] = field(default_factory=list)
    change_feed: ChangeFeed = field(init=False)
    approvals: Approvals | None = None
    chat: Chat | None = None
    review_policy: ReviewPolicy = field(default_factory=ReviewPolicy)

    def close(self) -> None:
        """Stop the queue and close connections (tests and shutdown)."""
        self.tasks.close()  # type: ignore[attr-defined]
        for closer in self.closers:
            closer()
        self.db.engine.dispose()

    @property
    def steps(self) -> StepContext:
        return StepContext(
            drive=self.drive,
            mail=self.mail,
            renderer=self.renderer,
            public_base_url=self.settings.public_base_url,
            clients_folder_id=self.settings.drive_clients_folder,
            share_notify=self.settings.share_notify,
            calendar=self.calendar,
            settings=self.settings,
            clock=self.clock,
            change_feed=self.change_feed,
        )

    @property
    def rhythm(self) -> RhythmContext:
        """Return what the account rhythm needs (see workflows/account_items.py)."""
        return RhythmContext(
            db=self.db,
            mail=self.mail,
            renderer=self.renderer,
            drive=self.drive,
            calendar=self.calendar,
            settings=self.settings,
            clock=lambda: self.clock(),
        )

    @property
    def reviews(self) -> ReviewContext:
        """Return what contract review routing needs (see workflows/review_routing.py)."""
        return ReviewContext(
            drive=self.drive,
            mail=self.mail,
            renderer=self.renderer,
            public_base_url=self.settings.public_base_url,
            agency_timezone=self.settings.agency_timezone,
            business_country=self.settings.business_country,
            approvals=self.approvals,
            chat=self.chat,
            policy=self.review_policy,
        )


@dataclass
class Workspace:
    """The adapters of one backend and how to close them."""

    drive: Drive
    mail: Mail
    calendar: Calendar
    close: Callable[[], None]
    change_feed: ChangeFeed
    approvals: Approvals | None
    chat: Chat


def feed_secret(settings: Settings) -> str:
    """Return the key of the calendar feeds' secret addresses: random, made once per install
    (`WORKSPACE_DIR/.feed-secret`, readable by this user only), never a default value
    anyone could compute the addresses from."""
    path = settings.workspace_dir / ".feed-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fresh = path.with_name(f".feed-secret.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(fresh, path)  # the first process wins; the others read its secret
        except FileExistsError:
            pass
        finally:
            fresh.unlink()
    secret = path.read_text().strip()
    if len(secret) < 32:
        raise SettingsError(f"{path} holds no usable secret: delete it to make a new one")
    return secret


def build_workspace(settings: Settings, db: Database) -> Workspace:
    """Return the adapters of the configured backend: Drive, Mail, Calendar, change feed.

    `db` keeps the Gmail adapter's drafts between making and sending them."""
    if settings.is_local:
        from integrations.local.changes import LocalChangeFeed

        root = settings.workspace_dir
        mail = LocalMail(root / "outbox", sender_name=settings.mail_from_name)
        calendar = LocalCalendar(
            root / "calendar",
            mail=mail,
            base_url=settings.public_base_url,
            feed_secret=feed_secret(settings),
        )
        local_drive = LocalDrive(root / "drive")
        feed = LocalChangeFeed(local_drive, root / "changes.jsonl")
        return Workspace(local_drive, mail, calendar, lambda: None, feed, None, _chat(settings))
    # Imported only when Google is asked for: the local backend needs none of it.
    from integrations.google.wiring import (
        google_approvals,
        google_calendar,
        google_change_feed,
        google_clients,
        google_workspace,
    )

    clients = google_clients(settings)
    drive, gmail = google_workspace(settings, clients, DatabaseMailLedger(db))
    return Workspace(
        drive,
        gmail,
        google_calendar(settings, clients),
        clients.close,
        google_change_feed(settings, clients),
        google_approvals(settings, clients),
        _chat(settings),
    )


def _chat(settings: Settings) -> Chat:
    """Return Slack through its webhook when configured, else the local outbox's slack.jsonl."""
    from integrations.local.chat import LocalChat, WebhookChat

    if settings.slack_webhook_url:
        return WebhookChat(settings.slack_webhook_url)
    return LocalChat(settings.workspace_dir / "outbox" / "slack.jsonl")


def review_policy(settings: Settings) -> ReviewPolicy:
    """Return the review flow's knobs from the settings."""
    return ReviewPolicy(
        share_role=settings.review_share_role,
        settle_seconds=settings.review_settle_seconds,
        reminder_lead=timedelta(hours=settings.review_reminder_hours),
    )
