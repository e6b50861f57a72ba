"""The in-process queue's own sweep: at start and every LEASE_SECONDS, on a daemon thread.

With `TASK_QUEUE=inline` the jobs live in the process's memory, so a process killed mid-way
(SIGKILL, a power cut) takes its queue with it; nothing but a sweep finds that work again.
App Engine has its cron and `handover worker` its own loop; this is for `bin/serve`.
"""

from __future__ import annotations

import logging
import threading

from service.jobs import sweep
from service.wiring import Services

log = logging.getLogger(__name__)


class Sweeper:
    """Sweep now and then every `interval` seconds until closed."""

    def __init__(self, services: Services, interval: float) -> None:
        self._services = services
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sweeper", daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while True:
            try:
                # Work idle for a lease is abandoned (a live worker keeps renewing its own);
                # a step still leased by another process is left to it by the claims.
                stuck, reviews = sweep(self._services, idle=self._services.settings.lease)
                if stuck or reviews:
                    log.info("sweep found %d handovers, %d drafts", len(stuck), len(reviews))
            except Exception:
                log.exception("the sweep failed; it runs again in %.0f s", self._interval)
            if self._stop.wait(self._interval):
                return
