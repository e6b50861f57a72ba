"""Gmail v1: sending (JSON `raw`, media and multipart uploads), drafts, listing with `q`.

Every Message-ID the client wrote is replaced by a Gmail-style id when the message is sent
(by messages.send or drafts.send), the original moving to X-Google-Original-Message-ID:
Google documents nothing about keeping a client's Message-ID, and public reports say the
API makes new ones (gauteh/lieer#198), so `rfc822msgid:` never finds a message by the id
its sender chose. Drafts follow Google's guide ("Create and send draft emails"): a draft's
id is immutable; drafts.create answers {id, message: {id, threadId, labelIds}}; drafts.send
deletes the draft and makes a NEW message, with a new id, labelled SENT, which it returns;
a draft id that is gone answers 404. `search_lag` (seconds) delays when a sent message
becomes visible to messages.list, like Gmail's search index.
"""

from __future__ import annotations

import email
import email.policy
import functools
import re
import shlex
import threading
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from tests.fakes.core import (
    ApiError,
    Call,
    Clock,
    Reply,
    State,
    b64url_decode,
    b64url_encode,
    bad_request,
    hex_id,
    not_found,
)
from tests.fakes.wire import media_type


class GmailState(State):
    """The sent mail of the service user."""

    def __init__(self, lock: threading.RLock, clock: Clock, user_email: str) -> None:
        super().__init__(lock, clock)
        self.user_email = user_email
        self.reset()

    def reset(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.drafts: dict[str, dict[str, Any]] = {}  # draft id -> its message record
        self.drafts_made = 0  # every draft ever created, sent or not
        self.search_lag = 0.0
        self._searchable_at: dict[str, float] = {}

    def handlers(self) -> dict[str, Callable[[Call], Reply]]:
        return {
            "gmail.users.messages.send": self.messages_send,
            "gmail.users.messages.list": self.messages_list,
            "gmail.users.messages.get": self.messages_get,
            "gmail.users.getProfile": self.get_profile,
            "gmail.users.drafts.create": self.drafts_create,
            "gmail.users.drafts.get": self.drafts_get,
            "gmail.users.drafts.list": self.drafts_list,
            "gmail.users.drafts.delete": self.drafts_delete,
            "gmail.users.drafts.send": self.drafts_send,
        }

    def _user(self, call: Call) -> None:
        user = call.params["userId"]
        if user not in ("me", self.user_email):
            raise ApiError(403, "Delegation denied for " + self.user_email, "forbidden")

    def _raw(self, call: Call, body: Any = None) -> bytes:
        if call.media is not None:
            kind = media_type(call.media_type)
            if not kind.startswith("message/"):
                raise bad_request(
                    f"Media type '{kind}' is not supported. Valid media types: [message/*]",
                    "badContent",
                )
            return call.media
        raw = (call.body if body is None else body or {}).get("raw")
        if not raw:
            raise bad_request(
                "'raw' RFC822 payload message string or uploading message via"
                " /upload/* URL required",
                "invalidArgument",
            )
        try:
            return b64url_decode(raw)
        except ValueError:
            raise bad_request("Invalid value for ByteString: " + raw[:40], "invalid") from None

    def messages_send(self, call: Call) -> Reply:
        self._user(call)
        thread_id = (call.body or {}).get("threadId")
        if thread_id and not any(m["threadId"] == thread_id for m in self.sent):
            raise not_found("Requested entity was not found.")
        record = self._send(self._raw(call), thread_id)
        return Reply(
            json={"id": record["id"], "threadId": record["threadId"], "labelIds": ["SENT"]}
        )

    def _parse(self, raw: bytes) -> EmailMessage:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        recipients = getaddresses(
            [str(v) for h in ("to", "cc", "bcc") for v in message.get_all(h, [])]
        )
        if not any(address for _, address in recipients):
            raise bad_request("Recipient address required", "invalidArgument")
        return message

    def _send(self, raw: bytes, thread_id: str | None) -> dict[str, Any]:
        """Record a sent message: a new id, Gmail's own Message-ID, From filled in."""
        message = self._parse(raw)
        original = str(message.get("Message-ID", "") or "").strip()
        del message["Message-ID"]
        if original:
            message["X-Google-Original-Message-ID"] = original
        message["Message-ID"] = f"<CA+{hex_id(24)}@mail.gmail.com>"
        if "From" not in message:
            message["From"] = self.user_email
        message_id = hex_id(16)
        record = {
            "id": message_id,
            "threadId": thread_id or message_id,
            "labelIds": ["SENT"],
            "raw": message.as_bytes(),
            "message": message,
            "internalDate": str(int(time.time() * 1000)),
        }
        self.sent.append(record)
        self._searchable_at[message_id] = time.monotonic() + self.search_lag
        return record

    def drafts_create(self, call: Call) -> Reply:
        self._user(call)
        body = call.body or {}
        raw = self._raw(call, body.get("message") or {})
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        message_id = hex_id(16)
        thread_id = (body.get("message") or {}).get("threadId") or message_id
        draft_id = "r" + str(int(hex_id(16), 16) % 10**19)  # Gmail's look: r-digits
        record = {
            "id": message_id,
            "threadId": thread_id,
            "labelIds": ["DRAFT"],
            "raw": raw,
            "message": message,
            "internalDate": str(int(time.time() * 1000)),
        }
        self.drafts[draft_id] = record
        self.drafts_made += 1
        return Reply(json=self._draft(draft_id, record, "minimal"))

    def _draft(self, draft_id: str, record: dict[str, Any], form: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "id": record["id"],
            "threadId": record["threadId"],
            "labelIds": record["labelIds"],
        }
        if form == "raw":
            message["raw"] = b64url_encode(record["raw"])
        elif form in ("full", "metadata"):
            parsed: EmailMessage = record["message"]
            headers = [{"name": k, "value": str(v)} for k, v in parsed.items()]
            message["payload"] = {"mimeType": parsed.get_content_type(), "headers": headers}
        return {"id": draft_id, "message": message}

    def _existing_draft(self, draft_id: str | None) -> dict[str, Any]:
        if not draft_id:
            raise bad_request("Invalid draft", "invalidArgument")
        record = self.drafts.get(draft_id)
        if record is None:
            raise not_found("Requested entity was not found.")
        return record

    def drafts_get(self, call: Call) -> Reply:
        self._user(call)
        record = self._existing_draft(call.params["id"])
        return Reply(json=self._draft(call.params["id"], record, call.param("format", "full")))

    def drafts_list(self, call: Call) -> Reply:
        self._user(call)
        tests = _parse_query(call.param("q") or "")
        found = [
            (draft_id, record)
            for draft_id, record in reversed(list(self.drafts.items()))
            if all(test(record) for test in tests)
        ]
        return Reply(json=_page(call, "drafts", [
            {"id": d, "message": {"id": r["id"], "threadId": r["threadId"]}} for d, r in found
        ]))

    def drafts_delete(self, call: Call) -> Reply:
        self._user(call)
        self._existing_draft(call.params["id"])
        del self.drafts[call.params["id"]]
        return Reply(status=204)

    def drafts_send(self, call: Call) -> Reply:
        """Send the draft as a NEW message (new id, SENT) and delete the draft."""
        self._user(call)
        body = call.body or {}
        draft_id = body.get("id")
        record = self._existing_draft(draft_id)
        raw = record["raw"]
        if call.media is not None or (body.get("message") or {}).get("raw"):
            raw = self._raw(call, body.get("message") or {})  # sent with its content replaced
        sent = self._send(raw, record["threadId"])
        del self.drafts[draft_id]
        return Reply(json={"id": sent["id"], "threadId": sent["threadId"], "labelIds": ["SENT"]})

    def messages_list(self, call: Call) -> Reply:
        self._user(call)
        tests = _parse_query(call.param("q") or "")
        labels = set(call.param("labelIds") or [])
        now = time.monotonic()
        found = [
            m
            for m in reversed(self.sent)
            if self._searchable_at.get(m["id"], 0) <= now
            and labels <= set(m["labelIds"])
            and all(test(m) for test in tests)
        ]
        return Reply(json=_page(call, "messages", [
            {"id": m["id"], "threadId": m["threadId"]} for m in found
        ]))

    def messages_get(self, call: Call) -> Reply:
        self._user(call)
        record = next((m for m in self.sent if m["id"] == call.params["id"]), None)
        if record is None:
            raise not_found("Requested entity was not found.")
        message: EmailMessage = record["message"]
        answer: dict[str, Any] = {
            "id": record["id"],
            "threadId": record["threadId"],
            "labelIds": record["labelIds"],
            "sizeEstimate": len(record["raw"]),
            "internalDate": record["internalDate"],
            "historyId": str(1000 + self.sent.index(record)),
            "snippet": _snippet(message),
        }
        form = call.param("format", "full")
        if form == "raw":
            answer["raw"] = b64url_encode(record["raw"])
        elif form in ("full", "metadata"):
            wanted = {h.lower() for h in call.param("metadataHeaders") or []}
            headers = [
                {"name": k, "value": str(v)}
                for k, v in message.items()
                if form == "full" or not wanted or k.lower() in wanted
            ]
            answer["payload"] = {"mimeType": message.get_content_type(), "headers": headers}
        return Reply(json=answer)

    def get_profile(self, call: Call) -> Reply:
        self._user(call)
        return Reply(
            json={
                "emailAddress": self.user_email,
                "messagesTotal": len(self.sent),
                "threadsTotal": len({m["threadId"] for m in self.sent}),
                "historyId": str(1000 + len(self.sent)),
            }
        )


def _snippet(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    text = part.get_content() if part is not None else ""
    return re.sub(r"\s+", " ", str(text)).strip()[:200]


def _parse_query(q: str) -> list[Callable[[dict[str, Any]], bool]]:
    """Gmail search terms: rfc822msgid:, from:, to:, cc:, bcc:, subject:, in:/label:, words."""
    try:
        terms = shlex.split(q)
    except ValueError:
        terms = q.split()
    return [functools.partial(_matches, term) for term in terms]


def _matches(term: str, record: dict[str, Any]) -> bool:
    """Whether one sent message matches one search term."""
    name, sep, value = term.partition(":")
    name = name.lower() if sep else ""
    message: EmailMessage = record["message"]
    if name == "rfc822msgid":
        return str(message.get("Message-ID", "")).strip().strip("<>") == value.strip().strip("<>")
    if name in ("from", "to", "cc", "bcc"):
        return any(value.lower() in str(h).lower() for h in message.get_all(name, []))
    if name == "subject":
        return value.lower() in str(message.get("Subject", "")).lower()
    if name in ("in", "label"):
        return value.upper() in record["labelIds"]
    return term.lower() in bytes(record["raw"]).decode("utf-8", "replace").lower()


def _page(call: Call, key: str, found: list[dict[str, Any]]) -> dict[str, Any]:
    """Return one page of a list answer as Gmail pages it: `maxResults` (default 100) from
    the offset in `pageToken`, `nextPageToken` while more remain, the key left out of an
    empty page, and 400 for a token Gmail did not give."""
    size = call.param("maxResults", 100)
    token = call.param("pageToken") or "0"
    if not token.isdigit():
        raise bad_request("Invalid pageToken", "invalid", "pageToken")
    offset = int(token)
    page = found[offset : offset + size]
    result: dict[str, Any] = {"resultSizeEstimate": len(found)}
    if page:
        result[key] = page
    if offset + size < len(found):
        result["nextPageToken"] = str(offset + size)
    return result
