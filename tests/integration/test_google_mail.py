"""GoogleMail against the loopback fake: MIME as sent, and one message per key under faults."""

from __future__ import annotations

import email as email_lib
import email.policy
import hashlib
from typing import Any

import pytest

from integrations.google.errors import QuotaExceeded
from integrations.google.execute import RetryPolicy
from integrations.google.mail import GoogleMail, build_mime, message_id
from integrations.ports import Attachment, Email
from tests.fakes import Fault
from tests.integration.test_google_drive import (  # noqa: F401 - close_clients is autouse
    clients_for,
    close_clients,
    losing_clients,
)

# Until tests/conftest.py registers it for every test.
pytest_plugins = ["tests.fakes.pytest_plugin"]

FAST = RetryPolicy(base=0.01, cap=0.05, deadline=10.0, max_attempts=8)
INVITE = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
SEND = r"messages/send"


def note(key: str = "h-1/brief") -> Email:
    return Email(
        key=key,
        to=("pat@agency.example", "ada@agency.example"),
        cc=("sam@agency.example",),
        subject="Brief ready: Acme – “Commerce”",
        text="The brief is ready.",
        html="<p>The brief is <b>ready</b>.</p>",
        attachments=(
            Attachment("kickoff.ics", "text/calendar; method=REQUEST", INVITE),
            Attachment("notes.pdf", "application/pdf", b"%PDF-1.4 tiny"),
        ),
    )


@pytest.fixture
def mail(fake_google: Any) -> GoogleMail:
    return GoogleMail(clients_for(fake_google), policy=FAST)


def raw_of(sent: dict[str, Any]) -> email_lib.message.EmailMessage:
    raw = sent.get("raw_bytes") or sent.get("raw")
    if isinstance(raw, str):
        import base64

        raw = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    parsed = email_lib.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, email_lib.message.EmailMessage)
    return parsed


def test_message_id_is_derived_from_the_key() -> None:
    digest = hashlib.sha256(b"h-1/brief").hexdigest()[:32]
    assert message_id("h-1/brief") == f"<{digest}@handover.local>"


def test_mime_has_alternatives_then_attachments() -> None:
    msg = build_mime(note())
    assert msg.get_content_type() == "multipart/mixed"
    alternative, ics, pdf = msg.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_param("method") == "REQUEST"
    assert ics.get_filename() == "kickoff.ics" and ics.get_content() == INVITE.decode()
    assert pdf.get_content() == b"%PDF-1.4 tiny"
    assert msg["Message-ID"] == message_id("h-1/brief")


def test_sent_once_as_built(fake_google: Any, mail: GoogleMail) -> None:
    gmail_id = mail.send(note())
    assert len(fake_google.gmail.sent) == 1
    sent = raw_of(fake_google.gmail.sent[0])
    # On the service user's own domain: Gmail keeps it, so a retry can find the message.
    assert sent["Message-ID"] == message_id("h-1/brief", "agency.example")
    assert sent["Subject"] == "Brief ready: Acme – “Commerce”"
    assert sent["To"] == "pat@agency.example, ada@agency.example"
    assert sent["Cc"] == "sam@agency.example"
    assert sent.get_body(("plain",)).get_content().strip() == "The brief is ready."
    assert "<b>ready</b>" in sent.get_body(("html",)).get_content()
    assert gmail_id == fake_google.gmail.sent[0]["id"]


def test_same_key_twice_sends_one_message(fake_google: Any, mail: GoogleMail) -> None:
    first = mail.send(note())
    second = GoogleMail(clients_for(fake_google), policy=FAST).send(note())
    assert first == second
    assert len(fake_google.gmail.sent) == 1
    assert mail.send(note("h-1/other")) != first
    assert len(fake_google.gmail.sent) == 2


def test_5xx_and_429_on_send_still_send_once(fake_google: Any, mail: GoogleMail) -> None:
    fake_google.faults.add(Fault(status=503, path=SEND, method="POST", times=2))
    fake_google.faults.add(Fault(status=429, path=SEND, method="POST", times=1))
    mail.send(note())
    assert len(fake_google.gmail.sent) == 1


def test_send_whose_answer_is_lost_is_not_sent_again(fake_google: Any) -> None:
    mail = GoogleMail(losing_clients(fake_google, SEND), policy=FAST)
    gmail_id = mail.send(note())
    assert len(fake_google.gmail.sent) == 1
    assert gmail_id == fake_google.gmail.sent[0]["id"]
    sends = [r for r in fake_google.requests if r.path.endswith("messages/send")]
    assert len(sends) == 1


def test_reset_before_send_is_retried(fake_google: Any, mail: GoogleMail) -> None:
    fake_google.faults.add(Fault(reset=True, path=SEND, method="POST", times=2))
    mail.send(note())
    assert len(fake_google.gmail.sent) == 1


def test_quota_exceeded_is_not_retried(fake_google: Any, mail: GoogleMail) -> None:
    fake_google.faults.add(Fault(status=403, reason="quotaExceeded", path=SEND, method="POST"))
    with pytest.raises(QuotaExceeded):
        mail.send(note())
    assert fake_google.gmail.sent == []
    assert sum(r.path.endswith("messages/send") for r in fake_google.requests) == 1
