"""Chaos: the service on the Google backend under faults, a killed worker and unreliable push.

The whole service as it runs in production, with the outside world made hostile:

- the loopback Google answers a share of all requests with 429 or 5xx (half of the 5xx
  after the request took effect) and resets a share of connections (half of them after
  the effect: the "did my create happen?" case);
- the web app (real HTTP, `TASK_QUEUE=database`) only stores handovers and jobs; the steps
  run in a `handover worker` process, which is killed with SIGKILL mid-run and restarted;
- Drive's push notifications are dropped, duplicated and reordered, and cron's reconcile
  (`GET /tasks/cron/sync_drive`, as App Engine cron calls it) runs every few seconds.

`Chaos.run_handovers` and `Chaos.run_drafts` return their figures; `duplicates` counts
what the fake's state holds twice. tests/chaos/test_chaos.py runs the issue's numbers;
bench/chaos.py runs bigger ones and prints the figures.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from service import create_app
from service.config import Settings
from service.demo import example_handover
from service.store.models import AuditRow, StepRow
from service.store.review_models import ReviewRow
from service.workflows import channels
from tests.conftest import LiveServer, free_port
from tests.fakes import FakeGoogle, Fault
from tests.fakes.auth import SERVICE_ACCOUNT, keyless_delegation

SERVICE_USER = "handover@agency.example"
API_TOKEN = "chaos-sales-token-0123456789"  # noqa: S105 - a test token
TASKS_SECRET = "chaos-tasks-secret-0123456789"  # noqa: S105 - a test secret
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FOLDER = "application/vnd.google-apps.folder"
# PMs and AMs of the clients, round robin: zones and countries the planner has to respect.
PMS = [
    ("Pat Moss", "pat@agency.example", "Europe/London", "GB"),
    ("Nia Park", "nia@agency.example", "America/New_York", "US"),
    ("Ravi Iyer", "ravi@agency.example", "Asia/Kolkata", "IN"),
    ("Lena Vogel", "lena@agency.example", "Europe/Berlin", "DE"),
]
AMS = [("Ada Lane", "ada@agency.example"), ("Ben Cole", "ben@agency.example")]


class ChaosFailure(AssertionError):
    """The run did not end as it must: a step failed, or it did not finish in time."""


@dataclass(frozen=True)
class ChaosPlan:
    """How much work and how much hostility."""

    handovers: int = 200
    clients: int = 50
    drafts: int = 1000
    error_rate: float = 0.20  # of all Google requests: 429 (half) and 5xx (half)
    reset_rate: float = 0.05  # of all Google requests: connection reset
    drop_rate: float = 0.30  # of change notifications: never sent
    duplicate_rate: float = 0.20  # of change notifications: sent twice
    shuffle_seconds: float = 2.0  # every notification is delayed up to this: reordered
    double_submit_rate: float = 0.10  # handovers whose POST is sent again (same key)
    kills: int = 1  # SIGKILLs of the worker while handovers run
    worker_threads: int = 6
    lease_seconds: float = 10.0  # LEASE_SECONDS: a dead worker's steps wait this out
    latency: float = 0.0  # added to every Google request
    reconcile_every: float = 3.0  # cron's sync_drive period
    seed: int = 7
    timeout: float = 900.0  # for each phase


@dataclass
class Figures:
    """What a phase did, printed by bench/chaos.py and checked by the test."""

    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def lines(self) -> list[str]:
        return [f"  {key}: {value}" for key, value in self.values.items()]


def add_faults(fake: FakeGoogle, plan: ChaosPlan) -> list[Fault]:
    """Add the plan's faults; each rule's rate is conditional on the earlier ones not firing,
    so that each kind is its stated share of all requests."""
    shares = [
        ({"reset": True}, plan.reset_rate / 2),
        ({"reset": True, "after": True}, plan.reset_rate / 2),
        ({"status": 429}, plan.error_rate / 2),
        ({"status": 503}, plan.error_rate / 4),
        ({"status": 500, "after": True}, plan.error_rate / 4),
    ]
    remaining, faults = 1.0, []
    for n, (kind, share) in enumerate(shares):
        if share <= 0:
            continue
        rate = share / remaining
        remaining -= share
        faults.append(fake.faults.add(Fault(rate=rate, seed=plan.seed + n, **kind)))
    return faults


def handover_command() -> list[str]:
    """The `handover` command of this Python environment."""
    script = Path(sys.executable).parent / "handover"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from service.cli import main; main()"]


class WorkerProcess:
    """`handover worker` in a process of its own, which a test may kill outright."""

    def __init__(self, env: dict[str, str], threads: int, log_path: Path) -> None:
        self._env, self._threads, self._log_path = env, threads, log_path
        self._process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        log = self._log_path.open("ab")
        self._process = subprocess.Popen(  # noqa: S603 - our own command
            [*handover_command(), "worker", "--threads", str(self._threads), "--poll", "0.05"],
            env=self._env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL: no cleanup, no finishing the jobs in hand (a crash, an OOM kill)."""
        assert self._process is not None
        self._process.send_signal(signal.SIGKILL)
        self._process.wait(timeout=30)

    def stop(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=30)

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        text = self._log_path.read_text(errors="replace") if self._log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class Chaos:
    """The fake, the web app on real HTTP, and a worker process; a context manager."""

    def __init__(self, plan: ChaosPlan, workdir: Path, database_url: str) -> None:
        self.plan = plan
        self.workdir = workdir
        self.database_url = database_url
        self.fake = FakeGoogle()
        self.port = free_port()
        self._stop_reconcile = threading.Event()
        self._reconciles: list[int] = []
        self.handover_ids: list[str] = []
        self.contracts_folders: dict[str, str] = {}  # client name -> folder id
        self.drafts: dict[str, str] = {}  # file id -> name

    # --- setting up -----------------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        """The process environment of the web app and the worker alike."""
        return {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", str(self.workdir)),
            "DATABASE_URL": self.database_url,
            "WORKSPACE_DIR": str(self.workdir / "workspace"),
            "WORKSPACE_BACKEND": "google",
            "GOOGLE_API_ENDPOINT": self.fake.url,
            # The deploy guide's key-less delegation: JWT signed by the fake's IAM, traded at
            # its token endpoint; every API call must carry the delegated token.
            "GOOGLE_AUTH": "adc",
            "GOOGLE_APPLICATION_CREDENTIALS": str(self.workdir / "adc.json"),
            "GOOGLE_SERVICE_ACCOUNT": SERVICE_ACCOUNT,
            "GOOGLE_IMPERSONATE": SERVICE_USER,
            "GOOGLE_RETRY_BASE": "0.02",
            "GOOGLE_RETRY_DEADLINE": "60",
            "TASK_QUEUE": "database",
            "LEASE_SECONDS": str(self.plan.lease_seconds),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{self.port}",
            "API_TOKENS": f"{API_TOKEN}:sales",
            "TASKS_SECRET": TASKS_SECRET,
            "REVIEW_SETTLE_SECONDS": "0",
            "SHARE_NOTIFY": "true",  # Drive emails each person shared: twice would show
            "SECRET_KEY": "chaos-secret-key",
            # The worker runs the code under test (a git worktree's, not the venv's own).
            **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"},
        }

    def __enter__(self) -> Chaos:
        self.fake.start()
        self.fake.latency = self.plan.latency
        env = self.environment()
        keyless_delegation(self.fake, self.workdir / "adc.json")
        # google-auth reads ADC from the process environment (the worker gets `env`).
        self._adc_before = os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")
        os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = env["GOOGLE_APPLICATION_CREDENTIALS"]
        self.faults = add_faults(self.fake, self.plan)
        self.app: Flask = create_app(Settings.from_env(env))
        self.services = self.app.extensions["handover"]
        self.server = LiveServer(self.app, self.port).__enter__()
        self.worker = WorkerProcess(env, self.plan.worker_threads, self.workdir / "worker.log")
        self.worker.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_reconcile.set()
        self.fake.drive.notify_drop_rate = 1.0  # nothing more for a server going away
        self.worker.stop()
        self.server.__exit__()
        self.services.close()
        self.fake.stop()
        if self._adc_before is None:
            os.environ.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
        else:
            os.environ["GOOGLE_APPLICATION_CREDENTIALS"] = self._adc_before

    # --- phase 1: handovers ---------------------------------------------------------------

    def run_handovers(self) -> Figures:
        """Submit the handovers over HTTP, kill the worker mid-run, wait until all are done."""
        started = time.monotonic()
        requests_before = len(self.fake.requests)
        self.handover_ids = self._submit_all()
        total = len(self.handover_ids) * self._steps_each()
        kills, in_flight, orphaned = [], [], set()
        deadline = time.monotonic() + self.plan.timeout
        while True:
            states = self._step_states()
            if states["failed"]:
                raise ChaosFailure(f"steps failed: {self._failed_steps()}")
            if states["done"] == total:
                break
            if len(kills) < self.plan.kills and states["done"] >= total * (
                (len(kills) + 1) / (self.plan.kills + 1)
            ):
                running = self._running_steps()
                in_flight.append(len(running - orphaned))  # held by this worker, not a dead one
                orphaned |= running
                self.worker.kill()
                kills.append(f"{states['done'] / total:.0%} of steps done")
                self.worker.start()
            if not self.worker.alive():
                raise ChaosFailure(f"the worker died by itself:\n{self.worker.log_tail()}")
            if time.monotonic() > deadline:
                raise ChaosFailure(f"handovers not done in time: {states}")
            time.sleep(0.2)
        elapsed = time.monotonic() - started
        recorded = self.fake.requests[requests_before:]
        with self.services.db.transaction() as session:
            attempts = Counter(session.scalars(select(StepRow.attempts)))
            postponed = session.scalar(
                select(func.count())
                .select_from(AuditRow)
                .where(AuditRow.action == "step.postponed")
            )
        return Figures(
            {
                "handovers": len(self.handover_ids),
                "clients": min(self.plan.clients, self.plan.handovers),
                "steps done": total,
                "step attempts (attempts: steps)": dict(sorted(attempts.items())),
                "steps put off after Google kept failing": postponed,
                "worker kills": kills,
                "steps the killed worker held": in_flight,
                "google requests": len(recorded),
                "google answers": dict(sorted(Counter(r.status for r in recorded).items())),
                "faults fired": self._faults_fired(),
                "wall seconds": round(elapsed, 1),
            }
        )

    def _submit_all(self) -> list[str]:
        ids = []
        for n in range(self.plan.handovers):
            body = self.handover_body(n)
            key = f"chaos-handover-{n}"
            status, answer = self._post("/api/handovers", body, key)
            if status != 202:
                raise ChaosFailure(f"handover {n}: POST answered {status} {answer}")
            if (n * 7919 + self.plan.seed) % 100 < self.plan.double_submit_rate * 100:
                again_status, again = self._post("/api/handovers", body, key)
                if (again_status, again["id"]) != (200, answer["id"]):
                    raise ChaosFailure(f"a double submit made another handover: {again}")
            ids.append(answer["id"])
        return ids

    def handover_body(self, n: int) -> dict[str, Any]:
        client = f"Chaos Client {n % self.plan.clients:03d}"
        body = example_handover(client)
        body["project"]["name"] = f"Project {n:04d}"
        pm_name, pm_email, zone, country = PMS[(n % self.plan.clients) % len(PMS)]
        body["project_manager"] = {
            "name": pm_name,
            "email": pm_email,
            "timezone": zone,
            "country": country,
        }
        am_name, am_email = AMS[(n % self.plan.clients) % len(AMS)]
        body["account_manager"] = {"name": am_name, "email": am_email}
        return body

    def _post(self, path: str, body: dict[str, Any], key: str) -> tuple[int, dict[str, Any]]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            connection.request(
                "POST",
                path,
                body=json.dumps(body),
                headers={
                    "Authorization": f"Bearer {API_TOKEN}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": key,
                },
            )
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            connection.close()

    def _steps_each(self) -> int:
        from service.workflows.steps import STEP_NAMES

        return len(STEP_NAMES)

    def _step_states(self) -> Counter[str]:
        with self.services.db.transaction() as session:
            rows = session.execute(select(StepRow.state, func.count()).group_by(StepRow.state))
            return Counter({state: count for state, count in rows})

    def _running_steps(self) -> set[int]:
        with self.services.db.transaction() as session:
            return set(session.scalars(select(StepRow.id).where(StepRow.state == "running")))

    def _failed_steps(self) -> list[tuple[str, str, str | None]]:
        with self.services.db.transaction() as session:
            rows = session.scalars(select(StepRow).where(StepRow.state == "failed"))
            return [(r.handover_id, r.name, r.error) for r in rows]

    def _faults_fired(self) -> dict[str, int]:
        fired = {}
        for fault in self.faults:
            kind = "reset" if fault.reset else str(fault.status)
            kind += " after the effect" if fault.after else ""
            fired[kind] = fault.fired
        return fired

    # --- phase 2: contract drafts ---------------------------------------------------------

    def run_drafts(self) -> Figures:
        """Watch Drive, upload the drafts under unreliable push, wait until all are routed."""
        self.contracts_folders = self._contracts_folders()
        drive = self.fake.drive
        # The service opened its channel by itself at start (the queued renew_channels job);
        # this opens one only if that job has not succeeded under the faults.
        channels.ensure_channel(
            db=self.services.db,
            feed=self.services.change_feed,
            address=channels.hook_address(self.server.url),
            now=self.services.clock(),
        )
        if not drive.channels:
            raise ChaosFailure("no channel is open")
        drive.notify_seed = self.plan.seed
        drive.notify_drop_rate = self.plan.drop_rate
        # Of the notifications not dropped, this share is duplicated: plan.duplicate_rate of all.
        kept = 1.0 - self.plan.drop_rate
        drive.notify_duplicate_rate = min(1.0, self.plan.duplicate_rate / kept) if kept else 0.0
        drive.notify_delay = self.plan.shuffle_seconds
        counts_before = dict(drive.notify_counts)
        requests_before = len(self.fake.requests)
        reconcile = threading.Thread(target=self._reconcile_loop, daemon=True)
        reconcile.start()
        started = time.monotonic()
        self._upload_all()
        uploaded = time.monotonic()
        self._wait_until(self._all_routed, "drafts not all routed in time")
        routed = time.monotonic()
        # Let the late copies and duplicates arrive, then one more reconcile: nothing new.
        self._wait_until(lambda: self.fake.notifier.pending() == 0, "notifications pending")
        self._cron("sync_drive")
        self._wait_until(self._queue_empty, "jobs still queued")
        self._stop_reconcile.set()
        reconcile.join(timeout=30)
        counts = {k: v - counts_before.get(k, 0) for k, v in drive.notify_counts.items()}
        deliveries = [d.status for d in self.fake.notifier.deliveries]
        recorded = self.fake.requests[requests_before:]
        return Figures(
            {
                "drafts": len(self.drafts),
                "contracts folders": len(self.contracts_folders),
                "change notifications": counts["changes"],
                "dropped": counts["dropped"],
                "duplicated": counts["duplicated"],
                "hook answers": dict(sorted(Counter(deliveries).items())),
                "reconciles by cron": len(self._reconciles),
                "google requests": len(recorded),
                "upload seconds": round(uploaded - started, 1),
                "last draft routed after seconds": round(routed - started, 1),
            }
        )

    def _contracts_folders(self) -> dict[str, str]:
        from service.store.models import AccountRow

        with self.services.db.transaction() as session:
            rows = session.scalars(select(AccountRow))
            return {r.client_name: r.contracts_folder_id for r in rows if r.contracts_folder_id}

    def _upload_all(self) -> None:
        clients = sorted(self.contracts_folders)
        for n in range(self.plan.drafts):
            client = clients[n % len(clients)]
            kind, suffix, mime = (
                ("SOW", ".docx", DOCX) if n % 2 else ("MSA", ".pdf", "application/pdf")
            )
            name = f"{kind} - {client} v{n // len(clients) + 1}{suffix}"
            file = self.fake.drive.add_file(
                name, [self.contracts_folders[client]], mime_type=mime, content=name.encode()
            )
            self.drafts[file["id"]] = name
            if n % 50 == 49:
                time.sleep(0.05)  # uploads come in bursts, notifications interleave

    def _all_routed(self) -> bool:
        # Every review here is of an uploaded draft (handovers make none); which draft each
        # is, and that none is twice, routing_counts() checks after.
        with self.services.db.transaction() as session:
            routed = session.scalar(
                select(func.count())
                .select_from(ReviewRow)
                .where(ReviewRow.notified_at.is_not(None))
            )
        return (routed or 0) >= len(self.drafts)

    def _queue_empty(self) -> bool:
        return bool(self.services.tasks.wait_idle(timeout=0))

    def _reconcile_loop(self) -> None:
        while not self._stop_reconcile.wait(self.plan.reconcile_every):
            try:
                self._reconciles.append(self._cron("sync_drive"))
            except OSError:
                self._reconciles.append(0)

    def _cron(self, job: str) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(
                "GET", f"/tasks/cron/{job}", headers={"X-Tasks-Secret": TASKS_SECRET}
            )
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    def _wait_until(self, check: Callable[[], bool], message: str) -> None:
        deadline = time.monotonic() + self.plan.timeout
        while not check():
            if not self.worker.alive():
                raise ChaosFailure(f"the worker died by itself:\n{self.worker.log_tail()}")
            if time.monotonic() > deadline:
                raise ChaosFailure(message)
            time.sleep(0.5)

    # --- what was made, and what was made twice ------------------------------------------

    def routing_counts(self) -> dict[str, Counter[str]]:
        """Per draft: its reviews, its review emails, its `review.routed` audit entries."""
        with self.services.db.transaction() as session:
            reviews = list(session.scalars(select(ReviewRow)))
            routed = Counter(
                session.scalars(select(AuditRow.subject).where(AuditRow.action == "review.routed"))
            )
        file_of = {r.id: r.file_id for r in reviews}
        file_named = {name: file_id for file_id, name in self.drafts.items()}
        mails: Counter[str] = Counter()
        for record in self.fake.gmail.sent:
            subject = " ".join(str(record["message"]["Subject"]).split())
            if subject.startswith("Contract review: "):  # "...: <name> (<client>)..."
                name = subject.removeprefix("Contract review: ").partition(" (")[0]
                if name in file_named:
                    mails[file_named[name]] += 1
        return {
            "reviews": Counter(r.file_id for r in reviews if r.file_id in self.drafts),
            "emails": mails,
            "routed": Counter(file_of[r] for r in routed.elements() if r in file_of),
        }

    def duplicates(self) -> dict[str, list[Any]]:
        """What the fake's state holds more than once: files, permissions, events, emails."""
        return fake_duplicates(self.fake)


def fake_duplicates(fake: FakeGoogle) -> dict[str, list[Any]]:
    """Return, per kind, the things the loopback Google holds twice (empty lists: none)."""
    with fake.lock:
        files = [f for f in fake.drive.files.values() if not f.get("trashed")]
        permissions = {k: list(v) for k, v in fake.drive.permissions.items()}
        share_emails = list(fake.drive.share_emails)
        events = list(fake.calendar.events.values())
        invitations = list(fake.calendar.invitations)
        sent = list(fake.gmail.sent)
    same_file = Counter(
        (tuple(sorted(f.get("parents") or [])), f["name"], f.get("mimeType")) for f in files
    )
    same_grant = Counter(
        (file_id, (p.get("emailAddress") or p.get("domain") or p["id"]).lower())
        for file_id, grants in permissions.items()
        for p in grants
    )
    same_share_email = Counter((s["fileId"], s["emailAddress"]) for s in share_emails)
    same_event = Counter(_meeting(e, {x["id"] for x in events}) for e in events)
    same_insert = Counter(i["eventId"] for i in invitations if i["action"] == "insert")
    # Gmail replaces every Message-ID; X-Handover-Key is the email key the service sent.
    same_message = Counter(str(m["message"]["X-Handover-Key"]) for m in sent)
    same_mail = Counter(
        (" ".join(str(m["message"]["Subject"]).split()), str(m["message"]["To"])) for m in sent
    )
    twice = [
        ("files", same_file),
        ("permissions", same_grant),
        ("share emails", same_share_email),
        ("events", same_event),
        ("event invitations", same_insert),
        ("emails (X-Handover-Key)", same_message),
        ("emails (subject and recipients)", same_mail),
    ]
    return {kind: [k for k, n in counter.items() if n > 1] for kind, counter in twice}


def _meeting(event: dict[str, Any], ids: set[str]) -> tuple[Any, ...]:
    """What the event is: its handover (or account) and kind; a moved occurrence of a
    series (`<series id><yyyymmdd>`, made to skip a holiday) is also its date."""
    private = ((event.get("extendedProperties") or {}).get("private") or {}).items()
    what = tuple(sorted(private)) or (event["id"],)
    suffix = event["id"][-8:]
    if suffix.isdigit() and event["id"][:-8] in ids:
        return (*what, suffix)
    return what


def fake_totals(fake: FakeGoogle) -> dict[str, int]:
    """How many of each thing the loopback Google holds."""
    with fake.lock:
        return {
            "folders": sum(1 for f in fake.drive.files.values() if f.get("mimeType") == FOLDER),
            "files": sum(1 for f in fake.drive.files.values() if f.get("mimeType") != FOLDER),
            "permissions": sum(len(v) for v in fake.drive.permissions.values()),
            "share emails": len(fake.drive.share_emails),
            "events": len(fake.calendar.events),
            "emails": len(fake.gmail.sent),
            "email drafts made": fake.gmail.drafts_made,
            "email drafts left unsent": len(fake.gmail.drafts),
        }
