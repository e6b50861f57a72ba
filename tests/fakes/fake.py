"""FakeGoogle: a loopback Google (Drive v3, Docs v1, Gmail v1, Calendar v3) for tests."""

from __future__ import annotations

import functools
import threading
from types import TracebackType

from tests.fakes.auth import AuthState
from tests.fakes.calendar import CalendarState
from tests.fakes.core import Clock
from tests.fakes.dispatch import Dispatcher, RecordedRequest
from tests.fakes.docs import DocsState
from tests.fakes.drive import DEFAULT_FIELDS, DriveState
from tests.fakes.faults import Faults
from tests.fakes.gmail import GmailState
from tests.fakes.notify import Notifier
from tests.fakes.server import ServerThread
from tests.fakes.validation import Discovery

DEFAULT_USER = "handover@agency.example"


@functools.cache
def _discovery() -> Discovery:
    return Discovery()


class FakeGoogle:
    """A threaded HTTP server on 127.0.0.1 speaking the REST subset the service uses.

    Build clients with `integrations.google.discovery.build_client(api, version,
    endpoint=fake.url, credentials=None)`. State is inspectable as plain dicts in Google's
    JSON shape: fake.drive.files, fake.drive.permissions, fake.drive.comments,
    fake.drive.approvals, fake.docs.text(id), fake.gmail.sent, fake.calendar.events.
    fake.auth is the credential chain (token endpoint, IAM signer, the Admin console's
    delegation); with fake.auth.required every call needs a token and
    fake.requests[i].acting_as says which user it acted as.
    Act as a person would with fake.drive.add_file / move_file / rename_file /
    share_file / trash_file.
    """

    def __init__(self, *, port: int = 0, user_email: str = DEFAULT_USER) -> None:
        self.host = "127.0.0.1"
        self.port = port
        self.user_email = user_email
        self.lock = threading.RLock()
        self.clock = Clock()
        self.latency = 0.0
        self.faults = Faults()
        self.notifier = Notifier()
        self.drive = DriveState(self.lock, self.clock, user_email, self.notifier)
        self.docs = DocsState(self.lock, self.clock)
        self.drive.docs = self.docs
        self.docs.drive = self.drive
        self.gmail = GmailState(self.lock, self.clock, user_email)
        self.calendar = CalendarState(self.lock, self.clock, user_email)
        handlers = {
            **self.drive.handlers(),
            **self.docs.handlers(),
            **self.gmail.handlers(),
            **self.calendar.handlers(),
        }
        self.dispatcher = Dispatcher(_discovery(), self.faults, self.lock, handlers, DEFAULT_FIELDS)
        self.auth = AuthState(self.lock, user_email.rpartition("@")[2])
        self.dispatcher.auth = self.auth
        self._server: ServerThread | None = None

    @property
    def url(self) -> str:
        """The endpoint to give build_client, e.g. http://127.0.0.1:PORT/."""
        if self._server is None:
            raise RuntimeError("FakeGoogle is not started")
        return f"http://{self.host}:{self._server.port}/"

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far (batch parts included, failed ones too), oldest first."""
        return list(self.dispatcher.log)

    @property
    def crashes(self) -> list[str]:
        """Tracebacks of exceptions inside the fake (each answered 500); empty when healthy."""
        return list(self.dispatcher.crashes)

    def start(self) -> FakeGoogle:
        if self._server is None:
            self._server = ServerThread(self, self.host, self.port)
            self._server.start()
            self.notifier.start()
            self.auth.token_endpoint = f"{self.url}token"

        return self

    def stop(self) -> None:
        self.notifier.stop()
        if self._server is not None:
            self._server.stop()
            self._server = None

    def reset(self) -> None:
        """Back to a fresh fake (state, settings, faults, latency, log); keeps the port."""
        with self.lock:
            self.faults.clear()
            self.latency = 0.0
            self.notifier.clear()
            self.drive.reset()
            self.docs.reset()
            self.gmail.reset()
            self.calendar.reset()
            self.auth.reset()
            if self._server is not None:
                self.auth.token_endpoint = f"{self.url}token"
            self.dispatcher.log.clear()
            self.dispatcher.crashes.clear()
            self.dispatcher.sessions.clear()

    def __enter__(self) -> FakeGoogle:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
