"""Plan the account's two recurring syncs so the internal one always comes first.

The Executive Sponsor Sync (AM, PM, client sponsors) recurs in the client's zone; the
Internal Account Sync (AM, PM) recurs in the AM's zone, c days earlier by rule (see
`recurrence`). The first executive sync is the earliest slot at least lead + 1 business
days after the client kickoff (so the first internal sync fits after the kickoff too),
preferring a wall time that stays inside everyone's hours across the year's DST changes.
Then every occurrence of both series for the planned months is expanded and checked;
one that lands on a holiday or weekend of an internal attendee, outside hours after a
DST change, or too close to its partner is moved as an exception (EXDATE plus a moved
instance, nearest day and time first).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.domain.business_days import add_business_days, is_business_day, localize, zone
from service.domain.model import Cadence
from service.domain.planning_model import (
    MAX_SYNC_LEAD,
    MovedOccurrence,
    Participant,
    PlanRequest,
    SeriesSpec,
)
from service.domain.planning_slots import Cost, SlotRules, day_grid, grid, lead_ok
from service.domain.recurrence import (
    MAX_WEEK_OF_MONTH,
    Occurrence,
    exdate_line,
    executive_rule,
    occurrences,
    preceding_rule,
    preceding_window,
    rule_walls,
    week_of_month,
)

_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_SATURDAY = 5
_EXEC_MOVES = (0, 1, 2, 3, 4, 5, 6, -1, -2, -3, -4)
_INTERNAL_MOVES = (0, -1, -2, -3, -4, -5, -6, 1, 2, 3, 4)
_MIN_SEARCH_DAYS = 35


@functools.lru_cache(maxsize=256)
def offset_changes(tz: str, year: int) -> tuple[date, ...]:
    """Return the days of a year on which a zone's UTC offset (at noon UTC) changed."""
    tzinfo = zone(tz)
    day = date(year, 1, 1)
    previous = datetime.combine(day - _DAY, time(12), tzinfo=UTC).astimezone(tzinfo).utcoffset()
    out = []
    while day.year == year:
        offset = datetime.combine(day, time(12), tzinfo=UTC).astimezone(tzinfo).utcoffset()
        if offset != previous:
            out.append(day)
        previous, day = offset, day + _DAY
    return tuple(out)


def min_week_of_month(lead: int) -> int:
    """Return the smallest n for 'nth weekday' that leaves room for the lead in-month."""
    widest = lead + 2 * math.ceil(lead / 5) + 1  # calendar days back, plus a zone's date
    return 1 + math.ceil(widest / 7)


@dataclass(frozen=True)
class SyncDraft:
    """A planned sync series before attendees and wording are added."""

    spec: SeriesSpec
    kept: bool


@dataclass
class _Series:
    """A series being repaired: its spec and the EXDATE walls of new moves."""

    spec: SeriesSpec
    moves: list[tuple[datetime, MovedOccurrence]]

    def with_moves(self, handled_until: datetime) -> SeriesSpec:
        """Return the spec with the new moves as EXDATE lines and exceptions.

        A new move of an occurrence that an earlier plan had already moved replaces it;
        the series is handled until the later of its old and new window ends.
        """
        lines = list(self.spec.recurrence)
        for wall, _ in self.moves:
            line = exdate_line(self.spec.timezone, wall)
            if line not in lines:
                lines.append(line)
        moved = {m.original_start: m for m in self.spec.exceptions}
        moved.update((m.original_start, m) for _, m in self.moves)
        by_original = sorted(moved.values(), key=lambda m: m.original_start)
        handled = max(handled_until, self.spec.handled_until or handled_until)
        return replace(
            self.spec,
            recurrence=tuple(lines),
            exceptions=tuple(by_original),
            handled_until=handled,
        )


def horizon(since: datetime, months: int) -> datetime:
    """Return where the checked window of a series checked from `since` ends."""
    return since + timedelta(days=31 * months + 31)


class SyncPlanner:
    """Choose and repair the two sync series of one request."""

    def __init__(
        self,
        request: PlanRequest,
        exec_rules: SlotRules,
        internal_rules: SlotRules,
    ) -> None:
        """Keep the request and the slot rules of both syncs."""
        self.request = request
        self.cadence = request.cadence
        self.lead = min(request.sync_lead_business_days, MAX_SYNC_LEAD)
        self.pair: tuple[Participant, ...] = request.sync_pair()
        self.exec_rules, self.internal_rules = exec_rules, internal_rules
        self.exec_tz, self.internal_tz = request.client_timezone, request.am.timezone
        self.exec_len = request.durations.of("executive_sponsor_sync")
        self.internal_len = request.durations.of("internal_account_sync")
        self._series_costs: dict[tuple[object, ...], tuple[int, int]] = {}
        self._regime_cache: tuple[tuple[date, int], ...] | None = None
        self._hits: dict[str, int] = {}

    # -- choosing the rules -------------------------------------------------------

    def _regimes(self, first: date) -> tuple[tuple[date, int], ...]:
        """Return (start, days) of each stretch with unchanged UTC offsets in every zone."""
        if self._regime_cache is None:
            last = first + timedelta(days=31 * self.request.plan_months + 62)
            zones = {self.exec_tz, self.internal_tz}
            zones.update(g.tz for g in (*self.exec_rules.groups, *self.internal_rules.groups))
            bounds = {first, last}
            for tz in zones:
                for year in range(first.year, last.year + 1):
                    bounds.update(d for d in offset_changes(tz, year) if first < d < last)
            ordered = sorted(bounds)
            self._regime_cache = tuple(
                (lo, (hi - lo).days) for lo, hi in zip(ordered, ordered[1:], strict=False)
            )
        return self._regime_cache

    def series_cost(
        self, rules: SlotRules, tz: str, first: datetime, length: timedelta
    ) -> tuple[int, int]:
        """Return a series' minutes outside hours (internal, external), weighted by days.

        The cost of a weekly wall time only changes when some zone changes its UTC
        offset, so it is priced once per such stretch of the year (weighted by its
        length); cached per wall time. Used to rank candidate rules; every
        actual occurrence is checked afterwards.
        """
        key = (id(rules), tz, first.time())
        cached = self._series_costs.get(key)
        if cached is not None:
            return cached
        tzinfo = zone(tz)
        internal = external = 0
        for lo, days in self._regimes(first.date()):
            day = lo + _DAY if days > 1 else lo  # clear of the day the offsets change
            moment = localize(datetime.combine(day, first.time()), tzinfo)
            cost = rules.cost(moment, moment + length, with_busy=False)
            internal += cost.internal * days
            external += cost.external * days
        self._series_costs[key] = (internal, external)
        return internal, external

    def holiday_hits(self, first: date) -> int:
        """Return how often a rule or its internal sync hits an AM/PM non-business day.

        Counts the planned months' occurrences of the rule starting on `first`, and of
        the internal sync the lead puts before each. Ranks candidate weekdays: a
        Wednesday series needs fewer moved occurrences than a Monday one where Mondays
        are often holidays.
        """
        line = executive_rule(self.cadence, first)
        cached = self._hits.get(line)
        if cached is not None:
            return cached
        start = datetime.combine(first, time(12))
        end = start + timedelta(days=31 * self.request.plan_months)
        hits = 0
        for wall in rule_walls(line, start, start, end):
            before = wall.date()
            for _ in range(self.lead):  # the nominal internal sync: lead weekdays earlier
                before -= _DAY
                while before.weekday() >= _SATURDAY:
                    before -= _DAY
            hits += sum(
                not is_business_day(day, person.country)
                for day in (wall.date(), before)
                for person in self.pair
            )
        self._hits[line] = hits
        return hits

    def _room_after(self, moment: datetime, days: int) -> list[tuple[ZoneInfo, date]]:
        """Return, per AM/PM, the first local date `days` business days after moment."""
        out: list[tuple[ZoneInfo, date]] = []
        for person in self.pair:
            tzinfo = zone(person.timezone)
            local = moment.astimezone(tzinfo).date()
            out.append((tzinfo, add_business_days(local, days, person.country)))
        return out

    def choose_executive(self, after: datetime) -> datetime:
        """Return the first executive sync: earliest slot that is good all year."""
        tzinfo = zone(self.exec_tz)
        room = self._room_after(after, self.lead + 1)
        monthly = self.cadence is not Cadence.FORTNIGHTLY
        lowest_week = min_week_of_month(self.lead)
        days = max(self.request.horizon_days, _MIN_SEARCH_DAYS)
        best: tuple[tuple[int, ...], datetime] | None = None
        feasible: datetime | None = None
        for start in grid(after, after + timedelta(days=days)):
            if any(start.astimezone(z).date() < first for z, first in room):
                continue
            local = start.astimezone(tzinfo)
            if monthly and not lowest_week <= week_of_month(local.date()) <= MAX_WEEK_OF_MONTH:
                continue
            feasible = feasible or start
            if best is not None and not best[0][0] and not best[0][3] and start > feasible + _WEEK:
                break  # every weekday and time was priced; later ones cannot do better
            first = self.exec_rules.cost(start, start + self.exec_len)
            internal, external = self.series_cost(
                self.exec_rules, self.exec_tz, local.replace(tzinfo=None), self.exec_len
            )
            hits = self.holiday_hits(local.date())
            key = (first.calendar, internal, external, first.busy, hits)
            if not any(key):
                return start
            if best is None or key < best[0]:
                best = (key, start)
        if best is None:
            return self.choose_executive(after + timedelta(days=days))
        return best[1]

    def choose_internal(self, exec_start: datetime, after: datetime) -> datetime:
        """Return the first internal sync: latest day that keeps the lead, time nearest."""
        tzinfo, exec_zone = zone(self.internal_tz), zone(self.exec_tz)
        exec_date = exec_start.astimezone(exec_zone).date()
        around = exec_start.astimezone(tzinfo).time()
        best: tuple[tuple[int, ...], datetime] | None = None
        rank = 0
        day = exec_start.astimezone(tzinfo).date()
        while day >= after.astimezone(tzinfo).date() - _DAY:
            for start in day_grid(day, tzinfo, around):
                rank += 1
                end = start + self.internal_len
                if start < after or not lead_ok(start, end, exec_start, self.pair, self.lead):
                    continue
                local = start.astimezone(tzinfo)
                if self.cadence is not Cadence.FORTNIGHTLY and not preceding_window(
                    exec_date, local.date()
                ):
                    continue
                first = self.internal_rules.cost(start, end)
                internal, _ = self.series_cost(
                    self.internal_rules,
                    self.internal_tz,
                    local.replace(tzinfo=None),
                    self.internal_len,
                )
                key = (first.calendar, internal, first.busy)
                if not any(key):
                    return start
                if best is None or (*key, rank) < best[0]:
                    best = ((*key, rank), start)
            day -= _DAY
        if best is None:  # nothing keeps the lead: the checks will warn
            return exec_start - self.internal_len - _DAY
        return best[1]

    def plan(self, kickoff_end: datetime) -> tuple[SyncDraft, SyncDraft]:
        """Return the internal and executive series, repaired for the planned months."""
        existing = self.request.existing_sync_series
        if existing is not None:
            return self._repair(
                existing.internal, existing.executive, self.request.earliest, kept=True
            )
        exec_start = self.choose_executive(kickoff_end)
        internal_start = self.choose_internal(exec_start, kickoff_end)
        exec_local = exec_start.astimezone(zone(self.exec_tz))
        internal_local = internal_start.astimezone(zone(self.internal_tz))
        exec_line = executive_rule(self.cadence, exec_local.date())
        try:
            internal_line = preceding_rule(self.cadence, exec_local.date(), internal_local.date())
        except ValueError:
            internal_line = executive_rule(self.cadence, internal_local.date())
        exec_end = (exec_start + self.exec_len).astimezone(exec_local.tzinfo)
        internal_end = (internal_start + self.internal_len).astimezone(internal_local.tzinfo)
        executive = SeriesSpec(exec_local, exec_end, self.exec_tz, (exec_line,))
        internal = SeriesSpec(internal_local, internal_end, self.internal_tz, (internal_line,))
        return self._repair(internal, executive, kickoff_end, kept=False)

    def extend(self, since: datetime, until: datetime) -> tuple[SyncDraft, SyncDraft]:
        """Return the existing series checked and repaired on, for occurrences in [since, until).

        Occurrences before `since` were handled by an earlier plan and stay as sent. The
        new ones follow the rules of a new series: holidays always, and working hours
        too when the series' usual time keeps them.
        """
        existing = self.request.existing_sync_series
        if existing is None:
            raise ValueError("only an existing sync series can be extended")
        return self._repair(
            existing.internal,
            existing.executive,
            self.request.earliest,
            kept=True,
            window=(since, until),
            strict_hours=True,
        )

    # -- repairing occurrences ----------------------------------------------------

    def _repair(
        self,
        internal_spec: SeriesSpec,
        exec_spec: SeriesSpec,
        lower: datetime,
        *,
        kept: bool,
        window: tuple[datetime, datetime] | None = None,
        strict_hours: bool | None = None,
    ) -> tuple[SyncDraft, SyncDraft]:
        """Move every occurrence that breaks a rule; return both drafts.

        A kept series is only repaired from now on (occurrences before `earliest` are
        history); a new one from its first occurrence; `window` (executive rule instants)
        replaces both, the internal syncs following their executive ones. Occurrences
        outside hours move only when `strict_hours` (default: a new series) and the
        series' usual time keeps everyone inside them.
        """
        internal, executive = _Series(internal_spec, []), _Series(exec_spec, [])
        earliest = self.request.earliest
        since = max(exec_spec.start, earliest) if kept else exec_spec.start
        internal_since = max(internal_spec.start, earliest) if kept else internal_spec.start
        until = horizon(since, self.request.plan_months)
        if window is not None:
            since, until = window
        execs = occurrences(exec_spec, since=exec_spec.start, until=until)
        internals = occurrences(internal_spec, since=internal_spec.start, until=until)
        if window is not None:
            internal_since = _paired_since(execs, internals, since)
        exec_len, internal_len = exec_spec.duration, internal_spec.duration
        strict = not kept if strict_hours is None else strict_hours
        strict_exec = strict and not any(self._hours(self.exec_rules, exec_spec.start, exec_len))
        strict_internal = strict and not any(
            self._hours(self.internal_rules, internal_spec.start, internal_len)
        )
        previous_end = lower
        for i, ex in enumerate(execs):
            exec_start = ex.start
            floor = max(previous_end, lower)  # never before `lower`: the past of a kept series
            if ex.original >= since and self._bad(self.exec_rules, ex.start, exec_len, strict_exec):
                upper = execs[i + 1].start if i + 1 < len(execs) else ex.start + 7 * _DAY
                room = self._room_after(previous_end, self.lead + 1) if i or not kept else []
                moved = self._move_exec(ex, exec_len, floor, upper, room, strict_exec)
                if moved is not None:
                    exec_start = moved
                    reason = self.exec_rules.explain(ex.start, ex.start + exec_len)
                    executive.moves.append(
                        (ex.wall, _moved(ex, moved, exec_len, reason, self.exec_tz))
                    )
            if i < len(internals) and internals[i].original >= internal_since:
                sync = internals[i]
                if not self._internal_ok(
                    sync.start, internal_len, exec_start, floor, strict_internal
                ):
                    moved = self._move_internal(
                        sync, internal_len, exec_start, floor, strict_internal
                    )
                    if moved is not None and moved != sync.start:
                        reason = self._internal_reason(sync, internal_len, exec_start)
                        internal.moves.append(
                            (sync.wall, _moved(sync, moved, internal_len, reason, self.internal_tz))
                        )
            previous_end = exec_start + exec_len
        return (
            SyncDraft(internal.with_moves(until), kept),
            SyncDraft(executive.with_moves(until), kept),
        )

    def _hours(self, rules: SlotRules, start: datetime, length: timedelta) -> tuple[int, int]:
        """Return the minutes outside hours (internal, external) of one occurrence."""
        return rules.cost(start, start + length, with_busy=False).hours

    def _bad(self, rules: SlotRules, start: datetime, length: timedelta, strict: bool) -> bool:
        """Return whether an occurrence must move (holiday, or hours when they can hold)."""
        cost = rules.cost(start, start + length, with_busy=False)
        return cost.calendar > 0 or (strict and (cost.internal > 0 or cost.external > 0))

    def _move_exec(
        self,
        ex: Occurrence,
        length: timedelta,
        lower: datetime,
        upper: datetime,
        room: Sequence[tuple[ZoneInfo, date]],
        strict: bool,
    ) -> datetime | None:
        """Return a better start for an executive occurrence near the original, if any."""
        tzinfo = zone(self.exec_tz)
        local = ex.original.astimezone(tzinfo)
        current = self.exec_rules.cost(ex.start, ex.start + length, with_busy=False)
        enough = (0, 0) if strict else current.hours  # as good as the series' usual time
        best: tuple[tuple[int, ...], datetime] | None = None
        for rank_day, offset in enumerate(_EXEC_MOVES):
            for rank, start in enumerate(
                day_grid(local.date() + offset * _DAY, tzinfo, local.time())
            ):
                if start < lower or start + length > upper:
                    continue
                if any(start.astimezone(z).date() < d for z, d in room):
                    continue
                cost = self.exec_rules.cost(start, start + length, with_busy=False)
                key = (cost.calendar, *cost.hours, rank_day, rank)
                if not cost.calendar and cost.hours <= enough:
                    return start
                if best is None or key < best[0]:
                    best = (key, start)
        if best is None or best[0][:3] >= (current.calendar, *current.hours):
            return None
        return best[1]

    def _internal_ok(
        self,
        start: datetime,
        length: timedelta,
        exec_start: datetime,
        lower: datetime,
        strict: bool,
    ) -> bool:
        """Return whether an internal occurrence keeps every rule."""
        if start < lower or not lead_ok(start, start + length, exec_start, self.pair, self.lead):
            return False
        return not self._bad(self.internal_rules, start, length, strict)

    def _move_internal(
        self,
        sync: Occurrence,
        length: timedelta,
        exec_start: datetime,
        lower: datetime,
        strict: bool,
    ) -> datetime | None:
        """Return the nearest start keeping the lead, holidays and hours, if any."""
        tzinfo = zone(self.internal_tz)
        local = sync.original.astimezone(tzinfo)
        usual = self.internal_rules.cost(sync.original, sync.original + length, with_busy=False)
        enough = 0 if strict else usual.internal
        best: tuple[tuple[int, ...], datetime] | None = None
        for rank_day, offset in enumerate(_INTERNAL_MOVES):
            for rank, start in enumerate(
                day_grid(local.date() + offset * _DAY, tzinfo, local.time())
            ):
                end = start + length
                if start < lower or not lead_ok(start, end, exec_start, self.pair, self.lead):
                    continue
                cost: Cost = self.internal_rules.cost(start, end, with_busy=False)
                if not cost.calendar and cost.internal <= enough:
                    return start
                key = (cost.calendar, cost.internal, rank_day, rank)
                if best is None or key < best[0]:
                    best = (key, start)
        return None if best is None else best[1]

    def _internal_reason(self, sync: Occurrence, length: timedelta, exec_start: datetime) -> str:
        """Return why an internal occurrence moved."""
        if not lead_ok(sync.start, sync.start + length, exec_start, self.pair, self.lead):
            when = exec_start.astimezone(zone(self.exec_tz))
            return (
                f"keeps it {self.lead} business day(s) before the executive sponsor sync "
                f"on {when:%Y-%m-%d %H:%M} ({self.exec_tz})"
            )
        return self.internal_rules.explain(sync.start, sync.start + length)


def _paired_since(
    execs: Sequence[Occurrence], internals: Sequence[Occurrence], since: datetime
) -> datetime:
    """Return where the internal syncs paired with the executive ones from `since` begin."""
    for i, ex in enumerate(execs):
        if ex.original >= since:
            return internals[i].original if i < len(internals) else since
    return since


def _moved(
    occurrence: Occurrence, start: datetime, length: timedelta, reason: str, tz: str
) -> MovedOccurrence:
    """Return the moved instance of an occurrence, in the series' zone."""
    tzinfo = zone(tz)
    return MovedOccurrence(
        occurrence.original.astimezone(tzinfo),
        start.astimezone(tzinfo),
        (start.astimezone(UTC) + length).astimezone(tzinfo),
        reason,
    )
