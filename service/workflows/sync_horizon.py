"""Keep the account syncs' holiday handling going while the series run (`extend_syncs`).

A plan checks the syncs' occurrences for its first year and moves those on a holiday.
Weekly, cron runs `extend_syncs`: for every account with a running handover whose series
is handled for less than `planning_horizon.EXTEND_WITHIN`, the next months are checked by
the same rules, the new moves are written into the account's stored plans (each sync
meeting's `handled_until` says how far), and the `account_syncs` step sends the same
events again: the series gains its new EXDATEs, each new moved occurrence is made under
its deterministic id, and everything already sent is left as it is.

Order: the plan first, then the events; each sync's event artifact records how far the
sent series is handled, so a run that stopped in between sends on the next run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.domain import planning_horizon
from service.domain.model import Handover
from service.domain.planning import request_from_handover
from service.domain.planning_model import SYNC_KINDS
from service.store import handovers as repo
from service.store.db import Database
from service.store.models import HandoverRow
from service.workflows import meetings
from service.workflows.context import StepContext
from service.workflows.kickoff import handover_status, load_handover
from service.workflows.meeting_steps import account_syncs

log = logging.getLogger(__name__)
_OWN_STEPS = frozenset({"plan_meetings", "account_syncs"})


@dataclass(frozen=True)
class _Syncs:
    """The account's series as its newest running handover holds them."""

    handover_id: str
    handover: Handover
    plan: dict[str, Any]
    sent: list[dict[str, Any]]  # the two syncs' event artifacts, as last sent


def extend_syncs(*, db: Database, ctx: StepContext, actor: str = "cron") -> list[str]:
    """Extend the sync series of every running account whose checked months end soon.

    Returns the keys of the accounts whose series were sent again. An account whose
    handovers are all cancelled is left alone; one whose handover is still planning or
    sending its meetings waits for the next run.
    """
    with db.transaction() as session:
        keys = repo.running_account_keys(session)
    extended = []
    for key in keys:
        try:
            if extend_account(key, db=db, ctx=ctx, actor=actor):
                extended.append(key)
        except Exception:  # one account failing (Google down) must not stop the others
            log.exception("extending the syncs of account %s failed", key)
    return extended


def extend_account(key: str, *, db: Database, ctx: StepContext, actor: str = "cron") -> bool:
    """Extend one account's series if due, and send what is not sent yet; True if sent."""
    syncs = _account_syncs(db, key)
    if syncs is None:
        return False
    now = ctx.clock()
    series = meetings.sync_series_of(syncs.plan)
    if series is None:
        return False
    planned_at = datetime.fromisoformat(syncs.plan.get("planned_at") or now.isoformat())
    handled = planning_horizon.handled_until(series, planned_at)
    if planning_horizon.due(handled, now):
        request = request_from_handover(
            syncs.handover,
            handover_id=syncs.handover_id,
            now=now,
            agency_timezone=ctx.settings.agency_timezone,
            business_country=ctx.settings.business_country,
            business_hours=ctx.settings.business_hours,
            existing_sync_series=series,
        )
        extension = planning_horizon.extend_syncs(request, handled)
        _store(db, key, syncs, extension)
        handled = extension.handled_until
    sent = [_sent_until(e, syncs.plan) for e in syncs.sent]
    if all(until is not None and until >= handled for until in sent):
        return False  # sent as planned: nothing to do
    account_syncs(syncs.handover_id, syncs.handover, ctx, db)
    with db.transaction() as session:
        plan = repo.artifact(session, syncs.handover_id, "plan")
        for meeting, sent_before in zip(
            _sync_meetings(plan.data if plan else {}), syncs.sent, strict=True
        ):
            repo.record(
                session,
                actor=actor,
                action="syncs.extended",
                subject=syncs.handover_id,
                account=key,
                kind=meeting["kind"],
                handled_until=handled.isoformat(),
                new_moves=len(meeting.get("moved", ())) - len(sent_before.get("moved", ())),
            )
    log.info("account %s syncs handled until %s", key, handled.isoformat())
    return True


def _sent_until(event: dict[str, Any], plan: dict[str, Any]) -> datetime | None:
    """Return how far the sent series is handled (an older send: as its plan says)."""
    value = event.get("handled_until")
    if value:
        return datetime.fromisoformat(value)
    if any(m.get("handled_until") for m in _sync_meetings(plan)):
        return None  # the plan says more than was sent
    series = meetings.sync_series_of(plan)
    assert series is not None
    planned_at = datetime.fromisoformat(plan["planned_at"])
    return planning_horizon.handled_until(series, planned_at)


def _sync_meetings(plan: dict[str, Any]) -> list[dict[str, Any]]:
    kinds = {k.value for k in SYNC_KINDS}
    return [m for m in plan.get("meetings", ()) if m["kind"] in kinds]


def _account_syncs(db: Database, key: str) -> _Syncs | None:
    """Return the series of the account's newest running handover that has sent them.

    None when every handover is cancelled, or one is still planning or sending its
    meetings (its own steps write the plan and the events: this job must not race them).
    """
    with db.transaction() as session:
        rows = repo.running_handovers(session, key)
        newest: tuple[datetime, datetime, HandoverRow] | None = None
        for row in rows:
            states = [s.state for s in row.steps]
            busy = handover_status(states) in {"pending", "running"}
            if busy and any(s.state != "done" for s in row.steps if s.name in _OWN_STEPS):
                return None
            plan = next((a for a in row.artifacts if a.kind == "plan"), None)
            if plan is None or len(_sync_meetings(plan.data)) != len(SYNC_KINDS):
                continue
            rank = (plan.created_at, row.created_at, row)
            if newest is None or rank[:2] > newest[:2]:
                newest = rank
        if newest is None:
            return None
        row = newest[2]
        events = {a.kind: dict(a.data) for a in row.artifacts}
        sent = [events.get(f"event:{k.value}") for k in SYNC_KINDS]
        plan_data = next(dict(a.data) for a in row.artifacts if a.kind == "plan")
        if any(e is None for e in sent):
            return None  # its account_syncs step has not sent them yet
        return _Syncs(
            row.id,
            load_handover(dict(row.payload)),
            plan_data,
            [e for e in sent if e is not None],
        )


def _store(
    db: Database,
    key: str,
    syncs: _Syncs,
    extension: planning_horizon.ExtendedSyncs,
) -> None:
    """Write the extended series into every running plan of the account that holds it."""
    fields = {
        kind.value: meetings.series_json(spec)
        for kind, spec in zip(SYNC_KINDS, (extension.internal, extension.executive), strict=True)
    }
    same = (syncs.plan.get("cadence"), _first_start(syncs.plan))
    with db.transaction() as session:
        rows = repo.running_handovers(session, key)
        for row in rows:
            plan = repo.artifact(session, row.id, "plan")
            if plan is None or (plan.data.get("cadence"), _first_start(plan.data)) != same:
                continue
            data = dict(plan.data)
            data["meetings"] = [
                {**m, **fields.get(m["kind"], {})} for m in data.get("meetings", ())
            ]
            repo.put_artifact(session, row.id, "plan", external_id=plan.external_id, data=data)


def _first_start(plan: dict[str, Any]) -> tuple[str, ...]:
    """Return the series' first occurrences: plans that share them hold the same series."""
    return tuple(m["start"] for m in _sync_meetings(plan))
