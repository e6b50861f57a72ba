"""The Drive port on the local disk: real folders, briefs as HTML files.

Folders and files live under `root` so that a person can open them (and drop contract
drafts into a `Contracts` folder). An index (`drive_index.py`, a journal of entries)
maps our ids to paths and keeps each file's properties, the local stand-in for Drive's
appProperties. An exclusive file lock makes it safe across threads and gunicorn workers.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from integrations.local.drive_index import DriveIndex, IndexView
from integrations.ports import DOC_MIME, FOLDER_MIME, DriveFile, Grant

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r"[^\w .,&()@+'-]+", re.UNICODE)


# File systems allow 255 bytes per name (not characters: 200 CJK characters are 600 bytes).
# A name keeps room for what is added to it: `.html`, ` (2)`, and the temporary name of an
# atomic write (`.<name>.<pid>.<thread>.tmp`, up to about 40 bytes more).
MAX_NAME_BYTES = 180


def safe_name(name: str) -> str:
    """Return a file name that cannot climb out of its folder or hide itself, and fits in
    MAX_NAME_BYTES of UTF-8 (cut at a character boundary)."""
    cleaned = _UNSAFE.sub("_", name).strip(" .")
    cleaned = cleaned.replace("..", "_")
    cut = cleaned.encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", "ignore").strip(" .")
    return cut or "untitled"


def file_path(file_id: str) -> str:
    """Return the address of a local file on the service's own site: a path, made whole with
    today's base when shown (service/links.py), never stored with the base of the day."""
    return f"/files/{file_id}"


class LocalDrive:
    """Folders and HTML documents under a directory; ids and properties in an index."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.index = DriveIndex(self.root)
        log.warning("LocalDrive in use: files are written under %s, not to Google Drive", self.root)

    # --- the port -------------------------------------------------------------------

    def ensure_folder(
        self, name: str, *, parent_id: str | None, properties: Mapping[str, str]
    ) -> DriveFile:
        """Return the folder with these properties under parent, making it once."""
        with self._index() as index:
            found = self._find_in(index, properties)
            if found is not None:
                return found
            parent = self._dir_of(index, parent_id)
            path = self._unique_path(parent / safe_name(name), index, folder=True)
            path.mkdir(parents=True, exist_ok=True)
            return self._record(index, path, FOLDER_MIME, parent_id, properties)

    def write_document(
        self,
        name: str,
        html: str,
        *,
        parent_id: str,
        properties: Mapping[str, str],
        existing_id: str | None = None,
    ) -> DriveFile:
        """Write a document from HTML: replace the content of the existing one, or make it once."""
        with self._index() as index:
            entry_id = existing_id if existing_id in index else None
            found = self._find_in(index, properties) if entry_id is None else None
            if found is not None:
                entry_id = found.id
            if entry_id is not None:
                _atomic_write(self.root / index[entry_id]["path"], html)
                return self._file(entry_id, index[entry_id])
            parent = self._dir_of(index, parent_id)
            path = self._unique_path(parent / f"{safe_name(name)}.html", index, folder=False)
            _atomic_write(path, html)
            return self._record(index, path, DOC_MIME, parent_id, properties)

    def find(self, properties: Mapping[str, str]) -> DriveFile | None:
        """Return the live file carrying all these properties, if any."""
        with self._index() as index:
            return self._find_in(index, properties)

    def upload(
        self,
        name: str,
        data: bytes,
        *,
        mime_type: str,
        parent_id: str,
        properties: Mapping[str, str],
        file_id: str | None = None,
    ) -> DriveFile:
        """Write the bytes as a file in the folder, once per properties (looked up and
        written under the index's lock: two at once make one file; no id is needed)."""
        with self._index() as index:
            found = self._find_in(index, properties)
            if found is not None:
                return found
            parent = self._dir_of(index, parent_id)
            path = self._unique_path(parent / safe_name(name), index, folder=False)
            _atomic_write_bytes(path, data)
            return self._record(index, path, mime_type, parent_id, properties)

    def share(self, file_id: str, grants: Sequence[Grant], *, notify: bool) -> list[Grant]:
        """Record each grant on the file unless it is there already; return those added."""
        with self._index() as index:
            entry = index.get(file_id)
            if entry is None:
                raise FileNotFoundError(f"no local file with id {file_id}")
            have = {(g["email"].lower(), g["role"]) for g in entry.setdefault("grants", [])}
            added = [g for g in grants if (g.email.lower(), g.role) not in have]
            entry["grants"].extend({"email": g.email, "role": g.role} for g in added)
            index.touch(file_id)
            return added

    # --- local extras (used by the web app to serve files, and by the watcher) ------

    def path_of(self, file_id: str) -> Path | None:
        """Return the path on disk of a file id, if the file still exists."""
        with self._index() as index:
            entry = index.get(file_id)
        if entry is None:
            return None
        path = (self.root / str(entry["path"])).resolve()
        if not path.is_relative_to(self.root) or not path.exists():
            return None
        return path

    def describe(self, file_id: str) -> DriveFile | None:
        """Return what the index knows of a file id (properties, parents), if anything."""
        with self._index() as index:
            entry = index.get(file_id)
            return self._file(file_id, entry) if entry is not None else None

    def grants(self, file_id: str) -> list[Grant]:
        """Return who has been given access to a file."""
        with self._index() as index:
            entry = index.get(file_id, {})
        return [Grant(g["email"], g["role"]) for g in entry.get("grants", [])]

    # --- internals ------------------------------------------------------------------

    @contextmanager
    def _index(self) -> Iterator[IndexView]:
        with self.index.open() as index:
            yield index

    def _find_in(self, index: IndexView, properties: Mapping[str, str]) -> DriveFile | None:
        for file_id in self.index.having(properties):
            entry = index[file_id]
            if (self.root / entry["path"]).exists():
                return self._file(file_id, entry)
        return None

    def _dir_of(self, index: IndexView, folder_id: str | None) -> Path:
        if folder_id is None:
            return self.root
        entry = index.get(folder_id)
        if entry is None or entry["mime_type"] != FOLDER_MIME:
            raise FileNotFoundError(f"no local folder with id {folder_id}")
        return self.root / str(entry["path"])

    def _unique_path(self, path: Path, index: IndexView, *, folder: bool) -> Path:
        """Return the path to make: the name itself, else `name (2)`... A path on disk that
        no index entry names is taken as is: it was made by a run that died before it saved
        the index (the crash window), and making `name (2)` beside it would duplicate it.
        (Asked of the index's map by path: one lookup, not a read of every entry.)"""
        indexed = self.index.by_path
        candidate, n = path, 1
        while candidate.exists() and (
            str(candidate.relative_to(self.root)) in indexed or candidate.is_dir() != folder
        ):
            n += 1
            candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
        if not candidate.resolve().is_relative_to(self.root):
            raise ValueError(f"refusing a path outside the workspace: {path}")
        return candidate

    def _record(
        self,
        index: IndexView,
        path: Path,
        mime_type: str,
        parent_id: str | None,
        properties: Mapping[str, str],
    ) -> DriveFile:
        file_id = "loc" + secrets.token_hex(10)
        index[file_id] = {
            "path": str(path.relative_to(self.root)),
            "mime_type": mime_type,
            "parents": [parent_id] if parent_id else [],
            "properties": dict(properties),
            "grants": [],
        }
        return self._file(file_id, index[file_id])

    def _file(self, file_id: str, entry: Mapping[str, Any]) -> DriveFile:
        return DriveFile(
            id=file_id,
            name=Path(entry["path"]).name,
            url=file_path(file_id),
            mime_type=entry["mime_type"],
            parents=tuple(entry["parents"]),
            properties=dict(entry["properties"]),
        )

    @contextmanager
    def index_for_feed(self) -> Iterator[IndexView]:
        """Yield the id index under its lock to the local change feed; the entries it sets
        or touches are saved."""
        with self.index.open(track_reads=False) as index:
            yield index


def _atomic_write(path: Path, text: str) -> None:
    _atomic_write_bytes(path, text.encode("utf-8"))


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
