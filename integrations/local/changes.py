"""The ChangeFeed port on the local disk: a scan of the drive folder against a journal.

Each `changes()` call walks the drive folder, gives every file and folder dropped there
an id in LocalDrive's index (a file moved or renamed keeps its id: it is followed by its
inode), and appends one line to the append-only journal `changes.jsonl` for each file
that is new, moved, renamed, modified, shared or gone since its last line. A page token
is a journal serial number, so tokens survive restarts and several processes (the
journal is locked) read the same feed. Like Drive, a page lists a file once, as it is now.
"""

from __future__ import annotations

import bisect
import fcntl
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from integrations.local.drive import LocalDrive, file_path
from integrations.local.drive_scan import DriveScan, Live
from integrations.local.journal import read_appended
from integrations.ports import Change, ChangePage, Channel


class LocalChangeFeed:
    """Drive's change feed for the local backend; push channels are the watcher's job."""

    def __init__(self, drive: LocalDrive, journal: Path, *, page_size: int = 1000) -> None:
        self.drive = drive
        self.journal = journal
        self.page_size = page_size
        journal.parent.mkdir(parents=True, exist_ok=True)
        self._lock_path = journal.with_name(f".{journal.name}.lock")
        self._thread_lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self._latest: dict[str, dict[str, Any]] = {}
        self._offset = 0
        self.scanner = DriveScan(drive)
        self._scanned = False

    # --- the port -------------------------------------------------------------------

    def start_token(self) -> str:
        """Return the journal's newest serial; files never journaled still show up after it."""
        with self._locked():
            return str(self._entries[-1]["seq"] if self._entries else 0)

    def changes(self, token: str) -> ChangePage:
        """Scan the drive folder, then return the files changed after the token's serial."""
        since = _serial(token)
        with self._locked():
            live = self._scan()
            after = bisect.bisect_right(self._entries, since, key=lambda e: int(e["seq"]))
            entries = self._entries[after:]
            page = entries[: self.page_size]
            newest: dict[str, dict[str, Any]] = {}
            for entry in page:  # once per file, at the position of its latest change
                newest.pop(entry["id"], None)
                newest[entry["id"]] = entry
            changes = tuple(self._change(fid, live.get(fid)) for fid in newest)
        if len(entries) > len(page):
            return ChangePage(changes, next_token=str(page[-1]["seq"]), new_start_token=None)
        last = entries[-1]["seq"] if entries else since
        return ChangePage(changes, next_token=None, new_start_token=str(last))

    def watch(self, *, channel_id: str, token: str, address: str, start_token: str) -> Channel:
        """Return a channel that never posts: locally the filesystem watcher pushes."""
        return Channel(channel_id, token, "local", datetime(9999, 1, 1, tzinfo=UTC))

    def stop(self, channel: Channel) -> None:
        """Nothing to close locally."""

    def shared_with(self, file_id: str) -> tuple[str, ...]:
        """Return who the file is shared with, as the local drive's grants say."""
        with self.drive.index_for_feed() as index:
            entry = index.get(file_id)
        if entry is None or not (self.drive.root / str(entry.get("path", ""))).exists():
            return ()
        return tuple(sorted({str(g["email"]).lower() for g in entry.get("grants", [])}))

    def watched(self) -> None:
        """Say that a watcher now reports the changed paths through `note`: scans then look
        at those paths only (with a full walk every few minutes as the safety net)."""
        self.scanner.watched()

    def note(self, paths: list[str]) -> None:
        """Take the paths the watcher saw change."""
        self.scanner.note(paths)

    # --- internals ------------------------------------------------------------------

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._thread_lock, open(self._lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._read_journal()
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read_journal(self) -> None:
        """Read the lines other processes appended since this one last looked."""
        if not self.journal.exists():
            return
        self._offset, entries = read_appended(self.journal, self._offset)
        for entry in entries:
            self._entries.append(entry)
            self._latest[entry["id"]] = entry

    def _append(self, records: list[dict[str, Any]]) -> None:
        seq = self._entries[-1]["seq"] if self._entries else 0
        lines = []
        for record in records:
            seq += 1
            record["seq"] = seq
            lines.append(json.dumps(record, sort_keys=True))
        with open(self.journal, "ab") as f:
            torn = f.tell() > self._offset  # a crash left half a line: end it first
            f.write(("\n" if torn else "").encode() + ("\n".join(lines) + "\n").encode())
            f.flush()
            os.fsync(f.fileno())
            self._offset = f.tell()
        for record in records:
            self._entries.append(record)
            self._latest[record["id"]] = record

    def _scan(self) -> dict[str, Live]:
        """Journal every difference between the disk and the journal; return the live files."""
        updated, removed = self.scanner.scan()
        live = self.scanner.live
        records: list[dict[str, Any]] = []
        for fid in sorted(updated):
            state = live[fid]
            last = self._latest.get(fid)
            if last is not None and not last.get("removed") and last["fp"] == state.fingerprint:
                continue
            same_bytes = last is not None and last.get("sm") == [state.size, state.mtime_ns]
            version = last["v"] if same_bytes and last else _digest(self.drive.root / state.path)
            records.append(
                {
                    "id": fid,
                    "fp": state.fingerprint,
                    "v": version,
                    "sm": [state.size, state.mtime_ns],
                }
            )
        if not self._scanned:  # gone while no scan of this process looked
            removed = removed | {f for f, last in self._latest.items() if f not in live}
            self._scanned = True
        for fid in sorted(removed):
            last = self._latest.get(fid)
            if last is not None and not last.get("removed") and fid not in live:
                records.append({"id": fid, "removed": True})
        if records:
            self._append(records)
        return live

    def _change(self, file_id: str, state: Live | None) -> Change:
        last = self._latest.get(file_id, {})
        if state is None or last.get("removed"):
            return Change(file_id=file_id, removed=True)
        return Change(
            file_id=file_id,
            removed=False,
            name=Path(state.path).name,
            mime_type=state.mime_type,
            parents=state.parents,
            modified_time=datetime.fromtimestamp(state.mtime_ns / 1e9, UTC),
            version=str(last.get("v", "")),
            web_url=file_path(file_id),
            shared_with=state.grants,
            modified_by=state.uploaded_by,
            modified_by_name=state.uploaded_by_name,
            top_folder=state.top,
            # Written whole (an atomic rename) by the service's upload: no settle window.
            complete=bool(state.uploaded_by),
        )


def _serial(token: str) -> int:
    if not token.isdigit():
        raise ValueError(f"not a local change token: {token!r}")
    return int(token)


def _digest(path: Path) -> str:
    """Return a hash of the file's bytes: its version changes only when its content does."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError:
        return ""
    return h.hexdigest()[:32]
