"""What every step is given, and how a step says it failed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from integrations.ports import Calendar, ChangeFeed, Drive, Mail
from service.config import Settings
from service.rendering import Renderer


def _utcnow() -> datetime:
    return datetime.now(UTC)


class StepFailed(Exception):
    """A step could not finish; the message says why, in words a person can act on.

    `transient`: trying again later may well work (Google still rate limiting or failing
    after the client's own retries, a lost connection); the step then waits and runs again
    by itself a few times before it is left failed for a person.
    """

    def __init__(self, message: str, *, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class StepContext:
    """What the steps need from outside: the ports and a few settings."""

    drive: Drive
    mail: Mail
    renderer: Renderer
    public_base_url: str
    clients_folder_id: str | None = None
    share_notify: bool = False
    calendar: Calendar | None = None
    settings: Settings = field(default_factory=Settings)
    clock: Callable[[], datetime] = _utcnow
    # The contract drafts' change feed: its cursor is stored before the first Contracts
    # folder is made, so a draft dropped before the first sync is still seen.
    change_feed: ChangeFeed | None = None
