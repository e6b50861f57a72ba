"""The queue's jobs: plain functions run by name with a small payload."""

from __future__ import annotations

from collections.abc import Mapping

from service.wiring import Services
from service.workflows import kickoff


def run_job(services: Services, job: str, payload: Mapping[str, str]) -> None:
    """Run one job by name; an unknown name is a programming error."""
    if job == "advance_handover":
        kickoff.advance_handover(
            payload["handover_id"], db=services.db, ctx=services.steps, clock=services.clock
        )
    elif job == "sweep":
        kickoff.sweep(db=services.db, tasks=services.tasks, clock=services.clock)
    elif job == "renew_channels":
        from service.workflows import channels

        channels.renew_channels(
            services.clock(),
            db=services.db,
            feed=services.change_feed,
            address=channels.hook_address(services.settings.public_base_url),
        )
    else:
        raise LookupError(f"unknown job {job!r}")


JOBS = frozenset({"advance_handover", "sweep", "renew_channels"})
