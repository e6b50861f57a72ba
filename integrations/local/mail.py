"""The Mail port on the local disk: each message an `.eml` file in the outbox."""

from __future__ import annotations

import hashlib
import logging
import os
from email.message import EmailMessage, Message
from email.utils import formataddr, formatdate
from pathlib import Path

from integrations.ports import Email

log = logging.getLogger(__name__)


def message_id(key: str, domain: str = "handover.local") -> str:
    """Return the deterministic Message-ID of the message with this key."""
    return f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@{domain}>"


def _content_param(content_type: str, name: str) -> str | None:
    """Return one parameter of a Content-Type value, e.g. text/calendar's method."""
    header = Message()
    header["Content-Type"] = content_type
    value = header.get_param(name)
    return value if isinstance(value, str) else None


def build_mime(email: Email, *, sender: str) -> EmailMessage:
    """Return the MIME message: text, optional HTML alternative, then attachments."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = ", ".join(email.to)
    if email.cc:
        msg["Cc"] = ", ".join(email.cc)
    msg["Subject"] = email.subject
    msg["Message-ID"] = message_id(email.key)
    msg["Date"] = formatdate(localtime=False)
    msg.set_content(email.text)
    if email.html:
        msg.add_alternative(email.html, subtype="html")
    for att in email.attachments:
        maintype, _, subtype = att.content_type.partition("/")
        params = {}
        if att.content_type.startswith("text/calendar"):
            method = (_content_param(att.content_type, "method") or "REQUEST").upper()
            subtype, params = "calendar", {"method": method}
        msg.add_attachment(
            att.data,
            maintype=maintype,
            subtype=subtype or "octet-stream",
            filename=att.filename,
            params=params,
        )
    return msg


class LocalMail:
    """Writes each message once to `outbox/<key hash>.eml`."""

    def __init__(
        self, outbox: Path, *, sender: str = "handover@agency.local", sender_name: str = ""
    ) -> None:
        self.outbox = outbox
        self.outbox.mkdir(parents=True, exist_ok=True)
        self.sender = formataddr((sender_name, sender)) if sender_name else sender
        log.warning("LocalMail in use: emails go to %s, not to anyone's inbox", self.outbox)

    def send(self, email: Email) -> str:
        """Write the message unless a message with this key is already in the outbox."""
        mid = message_id(email.key)
        path = self.outbox / f"{mid.strip('<>').split('@')[0]}.eml"
        if not path.exists():
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(build_mime(email, sender=self.sender).as_bytes())
            try:
                os.link(tmp, path)  # fails if another worker got there first
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return mid

    def messages(self) -> list[Path]:
        """Return the outbox's messages, oldest first."""
        return sorted(self.outbox.glob("*.eml"), key=lambda p: p.stat().st_mtime)
