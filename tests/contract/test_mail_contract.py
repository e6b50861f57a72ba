"""The Mail port's contract: each key sends one message, through every implementation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from integrations.ports import Attachment, Email, Mail

# Until tests/conftest.py registers it for every test.
pytest_plugins = ["tests.fakes.pytest_plugin"]


@dataclass
class Subject:
    """An implementation under test, a way to count the messages it sent, and another
    instance on the same storage (a second process, or the same one restarted)."""

    mail: Mail
    sent: Callable[[], int]
    again: Callable[[], Mail]
    close: Callable[[], None] = lambda: None


def local_mail(tmp_path: Path) -> Subject:
    from integrations.local.mail import LocalMail

    outbox = tmp_path / "outbox"
    return Subject(
        LocalMail(outbox), lambda: len(list(outbox.glob("*.eml"))), lambda: LocalMail(outbox)
    )


def _ledger(tmp_path: Path) -> tuple[Any, Any]:
    """Return a migrated SQLite engine and the Gmail adapter's ledger on it."""
    from service.store.db import Database, make_engine, migrate
    from service.store.mail_drafts import DatabaseMailLedger

    engine = make_engine(f"sqlite:///{tmp_path / 'handover.db'}")
    migrate(engine)
    return engine, DatabaseMailLedger(Database(engine))


def google_mail(fake: Any, tmp_path: Path) -> Subject:
    from integrations.google.auth import Clients
    from integrations.google.execute import RetryPolicy
    from integrations.google.mail import GoogleMail

    engine, ledger = _ledger(tmp_path)
    clients = Clients(credentials=None, endpoint=fake.url)
    policy = RetryPolicy(base=0.01, cap=0.05, deadline=10.0)

    def close() -> None:
        clients.close()
        engine.dispose()

    return Subject(
        GoogleMail(clients, policy=policy, ledger=ledger),
        lambda: len(fake.gmail.sent),
        lambda: GoogleMail(clients, policy=policy, ledger=ledger),
        close,
    )


@pytest.fixture(params=["local", "google"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Subject]:
    if request.param == "local":
        made = local_mail(tmp_path)
    else:
        made = google_mail(request.getfixturevalue("fake_google"), tmp_path)
    yield made
    made.close()


INVITE = b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def email(key: str = "handover-1/brief-ready", subject: str = "Your Project Brief") -> Email:
    return Email(
        key=key,
        to=("pat@agency.example",),
        cc=("ada@agency.example",),
        subject=subject,
        text="The brief is ready.",
        html="<p>The brief is <b>ready</b>.</p>",
        attachments=(Attachment("invite.ics", "text/calendar; method=REQUEST", INVITE),),
    )


class TestMail:
    """Every Mail adapter sends a key's message once and answers the same id after."""

    def test_send_twice_sends_once(self, subject: Subject) -> None:
        first = subject.mail.send(email())
        second = subject.mail.send(email())
        assert first and first == second
        assert subject.sent() == 1

    def test_another_process_sends_a_key_already_sent_no_more(self, subject: Subject) -> None:
        first = subject.mail.send(email())
        assert subject.again().send(email()) == first
        assert subject.sent() == 1

    def test_different_keys_are_different_messages(self, subject: Subject) -> None:
        a = subject.mail.send(email("k-1"))
        b = subject.mail.send(email("k-2", subject="Same subject"))
        c = subject.mail.send(email("k-3", subject="Same subject"))
        assert len({a, b, c}) == 3
        assert subject.sent() == 3

    def test_plain_text_only(self, subject: Subject) -> None:
        plain = Email(key="plain", to=("a@agency.example",), subject="Hi", text="Hello")
        assert subject.mail.send(plain) == subject.mail.send(plain)
        assert subject.sent() == 1


@pytest.mark.parametrize("backend", ["local", "google"])
def test_every_message_comes_from_the_display_name_on_the_service_address(
    backend: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from email import message_from_bytes
    from email.policy import default
    from email.utils import parseaddr

    name = "Acme Agency Handover"
    if backend == "local":
        from integrations.local.mail import LocalMail

        outbox = tmp_path / "outbox"
        LocalMail(outbox, sender="handover@agency.local", sender_name=name).send(email())
        raw = next(outbox.glob("*.eml")).read_bytes()
        address = "handover@agency.local"
    else:
        from integrations.google.auth import Clients
        from integrations.google.execute import RetryPolicy
        from integrations.google.mail import GoogleMail

        fake = request.getfixturevalue("fake_google")
        clients = Clients(credentials=None, endpoint=fake.url)
        policy = RetryPolicy(base=0.01, cap=0.05, deadline=10.0)
        engine, ledger = _ledger(tmp_path)
        try:
            GoogleMail(clients, policy=policy, ledger=ledger, sender_name=name).send(email())
        finally:
            clients.close()
            engine.dispose()
        raw = fake.gmail.sent[0]["raw"]
        address = fake.gmail.user_email  # asked of Gmail (getProfile): the service user's own
    sent = message_from_bytes(raw, policy=default)
    assert parseaddr(str(sent["From"])) == (name, address)
