"""The local change feed looks at what changed, not at the whole drive folder each time.

Directory listings are counted with the `os.scandir` audit event (no patching of our code).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from integrations.local.changes import LocalChangeFeed
from integrations.local.drive import LocalDrive
from integrations.local.watcher import LocalWatcher
from integrations.ports import Change, Grant
from tests.audit_support import audited


def folders_listed() -> AbstractContextManager[list[str]]:
    """Collect the folders listed (os.scandir) inside the block."""
    return audited("os.scandir")


def workspace(root: Path, clients: int) -> LocalDrive:
    drive = LocalDrive(root)
    for n in range(clients):
        folder = root / f"Client {n:03d}" / "Contracts"
        folder.mkdir(parents=True)
        (folder / "SOW v1.pdf").write_bytes(b"%PDF v1")
    return drive


def latest(feed: LocalChangeFeed, token: str) -> tuple[dict[str, Change], str]:
    page = feed.changes(token)
    assert page.new_start_token is not None
    return {c.file_id: c for c in page.changes}, page.new_start_token


def test_a_watched_feed_looks_only_at_the_paths_the_watcher_saw(tmp_path: Path) -> None:
    drive = workspace(tmp_path / "drive", 200)
    feed = LocalChangeFeed(drive, tmp_path / "changes.jsonl")
    feed.watched()
    first, token = latest(feed, "0")  # the first scan of a process walks everything
    assert len(first) == 200
    draft = tmp_path / "drive" / "Client 007" / "Contracts" / "SOW v2.pdf"
    draft.write_bytes(b"%PDF v2")
    feed.note([str(draft)])
    with folders_listed() as listed:
        changes, token = latest(feed, token)
    assert listed == []  # today: every one of the 401 folders is listed again
    [change] = changes.values()
    assert change.name == "SOW v2.pdf" and not change.removed
    assert drive.path_of(change.file_id) == draft.resolve()


def test_without_a_watcher_each_scan_still_sees_everything(tmp_path: Path) -> None:
    drive = workspace(tmp_path / "drive", 3)
    feed = LocalChangeFeed(drive, tmp_path / "changes.jsonl")
    _, token = latest(feed, "0")
    sow = tmp_path / "drive" / "Client 001" / "Contracts" / "SOW v1.pdf"
    sow.write_bytes(b"%PDF v1, the cap fixed")  # in place: no watcher to say so
    changes, token = latest(feed, token)
    assert [c.name for c in changes.values()] == ["SOW v1.pdf"]
    assert feed.changes(token).changes == ()


def test_a_watched_feed_follows_renames_moves_shares_and_deletions(tmp_path: Path) -> None:
    drive = workspace(tmp_path / "drive", 2)
    feed = LocalChangeFeed(drive, tmp_path / "changes.jsonl")
    feed.watched()
    contracts = tmp_path / "drive" / "Client 000" / "Contracts"
    token = "0"

    def seen(check: Callable[[dict[str, Change]], bool]) -> dict[str, Change]:
        """Read the feed until the changes since the last call pass the check."""
        nonlocal token
        found: dict[str, Change] = {}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            changes, token = latest(feed, token)
            found.update(changes)
            if check(found):
                return found
            time.sleep(0.05)
        raise AssertionError(f"the feed never showed it: {found}")

    with LocalWatcher(drive.root, lambda: None, debounce=0.1, on_paths=feed.note):
        _, token = latest(feed, "0")
        (contracts / "MSA.docx").write_bytes(b"msa")
        [msa] = seen(lambda c: len(c) == 1).values()
        (contracts / "MSA.docx").rename(contracts / "MSA final.docx")
        seen(
            lambda c: [(x.file_id, x.name) for x in c.values()] == [(msa.file_id, "MSA final.docx")]
        )
        outside = tmp_path / "desktop" / "Amendments"
        outside.mkdir(parents=True)
        (outside / "Amendment 1.pdf").write_bytes(b"a1")
        shutil.move(str(outside), str(contracts / "Amendments"))
        [amendment] = seen(lambda c: [x.name for x in c.values()] == ["Amendment 1.pdf"]).values()
        assert (
            amendment.parents
            and drive.path_of(amendment.parents[0]) == (contracts / "Amendments").resolve()
        )
        drive.share(msa.file_id, [Grant("pat@agency.example", "commenter")], notify=False)
        seen(
            lambda c: (
                c.get(msa.file_id) is not None
                and c[msa.file_id].shared_with == ("pat@agency.example",)
            )
        )
        (contracts / "MSA final.docx").unlink()
        shutil.rmtree(contracts / "Amendments")
        gone = seen(lambda c: len(c) == 2 and all(x.removed for x in c.values()))
        assert gone.keys() == {msa.file_id, amendment.file_id}
