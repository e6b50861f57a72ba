"""The local drive's id index: our file ids, their paths and properties, kept as a journal.

Each change to an entry appends one line, `{"id": ..., "entry": {...}}`, to `.index.jsonl`
under an exclusive lock; every process keeps the entries in memory and reads only the
lines appended since it last looked. So recording a folder or a brief costs the entry
written, not the size of the index (the former `.index.json` was read, compared and
rewritten whole on every call). When the journal holds more than twice as many lines as
entries it is compacted (rewritten once, then replaced); other processes notice the new
file and read it afresh. An `.index.json` of an earlier version is taken over once.

Unlike the calendar's index this one is not derived: the ids and properties are the
local stand-in for Drive's, so lines are fsynced and a torn last line is skipped.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
from collections.abc import ItemsView, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from integrations.local.journal import read_appended

_COMPACT_SLACK = 1000  # lines beyond twice the entries before a compaction


class IndexView(MutableMapping[str, Any]):
    """The entries, as a mapping, for one locked transaction; remembers what it was given.

    It is the index's own dict, not a copy (a copy would cost the whole index per call).
    Setting an entry (`index[id] = {...}`) is recorded by itself; a change made inside an
    entry (`index[id]["grants"].append(...)`) must be announced with `touch(id)`, or
    (with `track_reads`) is found by comparing the entries read with their saved form.
    """

    def __init__(self, entries: dict[str, Any], *, track_reads: bool) -> None:
        self._entries = entries
        self.touched: set[str] = set()
        self.read: set[str] = set()
        self._track_reads = track_reads

    def __setitem__(self, key: str, value: Any) -> None:
        self.touched.add(key)
        self._entries[key] = value

    def __getitem__(self, key: str) -> Any:
        if self._track_reads:
            self.read.add(key)
        return self._entries[key]

    def __delitem__(self, key: str) -> None:
        raise TypeError("entries of the local drive's index are never deleted")

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def items(self) -> ItemsView[str, Any]:
        """Return every entry without counting them as read (the feed walks them all once)."""
        return self._entries.items()

    def touch(self, key: str) -> None:
        """Note that the entry `key` was changed in place."""
        self.touched.add(key)


class DriveIndex:
    """The id index of a LocalDrive: entries in memory, changes appended to a journal."""

    def __init__(self, root: Path) -> None:
        self.journal = root / ".index.jsonl"
        self._legacy = root / ".index.json"
        self._lock_path = root / ".index.lock"
        self._thread_lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {}
        self._saved: dict[str, str] = {}  # id -> the entry's JSON as last written or read
        self._by_prop: dict[tuple[str, str], set[str]] = {}
        self.by_path: dict[str, str] = {}  # relative path -> id, as saved
        self._log: list[str] = []  # ids in the order their entries were saved or read
        self._offset = 0
        self._inode: int | None = None
        self._lines = 0
        self.lines_written = 0  # tests and benches count the work

    @contextmanager
    def open(self, *, track_reads: bool = True) -> Iterator[IndexView]:
        """Yield the entries under the lock; the entries changed are appended after."""
        with self._thread_lock, open(self._lock_path, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                self._catch_up()
                view = IndexView(self._entries, track_reads=track_reads)
                try:
                    yield view
                except BaseException:
                    self._reset()  # entries may be half changed in memory: read them again
                    raise
                self._commit(view)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def having(self, properties: Mapping[str, str]) -> list[str]:
        """Return the ids of the (saved) entries carrying all these properties, sorted."""
        pairs = list(properties.items())
        if not pairs:
            return sorted(self._entries)
        sets = [self._by_prop.get(pair, set()) for pair in pairs]
        return sorted(set.intersection(*sets))

    @property
    def mark(self) -> int:
        """Return a position in this process's log of saved entries."""
        return len(self._log)

    def changed_since(self, mark: int) -> set[str]:
        """Return the ids whose entries were saved or read from the journal since `mark`."""
        return set(self._log[mark:])

    # --- internals ------------------------------------------------------------------

    def _catch_up(self) -> None:
        """Read what other processes appended (or all of a compacted or new journal)."""
        if not self.journal.exists():
            if self._inode is not None:
                self._reset()
            if self._legacy.exists():
                self._take_over_legacy()
            return
        st = self.journal.stat()
        if st.st_ino != self._inode or st.st_size < self._offset:
            self._reset()
            self._inode = st.st_ino
        self._offset, records = read_appended(self.journal, self._offset)
        for record in records:
            self._lines += 1
            self._put(record["id"], record["entry"], json.dumps(record["entry"], sort_keys=True))

    def _commit(self, view: IndexView) -> None:
        changed: dict[str, str] = {}
        for key in view.touched | view.read:
            entry = self._entries.get(key)
            if entry is None:
                continue
            text = json.dumps(entry, sort_keys=True)
            if self._saved.get(key) != text:
                changed[key] = text
        if not changed:
            return
        self._append("".join(_line(key, text) for key, text in changed.items()).encode())
        for key, text in changed.items():
            self._put(key, json.loads(text), text)
        self._lines += len(changed)
        self.lines_written += len(changed)
        if self._lines > 2 * len(self._entries) + _COMPACT_SLACK:
            self._compact()

    def _append(self, data: bytes) -> None:
        with open(self.journal, "ab") as f:
            torn = f.tell() > self._offset  # a crash left half a line: end it first
            f.write((b"\n" if torn else b"") + data)
            f.flush()
            os.fsync(f.fileno())
            self._offset = f.tell()
        if self._inode is None:
            self._inode = self.journal.stat().st_ino

    def _put(self, key: str, entry: dict[str, Any], text: str) -> None:
        old = self._saved.get(key)
        if old is not None:
            before = json.loads(old)
            for pair in before.get("properties", {}).items():
                self._by_prop.get(pair, set()).discard(key)
            if self.by_path.get(before.get("path")) == key:
                del self.by_path[before["path"]]
        self._entries[key] = entry
        self._saved[key] = text
        for pair in entry.get("properties", {}).items():
            self._by_prop.setdefault(pair, set()).add(key)
        if "path" in entry:
            self.by_path[entry["path"]] = key
        self._log.append(key)

    def _reset(self) -> None:
        self._entries, self._saved, self._by_prop, self.by_path = {}, {}, {}, {}
        self._offset, self._lines, self._inode = 0, 0, None

    def _compact(self) -> None:
        tmp = self.journal.with_name(f".{self.journal.name}.{os.getpid()}.tmp")
        with open(tmp, "wb") as f:
            for key in sorted(self._entries):
                f.write(_line(key, self._saved[key]).encode())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.journal)
        st = self.journal.stat()
        self._inode, self._offset, self._lines = st.st_ino, st.st_size, len(self._entries)

    def _take_over_legacy(self) -> None:
        entries: dict[str, Any] = json.loads(self._legacy.read_text(encoding="utf-8"))
        for key, entry in entries.items():
            self._put(key, entry, json.dumps(entry, sort_keys=True))
        self._lines = len(self._entries)
        self._compact()


def _line(key: str, text: str) -> str:
    return f'{{"entry": {text}, "id": {json.dumps(key)}}}\n'
