"""The Mail port on Gmail v1: messages sent as the service user, once per key.

Gmail may replace any Message-ID a client writes, so nothing the message carries can be
searched for later. Each message is therefore made a draft first (`drafts.create`), the
draft's immutable id recorded in the `MailLedger` under the email's key, and only then
sent (`drafts.send`), which deletes the draft. A later try of the same key finds the
recorded draft: still there (the process died before sending it), it is sent; gone
(`drafts.get` answers 404: it was sent and the answer lost), nothing is sent again.

A draft made but not recorded (the process died between the two) stays unsent in the
service user's Drafts; each draft carries its key's hash in `X-Handover-Key`, by which a
`drafts.create` whose answer was lost finds the draft it made instead of making another.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formataddr, formatdate
from typing import Any

from integrations.google.auth import Clients
from integrations.google.errors import NotFound
from integrations.google.execute import RetryPolicy, run
from integrations.ports import Email, MailLedger, StoredDraft

KEY_HEADER = "X-Handover-Key"
DRAFTS_LOOKED_AT = 25  # Drafts holds only drafts in flight and orphans: a page is plenty


def key_hash(key: str) -> str:
    """Return an email key's ledger key and X-Handover-Key: 128 bits of its SHA-256, in
    hex, short enough that the header is never folded."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


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


def build_mime(email: Email, *, sender: str | None = None) -> EmailMessage:
    """Return the MIME message: text and HTML alternatives, then the attachments.

    No Message-ID: Gmail writes its own (it may replace ours anyway)."""
    msg = EmailMessage()
    if sender:
        msg["From"] = sender  # otherwise Gmail puts the service user's address
    msg["To"] = ", ".join(email.to)
    if email.cc:
        msg["Cc"] = ", ".join(email.cc)
    msg["Subject"] = email.subject
    msg[KEY_HEADER] = key_hash(email.key)
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
    """Sends each message once per key: drafts.create, recorded, then drafts.send."""

    def __init__(
        self,
        clients: Clients,
        *,
        policy: RetryPolicy,
        ledger: MailLedger,
        sender: str | None = None,
        sender_name: str = "",
    ) -> None:
        self._clients = clients
        self._policy = policy
        self._ledger = ledger
        self._sender = sender
        self._sender_name = sender_name

    def send(self, email: Email) -> str:
        """Send the message once per key; return its Gmail message id.

        When the answer to the send was lost, the sent message's id is unknown (Gmail gives
        the sent message a new id); the id the message had as a draft is returned instead.
        """
        key = key_hash(email.key)
        stored = self._ledger.draft_of(key)
        if stored is None:
            stored = self._create(key, email)
        elif stored.sent:
            return stored.sent_id or stored.message_id
        elif not self._draft_exists(stored.draft_id):
            # Gone: sent by an earlier try whose answer was lost (or deleted by a person).
            self._ledger.mark_sent(key, None)
            return stored.message_id
        sent_id = self._send_draft(stored.draft_id)
        self._ledger.mark_sent(key, sent_id)
        return sent_id or stored.message_id

    def _create(self, key: str, email: Email) -> StoredDraft:
        """Make the key's draft and record it; the first draft recorded for a key wins."""
        raw = base64.urlsafe_b64encode(
            build_mime(email, sender=self._from()).as_bytes(policy=SMTP)
        ).decode("ascii")
        request = self._drafts().create(userId="me", body={"message": {"raw": raw}})
        # A lost answer would leave a draft behind: before a retry, look for it.
        draft: dict[str, Any] = run(
            request, policy=self._policy, already_done=lambda: self._find_draft(key)
        )
        stored = self._ledger.keep_draft(key, str(draft["id"]), str(draft["message"]["id"]))
        if stored.draft_id != draft["id"]:
            self._discard(str(draft["id"]))  # another worker recorded its draft first
        return stored

    def _send_draft(self, draft_id: str) -> str | None:
        """Send the draft; return the sent message's id, None when its answer was lost."""
        request = self._drafts().send(userId="me", body={"id": draft_id})
        # drafts.send is not idempotent: before a retry, look whether the draft is gone.
        gone = {"id": None}
        try:
            answer: dict[str, Any] = run(
                request,
                policy=self._policy,
                already_done=lambda: None if self._draft_exists(draft_id) else gone,
            )
        except NotFound:
            return None  # another worker sent it between our look and our send
        return None if answer.get("id") is None else str(answer["id"])

    def _draft_exists(self, draft_id: str) -> bool:
        try:
            run(
                self._drafts().get(userId="me", id=draft_id, format="minimal"),
                policy=self._policy,
            )
        except NotFound:
            return False
        return True

    def _find_draft(self, key: str) -> dict[str, Any] | None:
        """Return the draft in Drafts whose X-Handover-Key is `key`, if any."""
        listed = run(
            self._drafts().list(userId="me", maxResults=DRAFTS_LOOKED_AT), policy=self._policy
        )
        for item in listed.get("drafts") or []:
            try:
                draft = run(
                    self._drafts().get(userId="me", id=item["id"], format="metadata"),
                    policy=self._policy,
                )
            except NotFound:
                continue  # sent or deleted meanwhile
            headers = (draft.get("message") or {}).get("payload", {}).get("headers") or []
            if any(
                h.get("name", "").lower() == KEY_HEADER.lower()
                and str(h.get("value", "")).strip() == key
                for h in headers
            ):
                return dict(draft)
        return None

    def _discard(self, draft_id: str) -> None:
        with contextlib.suppress(NotFound):
            run(self._drafts().delete(userId="me", id=draft_id), policy=self._policy)

    def _drafts(self) -> Any:
        return self._clients.collection("gmail", "v1", "users.drafts")

    def _from(self) -> str | None:
        """Return the From header: the display name on the service user's own address (Gmail
        keeps a name on the sender's own address); None leaves it to Gmail."""
        if not self._sender_name:
            return self._sender
        return formataddr((self._sender_name, self._address()))

    def _address(self) -> str:
        """Return the service user's address (GOOGLE_IMPERSONATE, else asked once)."""
        if not self._sender:
            users = self._clients.collection("gmail", "v1", "users")
            self._sender = str(
                run(users.getProfile(userId="me"), policy=self._policy)["emailAddress"]
            )
        return self._sender
