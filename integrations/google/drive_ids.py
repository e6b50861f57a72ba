"""File ids from `files.generateIds`, fetched ahead of need so that a create never waits.

A create that carries a reserved id is refused with 409 when it is repeated, which is what
makes Drive creates idempotent; fetching the ids first would cost one round trip before
the first create. The pool fetches them in the background instead: when it is made, and
again whenever it runs low. Only a pool run dry fetches on the caller's thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("integrations.google")

Fetch = Callable[[int], list[str]]

# How long a caller waits for a background fetch in flight before fetching itself.
WAIT = 30.0


class IdPool:
    """Reserved file ids, refilled in the background when `fetch_apart` is given."""

    def __init__(
        self, fetch: Fetch, *, size: int, fetch_apart: Fetch | None = None, low: int = 3
    ) -> None:
        self._fetch = fetch
        self._fetch_apart = fetch_apart
        self._size = size
        self._low = min(low, size - 1)
        self._ids: list[str] = []
        self._filling = False
        self._cond = threading.Condition()

    def warm(self) -> None:
        """Start filling the pool in the background (no-op without a background fetch)."""
        with self._cond:
            self._refill_if_low()

    def take(self) -> str:
        """Return an unused reserved id."""
        with self._cond:
            if not self._ids and self._filling:
                self._cond.wait_for(lambda: bool(self._ids) or not self._filling, timeout=WAIT)
            if self._ids:
                found = self._ids.pop()
                self._refill_if_low()
                return found
        ids = self._fetch(self._size)  # ran dry: this caller pays the round trip
        with self._cond:
            self._ids.extend(ids[1:])
        return ids[0]

    def _refill_if_low(self) -> None:
        if self._fetch_apart is None or self._filling or len(self._ids) > self._low:
            return
        self._filling = True
        threading.Thread(target=self._fill, name="drive-id-pool", daemon=True).start()

    def _fill(self) -> None:
        ids: list[str] = []
        try:
            assert self._fetch_apart is not None
            ids = self._fetch_apart(self._size)
        except Exception as exc:  # the next take fetches on its own thread instead
            log.info("could not fetch file ids ahead: %s", exc)
        finally:
            with self._cond:
                self._ids.extend(ids)
                self._filling = False
                self._cond.notify_all()
