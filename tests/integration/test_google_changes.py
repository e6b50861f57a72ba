"""GoogleChangeFeed against the loopback fake: real HTTP, real pushes to a local receiver."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from integrations.google.auth import Clients
from integrations.google.changes import GoogleChangeFeed, to_change
from integrations.google.execute import RetryPolicy
from integrations.ports import Change
from tests.fakes import FakeGoogle, Fault

FAST = RetryPolicy(base=0.01, cap=0.05, deadline=10.0, max_attempts=8)
FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"


@pytest.fixture
def clients(fake_google: FakeGoogle) -> Iterator[Clients]:
    clients = Clients(credentials=None, endpoint=fake_google.url)
    yield clients
    clients.close()


@pytest.fixture
def feed(clients: Clients) -> GoogleChangeFeed:
    return GoogleChangeFeed(clients, policy=FAST)


def read_all(feed: GoogleChangeFeed, token: str) -> tuple[list[Change], list[int], str]:
    """Read every page from the token; return the changes, page sizes and the next start."""
    changes: list[Change] = []
    sizes: list[int] = []
    while True:
        page = feed.changes(token)
        changes.extend(page.changes)
        sizes.append(len(page.changes))
        if page.next_token is None:
            assert page.new_start_token is not None
            return changes, sizes, page.new_start_token
        assert page.new_start_token is None
        token = page.next_token


# --- the change feed ---------------------------------------------------------------------


def test_a_new_file_shows_up_after_the_start_token_and_only_once(
    fake_google: FakeGoogle, feed: GoogleChangeFeed
) -> None:
    folder = fake_google.drive.add_file("Contracts", mime_type=FOLDER)
    token = feed.start_token()
    draft = fake_google.drive.add_file("Acme MSA.pdf", [folder["id"]], content=b"%PDF-1.7 msa")

    changes, _, start = read_all(feed, token)

    assert [c.file_id for c in changes] == [draft["id"]]
    change = changes[0]
    assert change.name == "Acme MSA.pdf" and change.mime_type == "application/pdf"
    assert change.parents == (folder["id"],)
    assert not change.removed and not change.trashed and not change.can_start_approval
    assert change.version == draft["md5Checksum"]
    assert change.web_url == draft["webViewLink"]
    assert change.modified_time is not None and change.modified_time.tzinfo is not None
    assert read_all(feed, start)[0] == []


def test_the_list_asks_for_everything_a_change_needs(
    fake_google: FakeGoogle, feed: GoogleChangeFeed
) -> None:
    feed.changes(feed.start_token())
    listed = [r for r in fake_google.requests if r.method_id == "drive.changes.list"][-1]
    assert listed.query["pageSize"] == "1000"
    assert listed.query["includeRemoved"] == "true"
    assert listed.query["supportsAllDrives"] == "true"
    assert listed.query["includeItemsFromAllDrives"] == "true"
    assert listed.query["spaces"] == "drive"
    for field in ("capabilities/canStartApproval", "permissions(", "md5Checksum", "version"):
        assert field in listed.query["fields"]


def test_more_than_a_thousand_changes_come_in_pages_of_a_thousand(
    fake_google: FakeGoogle, feed: GoogleChangeFeed
) -> None:
    token = feed.start_token()
    added = {fake_google.drive.add_file(f"draft {i}.pdf")["id"] for i in range(1234)}

    changes, sizes, _ = read_all(feed, token)

    assert sizes == [1000, 234]
    assert {c.file_id for c in changes} == added
    assert len(changes) == len(added)


def test_a_file_changed_twice_is_listed_once_as_it_is_now(
    fake_google: FakeGoogle, feed: GoogleChangeFeed
) -> None:
    inbox = fake_google.drive.add_file("Inbox", mime_type=FOLDER)
    contracts = fake_google.drive.add_file("Contracts", mime_type=FOLDER)
    doc = fake_google.drive.add_file("SOW", [inbox["id"]], mime_type=DOC)
    token = feed.start_token()
    fake_google.drive.move_file(doc["id"], [contracts["id"]], [inbox["id"]])
    fake_google.drive.move_file(doc["id"], [], [])

    (change,) = read_all(feed, token)[0]

    assert change.parents == (contracts["id"],)
    # A Google Doc has no md5: its content is dated by modifiedTime (its `version` moves
    # on shares and comments too).
    assert doc["version"] == "3"
    assert change.version == fake_google.drive.files[doc["id"]]["modifiedTime"]


def test_trashed_and_deleted_files(fake_google: FakeGoogle, feed: GoogleChangeFeed) -> None:
    kept = fake_google.drive.add_file("old.pdf")
    gone = fake_google.drive.add_file("gone.pdf")
    token = feed.start_token()
    fake_google.drive.trash_file(kept["id"])
    fake_google.drive.delete_file(gone["id"])

    by_id = {c.file_id: c for c in read_all(feed, token)[0]}

    assert by_id[kept["id"]].trashed and not by_id[kept["id"]].removed
    assert by_id[gone["id"]] == Change(file_id=gone["id"], removed=True)


def test_the_approval_capability_comes_through(
    fake_google: FakeGoogle, feed: GoogleChangeFeed
) -> None:
    token = feed.start_token()
    fake_google.drive.can_start_approval = True
    fake_google.drive.add_file("MSA.docx")
    (change,) = read_all(feed, token)[0]
    assert change.can_start_approval


def test_a_shared_drive_feed_names_its_drive(fake_google: FakeGoogle, clients: Clients) -> None:
    drive = fake_google.drive.add_shared_drive("Clients")
    feed = GoogleChangeFeed(clients, policy=FAST).for_drive(drive)
    feed.changes(feed.start_token())
    for method in ("drive.changes.getStartPageToken", "drive.changes.list"):
        sent = next(r for r in fake_google.requests if r.method_id == method)
        assert sent.query["driveId"] == drive


def test_a_change_in_a_shared_drive_is_only_in_that_drives_log(
    fake_google: FakeGoogle, feed: GoogleChangeFeed
) -> None:
    drive = fake_google.drive.add_shared_drive("Clients")
    folder = fake_google.drive.add_file("Acme Corp", [drive], mime_type=FOLDER)
    assert feed.drive_of(folder["id"]) == drive
    assert feed.drive_of(fake_google.drive.root_id) is None
    shared = feed.for_drive(drive)
    mine_token, shared_token = feed.start_token(), shared.start_token()
    draft = fake_google.drive.add_file("SOW.pdf", [folder["id"]], content=b"%PDF sow")
    notes = fake_google.drive.add_file("Notes.pdf", content=b"%PDF notes")

    assert [c.file_id for c in read_all(feed, mine_token)[0]] == [notes["id"]]
    [change] = read_all(shared, shared_token)[0]
    assert (change.file_id, change.drive_id) == (draft["id"], drive)


def test_busy_answers_are_retried(fake_google: FakeGoogle, feed: GoogleChangeFeed) -> None:
    token = feed.start_token()
    fake_google.drive.add_file("a.pdf")
    fake_google.faults.add(Fault(status=503, method_id="drive.changes.list", times=2))
    assert len(read_all(feed, token)[0]) == 1


def test_sharing_maps_to_emails_domains_and_anyone() -> None:
    item = {
        "fileId": "f1",
        "removed": False,
        "file": {
            "id": "f1",
            "name": "MSA",
            "version": "7",
            "permissions": [
                {"type": "user", "role": "owner", "emailAddress": "Handover@Agency.example"},
                {"type": "group", "role": "reader", "emailAddress": "legal@acme.example"},
                {"type": "domain", "role": "reader", "domain": "acme.example"},
                {"type": "anyone", "role": "reader"},
            ],
        },
    }
    change = to_change(item)
    assert change.shared_with == (
        "handover@agency.example",
        "legal@acme.example",
        "acme.example",
        "anyone",
    )
    assert change.version == "7"


# --- push channels -----------------------------------------------------------------------


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that keeps the headers of every POST."""

    def __init__(self) -> None:
        self.posts: list[dict[str, str]] = []
        self.arrived = threading.Condition()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with receiver.arrived:
                    receiver.posts.append(dict(self.headers.items()))
                    receiver.arrived.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/drive"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def wait_for(self, count: int, timeout: float = 10) -> list[dict[str, str]]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.posts) >= count, timeout=timeout)
            return list(self.posts)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    receiver.thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()
    receiver.thread.join(timeout=5)


def test_a_channel_posts_sync_then_changes_until_it_is_stopped(
    fake_google: FakeGoogle, feed: GoogleChangeFeed, receiver: Receiver
) -> None:
    before = datetime.now(UTC)
    channel = feed.watch(
        channel_id="chan-1", token="s3cret", address=receiver.url, start_token=feed.start_token()
    )
    assert channel.id == "chan-1" and channel.token == "s3cret"
    assert channel.resource_id == fake_google.drive.channels["chan-1"]["resourceId"]
    assert before + timedelta(days=7) - timedelta(minutes=6) <= channel.expires_at
    assert channel.expires_at <= datetime.now(UTC) + timedelta(days=7)

    fake_google.drive.add_file("SOW.pdf")
    sync, change = receiver.wait_for(2)[:2]
    for post, state, number in ((sync, "sync", "1"), (change, "change", "2")):
        assert post["X-Goog-Channel-ID"] == "chan-1"
        assert post["X-Goog-Channel-Token"] == "s3cret"
        assert post["X-Goog-Resource-ID"] == channel.resource_id
        assert post["X-Goog-Resource-State"] == state
        assert post["X-Goog-Message-Number"] == number

    feed.stop(channel)
    assert fake_google.drive.channels == {}
    fake_google.drive.add_file("late.pdf")
    time.sleep(0.2)
    assert len(receiver.posts) == 2 and fake_google.notifier.pending() == 0
    feed.stop(channel)  # stopping again (404 at Drive) is fine


def test_the_watch_asks_for_a_web_hook_a_few_minutes_under_a_week(
    fake_google: FakeGoogle, clients: Clients, receiver: Receiver
) -> None:
    # The service's clock is a minute ahead of Google's: "now + 7 days" would be past
    # Drive's maximum and refused ("Invalid ttl value for channel").
    fake_google.drive.clock_lag = 60.0
    now = datetime.now(UTC)
    feed = GoogleChangeFeed(clients, policy=FAST, clock=lambda: now)
    channel = feed.watch(channel_id="c2", token="t", address=receiver.url, start_token="5")
    sent = next(r for r in fake_google.requests if r.method_id == "drive.changes.watch")
    assert sent.query["pageToken"] == "5"
    assert sent.body["type"] == "web_hook" and sent.body["address"] == receiver.url
    asked = now + timedelta(days=7) - timedelta(minutes=5)
    assert int(sent.body["expiration"]) == int(asked.timestamp() * 1000)
    assert abs(channel.expires_at - asked) < timedelta(seconds=1)


def test_in_a_shared_drive_the_feed_says_sharing_is_unknown_and_asks_for_it(
    fake_google: FakeGoogle, feed: GoogleChangeFeed
) -> None:
    drive = fake_google.drive.add_shared_drive(
        "Clients", [("pat@agency.example", "organizer"), ("cleo@acme.example", "reader")]
    )
    token, drive_token = feed.start_token(), feed.for_drive(drive).start_token()
    draft = fake_google.drive.add_file("SOW.pdf", [drive], content=b"%PDF sow")
    fake_google.drive.share_file(draft["id"], email="Someone@Gmail.com")
    mine = fake_google.drive.add_file("Notes.pdf", content=b"%PDF notes")  # My Drive

    changes = read_all(feed, token)[0] + read_all(feed.for_drive(drive), drive_token)[0]
    by_id = {c.file_id: c for c in changes}

    assert (by_id[draft["id"]].sharing_known, by_id[draft["id"]].shared_with) == (False, ())
    assert by_id[mine["id"]].sharing_known
    assert set(feed.shared_with(draft["id"])) == {
        "handover@agency.example",
        "pat@agency.example",
        "cleo@acme.example",
        "someone@gmail.com",
    }
