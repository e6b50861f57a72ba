"""Growth: does a handover (and a contract draft) cost the same the thousandth time?

On the local backend (SQLite file, local workspace), with the same AM, PM, Sales and team
on every handover, as in an agency where a few people carry many accounts:

1. N handovers (default 1,000) submitted and run one after another, every step, as one
   worker would; prints the mean time of each tenth, then the time of one more
   `plan_meetings` (with its free/busy query) and of one free/busy query of the
   internal people over the planning horizon, the database's and the workspace's sizes.
2. M contract drafts (default 10,000) dropped one by one into the clients' Contracts
   folders, each followed by the change feed's sync and the review's routing (PM told,
   draft shared); prints the mean time of each tenth the same way. The filesystem
   watcher runs as under `bin/serve` and tells the feed which paths changed
   (`--no-watcher`: every sync walks the drive folder, as a separate worker does).

Goal (issue 16): the last tenth within 1.5x of the first; `plan_meetings` under 200 ms
at 1,000 handovers. Usage:

    .venv/bin/python bench/growth.py [--handovers 1000] [--drafts 10000] [--keep]

`--profile K` prints a cProfile of the last K handovers (what grows shows at the top).
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from integrations.local.watcher import LocalWatcher  # noqa: E402
from service import create_app  # noqa: E402
from service.config import Settings  # noqa: E402
from service.demo import example_handover  # noqa: E402
from service.jobs import run_job  # noqa: E402
from service.store import handovers as repo  # noqa: E402
from service.store.review_models import ReviewRow  # noqa: E402
from service.workflows import kickoff, meeting_steps, meetings, sync_horizon  # noqa: E402


class OneWorker:
    """The Tasks port as one worker in sequence: jobs wait here and run in order."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, str]]] = []

    def enqueue(
        self, job: str, payload: Mapping[str, str], *, key: str, delay_seconds: float = 0
    ) -> None:
        self.jobs.append((job, dict(payload)))

    def drain(self, services: Any) -> None:
        while self.jobs:
            job, payload = self.jobs.pop(0)
            run_job(services, job, payload)

    def close(self) -> None:
        pass


def tenths(times: list[float]) -> list[float]:
    size = max(1, len(times) // 10)
    return [sum(times[i : i + size]) / len(times[i : i + size]) for i in range(0, len(times), size)]


def show(label: str, times: list[float], cpu: list[float]) -> None:
    """Print the tenths in wall time and in this process's CPU time: on a shared machine the
    wall time swings with the others' load, the CPU time follows the work done."""
    for kind, values in (("wall", times), ("CPU", cpu)):
        means = tenths(values)
        print(f"{label}: {len(values)}, mean {kind} time of each tenth (ms): "
              + " ".join(f"{m * 1000:.0f}" for m in means))
        print(f"  last tenth / first tenth: {means[-1] / means[0]:.2f}x (goal: at most 1.5x)")


def size_of(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def run_handovers(services: Any, worker: OneWorker, n: int, profile: int) -> None:
    times: list[float] = []
    cpu: list[float] = []
    profiler = cProfile.Profile()
    for k in range(n):
        began, began_cpu = time.perf_counter(), time.process_time()
        if k == n - profile:
            profiler.enable()
        kickoff.submit_handover(
            example_handover(f"Client {k:05d}"), idempotency_key=None, actor="bench",
            db=services.db, tasks=worker,
        )
        worker.drain(services)
        times.append(time.perf_counter() - began)
        cpu.append(time.process_time() - began_cpu)
        if (k + 1) % max(1, n // 10) == 0:
            print(f"  {k + 1} handovers, the last took {times[-1] * 1000:.0f} ms", flush=True)
    profiler.disable()
    show("handovers", times, cpu)
    if profile:
        print(f"profile of the last {profile} handovers:")
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def time_planning(services: Any, worker: OneWorker) -> None:
    """Time one more handover's plan_meetings (its free/busy included) and one free/busy."""
    submitted = kickoff.submit_handover(
        example_handover("Client planned"), idempotency_key=None, actor="bench",
        db=services.db, tasks=worker,
    )
    worker.jobs.clear()  # only its plan is timed here
    with services.db.transaction() as session:
        payload = dict(repo.get_handover(session, submitted.handover_id).payload)
    handover = kickoff.load_handover(payload)
    began = time.perf_counter()
    meeting_steps.plan_meetings(submitted.handover_id, handover, services.steps, services.db)
    plan_ms = (time.perf_counter() - began) * 1000
    began = time.perf_counter()
    busy = meetings.busy_of(services.calendar, handover, now=services.clock())
    busy_ms = (time.perf_counter() - began) * 1000
    people = len({b.email for b in busy})
    print(f"plan_meetings: {plan_ms:.0f} ms (goal: under 200 ms); free/busy of "
          f"{len(handover.internal_people())} people over 30 days: {busy_ms:.0f} ms "
          f"({len(busy)} busy intervals, {people} people busy)")
    began = time.perf_counter()
    extended = sync_horizon.extend_syncs(db=services.db, ctx=services.steps)
    weekly_ms = (time.perf_counter() - began) * 1000
    with services.db.transaction() as session:
        accounts = len(repo.running_account_keys(session))
    print(f"weekly extend_syncs (nothing due yet): {weekly_ms:.0f} ms for {accounts} running "
          f"accounts, {len(extended)} extended")


def run_drafts(services: Any, worker: OneWorker, m: int, clients: int, *, watch: bool) -> None:
    """Drop drafts one by one; with `watch`, the filesystem watcher tells the feed which
    paths changed (as under `bin/serve`); without, each sync walks the drive folder."""
    drive_root = services.settings.workspace_dir / "drive"
    feed = services.change_feed
    heard: set[str] = set()
    arrived = threading.Condition()

    def on_paths(paths: list[str]) -> None:
        feed.note(paths)
        with arrived:
            heard.update(paths)
            arrived.notify_all()

    watcher = LocalWatcher(drive_root, lambda: None, on_paths=on_paths) if watch else None
    if watcher is not None:
        feed.watched()
        watcher.start()
    worker.enqueue("sync_drive", {}, key="sync_drive")  # the feed's start token
    worker.drain(services)
    times: list[float] = []
    cpu: list[float] = []
    try:
        for k in range(m):
            path = drive_root / f"Client {k % clients:05d}" / "Contracts" / f"SOW v{k // clients + 1}.pdf"
            began, began_cpu = time.perf_counter(), time.process_time()
            path.write_bytes(f"%PDF-1.4 draft {k}".encode())
            with arrived:  # the watcher's event reaches the feed before the sync it wakes
                wanted = str(path)
                arrived.wait_for(lambda w=wanted: not watch or w in heard, timeout=10)
            worker.enqueue("sync_drive", {}, key="sync_drive")  # what the watcher queues
            worker.drain(services)
            times.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
            if (k + 1) % max(1, m // 10) == 0:
                print(f"  {k + 1} drafts, the last took {times[-1] * 1000:.0f} ms", flush=True)
    finally:
        if watcher is not None:
            watcher.stop()
    with services.db.transaction() as session:
        opened = session.scalar(select(func.count()).select_from(ReviewRow))
    show(f"drafts ({'watched' if watch else 'no watcher: every sync walks the folder'})", times, cpu)
    print(f"  reviews opened: {opened} of {m} drafts")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--handovers", type=int, default=1000)
    parser.add_argument("--drafts", type=int, default=10000)
    parser.add_argument("--profile", type=int, default=0, help="profile the last K handovers")
    parser.add_argument("--no-watcher", action="store_true", help="drafts: no watcher, full walks")
    parser.add_argument("--keep", action="store_true", help="keep the database and workspace")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="handover-growth-"))
    settings = Settings(
        database_url=f"sqlite:///{tmp / 'handover.db'}",
        workspace_dir=tmp / "workspace",
        secret_key="bench-growth-secret-key",
        task_queue="database",  # replaced below: one worker, in sequence, in this process
        review_settle_seconds=0,
        testing=True,  # no watcher thread: the bench queues each sync itself
    )
    app = create_app(settings)
    logging.disable(logging.WARNING)
    services = app.extensions["handover"]
    worker = OneWorker()
    services.tasks = worker
    load = os.getloadavg()[0]
    print(f"local backend, SQLite, one worker in sequence; {os.cpu_count()} CPUs, "
          f"load average before the run {load:.1f}")
    try:
        run_handovers(services, worker, args.handovers, args.profile)
        time_planning(services, worker)
        db_size, ws_size = size_of(tmp / "handover.db"), size_of(tmp / "workspace")
        print(f"sizes after {args.handovers} handovers: database {mb(db_size)}, workspace {mb(ws_size)}"
              f"; load average now {os.getloadavg()[0]:.1f}")
        if args.drafts:
            run_drafts(services, worker, args.drafts, args.handovers, watch=not args.no_watcher)
            db_size, ws_size = size_of(tmp / "handover.db"), size_of(tmp / "workspace")
            print(f"sizes after {args.drafts} drafts: database {mb(db_size)}, workspace {mb(ws_size)}"
                  f"; load average now {os.getloadavg()[0]:.1f}")
    finally:
        services.close()
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
