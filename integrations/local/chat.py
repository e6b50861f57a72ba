"""The Chat port: a local outbox file, and Slack through an incoming webhook."""

from __future__ import annotations

import fcntl
import json
import logging
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)


class LocalChat:
    """Appends each message once per key to `outbox/slack.jsonl` instead of posting it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        log.warning("LocalChat in use: chat messages go to %s, not to Slack", self.path)

    def post(self, text: str, *, key: str) -> None:
        """Append the message unless one with this key is there already."""
        with self._lock, open(self.path, "a+", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                f.seek(0)
                if any(json.loads(line).get("key") == key for line in f if line.strip()):
                    return
                at = datetime.now(UTC).isoformat(timespec="seconds")
                f.write(json.dumps({"key": key, "text": text, "at": at}) + "\n")
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def messages(self) -> list[dict[str, str]]:
        """Return the posted messages, oldest first."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]


class WebhookChat:
    """Posts to a Slack incoming webhook (`SLACK_WEBHOOK_URL`).

    Slack cannot tell a repeated post, so the key is not sent: the review stores that it
    posted, which keeps repeats to a crash between the post and that record.
    """

    def __init__(self, url: str, *, timeout: float = 10) -> None:
        if not url.startswith("https://"):
            raise ValueError("the Slack webhook URL must start with https://")
        self.url = url
        self.timeout = timeout

    def post(self, text: str, *, key: str) -> None:
        """Post the text to the channel; raise on an error answer."""
        request = urllib.request.Request(  # noqa: S310 - https only, checked above
            self.url,
            data=json.dumps({"text": text}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as answer:  # noqa: S310
            answer.read()
