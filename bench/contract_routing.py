"""Contract routing: upload -> PM notified latency, and change-feed throughput.

Three figures, printed (not a test):

1. push: the service on WORKSPACE_BACKEND=google against the loopback Google (every API
   call delayed by --latency, 100 ms by default), served over HTTP so the fake's push
   notifications reach `POST /hooks/drive`; a handover first, then --uploads drafts
   uploaded into the account's Contracts folder one after another. The latency is from
   the upload to the PM's email being in Gmail's sent mail.
2. push lost: the same with every notification dropped; a reconcile (the `sync_drive`
   job, as cron queues it) runs every --period seconds, and --uploads drafts arrive at
   random moments over a few periods. The latency is bounded by the period.
3. feed: `sync_drive` over --changes synthetic changes (pages of 1000 from an in-memory
   feed, --watched of them in watched Contracts folders) on a fresh database; then
   --bulk changes all in watched folders (a bulk move: every change is a database
   write); then the filter alone (the domain rules, no database). Changes/s, and the
   peak of Python allocations (tracemalloc, in separate runs since tracing slows the
   code) at a quarter, half and all of the changes, to show whether memory stays flat.

Usage:

    .venv/bin/python bench/contract_routing.py [--uploads 30] [--latency 0.1] [--period 5]
        [--changes 100000] [--watched 0.01] [--bulk 5000] [--database-url URL]
        [--only push,lost,feed]
"""

from __future__ import annotations

import argparse
import logging
import random
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from submit_latency import percentile  # noqa: E402

from integrations.ports import Change, ChangePage, Channel  # noqa: E402
from service import create_app  # noqa: E402
from service.config import Settings  # noqa: E402
from service.demo import example_handover  # noqa: E402
from service.domain import contracts as rules  # noqa: E402
from service.jobs import run_job  # noqa: E402
from service.store import reviews as reviews_repo  # noqa: E402
from service.store.db import Database, make_engine, migrate  # noqa: E402
from service.store.models import AccountRow  # noqa: E402
from service.store.review_models import ReviewRow  # noqa: E402
from service.workflows import contracts, kickoff  # noqa: E402
from tests.conftest import LiveServer, close_app, free_port, fresh_schema, on_the_fake  # noqa: E402
from tests.fakes import FakeGoogle  # noqa: E402

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PAGE = 1000


def summary(values: list[float]) -> str:
    return (
        f"n={len(values)}  p50={percentile(values, 0.5) * 1000:.0f} ms  "
        f"p95={percentile(values, 0.95) * 1000:.0f} ms  max={max(values) * 1000:.0f} ms"
    )


# --- 1 and 2: upload -> PM notified ----------------------------------------------------


class Mailbox:
    """Watches the fake's sent mail; remembers when each review request first appeared."""

    def __init__(self, fake: FakeGoogle) -> None:
        self._fake = fake
        self._seen = 0
        self.arrived: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Mailbox:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            sent = self._fake.gmail.sent
            for record in sent[self._seen :]:
                subject = " ".join(str(record["message"]["Subject"]).split())
                self.arrived.setdefault(subject, time.perf_counter())
            self._seen = len(sent)
            time.sleep(0.002)

    def wait_for(self, name: str, timeout: float = 120) -> float:
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            for subject, at in list(self.arrived.items()):
                if subject.startswith(f"Contract review: {name} "):
                    return at
            time.sleep(0.002)
        raise TimeoutError(f"the PM was never told about {name}")


@contextmanager
def google_service(tmp: Path) -> Iterator[tuple[Any, FakeGoogle, str]]:
    """Yield the app's services on the Google backend, served over HTTP, with its fake."""
    with FakeGoogle() as fake:
        server_port = free_port()
        settings = Settings(
            **on_the_fake(
                fake,
                database_url=f"sqlite:///{tmp / 'service.db'}",
                workspace_dir=tmp / "workspace",
                google_impersonate="handover@agency.example",
                public_base_url=f"http://127.0.0.1:{server_port}",
                # REVIEW_SETTLE_SECONDS at its default: an upload Drive shows whole is
                # routed at once, so the window must cost it nothing.
                inline_workers=4,
                secret_key="bench-secret",
            )
        )
        logging.getLogger("integrations.local.chat").setLevel(logging.ERROR)  # no Slack: fine
        app = create_app(settings)
        for name in ("service", "integrations", "werkzeug"):
            logging.getLogger(name).setLevel(logging.WARNING)
        services = app.extensions["handover"]
        try:
            with LiveServer(app, server_port):
                try:
                    result = kickoff.submit_handover(
                        example_handover(),
                        idempotency_key=None,
                        actor="bench",
                        db=services.db,
                        tasks=services.tasks,
                    )
                    services.tasks.wait_idle(timeout=120)
                    with services.db.transaction() as session:
                        account = session.get(AccountRow, "acmecorp.example")
                        assert account is not None and account.contracts_folder_id, result
                        folder = account.contracts_folder_id
                    # What the renewal cron (and start, and warmup) does: no operator step.
                    run_job(services, "renew_channels", {})
                    yield services, fake, folder
                finally:
                    fake.drive.notify_drop_rate = 1.0  # nothing more for a server going away
        finally:
            close_app(app)


def bench_push(args: argparse.Namespace, tmp: Path) -> list[float]:
    with google_service(tmp / "push") as (services, fake, folder):
        fake.latency = args.latency
        latencies = []
        with Mailbox(fake) as mailbox:
            for n in range(args.uploads):
                name = f"SOW - Acme push {n:03d}.docx"
                started = time.perf_counter()
                fake.drive.add_file(name, [folder], mime_type=DOCX, content=name.encode())
                latencies.append(mailbox.wait_for(name) - started)
                services.tasks.wait_idle(timeout=60)
        _check_once(services, args.uploads)
        return latencies


def bench_lost(args: argparse.Namespace, tmp: Path) -> list[float]:
    with google_service(tmp / "lost") as (services, fake, folder):
        fake.latency = args.latency
        fake.drive.notify_drop_rate = 1.0
        stop = threading.Event()

        def reconcile() -> None:  # what cron's POST /tasks/sync_drive does every period
            while not stop.wait(args.period):
                services.tasks.enqueue("sync_drive", {}, key="sync_drive")

        ticker = threading.Thread(target=reconcile, daemon=True)
        rng = random.Random(7)
        window = args.period * 4
        offsets = sorted(rng.uniform(0, window) for _ in range(args.uploads))
        uploaded: dict[str, float] = {}
        with Mailbox(fake) as mailbox:
            ticker.start()
            begin = time.perf_counter()
            for n, offset in enumerate(offsets):
                time.sleep(max(0.0, begin + offset - time.perf_counter()))
                name = f"SOW - Acme lost {n:03d}.docx"
                uploaded[name] = time.perf_counter()
                fake.drive.add_file(name, [folder], mime_type=DOCX, content=name.encode())
            latencies = [
                mailbox.wait_for(name, timeout=args.period * 3 + 60) - at
                for name, at in uploaded.items()
            ]
            stop.set()
            ticker.join()
        services.tasks.wait_idle(timeout=60)
        _check_once(services, args.uploads)
        return latencies


def _check_once(services: Any, uploads: int) -> None:
    with services.db.transaction() as session:
        count = session.query(ReviewRow).count()
    if count != uploads:
        raise AssertionError(f"{count} reviews for {uploads} uploads")


# --- 3: change-feed throughput ---------------------------------------------------------


class SyntheticFeed:
    """A ChangeFeed of `total` changes, each page made when it is asked for."""

    def __init__(self, total: int, watched: list[str], share: float, *, ready: bool) -> None:
        self.total = total
        self.watched = watched
        self.cut = int(share * 1_000_000)
        # ready: every page made beforehand, so a timing leaves out the feed's own cost.
        self.pages = [self._page(s) for s in range(0, total, PAGE)] if ready else None

    def start_token(self) -> str:
        return "0"

    def _page(self, start: int) -> tuple[Change, ...]:
        return tuple(self.change(i) for i in range(start, min(start + PAGE, self.total)))

    def changes(self, token: str) -> ChangePage:
        start = int(token)
        end = min(start + PAGE, self.total)
        page = self.pages[start // PAGE] if self.pages is not None else self._page(start)
        done = end >= self.total
        return ChangePage(page, None if done else str(end), str(end) if done else None)

    def change(self, i: int) -> Change:
        """Change i: a file in a watched folder for `share` of them, elsewhere otherwise."""
        in_watched = (i * 2_654_435_761) % 1_000_000 < self.cut
        if in_watched:
            parent = self.watched[i % len(self.watched)]
            name = f"SOW - draft {i}.docx" if i % 4 == 0 else f"meeting notes {i}.txt"
        else:
            parent = f"folder-{i % 5000:05d}"
            name = f"SOW - elsewhere {i}.docx" if i % 4 == 0 else f"photo {i}.jpg"
        mime = DOCX if name.endswith(".docx") else "text/plain"
        return Change(
            file_id=f"file-{i:09d}",
            removed=False,
            name=name,
            mime_type=mime,
            parents=(parent,),
            modified_time=datetime(2026, 11, 25, tzinfo=UTC),
            version=f"v{i}",
            web_url=f"https://drive.google.com/file/d/file-{i:09d}/view",
            shared_with=("handover@agency.example",),
        )

    def watch(self, *, channel_id: str, token: str, address: str, start_token: str) -> Channel:
        raise NotImplementedError

    def stop(self, channel: Channel) -> None:
        raise NotImplementedError


class CountingTasks:
    """The Tasks port counting what the sync queues (routing is not measured here)."""

    def __init__(self) -> None:
        self.queued = 0

    def enqueue(self, job: str, payload: Any, *, key: str, delay_seconds: float = 0) -> None:
        self.queued += 1


@contextmanager
def fresh_database(base_url: str, tmp: Path, accounts: int) -> Iterator[tuple[Database, list[str]]]:
    """Yield a new migrated database with `accounts` accounts, and their Contracts folders.

    SQLite: a new file. PostgreSQL: a new schema in base_url's database, dropped afterwards.
    """
    with ExitStack() as stack:
        if base_url:
            url = stack.enter_context(fresh_schema(base_url, prefix="bench_"))
        else:
            url = f"sqlite:///{tmp / f'bench_{uuid.uuid4().hex[:10]}.db'}"
        engine = make_engine(url)
        stack.callback(engine.dispose)  # before the schema is dropped
        migrate(engine)
        db = Database(engine)
        folders = [f"contracts-{k:04d}" for k in range(accounts)]
        with db.transaction() as session:
            for k, folder in enumerate(folders):
                session.add(
                    AccountRow(
                        key=f"client{k:04d}.example",
                        client_name=f"Client {k:04d}",
                        contracts_folder_id=folder,
                    )
                )
        yield db, folders


def filter_only(changes: list[Change], watched: dict[str, str | None]) -> tuple[float, int, int]:
    """Time the decision for unseen files alone: watched parents, then the domain rules."""
    keys = watched.keys()
    started = time.perf_counter()
    kept = drafts = 0
    for change in changes:
        if change.removed or change.trashed or keys.isdisjoint(change.parents):
            continue
        kept += 1
        current = rules.Sighting(change.name, change.mime_type, frozenset(change.parents))
        if rules.arrival(None, current, keys) is not None:
            drafts += 1
    return time.perf_counter() - started, kept, drafts


def bench_feed(args: argparse.Namespace, tmp: Path) -> None:
    total, share = args.changes, args.watched
    print(
        f"\n3. change feed: {total:,} synthetic changes, {share:.1%} in watched Contracts"
        f" folders of {args.accounts} accounts, a quarter of those named like drafts"
    )
    runs = (("sync_drive", total, share), ("sync_drive, all watched", args.bulk, 1.0))
    for label, count, fraction in runs:
        with fresh_database(args.database_url, tmp, args.accounts) as (db, folders):
            feed = SyntheticFeed(count, folders, fraction, ready=True)
            _prime(db, feed)
            elapsed, result = _timed_sync(db, feed)
        print(
            f"   {label:<27} {result.changes / elapsed:>10,.0f} changes/s"
            f"  ({result.changes:,} in {elapsed:.2f} s; {len(result.opened):,} reviews opened)"
        )
    feed = SyntheticFeed(
        total, [f"contracts-{k:04d}" for k in range(args.accounts)], share, ready=False
    )
    made = time.perf_counter()
    changes = [feed.change(i) for i in range(total)]
    made = time.perf_counter() - made
    watched: dict[str, str | None] = dict.fromkeys(feed.watched)
    elapsed, kept, drafts = filter_only(changes, watched)
    print(
        f"   {'filter alone (no database)':<27} {total / elapsed:>10,.0f} changes/s"
        f"  ({elapsed:.3f} s; {kept:,} in watched folders, {drafts:,} drafts)"
    )
    print(
        f"   {'making the Change objects':<27} {total / made:>10,.0f} changes/s"
        f"  (the synthetic feed's own cost: not in the figures above; the Google"
        f" adapter's parsing would be)"
    )
    del changes
    print("   peak Python allocations during one sync_drive, pages made on demand (tracemalloc):")
    for part in (total // 4, total // 2, total):
        with fresh_database(args.database_url, tmp, args.accounts) as (db, folders):
            feed = SyntheticFeed(part, folders, share, ready=False)
            _prime(db, feed)
            tracemalloc.start()
            _timed_sync(db, feed)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
        print(f"     {part:>9,} changes: {peak / 2**20:6.1f} MiB")


def _prime(db: Database, feed: SyntheticFeed) -> None:
    """Store the feed's first token, as the first sync (or the first channel) does."""
    with db.transaction() as session:
        reviews_repo.init_sync_state(session, feed.start_token(), now=datetime.now(UTC))


def _timed_sync(db: Database, feed: SyntheticFeed) -> tuple[float, contracts.SyncResult]:
    started = time.perf_counter()
    result = contracts.sync_drive(
        db=db,
        feed=feed,
        tasks=CountingTasks(),
        clock=lambda: datetime.now(UTC),
        policy=replace(rules.ReviewPolicy(), settle_seconds=0),
    )
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--uploads", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per Google call")
    parser.add_argument("--period", type=float, default=5.0, help="reconcile period, seconds")
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--watched", type=float, default=0.01, help="share in watched folders")
    parser.add_argument("--bulk", type=int, default=5000, help="changes, all in watched folders")
    parser.add_argument("--accounts", type=int, default=200)
    parser.add_argument(
        "--database-url", default="", help="PostgreSQL for part 3 (a throwaway schema in it)"
    )
    parser.add_argument("--only", default="push,lost,feed")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="contract-bench-"))
    try:
        run(args, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args: argparse.Namespace, tmp: Path) -> None:
    parts = set(args.only.split(","))
    db_name = args.database_url.split("@")[-1] if args.database_url else "SQLite (temp file)"
    print(f"contract routing bench; Python {sys.version.split()[0]}; parts 1-2 on SQLite,")
    print(f"part 3 on {db_name}")
    if "push" in parts:
        print(
            f"\n1. upload -> PM notified, push notifications, {args.latency * 1000:.0f} ms per"
            f" Google call, default settings (REVIEW_SETTLE_SECONDS"
            f" {Settings().review_settle_seconds:g}, channel opened by the service),"
            f" {args.uploads} uploads one after another"
        )
        print(f"   {summary(bench_push(args, tmp))}  (goal: p95 < 2000 ms)")
        print(
            "   (uploads are whole when Drive lists them and route at once; the settle window"
            " applies to native Google Docs still being written)"
        )
    if "lost" in parts:
        print(
            f"\n2. upload -> PM notified, every notification lost, reconcile every"
            f" {args.period:g} s, {args.uploads} uploads at random over {args.period * 4:g} s"
        )
        print(f"   {summary(bench_lost(args, tmp))}")
    if "feed" in parts:
        bench_feed(args, tmp)


if __name__ == "__main__":
    main()
