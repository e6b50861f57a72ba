"""The `handover` command: demo, sweep, migrate, doctor, worker."""

from __future__ import annotations

import json
import sys
import time
from datetime import timedelta

import click
from flask import Flask

from service.demo import example_handover


def _app() -> Flask:
    from service import create_app

    app = create_app(serving=False)  # a command does its own work: no background sweeps
    # Stop the queue and close connections when the command ends, not at interpreter exit.
    click.get_current_context().call_on_close(app.extensions["handover"].close)
    return app


@click.group()
def main() -> None:
    """Run the handover service's chores from the command line."""


@main.command()
@click.option("--client", default="Acme Corp", help="Client name for the example handover.")
@click.option("--wait", default=30.0, help="Seconds to wait for the steps to finish.")
def demo(client: str, wait: float) -> None:
    """Submit an example handover and show what it made."""
    from service.workflows import kickoff

    app = _app()
    s = app.extensions["handover"]
    result = kickoff.submit_handover(
        example_handover(client), idempotency_key=None, actor="cli:demo", db=s.db, tasks=s.tasks
    )
    deadline = time.monotonic() + wait
    status: object = "pending"
    while time.monotonic() < deadline:
        s.tasks.wait_idle(timeout=max(0.1, deadline - time.monotonic()))
        status = _show(app, result.handover_id, quiet=True)["status"]
        if status in {"done", "failed"}:
            break
    data = _show(app, result.handover_id, quiet=False)
    if s.settings.is_local:
        click.echo(f"Files: {s.settings.workspace_dir.resolve()}")
    sys.exit(0 if data["status"] == "done" else 1)


def _show(app: Flask, handover_id: str, *, quiet: bool) -> dict[str, object]:
    from service.store import handovers as repo
    from service.web.present import handover_json

    s = app.extensions["handover"]
    with s.db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        assert row is not None
        data = handover_json(row, base_url=s.settings.public_base_url)
    if not quiet:
        click.echo(json.dumps(data, indent=2))
    return data


@main.command()
def sweep() -> None:
    """Queue again the handovers and draft routings a crash left half-done; wait for them."""
    from service.jobs import sweep as sweep_all

    app = _app()
    s = app.extensions["handover"]
    stuck, reviews = sweep_all(s, idle=timedelta(0))
    s.tasks.wait_idle(timeout=300)
    click.echo(f"re-queued {len(stuck)} handovers and {len(reviews)} draft routings")


@main.command()
def migrate() -> None:
    """Bring the database to the newest schema (create_app does this too)."""
    _app()
    click.echo("database is up to date")


@main.command("watch-drive")
def watch_drive() -> None:
    """Open a Drive push channel to PUBLIC_BASE_URL/hooks/drive unless one is live."""
    from service.workflows import channels

    s = _app().extensions["handover"]
    address = channels.hook_address(s.settings.public_base_url)
    opened = channels.ensure_channel(db=s.db, feed=s.change_feed, address=address, now=s.clock())
    click.echo(f"{'opened a channel' if opened else 'a channel is live already'} to {address}")


@main.command("renew-channels")
def renew_channels() -> None:
    """Replace the Drive push channels that expire within a day (run it daily)."""
    from service.workflows import channels

    s = _app().extensions["handover"]
    address = channels.hook_address(s.settings.public_base_url)
    opened = channels.renew_channels(s.clock(), db=s.db, feed=s.change_feed, address=address)
    click.echo(f"opened {len(opened)} channel(s) to {address}")


@main.command("sync-drive")
def sync_drive() -> None:
    """Read the Drive change feed now and route the contract drafts that arrived."""
    from service.jobs import run_job

    s = _app().extensions["handover"]
    run_job(s, "sync_drive", {})
    s.tasks.wait_idle(timeout=300)
    click.echo("drive synced; see /reviews")


@main.command()
def reminders() -> None:
    """Remind the PMs whose contract reviews near their deadline undecided (run hourly)."""
    from service.workflows import review_routing

    s = _app().extensions["handover"]
    sent = review_routing.send_reminders(s.clock(), db=s.db, ctx=s.reviews)
    click.echo(f"sent {len(sent)} reminder(s)")


@main.command("extend-syncs")
def extend_syncs() -> None:
    """Keep the account syncs off holidays for the next months (run weekly)."""
    from service.workflows import sync_horizon

    s = _app().extensions["handover"]
    extended = sync_horizon.extend_syncs(db=s.db, ctx=s.steps, actor="cli:extend-syncs")
    click.echo(f"extended the syncs of {len(extended)} account(s)")


@main.command("sync-agendas")
def sync_agendas() -> None:
    """Write the account sync agendas that are due (run hourly)."""
    from service.workflows import agendas

    made = agendas.make_due_agendas(ctx=_app().extensions["handover"].rhythm)
    click.echo(f"made or brought up to date {len(made)} agenda(s)")


@main.command("account-reminders")
def account_reminders() -> None:
    """Remind account task owners and send notices left unsent (run hourly)."""
    from service.workflows import account_notices

    sent = account_notices.send_reminders(ctx=_app().extensions["handover"].rhythm)
    click.echo(f"sent {sent} email(s)")


@main.command()
def doctor() -> None:
    """Check the settings, database, queue and Google access; exit 1 if something will fail."""
    from service.config import process_environment
    from service.doctor import diagnose_all

    findings = diagnose_all(process_environment())
    for finding in findings:
        click.echo(f"{'ok  ' if finding.ok else 'FAIL'}  {finding.check}: {finding.message}")
    failed = [f.check for f in findings if not f.ok]
    click.echo(f"{len(failed)} problem(s): {', '.join(failed)}" if failed else "all checks passed")
    sys.exit(1 if failed else 0)


@main.command()
@click.option("--threads", default=4, help="Jobs run at once in this process.")
@click.option("--poll", default=0.5, help="Seconds to wait when no job is due.")
def worker(threads: int, poll: float) -> None:
    """Run the jobs queued in the database (TASK_QUEUE=database) until stopped."""
    import signal
    import threading

    from service.worker import Worker

    s = _app().extensions["handover"]
    if s.settings.task_queue != "database":
        raise click.UsageError("handover worker runs TASK_QUEUE=database jobs; set it")
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    click.echo(f"worker: {threads} thread(s) on the database queue; Ctrl-C stops")
    Worker(s, threads=threads, poll=poll).run(stop)
    s.close()
    click.echo("worker stopped")
