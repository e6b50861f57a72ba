"""The database-backed queue (`TASK_QUEUE=database`): web workers store jobs, workers run them.

`handover worker` processes, as many as wanted on as many machines, take jobs from the
`queued_jobs` table (SKIP LOCKED on PostgreSQL) and run them with `run_job`. The web
workers then only store a row per job, so their CPU goes to answering requests.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from integrations.ports import RetryLater
from service.jobs import run_job, sweep
from service.store import job_queue
from service.store.db import Database
from service.wiring import Services

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5


class DatabaseTasks:
    """The Tasks port on the `queued_jobs` table; `handover worker` runs what it stores."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime]) -> None:
        self._db, self._clock = db, clock

    def enqueue(
        self, job: str, payload: Mapping[str, str], *, key: str, delay_seconds: float = 0
    ) -> None:
        """Store the job; a key already waiting is not stored twice."""
        now = self._clock()
        with self._db.transaction() as session:
            job_queue.add_job(
                session,
                job,
                dict(payload),
                key=key,
                now=now,
                run_at=now + timedelta(seconds=max(0.0, delay_seconds)),
            )

    def wait_idle(self, timeout: float = 30) -> bool:
        """Block until the workers emptied the queue; return False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            with self._db.transaction() as session:
                if job_queue.waiting_jobs(session) == 0:
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)

    def close(self) -> None:
        """Nothing to stop: the jobs live in the database."""


class Worker:
    """Runs queued jobs on a few threads until stopped; one thread also sweeps now and then."""

    def __init__(
        self,
        services: Services,
        *,
        threads: int = 4,
        poll: float = 0.5,
        sweep_every: float = 60.0,
    ) -> None:
        self.services = services
        self.threads, self.poll, self.sweep_every = max(1, threads), poll, sweep_every
        self.ran = 0
        self._lock = threading.Lock()

    def run_one(self) -> bool:
        """Take one due job and run it; return False when none was due."""
        s = self.services
        with s.db.transaction() as session:
            taken = job_queue.take_jobs(session, now=s.clock(), lease=s.settings.lease, limit=1)
        if not taken:
            return False
        job = taken[0]
        try:
            run_job(s, job.job, job.payload)
        except RetryLater as later:  # not a failure: look again when the holder's lease ends
            log.info("job %s again in %.0f s: %s", job.job, later.seconds, later, extra=job.payload)
            self._again(job, later.seconds)
        except Exception:
            log.exception("job %s failed (attempt %d)", job.job, job.attempts, extra=job.payload)
            self._again(job, min(300, 2**job.attempts))
        else:
            with s.db.transaction() as session:
                job_queue.finish_job(session, job.id)
        with self._lock:
            self.ran += 1
        return True

    def _again(self, job: job_queue.TakenJob, seconds: float) -> None:
        """Run the job again in `seconds`, or drop it after MAX_ATTEMPTS (what it was for is
        in the database: the sweep finds it again)."""
        s = self.services
        with s.db.transaction() as session:
            if job.attempts >= MAX_ATTEMPTS:
                job_queue.finish_job(session, job.id)
            else:
                at = s.clock() + timedelta(seconds=seconds)
                job_queue.retry_job(session, job.id, at=at, attempts=job.attempts)

    def _loop(self, stop: threading.Event, sweeper: bool) -> None:
        next_sweep = time.monotonic()
        while not stop.is_set():
            if sweeper and time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + self.sweep_every
                sweep(self.services)
            try:
                busy = self.run_one()
            except Exception:  # the database went away: wait and try again
                log.exception("worker could not take a job")
                busy = False
            if not busy:
                stop.wait(self.poll)

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set; the jobs running then finish first."""
        threads = [
            threading.Thread(target=self._loop, args=(stop, i == 0), name=f"worker-{i}")
            for i in range(self.threads)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
