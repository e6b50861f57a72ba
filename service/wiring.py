"""Builds the outside world's adapters from the settings: local or Google."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from integrations.local.drive import LocalDrive
from integrations.local.mail import LocalMail
from integrations.ports import Drive, Mail, Tasks
from service.config import Settings
from service.rendering import Renderer
from service.store.db import Database
from service.workflows.steps import StepContext

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
    renderer: Renderer
    tasks: Tasks = field(init=False)
    clock: Any = utcnow
    closers: list[Callable[[], None]] = field(default_factory=list)

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
        )


def build_workspace(settings: Settings) -> tuple[Drive, Mail, Callable[[], None]]:
    """Return the Drive and Mail adapters for the configured backend, and their closer."""
    if settings.is_local:
        root = settings.workspace_dir
        return (
            LocalDrive(root / "drive", base_url=settings.public_base_url),
            LocalMail(root / "outbox"),
            lambda: None,
        )
    # Imported only when Google is asked for: the local backend needs none of it.
    from integrations.google.wiring import google_clients, google_workspace

    clients = google_clients(settings)
    drive, mail = google_workspace(settings, clients)
    return drive, mail, clients.close
