"""What the local change feed sees on disk: the drive folder's files, found cheaply again.

A `DriveScan` remembers, per process, each path's inode, size and modification time from
its last look, and the state of every file (`Live`) it derived from them and from the
drive's index. A scan then does the expensive part (ids, parents, types, grants) only for
what changed: the paths whose stat differs, and the entries the index changed.

How it finds what changed: when a watcher of the folder tree feeds it the paths it saw
change (`note`), a scan looks only at those (and walks a directory that appeared), with a
full walk at the first scan, when a known path is gone (a deletion, or a move whose new
place may be told later: the walk finds it by its inode), and every `full_every` seconds
as the net for a missed event.
Without a watcher (a worker in another process, a CLI run, tests) every scan walks the
tree, which costs one stat per file (`os.scandir`), the rest staying per change.
"""

from __future__ import annotations

import json
import mimetypes
import os
import secrets
import stat
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from integrations.local.drive import LocalDrive
from integrations.local.drive_index import IndexView
from integrations.ports import DOC_MIME, FOLDER_MIME, UPLOADED_BY, UPLOADED_BY_NAME

# inode, size, mtime_ns, is a directory
Stat = tuple[int, int, int, bool]


@dataclass(frozen=True)
class Live:
    """A file on disk as the scan found it."""

    path: str
    mime_type: str
    parents: tuple[str, ...]
    size: int
    mtime_ns: int
    grants: tuple[str, ...]
    top: str = ""  # the top-level folder it lies under (a client's folder), "" at the root
    uploaded_by: str = ""  # who uploaded it through the service, "" when dropped on disk
    uploaded_by_name: str = ""

    @property
    def fingerprint(self) -> str:
        return json.dumps([self.path, self.size, self.mtime_ns, self.grants])


class DriveScan:
    """The drive folder's live files, kept up to date by stat and by the watcher's paths."""

    def __init__(self, drive: LocalDrive, *, full_every: float = 300.0) -> None:
        self.drive = drive
        self.root = str(drive.root)
        self.full_every = full_every
        self.live: dict[str, Live] = {}  # file id -> state, files only
        self.stats_taken = 0  # tests and benches count the work
        self._known: dict[str, Stat] = {}
        self._ids: dict[str, str] = {}  # relative path -> id, files and folders
        self._index_mark = 0
        self._hints: set[str] | None = None  # None: no watcher, every scan walks the tree
        self._hint_lock = threading.Lock()
        self._last_full = float("-inf")

    def watched(self) -> None:
        """Say that a watcher now reports every change under the root through `note`."""
        with self._hint_lock:
            if self._hints is None:
                self._hints = set()

    def note(self, paths: Iterable[str]) -> None:
        """Take paths (absolute, or relative to the root) the watcher saw change."""
        with self._hint_lock:
            if self._hints is None:
                return
            for path in paths:
                rel = os.path.relpath(path, self.root) if os.path.isabs(path) else path
                if rel != "." and not rel.startswith(".."):
                    self._hints.add(rel)

    def scan(self) -> tuple[set[str], set[str]]:
        """Look at the disk again; return the ids of the files changed and of those gone."""
        with self._hint_lock:
            hints, self._hints = self._hints, (None if self._hints is None else set())
        now = time.monotonic()
        first = not self._known
        looked = None
        if hints is not None and not first and now - self._last_full <= self.full_every:
            looked = self._look_at(hints)
        if looked is None:
            found = self._walk("")
            changed = {r for r, s in found.items() if self._known.get(r) != s}
            gone = self._known.keys() - found.keys()
            self._last_full = now
        else:
            found, changed = looked
            gone = set()
        with self.drive.index_for_feed() as index:
            touched = self.drive.index.changed_since(self._index_mark)
            self._index_mark = self.drive.index.mark
            return self._reconcile(index, found, changed, gone, touched, first=first)

    # --- internals ------------------------------------------------------------------

    def _walk(self, top: str) -> dict[str, Stat]:
        """Return every visible file and folder under top (relative paths), links left out."""
        found: dict[str, Stat] = {}
        stack = [top]
        while stack:
            rel_dir = stack.pop()
            try:
                entries = os.scandir(os.path.join(self.root, rel_dir))
            except (FileNotFoundError, NotADirectoryError):
                continue
            with entries:
                for entry in entries:
                    if entry.name.startswith(".") or entry.is_symlink():
                        continue
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue
                    self.stats_taken += 1
                    rel = os.path.join(rel_dir, entry.name) if rel_dir else entry.name
                    is_dir = stat.S_ISDIR(st.st_mode)
                    found[rel] = (st.st_ino, st.st_size, st.st_mtime_ns, is_dir)
                    if is_dir:
                        stack.append(rel)
        return found

    def _look_at(self, hints: set[str]) -> tuple[dict[str, Stat], set[str]] | None:
        """Return the known paths updated with the hinted ones and what changed; None when
        a known path is gone (deleted, or moved: its new place may be hinted only later,
        so a full walk finds it by its inode now)."""
        found = dict(self._known)
        changed: set[str] = set()
        for rel in sorted(hints, key=lambda p: (p.count(os.sep), p)):
            if any(part.startswith(".") for part in rel.split(os.sep)):
                continue
            try:
                st = os.lstat(os.path.join(self.root, rel))
            except FileNotFoundError:
                st = None
            self.stats_taken += 1
            if st is None or stat.S_ISLNK(st.st_mode):
                if rel in found:
                    return None
                continue
            if os.path.dirname(rel) and os.path.dirname(rel) not in found:
                continue  # inside a folder not (yet) seen: that folder's own hint walks it
            is_dir = stat.S_ISDIR(st.st_mode)
            now = (st.st_ino, st.st_size, st.st_mtime_ns, is_dir)
            if is_dir and rel not in found:  # a folder appeared (made or moved in): walk it
                for k, s in self._walk(rel).items():
                    found[k] = s
                    changed.add(k)
            if found.get(rel) != now:
                found[rel] = now
                changed.add(rel)
        return found, changed

    def _reconcile(
        self,
        index: IndexView,
        found: dict[str, Stat],
        changed: set[str],
        gone: set[str],
        touched: set[str],
        *,
        first: bool,
    ) -> tuple[set[str], set[str]]:
        """Give changed paths ids (known path, else a vanished entry's inode, else new)."""
        by_path = self.drive.index.by_path
        if first:  # what happened while this process was not looking
            vanished = {
                e["inode"]: fid
                for fid, e in index.items()
                if e.get("inode") and e["path"] not in found
            }
        else:
            vanished = {
                index[fid]["inode"]: fid
                for rel in gone
                if (fid := self._ids.get(rel)) and fid in index and index[fid].get("inode")
            }
        for rel in gone:
            self._ids.pop(rel, None)
        # Entries the index changed (a share, a brief written) are looked at again too.
        for fid in touched:
            entry = index.get(fid)
            if entry is not None and entry.get("path") in found:
                changed.add(entry["path"])
        updated: set[str] = set()
        for rel in sorted(changed, key=lambda p: (p.count(os.sep), p)):
            if rel not in found:
                continue
            fid = self._entry_for(index, rel, found[rel], by_path, vanished)
            self._ids[rel] = fid
            if not found[rel][3]:
                updated.add(fid)
        removed = {fid for fid in vanished.values() if fid in self.live}
        for rel in gone:
            fid = by_path.get(rel)
            if fid in self.live and self.live[fid].path == rel:
                removed.add(fid)
        for fid in removed - updated:
            self.live.pop(fid, None)
        self._known = found
        return updated, removed - updated

    def _entry_for(
        self,
        index: IndexView,
        rel: str,
        st: Stat,
        by_path: dict[str, str],
        vanished: dict[int, str],
    ) -> str:
        ino, size, mtime_ns, is_dir = st
        fid = by_path.get(rel) or vanished.pop(ino, None)
        if fid is None or fid not in index:
            fid = "loc" + secrets.token_hex(10)
            index[fid] = {"path": rel, "mime_type": "", "parents": [], "properties": {}}
        entry = index[fid]
        parent = self._ids.get(os.path.dirname(rel)) or by_path.get(os.path.dirname(rel))
        mime = entry.get("mime_type", "")
        if is_dir:
            mime = FOLDER_MIME
        elif mime != DOC_MIME:
            mime = mimetypes.guess_type(rel)[0] or "application/octet-stream"
        parents = [parent] if parent else []
        wanted = {"path": rel, "parents": parents, "inode": ino, "mime_type": mime}
        for key, value in wanted.items():
            if entry.get(key) != value:
                entry[key] = value
                index.touch(fid)
        if "grants" not in entry:
            entry["grants"] = []
            index.touch(fid)
        if not is_dir:
            grants = tuple(sorted({str(g["email"]).lower() for g in entry["grants"]}))
            first = rel.split(os.sep, 1)[0] if os.sep in rel else ""
            top = (self._ids.get(first) or by_path.get(first) or "") if first else ""
            own = entry.get("properties") or {}
            self.live[fid] = Live(
                rel,
                mime,
                tuple(entry["parents"]),
                size,
                mtime_ns,
                grants,
                top=top,
                uploaded_by=str(own.get(UPLOADED_BY, "")),
                uploaded_by_name=str(own.get(UPLOADED_BY_NAME, "")),
            )
        return fid
