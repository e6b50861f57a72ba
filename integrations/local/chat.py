"""The Chat port: a local outbox file, and Slack through an incoming webhook."""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)


class LocalChat:
    """Appends each message once per key to `outbox/slack.jsonl` instead of posting it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._keys: set[str] = set()  # keys in the file up to _offset (read once, then new lines)
        self._offset = 0
        log.warning("LocalChat in use: chat messages go to %s, not to Slack", self.path)

    def post(self, text: str, *, key: str) -> None:
        """Append the message unless one with this key is there already."""
        with self._lock, open(self.path, "ab+") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                self._read_new(f)
                if key in self._keys:
                    return
                at = datetime.now(UTC).isoformat(timespec="seconds")
                torn = f.seek(0, os.SEEK_END) > self._offset  # a crash's half line: end it
                line = json.dumps({"key": key, "text": text, "at": at}) + "\n"
                f.write((("\n" if torn else "") + line).encode())
                f.flush()
                self._keys.add(key)
                self._offset = f.tell()
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _read_new(self, f: BinaryIO) -> None:
        """Learn the keys of the lines appended since this process last looked."""
        size = f.seek(0, os.SEEK_END)
        if size < self._offset:  # the file was replaced or cut: read it all again
            self._keys, self._offset = set(), 0
        f.seek(self._offset)
        data = f.read()
        complete = data[: data.rfind(b"\n") + 1]  # a torn last line is not a message
        for line in complete.splitlines():
            try:
                self._keys.add(str(json.loads(line).get("key")))
            except ValueError:
                continue  # half a line a crash left behind, ended by the next post
        self._offset += len(complete)

    def messages(self) -> list[dict[str, str]]:
        """Return the posted messages, oldest first."""
        if not self.path.exists():
            return []
        found = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue  # empty, or half a line a crash left behind
        return found


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
