"""Keep an account's sync series handled for as long as it runs.

A plan checks the syncs' occurrences for its first months (`PlanRequest.plan_months`)
and moves those on a holiday (EXDATE plus a moved instance). A series runs on without
end, so before that window runs out it is extended: the occurrences of the next months
are checked by the same rules (`SyncPlanner.extend`), with the same people, zones,
countries and hours; nothing already checked is moved again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from service.domain.planning import slot_rules
from service.domain.planning_model import (
    ExistingSyncSeries,
    MeetingKind,
    PlanRequest,
    SeriesSpec,
)
from service.domain.planning_syncs import SyncPlanner, horizon

EXTEND_WITHIN = timedelta(days=183)  # extend a series whose handled window ends this soon


@dataclass(frozen=True)
class ExtendedSyncs:
    """The account's two series after an extension, and what it added."""

    internal: SeriesSpec
    executive: SeriesSpec
    handled_from: datetime
    handled_until: datetime
    new_moves: int


def handled_until(series: ExistingSyncSeries, planned_at: datetime, months: int = 12) -> datetime:
    """Return how far a stored series is handled; older plans did not say, so infer it.

    A plan checked a new series from its first occurrence, a kept one from when it
    was planned, for `months` (see `planning_syncs.horizon`).
    """
    known = [s.handled_until for s in (series.internal, series.executive) if s.handled_until]
    if known:
        return min(known)
    return horizon(max(series.executive.start, planned_at), months)


def due(handled: datetime, now: datetime) -> bool:
    """Return whether a series handled until `handled` should be extended now."""
    return handled < now + EXTEND_WITHIN


def extend_syncs(request: PlanRequest, handled: datetime) -> ExtendedSyncs:
    """Return the request's existing series handled on to `earliest` + the planned months.

    `request.existing_sync_series` is the series as sent, handled until `handled`.
    """
    existing = request.existing_sync_series
    if existing is None:
        raise ValueError("extend_syncs needs the account's existing sync series")
    until = max(handled, horizon(request.earliest, request.plan_months))
    planner = SyncPlanner(
        request,
        slot_rules(MeetingKind.EXECUTIVE_SPONSOR_SYNC, request, {}),
        slot_rules(MeetingKind.INTERNAL_ACCOUNT_SYNC, request, {}),
    )
    internal, executive = planner.extend(handled, until)
    before = len(existing.internal.exceptions) + len(existing.executive.exceptions)
    after = len(internal.spec.exceptions) + len(executive.spec.exceptions)
    return ExtendedSyncs(
        internal=internal.spec,
        executive=executive.spec,
        handled_from=handled,
        handled_until=until,
        new_moves=after - before,
    )
