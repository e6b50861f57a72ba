"""The Tasks port in-process: a small thread pool, the local backend's queue."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor

from integrations.ports import RetryLater

log = logging.getLogger(__name__)

Runner = Callable[[str, Mapping[str, str]], None]


class InlineTasks:
    """Runs jobs on a thread pool in this process; duplicate keys are dropped while queued.

    A job lost with the process (a crash) is found again by the sweep, which is why
    every job's state lives in the database and not here. A job that raises RetryLater
    is queued again after the time it asks for.
    """

    def __init__(self, runner: Runner, *, workers: int = 4) -> None:
        self._runner = runner
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="task")
        self._queued: set[str] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._closed = False
        self._timers: set[threading.Timer] = set()

    def enqueue(
        self, job: str, payload: Mapping[str, str], *, key: str, delay_seconds: float = 0
    ) -> None:
        """Run `job(payload)` on the pool; a key already waiting is not queued twice."""
        with self._lock:
            if self._closed or key in self._queued:
                return
            self._queued.add(key)
            self._in_flight += 1
        if delay_seconds > 0:
            timer = threading.Timer(delay_seconds, self._submit, (job, dict(payload), key))
            timer.daemon = True
            timer.start()
        else:
            self._submit(job, dict(payload), key)

    def _submit(self, job: str, payload: dict[str, str], key: str) -> None:
        try:
            future: Future[None] = self._pool.submit(self._run, job, payload, key)
        except RuntimeError:  # pool shut down between enqueue and submit
            self._done(key)
            return
        future.add_done_callback(lambda _f: None)

    def _run(self, job: str, payload: dict[str, str], key: str) -> None:
        with self._lock:
            self._queued.discard(key)  # from here on, a new enqueue of the key runs again
        try:
            self._runner(job, payload)
        except RetryLater as later:
            log.info("job %s again in %.0f s: %s", job, later.seconds, later, extra=payload)
            self._later(job, payload, key, later.seconds)
        except Exception:
            log.exception("job %s failed", job, extra={"job": job, **payload})
        finally:
            self._done(None)

    def _later(self, job: str, payload: dict[str, str], key: str, seconds: float) -> None:
        """Queue the job again after `seconds`; until then it does not count as work in
        hand (wait_idle does not wait for it), and close() forgets it."""
        timer = threading.Timer(seconds, self.enqueue, (job, payload), {"key": key})
        timer.daemon = True
        with self._lock:
            if self._closed:
                return
            self._timers = {t for t in self._timers if t.is_alive()} | {timer}
        timer.start()

    def _done(self, key: str | None) -> None:
        with self._lock:
            if key is not None:
                self._queued.discard(key)
            self._in_flight -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 30) -> bool:
        """Block until no job is queued or running; return False on timeout."""
        with self._lock:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout=timeout)

    def close(self) -> None:
        """Stop taking jobs and let the running ones finish."""
        with self._lock:
            self._closed = True
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
