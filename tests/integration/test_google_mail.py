"""GoogleMail against the loopback Gmail: MIME as sent, and one message per key when answers
are lost, processes die between the draft and its send, or two workers send the same key.

The fake replaces every Message-ID (so nothing can be found by the id we chose) and gives a
sent draft a new message id, as Google's drafts guide says; the mail ledger is the real
database one.
"""

from __future__ import annotations

import email as email_lib
import email.policy
import hashlib
from collections import Counter
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest

from integrations.google.errors import GoogleConnectionError, QuotaExceeded
from integrations.google.execute import RetryPolicy
from integrations.google.mail import KEY_HEADER, GoogleMail, build_mime, key_hash
from integrations.ports import Attachment, Email
from service.store.db import Database, make_engine, migrate
from service.store.mail_drafts import DatabaseMailLedger
from tests.conftest import run_together
from tests.fakes import Fault
from tests.integration.test_google_drive import (  # noqa: F401 - close_clients is autouse
    clients_for,
    close_clients,
)

# Until tests/conftest.py registers it for every test.
pytest_plugins = ["tests.fakes.pytest_plugin"]

FAST = RetryPolicy(base=0.01, cap=0.05, deadline=10.0, max_attempts=8)
ONCE = RetryPolicy(base=0.01, cap=0.05, deadline=10.0, max_attempts=1)  # gives up at once
INVITE = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"
CREATE = "gmail.users.drafts.create"
SEND = "gmail.users.drafts.send"
# Whatever request sends the mail (messages.send on the route before drafts): the lost
# answers below hit the old route as well, where they made a second email.
SENDING = r"/users/[^/]+/(messages|drafts)/send$"


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
def ledger(database_url: str) -> Iterator[DatabaseMailLedger]:
    engine = make_engine(database_url)
    migrate(engine)
    yield DatabaseMailLedger(Database(engine))
    engine.dispose()


def gmail(fake: Any, ledger: DatabaseMailLedger, policy: RetryPolicy = FAST) -> GoogleMail:
    """A GoogleMail as one process has it; another call is another process, same database."""
    return GoogleMail(clients_for(fake), policy=policy, ledger=ledger)


def calls(fake: Any) -> Counter[str]:
    return Counter(r.method_id for r in fake.requests if r.method_id)


def test_the_key_header_is_the_hash_of_the_key() -> None:
    assert key_hash("h-1/brief") == hashlib.sha256(b"h-1/brief").hexdigest()[:32]
    assert build_mime(note())[KEY_HEADER] == key_hash("h-1/brief")


def test_mime_has_alternatives_then_attachments_and_no_message_id_of_ours() -> None:
    msg = build_mime(note())
    assert msg.get_content_type() == "multipart/mixed"
    alternative, ics, pdf = msg.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_param("method") == "REQUEST"
    assert ics.get_filename() == "kickoff.ics" and ics.get_content() == INVITE.decode()
    assert pdf.get_content() == b"%PDF-1.4 tiny"
    assert "Message-ID" not in msg  # Gmail writes its own


def test_sent_once_as_built_through_a_draft(fake_google: Any, ledger: DatabaseMailLedger) -> None:
    gmail_id = gmail(fake_google, ledger).send(note())
    assert len(fake_google.gmail.sent) == 1
    record = fake_google.gmail.sent[0]
    sent = email_lib.message_from_bytes(record["raw"], policy=email.policy.default)
    assert sent["Subject"] == "Brief ready: Acme – “Commerce”"
    assert sent["To"] == "pat@agency.example, ada@agency.example"
    assert sent["Cc"] == "sam@agency.example"
    assert sent[KEY_HEADER] == key_hash("h-1/brief")
    assert str(sent["Message-ID"]).endswith("@mail.gmail.com>")  # Gmail's, not ours
    assert sent.get_body(("plain",)).get_content().strip() == "The brief is ready."
    assert "<b>ready</b>" in sent.get_body(("html",)).get_content()
    assert gmail_id == record["id"]
    assert fake_google.gmail.drafts == {} and fake_google.gmail.drafts_made == 1
    assert calls(fake_google) == {CREATE: 1, SEND: 1}  # nothing looked up on the way


def test_same_key_twice_sends_one_message(fake_google: Any, ledger: DatabaseMailLedger) -> None:
    first = gmail(fake_google, ledger).send(note())
    before = len(fake_google.requests)
    second = gmail(fake_google, ledger).send(note())  # another process, same database
    assert first == second
    assert len(fake_google.gmail.sent) == 1
    assert len(fake_google.requests) == before  # the ledger answered: no call to Gmail
    assert gmail(fake_google, ledger).send(note("h-1/other")) != first
    assert len(fake_google.gmail.sent) == 2


def test_a_lost_drafts_send_answer_then_the_retry_sends_one_email(
    fake_google: Any, ledger: DatabaseMailLedger
) -> None:
    lost = fake_google.faults.add(Fault(reset=True, after=True, path=SENDING, times=1))
    gmail_id = gmail(fake_google, ledger).send(note())
    assert lost.fired == 1
    assert len(fake_google.gmail.sent) == 1
    assert calls(fake_google)[SEND] == 1  # the retry looked (drafts.get: gone) and stopped
    assert gmail_id  # the draft's message id: Gmail's answer with the sent id was lost
    assert gmail(fake_google, ledger).send(note()) == gmail_id
    assert len(fake_google.gmail.sent) == 1


def test_a_lost_send_answer_then_a_dead_process_then_a_retry_sends_nothing(
    fake_google: Any, ledger: DatabaseMailLedger
) -> None:
    fake_google.faults.add(Fault(reset=True, after=True, path=SENDING, times=1))
    with pytest.raises(GoogleConnectionError):
        gmail(fake_google, ledger, ONCE).send(note())  # sent, but we never heard so
    assert len(fake_google.gmail.sent) == 1
    gmail(fake_google, ledger).send(note())  # the step runs again, in another process
    assert len(fake_google.gmail.sent) == 1
    assert calls(fake_google)[SEND] == 1 and fake_google.gmail.drafts_made == 1


def test_a_crash_between_create_and_send_sends_the_stored_draft_once(
    fake_google: Any, ledger: DatabaseMailLedger
) -> None:
    # The send never reaches Gmail and this process gives up: the draft is left, recorded.
    fake_google.faults.add(Fault(reset=True, method_id=SEND, times=1))
    with pytest.raises(GoogleConnectionError):
        gmail(fake_google, ledger, ONCE).send(note())
    assert fake_google.gmail.sent == [] and len(fake_google.gmail.drafts) == 1
    gmail_id = gmail(fake_google, ledger).send(note())
    assert [m["id"] for m in fake_google.gmail.sent] == [gmail_id]
    assert fake_google.gmail.drafts_made == 1  # no second draft
    assert fake_google.gmail.drafts == {}


def test_a_lost_drafts_create_answer_makes_no_second_draft(
    fake_google: Any, ledger: DatabaseMailLedger
) -> None:
    fake_google.faults.add(Fault(reset=True, after=True, method_id=CREATE, times=1))
    gmail(fake_google, ledger).send(note())
    assert fake_google.gmail.drafts_made == 1  # found by its X-Handover-Key, not made again
    assert len(fake_google.gmail.sent) == 1 and fake_google.gmail.drafts == {}


def test_two_workers_sending_one_key_at_once_send_one_email(
    fake_google: Any, ledger: DatabaseMailLedger
) -> None:
    # Both make a draft before either records one: the first recorded wins, the other's
    # draft is deleted, and only one drafts.send finds its draft.
    fake_google.faults.add(Fault(delay=0.3, method_id=CREATE, times=2))
    workers = [gmail(fake_google, ledger), gmail(fake_google, ledger)]
    run_together([partial(mail.send, note()) for mail in workers], timeout=30)  # raises any error
    assert fake_google.gmail.drafts_made == 2
    assert len(fake_google.gmail.sent) == 1
    assert fake_google.gmail.drafts == {}


def test_5xx_and_429_on_send_still_send_once(fake_google: Any, ledger: DatabaseMailLedger) -> None:
    fake_google.faults.add(Fault(status=503, method_id=SEND, times=2))
    fake_google.faults.add(Fault(status=429, method_id=SEND, times=1))
    fake_google.faults.add(Fault(status=500, after=True, method_id=SEND, times=1))
    gmail(fake_google, ledger).send(note())
    assert len(fake_google.gmail.sent) == 1
    assert calls(fake_google)[SEND] == 4  # 503, 503, 429, then sent with a 500 answer


def test_quota_exceeded_is_not_retried(fake_google: Any, ledger: DatabaseMailLedger) -> None:
    fake_google.faults.add(Fault(status=403, reason="quotaExceeded", method_id=SEND))
    with pytest.raises(QuotaExceeded):
        gmail(fake_google, ledger).send(note())
    assert fake_google.gmail.sent == []
    assert calls(fake_google)[SEND] == 1
