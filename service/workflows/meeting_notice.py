"""The emails of a proposed meeting: the organiser is asked to confirm it, once per time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from integrations.ports import Email
from service.domain.business_days import zone
from service.domain.model import Handover
from service.store.db import Database
from service.workflows import meeting_states
from service.workflows.context import StepContext


def tell_organiser(
    handover_id: str,
    h: Handover,
    ctx: StepContext,
    proposal: dict[str, Any],
    *,
    kind: str,
    db: Database | None = None,
) -> None:
    """Email the organiser of a proposed meeting once per proposed time: confirm or pick."""
    organiser = str(proposal["organiser"])
    zone_name = str(proposal["timezone"])
    message = ctx.renderer.email(
        "meeting_proposed",
        meeting=kind.replace("_", " "),
        client=h.client.name,
        project=h.project.name,
        slots=[when_text(s["start"], zone_name) for s in meeting_states.offered(proposal)],
        page_url=f"{ctx.public_base_url}/handovers/{handover_id}",
    )
    key = f"meeting:{handover_id}:{kind}:proposed:{proposal['start']}"
    if key in proposal.get("mailed", []):
        return  # told already (beside the kickoff, or by an earlier run)
    email = Email(key, (organiser,), message.subject, message.text, message.html)
    ctx.mail.send(email)  # once per key, even when a crash repeats this
    if db is not None:
        mailed = [*proposal.get("mailed", []), key]
        meeting_states.put(db, handover_id, kind, {**proposal, "mailed": mailed})


def when_text(start: str, zone_name: str) -> str:
    """Return a start time as people read it, in the meeting's zone."""
    moment = datetime.fromisoformat(start).astimezone(zone(zone_name))
    return f"{moment:%A %d %B %Y, %H:%M} ({zone_name})"
