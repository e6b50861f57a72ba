"""Kickoff against the loopback Google: our steps next to a step-by-step baseline.

Two tables: the four kickoff steps alone (below), and the WHOLE handover, meetings
included (`ours, whole handover`): the kickoff steps, the free/busy query, the internal
invitations from their organisers' calendars (sales handover, internal kickoff, Internal
Account Sync and its moved occurrences) and the two client meetings proposed to their
organisers (one email each; the client is invited only when they confirm), next to a
step-by-step baseline that does the kickoff then the free/busy query and the five
inserts one after another. The confirmation's own send is timed apart (`confirm`).

Starts FakeGoogle in-process with 100 ms added to every request and runs, for a handover
with 6 internal people (AM, PM, 1 Sales, 3 delivery team):

* ours: the service's real code path (`create_app` with WORKSPACE_BACKEND=google, a temp
  SQLite database, `submit_handover` then `advance_handover`), for a NEW client and then for
  a second project of the SAME client. Only the 4 kickoff steps are measured (folder,
  brief, shares, email): the steps are given no calendar, so `advance_handover` stops at
  `plan_meetings` without calling Google; the meeting steps are out of scope. As in a
  service that has been running, one unmeasured handover (another client) goes first:
  templates compiled, per-thread API clients made, the pool of Drive file ids filled.
* baseline: what a workflow tool (Zapier, n8n) does, one call after another with the raw
  google-api-python-client: search folder, create folder, search Contracts, create
  Contracts, create an empty doc, upload its content, one permission per person, send.

Figures: HTTP requests (the fake's log; a batch is one request, its parts are counted as
API calls), sequential round trips on the critical path (every HTTP request is timed on
the client; a request is one round after the latest request that ended before it began:
requests whose lifetimes overlap are in the same round), and wall time. The id pool's
background refills (`files.generateIds`, 10 ids a time, off the critical path) are
counted apart.

    .venv/bin/python bench/google_kickoff.py [--latency 0.1]
"""

from __future__ import annotations

import argparse
import base64
import logging
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httplib2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from googleapiclient.http import MediaInMemoryUpload  # noqa: E402

from integrations.google.discovery import build_client  # noqa: E402
from integrations.google.execute import RetryPolicy  # noqa: E402
from integrations.google.execute import run as execute  # noqa: E402
from service import create_app  # noqa: E402
from service.config import Settings  # noqa: E402
from service.demo import example_handover  # noqa: E402
from service.store import handovers as repo  # noqa: E402
from service.wiring import Services  # noqa: E402
from service.workflows import kickoff  # noqa: E402
from service.workflows.steps import KICKOFF_STEPS  # noqa: E402
from tests.fakes import FakeGoogle  # noqa: E402

FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"


# --- measuring ----------------------------------------------------------------------------


@dataclass
class Span:
    """One HTTP request as the client saw it."""

    start: float
    end: float
    method: str
    path: str
    round: int = 0
    label: str = ""


class Spans:
    """Times every httplib2 request made in this process (all threads)."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self._lock = threading.Lock()
        self._original: Callable[..., Any] = httplib2.Http.request

    def install(self) -> None:
        original, spans = self._original, self

        def timed(http: Any, uri: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
            start = time.monotonic()
            try:
                return original(http, uri, method, *args, **kwargs)
            finally:
                span = Span(start, time.monotonic(), method, urllib.parse.urlsplit(uri).path)
                with spans._lock:
                    spans.spans.append(span)

        httplib2.Http.request = timed  # type: ignore[method-assign]

    def uninstall(self) -> None:
        httplib2.Http.request = self._original  # type: ignore[method-assign]


@dataclass
class Run:
    """The figures of one kickoff."""

    name: str
    wall: float = 0.0
    spans: list[Span] = field(default_factory=list)
    http_requests: int = 0
    api_calls: int = 0
    refills: int = 0

    @property
    def rounds(self) -> int:
        return max((s.round for s in self.spans), default=0)


def assign_rounds(spans: list[Span]) -> None:
    """Give each request its round: one more than the latest round that ended before it."""
    spans.sort(key=lambda s: s.start)
    for span in spans:
        before = [s.round for s in spans if s.end <= span.start]
        span.round = 1 + max(before, default=0)


def label(spans: list[Span], fake: FakeGoogle, first: int) -> tuple[int, int]:
    """Name each span by the fake's method ids; return (HTTP requests, API calls) in the log."""
    log = fake.requests[first:]
    top = [r for r in log if not r.in_batch]
    for span in spans:
        wall = span_wall(span)
        inner = [r for r in log if r.in_batch and wall[0] <= r.time <= wall[1]]
        if span.path.startswith("/batch"):
            names = ", ".join((r.method_id or "?").split(".")[-1] for r in inner)
            span.label = f"batch[{names}]"
        else:
            found = next(
                (r for r in top if r.path == span.path and wall[0] <= r.time <= wall[1]), None
            )
            span.label = (found.method_id if found else None) or f"{span.method} {span.path}"
    calls = len([r for r in log if r.in_batch or not r.path.startswith("/batch")])
    return len(top), calls


_OFFSET = time.time() - time.monotonic()


def span_wall(span: Span) -> tuple[float, float]:
    """Return the span on the wall clock (the fake's log uses time.time())."""
    return span.start + _OFFSET, span.end + _OFFSET


@contextmanager
def measured(run: Run, spans: Spans, fake: FakeGoogle) -> Iterator[None]:
    first_span, first_log = len(spans.spans), len(fake.requests)
    started = time.monotonic()
    yield
    run.wall = time.monotonic() - started
    time.sleep(0.05)  # let the fake finish logging the last answer
    run.spans = [s for s in spans.spans[first_span:] if s.start >= started]
    run.http_requests, run.api_calls = label(run.spans, fake, first_log)
    refills = [s for s in run.spans if s.label == "drive.files.generateIds"]
    run.refills = len(refills)
    run.http_requests -= run.refills
    run.api_calls -= run.refills
    run.spans = [s for s in run.spans if s not in refills]
    assign_rounds(run.spans)


# --- the handover -------------------------------------------------------------------------


def handover(project: str | None = None) -> dict[str, Any]:
    """Return the demo handover with a third delivery team member: 6 internal people."""
    data = example_handover()
    data["delivery_team"].append(
        {"name": "Quinn Tester", "email": "quinn@agency.example", "role": "QA"}
    )
    if project:
        data["project"]["name"] = project
    return data


class NoQueue:
    """Tasks that run nothing: the benchmark advances the handover itself, timed."""

    def enqueue(self, job: str, payload: Any, *, key: str, delay_seconds: float = 0) -> None:
        """Drop the job."""


# --- ours ---------------------------------------------------------------------------------


def started_service(fake: FakeGoogle, database: Path, workspace: Path) -> Services:
    """Start the service against the loopback Google; return its wired services once ready.

    The service fills its pool of Drive file ids when it starts: wait for that, as a
    handover arriving at a running service would find it filled.
    """
    settings = Settings.from_env(
        {
            "WORKSPACE_BACKEND": "google",
            "GOOGLE_API_ENDPOINT": fake.url,
            "GOOGLE_AUTH": "anonymous",
            "GOOGLE_IMPERSONATE": "handover@agency.example",
            "DATABASE_URL": f"sqlite:///{database}",
            "WORKSPACE_DIR": str(workspace),
        }
    )
    app = create_app(settings)
    services: Services = app.extensions["handover"]
    deadline = time.monotonic() + 10
    while not any(r.method_id == "drive.files.generateIds" and r.status for r in fake.requests):
        if time.monotonic() > deadline:
            raise SystemExit("the id pool was never filled")
        time.sleep(0.01)
    return services


def ours(fake: FakeGoogle, spans: Spans, tmp: Path) -> list[Run]:
    services = started_service(fake, tmp / "bench.db", tmp / "workspace")
    logging.getLogger("service.workflows.kickoff").setLevel(logging.ERROR)  # step chatter
    ctx = replace(services.steps, calendar=None)  # kickoff steps only: see the docstring
    warmup = handover()
    warmup["client"] = {**warmup["client"], "name": "Warmup Ltd", "domain": "warmup.example"}
    runs = []
    try:
        for name, data in (
            ("warm-up", warmup),
            ("ours, new client", handover()),
            ("ours, same client", handover("Acme Mobile App")),
        ):
            submitted = kickoff.submit_handover(
                data, idempotency_key=None, actor="bench", db=services.db, tasks=NoQueue()
            )
            run = Run(name)
            with measured(run, spans, fake):
                kickoff.advance_handover(
                    submitted.handover_id, db=services.db, ctx=ctx, clock=services.clock
                )
            check_kickoff_done(services, submitted.handover_id)
            runs.append(run)
    finally:
        services.close()
    return runs[1:]


def ours_whole(fake: FakeGoogle, spans: Spans, tmp: Path) -> list[Run]:
    """The whole handover, meetings included, through the service's own code."""
    services = started_service(fake, tmp / "whole.db", tmp / "workspace-whole")
    logging.getLogger("service.workflows.kickoff").setLevel(logging.ERROR)
    warmup = handover()
    warmup["client"] = {**warmup["client"], "name": "Warmup Two", "domain": "warmup2.example"}
    runs = []
    try:
        for name, data in (
            ("warm-up", warmup),
            ("ours whole, new client", whole_handover("Whole Corp", "whole.example")),
            ("ours whole, same client", whole_handover("Whole Corp", "whole.example", "App")),
        ):
            submitted = kickoff.submit_handover(
                data, idempotency_key=None, actor="bench", db=services.db, tasks=NoQueue()
            )
            run = Run(name)
            with measured(run, spans, fake):
                status = kickoff.advance_handover(
                    submitted.handover_id, db=services.db, ctx=services.steps,
                    clock=services.clock,
                )  # fmt: skip
            if status != "done":
                raise SystemExit(f"{name}: the handover ended {status}")
            check_whole_done(services, submitted.handover_id)
            runs.append(run)
            if name == "ours whole, new client":
                confirm = Run("confirm (client kickoff)")
                with measured(confirm, spans, fake):
                    confirm_kickoff(services, submitted.handover_id)
                runs.append(confirm)
    finally:
        services.close()
    return runs[1:]


def whole_handover(client: str, domain: str, project: str | None = None) -> dict[str, Any]:
    data = handover(project)
    data["client"] = {**data["client"], "name": client, "domain": domain}
    for contact in data["client_contacts"]:
        contact["email"] = contact["email"].split("@")[0] + "@" + domain
    return data


def check_whole_done(services: Any, handover_id: str) -> None:
    from service.workflows.meeting_states import get

    check_kickoff_done(services, handover_id)
    states = {
        k: (get(services.db, handover_id, k) or {}).get("state")
        for k in ("sales_handover", "internal_kickoff", "client_kickoff",
                  "internal_account_sync", "executive_sponsor_sync")
    }  # fmt: skip
    wanted = {"sales_handover": "sent", "internal_kickoff": "sent", "client_kickoff": "proposed",
              "internal_account_sync": "sent", "executive_sponsor_sync": "proposed"}  # fmt: skip
    if states != wanted:
        raise SystemExit(f"meetings not where they should be: {states}")


def confirm_kickoff(services: Any, handover_id: str) -> None:
    """The PM confirms the client kickoff; its invitation goes out from the PM's calendar."""
    from service.workflows.meeting_confirm import confirm_meeting, send_meeting

    confirm_meeting(handover_id, "client_kickoff", start=None, actor="pat@agency.example",
                    role="project_manager", db=services.db, tasks=NoQueue(),
                    now=services.clock())  # fmt: skip
    send_meeting(handover_id, "client_kickoff", db=services.db, ctx=services.steps)


def check_kickoff_done(services: Any, handover_id: str) -> None:
    with services.db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        states = {s.name: (s.state, s.error) for s in row.steps}
    bad = {n: states[n] for n in KICKOFF_STEPS if states[n][0] != "done"}
    if bad:
        raise SystemExit(f"kickoff steps not done: {bad}")


# --- the baseline -------------------------------------------------------------------------


def baseline(fake: FakeGoogle, spans: Spans) -> list[Run]:
    drive = build_client("drive", "v3", endpoint=fake.url, credentials=None)
    gmail = build_client("gmail", "v1", endpoint=fake.url, credentials=None)
    files, permissions, messages = drive.files(), drive.permissions(), gmail.users().messages()
    runs = []
    for name, data in (
        ("baseline, new client", handover("Baseline Commerce")),
        ("baseline, same client", handover("Baseline Mobile App")),
    ):
        run = Run(name)
        with measured(run, spans, fake):
            step_by_step(data, files, permissions, messages)
        runs.append(run)
    return runs


def baseline_whole(fake: FakeGoogle, spans: Spans) -> list[Run]:
    """The kickoff step by step, then free/busy and the five events one after another."""
    drive = build_client("drive", "v3", endpoint=fake.url, credentials=None)
    gmail = build_client("gmail", "v1", endpoint=fake.url, credentials=None)
    calendar = build_client("calendar", "v3", endpoint=fake.url, credentials=None)
    files, permissions, messages = drive.files(), drive.permissions(), gmail.users().messages()
    run = Run("baseline whole, new client")
    data = handover("Baseline Whole")
    with measured(run, spans, fake):
        step_by_step(data, files, permissions, messages)
        meetings_step_by_step(data, calendar)
    return [run]


def meetings_step_by_step(data: dict[str, Any], calendar: Any) -> None:
    """Ask free/busy, then insert the five events one by one, as a workflow tool runs."""
    people = [data["account_manager"]["email"], data["project_manager"]["email"]]
    people += [p["email"] for p in data["sales"] + data["delivery_team"]]
    body = {"timeMin": "2026-12-07T00:00:00Z", "timeMax": "2027-01-06T00:00:00Z",
            "items": [{"id": e} for e in people]}  # fmt: skip
    execute(calendar.freebusy().query(body=body), policy=ONE_TRY)
    for day, title in enumerate(("Sales handover", "Internal kickoff", "Client kickoff",
                                 "Internal Account Sync", "Executive Sponsor Sync"), start=8):  # fmt: skip
        event = {
            "summary": title,
            "start": {"dateTime": f"2026-12-{day:02}T10:00:00", "timeZone": "America/New_York"},
            "end": {"dateTime": f"2026-12-{day:02}T11:00:00", "timeZone": "America/New_York"},
            "attendees": [{"email": e} for e in people],
            "conferenceData": {"createRequest": {"requestId": f"b-{day}-{time.time()}",
                                                 "conferenceSolutionKey": {"type": "hangoutsMeet"}}},
        }  # fmt: skip
        if title.endswith("Sync"):
            event["recurrence"] = ["RRULE:FREQ=WEEKLY;INTERVAL=2"]
        request = calendar.events().insert(
            calendarId="primary", body=event, conferenceDataVersion=1, sendUpdates="all"
        )
        execute(request, policy=ONE_TRY)


# The baseline retries nothing, as a naive workflow tool; its calls go through execute.run.
ONE_TRY = RetryPolicy(max_attempts=1)


def step_by_step(data: dict[str, Any], files: Any, permissions: Any, messages: Any) -> None:
    """One call after another, each waiting for the one before, as a workflow tool runs."""
    client = "Baseline Corp"

    def call(request: Any) -> Any:
        return execute(request, policy=ONE_TRY)

    def folder(name: str, parent: str | None) -> str:
        q = f"name = '{name}' and mimeType = '{FOLDER}' and trashed = false"
        if parent:
            q += f" and '{parent}' in parents"
        found = call(files.list(q=q, fields="files(id)"))["files"]
        if found:
            return str(found[0]["id"])
        body: dict[str, Any] = {"name": name, "mimeType": FOLDER}
        if parent:
            body["parents"] = [parent]
        return str(call(files.create(body=body, fields="id"))["id"])

    client_folder = folder(client, None)
    folder("Contracts", client_folder)
    title = f"Project Brief - {data['project']['name']}"
    doc = call(
        files.create(body={"name": title, "mimeType": DOC, "parents": [client_folder]}, fields="id")
    )
    html = f"<h1>{title}</h1><p>{data['success']['why_bought']}</p>".encode()
    call(
        files.update(
            fileId=doc["id"], media_body=MediaInMemoryUpload(html, "text/html"), fields="id"
        )
    )
    people = [(data["account_manager"]["email"], "writer")]
    people += [(data["project_manager"]["email"], "writer")]
    people += [(p["email"], "writer") for p in data["sales"]]
    people += [(p["email"], "commenter") for p in data["delivery_team"]]
    for email, role in people:
        call(
            permissions.create(
                fileId=doc["id"],
                body={"type": "user", "role": role, "emailAddress": email},
                sendNotificationEmail=False,
            )
        )
    message = EmailMessage()
    message["To"] = ", ".join(email for email, _ in people)
    message["Subject"] = f"Handover: {title}"
    message.set_content(f"The brief: https://docs.google.com/document/d/{doc['id']}/edit")
    raw = base64.urlsafe_b64encode(message.as_bytes()).decode()
    call(messages.send(userId="me", body={"raw": raw}))


# --- report -------------------------------------------------------------------------------


def timeline(run: Run) -> str:
    lines = [f"  {run.name}:"]
    for n in range(1, run.rounds + 1):
        names = [s.label for s in run.spans if s.round == n]
        lines.append(f"    round {n:2}: {' | '.join(names)}")
    return "\n".join(lines)


def report_whole(runs: dict[str, Run], latency: float) -> None:
    print(f"\nTHE WHOLE HANDOVER, meetings included ({latency * 1000:.0f} ms per request)\n")
    head = f"{'run':28} {'HTTP requests':>13} {'API calls':>9} {'round trips':>11} {'wall':>8}"
    print(head)
    print("-" * len(head))
    for run in runs.values():
        print(
            f"{run.name:28} {run.http_requests:13} {run.api_calls:9} {run.rounds:11}"
            f" {run.wall * 1000:6.0f}ms"
        )
    mine, base = runs["ours whole, new client"], runs["baseline whole, new client"]
    print(
        f"\ngoal: the whole handover <= 1.0 s at 100 ms per call: new client "
        f"{mine.wall:.2f} s, same client {runs['ours whole, same client'].wall:.2f} s "
        f"(baseline {base.wall:.2f} s, x{base.wall / mine.wall:.2f})"
    )
    print("\nrequests by round (same round = in flight together):")
    for run in runs.values():
        print(timeline(run))


def report(runs: dict[str, Run], latency: float) -> None:
    print(f"FakeGoogle, {latency * 1000:.0f} ms added per request; 6 internal people")
    print("kickoff steps only (client_folder, project_brief, share_brief, notify_team)\n")
    head = (
        f"{'run':24} {'HTTP requests':>13} {'API calls':>9} {'round trips':>11} {'wall':>8}"
        f" {'id refills':>10}"
    )
    print(head)
    print("-" * len(head))
    for run in runs.values():
        print(
            f"{run.name:24} {run.http_requests:13} {run.api_calls:9} {run.rounds:11}"
            f" {run.wall * 1000:6.0f}ms {run.refills:10}"
        )
    print("\nbaseline / ours:")
    for case in ("new client", "same client"):
        base, mine = runs[f"baseline, {case}"], runs[f"ours, {case}"]
        print(
            f"  {case:12} HTTP requests x{base.http_requests / mine.http_requests:.2f}, "
            f"round trips x{base.rounds / mine.rounds:.2f}, wall time x{base.wall / mine.wall:.2f}"
        )
    people = 6
    print(
        f"\ngoal: new client <= people + 2 = {people + 2} round trips: "
        f"{runs['ours, new client'].rounds}; same client (folder made and shared) <= 2: "
        f"{runs['ours, same client'].rounds}"
    )
    print("\nrequests by round (same round = in flight together):")
    for run in runs.values():
        print(timeline(run))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added per request")
    args = parser.parse_args()
    spans = Spans()
    spans.install()
    try:
        with FakeGoogle() as fake, tempfile.TemporaryDirectory(prefix="bench-google-") as tmp:
            fake.latency = args.latency
            runs = ours(fake, spans, Path(tmp)) + baseline(fake, spans)
            whole = ours_whole(fake, spans, Path(tmp)) + baseline_whole(fake, spans)
    finally:
        spans.uninstall()
    report({r.name: r for r in runs}, args.latency)
    report_whole({r.name: r for r in whole}, args.latency)


if __name__ == "__main__":
    main()
