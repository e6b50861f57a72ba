"""`POST /hooks/drive` over HTTP: the loopback Google pushes to the live app, which believes
only its own channels, queues one sync per change, and renews channels without a gap."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from integrations.google.auth import Clients
from integrations.google.changes import GoogleChangeFeed
from integrations.google.execute import RetryPolicy
from service import csrf
from service.jobs import run_job
from service.store import channels as repo
from service.store.channel_models import DriveChannelRow
from service.web import hooks
from service.workflows import channels
from tests.conftest import LiveServer, app_on_the_fake, free_port, wait_until
from tests.fakes import FakeGoogle, Fault

FAST = RetryPolicy(base=0.01, cap=0.05, deadline=10.0, max_attempts=8)


@dataclass
class RecordingTasks:
    """The Tasks port as a list: what was enqueued, run by nobody."""

    queued: list[tuple[str, dict[str, str], str]] = field(default_factory=list)

    def enqueue(
        self, job: str, payload: Mapping[str, str], *, key: str, delay_seconds: float = 0
    ) -> None:
        self.queued.append((job, dict(payload), key))

    def wait_idle(self, timeout: float = 30) -> bool:
        return True

    def close(self) -> None:
        pass


@dataclass
class Hooked:
    """The live app, its services and the fake Google it talks to."""

    server: LiveServer
    services: Any
    fake: FakeGoogle
    tasks: RecordingTasks
    feed: GoogleChangeFeed

    @property
    def address(self) -> str:
        return channels.hook_address(self.server.url)

    def open(self, now: datetime | None = None) -> Any:
        return channels.open_channel(
            db=self.services.db,
            feed=self.feed,
            address=self.address,
            now=now or datetime.now(UTC),
        )

    def rows(self) -> list[tuple[Any, ...]]:
        with self.services.db.transaction() as session:
            found = session.scalars(select(DriveChannelRow).order_by(DriveChannelRow.created_at))
            return [
                (r.id, r.token, r.resource_id, r.expires_at, r.created_at, r.stopped_at)
                for r in found
            ]


def statuses(fake: FakeGoogle, channel_id: str) -> list[int | None]:
    return [
        d.status for d in fake.drive.notifications if d.headers["X-Goog-Channel-ID"] == channel_id
    ]


@pytest.fixture
def hooked(tmp_path: Path, database_url: str, fake_google: FakeGoogle) -> Iterator[Hooked]:
    port = free_port()
    with app_on_the_fake(
        tmp_path,
        database_url,
        fake_google,
        public_base_url=f"http://127.0.0.1:{port}",
        google_impersonate="handover@agency.example",
    ) as app:
        if "hooks" not in app.blueprints:  # until create_app registers it
            app.register_blueprint(hooks.bp)
            csrf.exempt(hooks.bp)
        services = app.extensions["handover"]
        clients = Clients(credentials=None, endpoint=fake_google.url)
        feed = GoogleChangeFeed(clients, policy=FAST)
        services.change_feed = feed
        services.tasks.close()
        services.tasks = RecordingTasks()
        with LiveServer(app, port) as server:
            yield Hooked(server, services, fake_google, services.tasks, feed)
        clients.close()


def post(hooked: Hooked, **headers: str) -> int:
    client = hooked.server.app.test_client()
    named = {f"X-Goog-{k.replace('_', '-')}": v for k, v in headers.items()}
    return int(client.post(channels.HOOK_PATH, headers=named, data=b"ignored").status_code)


def test_drive_pushes_reach_the_app_and_each_change_queues_a_sync(hooked: Hooked) -> None:
    channel = hooked.open()
    wait_until(lambda: statuses(hooked.fake, channel.id) == [200])  # the `sync` message
    assert hooked.tasks.queued == []

    hooked.fake.drive.add_file("Acme MSA.pdf")
    wait_until(lambda: statuses(hooked.fake, channel.id) == [200, 200])

    assert hooked.tasks.queued == [("sync_drive", {}, "sync_drive")]
    (row,) = hooked.rows()
    assert row[0] == channel.id and row[2] == channel.resource_id and row[5] is None
    assert channel.id in hooked.fake.drive.channels


def test_the_answer_is_empty_and_the_body_is_never_needed(hooked: Hooked) -> None:
    channel = hooked.open()
    client = hooked.server.app.test_client()
    answer = client.post(
        "/hooks/drive",
        headers={
            "X-Goog-Channel-ID": channel.id,
            "X-Goog-Channel-Token": channel.token,
            "X-Goog-Resource-ID": channel.resource_id,
            "X-Goog-Resource-State": "change",
            "X-Goog-Message-Number": "2",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        data=b"not=a&form=%ZZ",
    )
    assert answer.status_code == 200 and answer.data == b""
    assert hooked.tasks.queued == [("sync_drive", {}, "sync_drive")]


@pytest.mark.parametrize("forgery", ["token", "channel", "resource", "nothing"])
def test_forged_notifications_are_refused_and_change_nothing(hooked: Hooked, forgery: str) -> None:
    channel = hooked.open()
    wait_until(lambda: statuses(hooked.fake, channel.id) == [200])
    before = hooked.rows()
    headers = {
        "Channel_ID": channel.id,
        "Channel_Token": channel.token,
        "Resource_ID": channel.resource_id,
        "Resource_State": "change",
    }
    if forgery == "token":
        headers["Channel_Token"] = channel.token[:-1] + ("A" if channel.token[-1] != "A" else "B")
    elif forgery == "channel":
        headers["Channel_ID"] = "f" * 32
    elif forgery == "resource":
        headers["Resource_ID"] = "someone-elses-resource"
    else:
        headers = {"Resource_State": "change"}

    assert post(hooked, **headers) == 403

    assert hooked.tasks.queued == []
    assert hooked.rows() == before
    assert channel.id in hooked.fake.drive.channels  # ours is left alone


def test_forged_drive_notification_never_calls_google(hooked: Hooked) -> None:
    """A post naming a channel unknown here (forged, or a stranger's channel) is refused
    without a single call to Google: no channels.stop, no retries in the request."""
    # Opened at Drive but unknown here: a crash's leftover, or a copy of the service.
    stray = hooked.feed.watch(
        channel_id="stray-1",
        token="whatever",
        address=hooked.address,
        start_token=hooked.feed.start_token(),
    )
    wait_until(lambda: statuses(hooked.fake, stray.id) == [403])
    calls_before = len(hooked.fake.requests)

    forged = [
        post(hooked, Channel_ID=f"forged-{i}", Channel_Token="x", Resource_ID=f"r-{i}")
        for i in range(20)
    ]

    assert forged == [403] * 20
    assert len(hooked.fake.requests) == calls_before
    assert "stray-1" in hooked.fake.drive.channels  # not ours: not ours to stop
    assert hooked.tasks.queued == [] and hooked.rows() == []


def test_a_channel_of_ours_stopped_since_is_stopped_at_drive(hooked: Hooked) -> None:
    channel = hooked.open()
    # Drive's `sync` message on opening is answered first (it would find the channel
    # stopped and stop it at Drive itself, racing the posts below).
    wait_until(lambda: statuses(hooked.fake, channel.id) == [200])
    with hooked.services.db.transaction() as session:
        repo.mark_stopped(session, channel.id, datetime.now(UTC))
    headers = {"Channel_ID": channel.id, "Resource_ID": channel.resource_id}

    assert post(hooked, **headers, Channel_Token="not-the-token") == 403
    assert channel.id in hooked.fake.drive.channels  # a wrong token stops nothing
    assert post(hooked, **headers, Channel_Token=channel.token) == 403

    assert channel.id not in hooked.fake.drive.channels
    assert hooked.tasks.queued == []


def test_a_notification_before_drive_answered_the_watch_is_believed_by_its_token(
    hooked: Hooked,
) -> None:
    now = datetime.now(UTC)
    with hooked.services.db.transaction() as session:
        repo.add_channel(
            session, channel_id="pending-1", token="tok-123", expires_at=now, created_at=now
        )
    ok = post(
        hooked,
        Channel_ID="pending-1",
        Channel_Token="tok-123",
        Resource_ID="rid",
        Resource_State="change",
    )
    wrong = post(
        hooked,
        Channel_ID="pending-1",
        Channel_Token="tok-124",
        Resource_ID="rid",
        Resource_State="change",
    )
    assert (ok, wrong) == (200, 403)
    assert hooked.tasks.queued == [("sync_drive", {}, "sync_drive")]


def test_a_refused_watch_leaves_no_live_channel(hooked: Hooked) -> None:
    hooked.fake.faults.add(
        Fault(status=400, reason="push.webhookUrlNotHttps", method_id="drive.changes.watch")
    )
    with pytest.raises(Exception, match="400"):
        hooked.open()
    ((*_, stopped_at),) = hooked.rows()
    assert stopped_at is not None
    with hooked.services.db.transaction() as session:
        assert repo.live_channels(session) == []


def test_renewal_opens_the_new_channel_before_stopping_the_old(hooked: Hooked) -> None:
    old = hooked.open()
    wait_until(lambda: statuses(hooked.fake, old.id) == [200])  # its `sync` message first
    fixed = datetime.now(UTC).replace(microsecond=0)
    hooked.services.clock = lambda: fixed
    run_job(hooked.services, "renew_channels", {})
    assert [row[5] for row in hooked.rows()] == [None]  # a week left: nothing to do

    later = fixed + timedelta(days=6, hours=12)
    hooked.services.clock = lambda: later
    run_job(hooked.services, "renew_channels", {})

    (old_row, new_row) = hooked.rows()
    assert old_row[0] == old.id and old_row[5] == later
    assert new_row[5] is None and new_row[4] == later
    assert list(hooked.fake.drive.channels) == [new_row[0]]
    calls = [
        (r.method_id, (r.body or {}).get("id"))
        for r in hooked.fake.requests
        if r.method_id in ("drive.changes.watch", "drive.channels.stop")
    ]
    assert calls == [
        ("drive.changes.watch", old.id),
        ("drive.changes.watch", new_row[0]),
        ("drive.channels.stop", old.id),
    ]
    # The new channel carries on: its sync, then the change.
    hooked.fake.drive.add_file("SOW.pdf")
    wait_until(lambda: statuses(hooked.fake, new_row[0]) == [200, 200])
    assert hooked.tasks.queued == [("sync_drive", {}, "sync_drive")]


def test_renewal_after_a_missed_expiry_still_leaves_one_live_channel(hooked: Hooked) -> None:
    hooked.open()
    hooked.open()  # e.g. watch-drive run twice
    later = datetime.now(UTC) + timedelta(days=8)
    opened = channels.renew_channels(
        later, db=hooked.services.db, feed=hooked.feed, address=hooked.address
    )
    assert len(opened) == 1
    with hooked.services.db.transaction() as session:
        assert [r.id for r in repo.live_channels(session)] == [opened[0].id]
    assert list(hooked.fake.drive.channels) == [opened[0].id]


def test_ensure_channel_opens_one_only_when_none_is_live(hooked: Hooked) -> None:
    now = datetime.now(UTC)
    kwargs: dict[str, Any] = {
        "db": hooked.services.db,
        "feed": hooked.feed,
        "address": hooked.address,
        "now": now,
    }
    assert channels.ensure_channel(**kwargs) is True
    assert channels.ensure_channel(**kwargs) is False
    assert len(hooked.fake.drive.channels) == 1
