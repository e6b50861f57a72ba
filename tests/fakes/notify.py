"""Delivery of push notifications (webhooks) from a background thread, in due-time order."""

from __future__ import annotations

import heapq
import http.client
import itertools
import threading
import time
import urllib.parse
from dataclasses import dataclass, field


@dataclass
class Delivery:
    """One notification POST and what became of it (status 0: could not connect)."""

    address: str
    headers: dict[str, str]
    status: int | None = None
    error: str | None = None
    sent_at: float | None = None
    attempts: int = 0


@dataclass(order=True)
class _Item:
    due: float
    seq: int
    delivery: Delivery = field(compare=False)


class Notifier:
    """A single worker thread POSTing notifications when they fall due."""

    def __init__(self, timeout: float = 5.0) -> None:
        self.timeout = timeout
        self.deliveries: list[Delivery] = []
        self._queue: list[_Item] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._cond:
            self._stopped = False
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="fake-google-notifier")
                self._thread.daemon = True
                self._thread.start()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._queue.clear()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def clear(self) -> None:
        with self._cond:
            self._queue.clear()
            self.deliveries = []

    def send(self, address: str, headers: dict[str, str], delay: float = 0.0) -> None:
        delivery = Delivery(address, dict(headers))
        with self._cond:
            heapq.heappush(self._queue, _Item(time.monotonic() + delay, next(self._seq), delivery))
            self._cond.notify_all()

    def pending(self) -> int:
        with self._cond:
            return len(self._queue)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (
                    not self._queue or self._queue[0].due > time.monotonic()
                ):
                    wait = self._queue[0].due - time.monotonic() if self._queue else None
                    self._cond.wait(wait)
                if self._stopped:
                    return
                item = heapq.heappop(self._queue)
                self.deliveries.append(item.delivery)
            self._post(item.delivery)

    def _post(self, delivery: Delivery) -> None:
        url = urllib.parse.urlsplit(delivery.address)
        connection_class = (
            http.client.HTTPSConnection if url.scheme == "https" else http.client.HTTPConnection
        )
        connection = connection_class(url.hostname or "", url.port, timeout=self.timeout)
        delivery.attempts += 1
        try:
            target = (url.path or "/") + (f"?{url.query}" if url.query else "")
            connection.request("POST", target, body=b"", headers=delivery.headers)
            response = connection.getresponse()
            response.read()
            delivery.status = response.status
        except OSError as error:
            delivery.status = 0
            delivery.error = repr(error)
        finally:
            connection.close()
            delivery.sent_at = time.time()
