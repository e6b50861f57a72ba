"""Extending the account syncs' checked months: the next occurrences follow the same rules,
the ones already checked stay as they were, and extending again adds nothing."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from service.domain.business_days import is_business_day, zone
from service.domain.model import Cadence
from service.domain.planning import Participant, PlanRequest, plan_meetings
from service.domain.planning_horizon import due, extend_syncs, handled_until
from service.domain.planning_model import ExistingSyncSeries, SeriesSpec
from service.domain.recurrence import occurrences

ADA = Participant("ada@agency.example", "Ada Lane", "America/New_York", "US", internal=True)
PRIYA = Participant("priya@agency.example", "Priya Rao", "Asia/Kolkata", "IN", internal=True)
CLEO = Participant("cleo@acme.example", "Cleo Buyer", "America/New_York", "", internal=False)
PLANNED = datetime(2026, 1, 12, 15, tzinfo=UTC)


def request(now: datetime, existing: ExistingSyncSeries | None = None) -> PlanRequest:
    return PlanRequest(
        handover_id="h1",
        account_key="acme.example",
        client_name="Acme",
        project_name="Commerce",
        client_timezone="America/New_York",
        cadence=Cadence.FORTNIGHTLY,
        earliest=now,
        am=ADA,
        pm=PRIYA,
        exec_sponsors=(CLEO,),
        existing_sync_series=existing,
    )


def planned() -> ExistingSyncSeries:
    return plan_meetings(request(PLANNED)).sync_series()


def off_days(spec: SeriesSpec, lo: datetime, hi: datetime) -> list[str]:
    """Return the occurrences in [lo, hi) that fall on the AM's or PM's non-business day."""
    out = []
    for o in occurrences(spec, since=lo, until=hi):
        for p in (ADA, PRIYA):
            day = o.start.astimezone(zone(p.timezone)).date()
            if not is_business_day(day, p.country):
                out.append(f"{p.country} {day}")
    return out


def test_a_plan_says_how_far_its_series_are_handled() -> None:
    series = planned()
    until = handled_until(series, PLANNED)
    assert series.internal.handled_until == series.executive.handled_until == until
    assert until > series.executive.start + timedelta(days=365)
    assert not due(until, PLANNED) and due(until, PLANNED + timedelta(days=335))
    # An older plan did not say: inferred from where it was checked from.
    bare = ExistingSyncSeries(
        replace(series.internal, handled_until=None), replace(series.executive, handled_until=None)
    )
    assert handled_until(bare, PLANNED) == until


def test_the_next_months_are_moved_off_holidays_and_the_past_is_kept() -> None:
    series = planned()
    handled = handled_until(series, PLANNED)
    later = PLANNED + timedelta(days=335)
    assert any(
        off_days(s, handled, later + timedelta(days=365))
        for s in (series.internal, series.executive)
    )

    extended = extend_syncs(request(later, series), handled)

    assert extended.handled_until >= later + timedelta(days=365)
    assert extended.new_moves > 0
    for old, new in ((series.internal, extended.internal), (series.executive, extended.executive)):
        assert (new.start, new.end, new.timezone) == (old.start, old.end, old.timezone)
        assert set(old.recurrence) <= set(new.recurrence)
        assert set(old.exceptions) <= set(new.exceptions), "moves already sent stay as sent"
        assert all(m.original_start >= handled for m in set(new.exceptions) - set(old.exceptions))
        assert off_days(new, new.start, extended.handled_until) == []
        assert new.handled_until == extended.handled_until
    # Each internal sync still comes before its executive sync.
    execs = occurrences(extended.executive, since=handled, until=extended.handled_until)
    internals = occurrences(
        extended.internal, since=handled - timedelta(days=7), until=extended.handled_until
    )
    for ex in execs:
        assert any(ex.start - timedelta(days=7) < i.start < ex.start for i in internals)


def test_extending_again_adds_nothing() -> None:
    later = PLANNED + timedelta(days=335)
    series = planned()
    once = extend_syncs(request(later, series), handled_until(series, PLANNED))
    again_series = ExistingSyncSeries(once.internal, once.executive)
    again = extend_syncs(request(later, again_series), once.handled_until)
    assert again.new_moves == 0
    assert (again.internal, again.executive) == (once.internal, once.executive)


def test_only_an_existing_series_is_extended() -> None:
    with pytest.raises(ValueError):
        extend_syncs(request(PLANNED), PLANNED)
