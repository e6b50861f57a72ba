"""How good a meeting time is: holidays, working hours and free/busy, on a 15-minute grid.

A slot's cost is compared lexicographically: internal attendees on a weekend or public
holiday, then minutes outside working hours of internal attendees (each in their own
zone), then minutes outside the client's hours (client meetings), then required internal
attendees who are busy, then time. The grid is every quarter hour in UTC, which is every
local quarter hour in every zone in use (offsets are multiples of 15 minutes).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

from service.domain.business_days import (
    add_business_days,
    holiday_name,
    is_business_day,
    localize,
    zone,
)
from service.domain.planning_model import Participant

STEP = timedelta(minutes=15)
_EPSILON = timedelta(microseconds=1)
Hours = tuple[time, time]
BusyMap = Mapping[str, Sequence[tuple[datetime, datetime]]]


class Cost(NamedTuple):
    """A slot's badness, compared field by field."""

    calendar: int
    internal: int
    external: int
    busy: int

    @property
    def perfect(self) -> bool:
        """Return whether nothing at all is wrong with the slot."""
        return self == PERFECT


PERFECT = Cost(0, 0, 0, 0)


@functools.lru_cache(maxsize=65536)
def _window(tzinfo: ZoneInfo, day: date, hours: Hours) -> tuple[datetime, datetime]:
    """Return the working-hours instants of a local day."""
    return (
        localize(datetime.combine(day, hours[0]), tzinfo),
        localize(datetime.combine(day, hours[1]), tzinfo),
    )


def local_dates(tzinfo: ZoneInfo, start: datetime, end: datetime) -> tuple[date, ...]:
    """Return the local dates a meeting touches (usually one)."""
    first, last = start.astimezone(tzinfo).date(), (end - _EPSILON).astimezone(tzinfo).date()
    return tuple(first + timedelta(days=i) for i in range((last - first).days + 1))


def outside_minutes(tzinfo: ZoneInfo, start: datetime, end: datetime, hours: Hours) -> int:
    """Return the minutes of [start, end) outside working hours in a zone."""
    inside = timedelta()
    for day in local_dates(tzinfo, start, end):
        lo, hi = _window(tzinfo, day, hours)
        overlap = min(end, hi) - max(start, lo)
        if overlap > timedelta():
            inside += overlap
    return math.ceil((end - start - inside).total_seconds() / 60)


def non_business_dates(
    tzinfo: ZoneInfo, country: str, start: datetime, end: datetime
) -> tuple[tuple[date, str], ...]:
    """Return the local dates of a meeting that are not business days, with why."""
    out = []
    for day in local_dates(tzinfo, start, end):
        name = holiday_name(day, country)
        if name is not None:
            out.append((day, f"{name} in {country.upper()}"))
        elif day.weekday() >= 5:
            out.append((day, "a weekend"))
    return tuple(out)


def lead_ok(
    internal_start: datetime,
    internal_end: datetime,
    exec_start: datetime,
    people: Iterable[Participant],
    lead: int,
) -> bool:
    """Return whether a sync ends before another and is >= lead business days earlier.

    Counted for each person in their own zone and country: the later meeting's local
    date is at least `lead` of their business days after the earlier one's.
    """
    if internal_end > exec_start:
        return False
    for person in people:
        tzinfo = zone(person.timezone)
        earlier = internal_start.astimezone(tzinfo).date()
        if exec_start.astimezone(tzinfo).date() < add_business_days(earlier, lead, person.country):
            return False
    return True


@dataclass(frozen=True)
class Group:
    """Attendees who share a zone and a country (one cost computation for all)."""

    tz: str
    tzinfo: ZoneInfo
    country: str
    internal: bool
    people: tuple[Participant, ...]


class SlotRules:
    """The cost of any time for one meeting's attendees."""

    def __init__(
        self,
        attendees: Sequence[Participant],
        hours: Hours,
        busy: BusyMap,
        *,
        client_hours: bool,
    ) -> None:
        """Group the attendees; external ones count only when client_hours is set."""
        grouped: dict[tuple[str, str, bool], list[Participant]] = {}
        for person in attendees:
            if person.internal or client_hours:
                country = person.country if person.internal else ""
                grouped.setdefault((person.timezone, country, person.internal), []).append(person)
        self.groups = tuple(
            Group(tz, zone(tz), country, internal, tuple(people))
            for (tz, country, internal), people in sorted(grouped.items())
        )
        self.hours = hours
        self._bounds = (_seconds(hours[0]), _seconds(hours[1]))
        self._business_days: dict[tuple[str, date], bool] = {}
        self.busy = tuple(
            (person, tuple(busy.get(person.key, ())))
            for person in attendees
            if person.internal and person.required and busy.get(person.key)
        )

    def _business(self, country: str, day: date) -> bool:
        """Return whether day is a business day in country (memoised per planner run)."""
        key = (country, day)
        known = self._business_days.get(key)
        if known is None:
            known = self._business_days[key] = is_business_day(day, country)
        return known

    def _outside(self, group: Group, start: datetime, end: datetime) -> int:
        """Return one group member's minutes of [start, end) outside working hours."""
        local, local_end = start.astimezone(group.tzinfo), end.astimezone(group.tzinfo)
        if local.utcoffset() != local_end.utcoffset():  # a DST change inside the meeting
            return outside_minutes(group.tzinfo, start, end, self.hours)
        begin = local.hour * 3600 + local.minute * 60 + local.second
        finish = begin + int((end - start).total_seconds())
        inside = 0
        for shift in (0, 86400):
            lo, hi = self._bounds[0] + shift, self._bounds[1] + shift
            inside += max(0, min(finish, hi) - max(begin, lo))
        return math.ceil((finish - begin - inside) / 60)

    def _calendar(self, start: datetime, end: datetime) -> int:
        """Return how many internal attendees meet on one of their non-business days."""
        out = 0
        last = end - _EPSILON
        for group in self.groups:
            if group.internal and not (
                self._business(group.country, start.astimezone(group.tzinfo).date())
                and self._business(group.country, last.astimezone(group.tzinfo).date())
            ):
                out += len(group.people)
        return out

    def _hours(self, start: datetime, end: datetime) -> tuple[int, int]:
        """Return the minutes outside hours summed over internal and external attendees."""
        internal = external = 0
        for group in self.groups:
            outside = self._outside(group, start, end) * len(group.people)
            if group.internal:
                internal += outside
            else:
                external += outside
        return internal, external

    def cost(self, start: datetime, end: datetime, *, with_busy: bool = True) -> Cost:
        """Return how bad [start, end) is for these attendees."""
        internal, external = self._hours(start, end)
        busy = len(self.busy_people(start, end)) if with_busy else 0
        return Cost(self._calendar(start, end), internal, external, busy)

    def cost_below(self, start: datetime, end: datetime, bound: Cost) -> Cost | None:
        """Return the cost of [start, end) if it is below bound, else None (cheaply)."""
        calendar = self._calendar(start, end)
        if calendar > bound.calendar:
            return None
        internal, external = self._hours(start, end)
        if (calendar, internal, external) > bound[:3]:
            return None
        cost = Cost(calendar, internal, external, len(self.busy_people(start, end)))
        return cost if cost < bound else None

    def busy_people(
        self, start: datetime, end: datetime
    ) -> list[tuple[Participant, datetime, datetime]]:
        """Return each required internal attendee busy in [start, end), with the conflict."""
        out = []
        for person, intervals in self.busy:
            for lo, hi in intervals:
                if lo < end and start < hi:
                    out.append((person, lo, hi))
                    break
        return out

    def explain(self, start: datetime, end: datetime) -> str:
        """Return why [start, end) is not acceptable, naming people."""
        reasons = []
        for group in self.groups:
            names = ", ".join(p.label() for p in group.people)
            if group.internal:
                for day, why in non_business_dates(group.tzinfo, group.country, start, end):
                    reasons.append(f"{day.isoformat()} is {why} for {names}")
            minutes = outside_minutes(group.tzinfo, start, end, self.hours)
            if minutes:
                reasons.append(f"{names} would be {minutes} min outside working hours")
        return "; ".join(reasons) or "kept in line with the series"


def _seconds(moment: time) -> int:
    """Return seconds since midnight."""
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def ceil_grid(moment: datetime) -> datetime:
    """Return the first quarter hour (UTC) at or after moment."""
    seconds = moment.timestamp()
    return datetime.fromtimestamp(math.ceil(seconds / 900) * 900, tz=UTC)


def grid(lo: datetime, hi: datetime) -> Iterator[datetime]:
    """Yield the quarter hours in [lo, hi)."""
    moment = ceil_grid(lo)
    while moment < hi:
        yield moment
        moment += STEP


def day_grid(day: date, tzinfo: ZoneInfo, around: time) -> list[datetime]:
    """Return the quarter hours of a local day, nearest to the wall time `around` first."""
    lo = localize(datetime.combine(day, time()), tzinfo)
    hi = localize(datetime.combine(day + timedelta(days=1), time()), tzinfo)
    target = around.hour * 60 + around.minute

    def distance(moment: datetime) -> tuple[int, datetime]:
        wall = moment.astimezone(tzinfo)
        return abs(wall.hour * 60 + wall.minute - target), moment

    return sorted(grid(lo, hi), key=distance)


def best_slot(
    rules: SlotRules, lo: datetime, hi: datetime, length: timedelta
) -> tuple[datetime, Cost]:
    """Return the earliest perfect slot in [lo, hi), else the least bad (earliest on ties)."""
    best: tuple[Cost, datetime] | None = None
    for start in grid(lo, hi):
        if best is None:
            cost: Cost | None = rules.cost(start, start + length)
        else:
            cost = rules.cost_below(start, start + length, best[0])
        if cost is None:
            continue
        if cost.perfect:
            return start, cost
        best = (cost, start)
    if best is None:
        raise ValueError(f"empty search window {lo} - {hi}")
    return best[1], best[0]
