"""A filesystem watcher on the local drive folder: the local stand-in for Drive push.

Any created, moved, modified or deleted path under the root (a draft dropped into a
`Contracts` folder, a share recorded in the index), but not the service's own lock files
and temporaries, calls the callback once things have
been quiet for `debounce` seconds, and at least every `max_delay` seconds while they are
not. `on_paths`, when given, hears at once which paths changed (the local change feed then
looks at those only). The callback only queues a sync; the sync compares with its
journal, so a missed or extra call costs nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

log = logging.getLogger(__name__)

_KINDS = frozenset({"created", "moved", "modified", "deleted", "closed"})


def _bookkeeping(path: bytes | str) -> bool:
    """True for the service's own lock files and half-written temporaries: opening a lock
    file to take it is a "closed" event too, and a sync takes one, so they must not wake a
    sync (which would take the lock again, and again)."""
    name = Path(str(path)).name
    return name.endswith(".lock") or (name.startswith(".") and name.endswith(".tmp"))


class _Handler(FileSystemEventHandler):
    def __init__(
        self, poke: Callable[[], None], on_paths: Callable[[list[str]], None] | None
    ) -> None:
        self._poke = poke
        self._on_paths = on_paths

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type not in _KINDS:
            return
        if event.is_directory and event.event_type == "modified":
            return  # a folder "modified" only echoes its child's own event (seen below)
        paths = [str(p) for p in (event.src_path, getattr(event, "dest_path", "")) if p]
        if all(_bookkeeping(path) for path in paths):
            return
        if self._on_paths is not None:  # before the poke: the sync it wakes sees them
            self._on_paths(paths)
        self._poke()


class LocalWatcher:
    """Watches a folder tree and calls back, debounced, when something in it changes."""

    def __init__(
        self,
        root: Path,
        callback: Callable[[], None],
        *,
        debounce: float = 0.3,
        max_delay: float = 3.0,
        on_paths: Callable[[list[str]], None] | None = None,
    ) -> None:
        self.root = root.resolve()
        self._callback = callback
        self._on_paths = on_paths
        self._debounce = debounce
        self._max_delay = max_delay
        self._cond = threading.Condition()
        self._due: float | None = None
        self._first: float | None = None
        self._stopped = False
        self._observer: Observer | None = None  # type: ignore[valid-type]
        self._thread: threading.Thread | None = None

    def start(self) -> LocalWatcher:
        """Start watching (recursively); return self."""
        self.root.mkdir(parents=True, exist_ok=True)
        observer = Observer()
        observer.daemon = True
        observer.schedule(_Handler(self.poke, self._on_paths), str(self.root), recursive=True)
        observer.start()
        self._observer = observer
        self._thread = threading.Thread(target=self._run, name="drive-watcher", daemon=True)
        self._thread.start()
        log.info("watching %s for contract drafts", self.root)
        return self

    def stop(self) -> None:
        """Stop watching; a pending callback is dropped (the next sync finds its change)."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
            self._observer = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LocalWatcher:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def poke(self) -> None:
        """Note that something changed: the callback runs once it is quiet."""
        with self._cond:
            now = time.monotonic()
            self._due = now + self._debounce
            if self._first is None:
                self._first = now
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and self._due is None:
                    self._cond.wait()
                if self._stopped:
                    return
                assert self._due is not None and self._first is not None
                fire_at = min(self._due, self._first + self._max_delay)
                remaining = fire_at - time.monotonic()
                if remaining > 0:
                    self._cond.wait(remaining)
                    continue
                self._due = self._first = None
            try:
                self._callback()
            except Exception:
                log.exception("the drive watcher's callback failed")
