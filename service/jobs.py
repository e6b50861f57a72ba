"""The queue's jobs: plain functions run by name with a small payload."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING

from integrations.ports import RetryLater
from service.wiring import Services
from service.workflows import kickoff

if TYPE_CHECKING:
    from service.workflows.contracts import SyncResult


def sweep(services: Services, idle: timedelta | None = None) -> tuple[list[str], list[str]]:
    """Queue again what a crash or a lost task left: handovers' steps (pending and idle, or
    running past their lease) and drafts' routing; return both lists of ids."""
    from service.workflows import contracts

    s = services
    kw = {} if idle is None else {"idle": idle}
    stuck = kickoff.sweep(db=s.db, tasks=s.tasks, clock=s.clock, **kw)
    return stuck, contracts.requeue_reviews(db=s.db, tasks=s.tasks)


def run_job(services: Services, job: str, payload: Mapping[str, str]) -> None:
    """Run one job by name; an unknown name is a programming error."""
    if job == "advance_handover":
        status = kickoff.advance_handover(
            payload["handover_id"],
            db=services.db,
            ctx=services.steps,
            clock=services.clock,
            lease=services.settings.lease,
        )
        later = services.settings.lease_seconds
        if status == "running":  # a step is held: its holder goes on, or its lease runs out
            raise RetryLater("a step is held by another worker", later)
        if status == "postponed":  # Google kept failing: give it a while
            raise RetryLater("a step failed transiently and runs again", later)
    elif job == "sweep":
        sweep(services)
    elif job == "cancel_meetings":
        from service.workflows.meeting_steps import cancel_meetings

        cancel_meetings(payload["handover_id"], db=services.db, calendar=services.calendar)
    elif job == "renew_channels":
        from service.workflows import channels

        channels.renew_channels(
            services.clock(),
            db=services.db,
            feed=services.change_feed,
            address=channels.hook_address(services.settings.public_base_url),
        )
    elif job == "extend_syncs":
        from service.workflows import sync_horizon

        sync_horizon.extend_syncs(db=services.db, ctx=services.steps)
    elif job in ACCOUNT_JOBS:
        _run_account_job(services, job)
    elif job in REVIEW_JOBS:
        _run_review_job(services, job, payload)
    elif job in MEETING_JOBS:
        _run_meeting_job(services, job, payload)
    else:
        raise LookupError(f"unknown job {job!r}")


# The handbook's order: PM first, meetings confirmed by their organiser, changes told.
MEETING_JOBS = frozenset(
    {
        "pm_needed",
        "pm_reminders",
        "send_meeting",
        "meeting_reminders",
        "tell_changes",
        "follow_meetings",
    }
)


def _run_meeting_job(services: Services, job: str, payload: Mapping[str, str]) -> None:
    """Run a job of the PM-first and meeting flow (workflows/pm_first.py, meeting_confirm.py)."""
    from service.workflows import change_notice, meeting_confirm, meeting_follow, pm_first

    ctx, db = services.steps, services.db
    if job == "pm_needed":
        pm_first.tell_operations(payload["handover_id"], db=db, ctx=ctx)
    elif job == "pm_reminders":
        pm_first.remind_operations(db=db, ctx=ctx)
    elif job == "send_meeting":
        meeting_confirm.send_meeting(payload["handover_id"], payload["kind"], db=db, ctx=ctx)
    elif job == "meeting_reminders":
        meeting_confirm.remind_organisers(db=db, ctx=ctx)
    elif job == "tell_changes":
        change_notice.tell_changes(
            payload["handover_id"],
            before=payload["before"],
            actor=payload["actor"],
            key=payload["key"],
            db=db,
            ctx=ctx,
        )
    else:
        meeting_follow.follow_meetings(db=db, ctx=ctx)


REVIEW_JOBS = frozenset({"sync_drive", "route_review", "review_reminders", "tell_decision"})
ACCOUNT_JOBS = frozenset({"sync_agendas", "account_reminders"})


def _run_account_job(services: Services, job: str) -> None:
    """Run an account rhythm job: the sync agendas due, or the task reminders and notices."""
    from service.workflows import account_notices, agendas

    if job == "sync_agendas":
        agendas.make_due_agendas(ctx=services.rhythm)
    else:
        account_notices.send_reminders(ctx=services.rhythm)


def drive_sync(services: Services) -> Callable[[], SyncResult]:
    """Return the Drive feed's run (contracts.sync_drive) bound to the services: the job
    and an upload (which runs it at once) read the feed the same way."""
    from service.workflows import contracts

    s = services
    return partial(
        contracts.sync_drive,
        db=s.db,
        feed=s.change_feed,
        tasks=s.tasks,
        clock=s.clock,
        policy=s.review_policy,
        intake_folder_id=s.settings.drive_intake_folder,
        allowed_domain=s.settings.allowed_domain,
        stale=s.settings.lease,
    )


def _run_review_job(services: Services, job: str, payload: Mapping[str, str]) -> None:
    """Run a contract review job (service/workflows/contracts.py, review_routing.py)."""
    from service.workflows import review_routing

    if job == "sync_drive":
        drive_sync(services)()
    elif job in ("tell_decision", "route_review"):
        from service.workflows import review_decisions

        s, review_id = services, payload["review_id"]
        if job == "tell_decision":
            domain = s.settings.allowed_domain
            review_decisions.tell_decision(
                review_id, db=s.db, ctx=s.reviews, clock=s.clock, allowed_domain=domain
            )
        else:
            lease = s.settings.lease
            review_routing.route_review(
                review_id, db=s.db, ctx=s.reviews, clock=s.clock, lease=lease
            )
    else:
        review_routing.send_reminders(services.clock(), db=services.db, ctx=services.reviews)


JOBS = (
    frozenset({"advance_handover", "sweep", "renew_channels", "cancel_meetings", "extend_syncs"})
    | REVIEW_JOBS
    | ACCOUNT_JOBS
    | MEETING_JOBS
)
