"""The Mail port on Gmail v1: messages sent as the service user, once per key.

Each message carries a Message-ID derived from its key, on the service user's own domain:
Gmail keeps such an id, whereas it may replace one on a domain that is not the sender's
(`handover.local` was), and a replaced id can never be found again. Before sending, and
again before
any retry, Gmail is searched for that Message-ID (`rfc822msgid:`), so a retry after a lost
answer or a crash returns the message already sent instead of sending a second one.
`send_fresh` skips the first search, for a key whose caller recorded that it was never tried.
"""

from __future__ import annotations

import base64
import hashlib
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate
from typing import Any

from integrations.google.auth import Clients
from integrations.google.execute import RetryPolicy, run
from integrations.ports import Email


def message_id(key: str, domain: str = "handover.local") -> str:
    """Return the deterministic Message-ID of the message with this key."""
    return f"<{hashlib.sha256(key.encode('utf-8')).hexdigest()[:32]}@{domain}>"


def _content_type(value: str) -> tuple[str, str, dict[str, str]]:
    """Split `text/calendar; method=REQUEST` into ("text", "calendar", {"method": ...})."""
    head, *rest = (part.strip() for part in value.split(";"))
    maintype, _, subtype = head.lower().partition("/")
    params: dict[str, str] = {}
    for part in rest:
        name, _, val = part.partition("=")
        if name and name.lower() != "charset":
            params[name.strip().lower()] = val.strip().strip('"')
    if maintype == "text" and subtype == "calendar":
        params.setdefault("method", "REQUEST")
    return maintype or "application", subtype or "octet-stream", params


def build_mime(
    email: Email, *, sender: str | None = None, domain: str = "handover.local"
) -> EmailMessage:
    """Return the MIME message: text and HTML alternatives, then the attachments."""
    msg = EmailMessage()
    if sender:
        msg["From"] = sender  # otherwise Gmail puts the service user's address
    msg["To"] = ", ".join(email.to)
    if email.cc:
        msg["Cc"] = ", ".join(email.cc)
    msg["Subject"] = email.subject
    msg["Message-ID"] = message_id(email.key, domain)
    msg["Date"] = formatdate(usegmt=True)
    msg.set_content(email.text)
    if email.html:
        msg.add_alternative(email.html, subtype="html")
    for att in email.attachments:
        maintype, subtype, params = _content_type(att.content_type)
        msg.add_attachment(
            att.data, maintype=maintype, subtype=subtype, filename=att.filename, params=params
        )
    return msg


class GoogleMail:
    """Sends each message once per key through `users.messages.send`."""

    def __init__(
        self,
        clients: Clients,
        *,
        policy: RetryPolicy,
        sender: str | None = None,
        sender_name: str = "",
    ) -> None:
        self._clients = clients
        self._policy = policy
        self._sender = sender
        self._sender_name = sender_name
        self._sender_domain: str | None = None

    def send(self, email: Email) -> str:
        """Send the message once per key; return its Gmail message id."""
        found = self.sent_id(message_id(email.key, self._domain()))
        if found is not None:
            return found
        return self.send_fresh(email)

    def send_fresh(self, email: Email) -> str:
        """Send a message whose key was never tried: no search first (retries still look)."""
        domain = self._domain()
        mid = message_id(email.key, domain)
        raw = base64.urlsafe_b64encode(
            build_mime(email, sender=self._from(), domain=domain).as_bytes(policy=SMTP)
        ).decode("ascii")
        request = self._messages().send(userId="me", body={"raw": raw})
        # Gmail's send is not idempotent: before each retry, look whether the lost attempt
        # went through. (Search is near real time; a window of a second or so remains.)
        answer: dict[str, Any] = run(
            request, policy=self._policy, already_done=lambda: self._sent_answer(mid)
        )
        return str(answer["id"])

    def sent_id(self, mid: str) -> str | None:
        """Return the id of the message with this Message-ID in the mailbox, if any."""
        answer = run(
            self._messages().list(
                userId="me", q=f"rfc822msgid:{mid}", includeSpamTrash=True, maxResults=1
            ),
            policy=self._policy,
        )
        messages = answer.get("messages") or []
        return str(messages[0]["id"]) if messages else None

    def _sent_answer(self, mid: str) -> dict[str, Any] | None:
        found = self.sent_id(mid)
        return {"id": found} if found is not None else None

    def _from(self) -> str | None:
        """Return the From header: the display name on the service user's own address (Gmail
        keeps a name on the sender's own address); None leaves it to Gmail."""
        if not self._sender_name:
            return self._sender
        return formataddr((self._sender_name, self._address()))

    def _domain(self) -> str:
        """Return the service user's mail domain (from GOOGLE_IMPERSONATE, else asked once)."""
        if self._sender_domain is None:
            self._sender_domain = self._address().rpartition("@")[2].lower()
        return self._sender_domain

    def _address(self) -> str:
        """Return the service user's address (GOOGLE_IMPERSONATE, else asked once)."""
        if not self._sender:
            users = self._clients.collection("gmail", "v1", "users")
            self._sender = str(
                run(users.getProfile(userId="me"), policy=self._policy)["emailAddress"]
            )
        return self._sender

    def _messages(self) -> Any:
        return self._clients.collection("gmail", "v1", "users.messages")
