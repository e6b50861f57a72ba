"""How good a meeting time is: holidays, working hours and free/busy, on a 15-minute grid.

A slot's cost is compared lexicographically: internal attendees on a weekend or public
holiday, then minutes outside working hours of internal attendees (each in their own
zone), then minutes outside the client's hours (client meetings), then required internal
attendees who are busy, then time. "Minutes outside" is how far a meeting reaches
beyond a person's working day (see `stretch_minutes`): a 07:00 meeting is 120 minutes
outside 09:00-17:00, a 01:00 one 480, so the least bad slot is also the least unsocial.
The grid is every quarter hour in UTC, which is every
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
from service.domain.plan_words import country_words, day_words, join_words, minutes_words
from service.domain.planning_model import Participant

STEP = timedelta(minutes=15)
_DAY_SECONDS = 86400
_ONE_DAY = timedelta(days=1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_EPSILON = timedelta(microseconds=1)
Hours = tuple[time, time]
BusyMap = Mapping[str, Sequence[tuple[datetime, datetime]]]


class Cost(NamedTuple):
    """A slot's badness, compared field by field."""

    calendar: int  # internal attendees on a weekend or public holiday
    internal: int  # minutes outside hours, summed over internal attendees
    external: int  # minutes outside hours, summed over client attendees
    worst: int  # the most minutes outside hours of any one internal attendee
    busy: int  # required internal attendees already busy

    @property
    def perfect(self) -> bool:
        """Return whether nothing at all is wrong with the slot."""
        return self == PERFECT

    @property
    def hours(self) -> tuple[int, int]:
        """Return (internal, external) minutes outside hours."""
        return self.internal, self.external


PERFECT = Cost(0, 0, 0, 0, 0)
_DEFER_TOLERANCE = 60  # minutes: one clock change is not worth waiting days for


def _offset_at(tzinfo: ZoneInfo, moment: int) -> int:
    """Return a zone's UTC offset in seconds at a POSIX moment."""
    offset = datetime.fromtimestamp(moment, tz=tzinfo).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


@functools.lru_cache(maxsize=65536)
def _day_offsets(tzinfo: ZoneInfo, utc_day: int) -> tuple[int, int, int]:
    """Return (offset, moment it changes, offset after) for one UTC day, in seconds."""
    start = utc_day * _DAY_SECONDS
    first = _offset_at(tzinfo, start)
    if _offset_at(tzinfo, start + _DAY_SECONDS) == first:
        return first, start + _DAY_SECONDS, first
    moment = start
    while _offset_at(tzinfo, moment + 60) == first:
        moment += 60 if _offset_at(tzinfo, moment + 900) != first else 900
    return first, moment + 60, _offset_at(tzinfo, moment + 60)


def offset_seconds(tzinfo: ZoneInfo, moment: int) -> int:
    """Return a zone's UTC offset in seconds at a POSIX moment (cached per UTC day)."""
    first, change, after = _day_offsets(tzinfo, moment // _DAY_SECONDS)
    return first if moment < change else after


def local_dates(tzinfo: ZoneInfo, start: datetime, end: datetime) -> tuple[date, ...]:
    """Return the local dates a meeting touches (usually one)."""
    first, last = start.astimezone(tzinfo).date(), (end - _EPSILON).astimezone(tzinfo).date()
    return tuple(first + timedelta(days=i) for i in range((last - first).days + 1))


def stretch_minutes(local_start: int, length: int, bounds: tuple[int, int]) -> int:
    """Return how far a meeting reaches outside a working day, in minutes (rounded up).

    local_start is seconds after local midnight, length seconds, bounds the working
    hours in seconds. The nearest working day (the day before, that day, the day after)
    counts: minutes before its start plus minutes after its end. A meeting partly
    outside counts its minutes outside; one wholly outside counts its distance to the
    working day, so 07:00-08:00 (120) is better than 01:00-02:00 (480).
    """
    end = local_start + length
    stretch = min(
        max(0, bounds[0] + shift - local_start) + max(0, end - bounds[1] - shift)
        for shift in (-_DAY_SECONDS, 0, _DAY_SECONDS)
    )
    return -(-stretch // 60)


def outside_minutes(tzinfo: ZoneInfo, start: datetime, end: datetime, hours: Hours) -> int:
    """Return how far [start, end) reaches outside working hours in a zone (minutes)."""
    local = start.astimezone(tzinfo)
    length = int((end.astimezone(UTC) - start.astimezone(UTC)).total_seconds())
    begin = local.hour * 3600 + local.minute * 60 + local.second
    return stretch_minutes(begin, length, (_seconds(hours[0]), _seconds(hours[1])))


def non_business_dates(
    tzinfo: ZoneInfo, country: str, start: datetime, end: datetime
) -> tuple[tuple[date, str], ...]:
    """Return the local dates of a meeting that are not business days, with why."""
    out = []
    for day in local_dates(tzinfo, start, end):
        name = holiday_name(day, country)
        if name is not None:
            out.append((day, f"{name} in {country_words(country)}"))
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
        self._business_days: dict[tuple[str, int], bool] = {}
        self._steady: dict[int, tuple[int, ...]] = {}
        self._hours_cache: dict[tuple[int, int, tuple[int, ...]], tuple[int, int, int]] = {}
        self.busy = tuple(
            (person, tuple(busy.get(person.key, ())))
            for person in attendees
            if person.internal and person.required and busy.get(person.key)
        )

    def _business(self, country: str, day: int) -> bool:
        """Return whether an epoch day is a business day in country (memoised)."""
        key = (country, day)
        known = self._business_days.get(key)
        if known is None:
            known = is_business_day(date.fromordinal(_EPOCH_ORDINAL + day), country)
            self._business_days[key] = known
        return known

    def _steady_offsets(self, day: int) -> tuple[int, ...]:
        """Return the offsets pattern of a UTC day when no zone changes in it, else ()."""
        out: list[int] = []
        for group in self.groups:
            first, _, after = _day_offsets(group.tzinfo, day)
            if first != after:
                return ()
            out.extend((first, first))
        return tuple(out)

    def steady(self, lo: datetime, hi: datetime) -> bool:
        """Return whether no attendee's zone changes its UTC offset in [lo, hi]."""
        first, last = int(lo.timestamp()) // _DAY_SECONDS, int(hi.timestamp()) // _DAY_SECONDS
        patterns = {self._steady_offsets(day) for day in range(first, last + 1)}
        return len(patterns) == 1 and () not in patterns

    def _offsets(self, begin: int, last: int) -> tuple[int, ...]:
        """Return each group's UTC offset at the first and last second of a meeting."""
        day = begin // _DAY_SECONDS
        if last // _DAY_SECONDS == day:
            steady = self._steady.get(day)
            if steady is None:
                steady = self._steady[day] = self._steady_offsets(day)
            if steady:
                return steady
        out: list[int] = []
        for group in self.groups:
            first, change, after = _day_offsets(group.tzinfo, begin // _DAY_SECONDS)
            out.append(first if begin < change else after)
            if last // _DAY_SECONDS != begin // _DAY_SECONDS:
                first, change, after = _day_offsets(group.tzinfo, last // _DAY_SECONDS)
            out.append(first if last < change else after)
        return tuple(out)

    def _hours(self, begin: int, length: int, offsets: tuple[int, ...]) -> tuple[int, int, int]:
        """Return minutes outside hours (internal, worst internal, external); cached."""
        key = (begin % _DAY_SECONDS, length, offsets)
        cached = self._hours_cache.get(key)
        if cached is not None:
            return cached
        internal = worst = external = 0
        for i, group in enumerate(self.groups):
            local = (begin + offsets[2 * i]) % _DAY_SECONDS
            outside = stretch_minutes(local, length, self._bounds)
            if group.internal:
                internal += outside * len(group.people)
                worst = max(worst, outside)
            else:
                external += outside * len(group.people)
        self._hours_cache[key] = (internal, worst, external)
        return internal, worst, external

    def _calendar(self, begin: int, last: int, offsets: tuple[int, ...]) -> int:
        """Return how many internal attendees meet on one of their non-business days."""
        calendar = 0
        for i, group in enumerate(self.groups):
            if group.internal and not (
                self._business(group.country, (begin + offsets[2 * i]) // _DAY_SECONDS)
                and self._business(group.country, (last + offsets[2 * i + 1]) // _DAY_SECONDS)
            ):
                calendar += len(group.people)
        return calendar

    def cost(self, start: datetime, end: datetime, *, with_busy: bool = True) -> Cost:
        """Return how bad [start, end) is for these attendees."""
        cost = self.cost_within(start, end, None, with_busy=with_busy)
        assert cost is not None
        return cost

    def cost_within(
        self, start: datetime, end: datetime, limit: int | None, *, with_busy: bool = True
    ) -> Cost | None:
        """Return the cost of [start, end), or None once its internal minutes pass limit."""
        begin, length = int(start.timestamp()), int((end - start).total_seconds())
        last = begin + max(length, 1) - 1
        offsets = self._offsets(begin, last)
        internal, worst, external = self._hours(begin, length, offsets)
        if limit is not None and internal > limit:
            return None
        busy = len(self.busy_people(start, end)) if with_busy and self.busy else 0
        return Cost(self._calendar(begin, last, offsets), internal, external, worst, busy)

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
            names = join_words([p.name or p.email for p in group.people])
            if group.internal:
                for day, why in non_business_dates(group.tzinfo, group.country, start, end):
                    reasons.append(f"{day_words(day)} is {why} for {names}")
            minutes = outside_minutes(group.tzinfo, start, end, self.hours)
            if minutes:
                reasons.append(f"{names} would be {minutes_words(minutes)} outside working hours")
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
    """Return the earliest perfect slot in [lo, hi), else the least bad one.

    Least bad: no weekend or holiday if possible, then the fewest minutes outside hours
    in total, then outside the client's hours, then the fairest split (the least for the
    worst-off person), then free/busy, then the earliest. A later day is only taken for a saving of
    more than an hour in total, so a kickoff does not wait weeks for a clock change.
    """
    seen: list[tuple[Cost, datetime]] = []
    floor: tuple[int, int] | None = None
    week = lo + 7 * _ONE_DAY if rules.steady(lo, hi) else hi
    for start in grid(lo, hi):
        if start >= week:  # the hours repeat daily: later days cannot beat this week
            week = hi
            if (
                floor is not None
                and not floor[0]
                and any(
                    not c.calendar and not c.busy and c.internal <= floor[1] + _DEFER_TOLERANCE
                    for c, _ in seen
                )
            ):
                break
        limit = None if floor is None or floor[0] else floor[1] + _DEFER_TOLERANCE
        cost = rules.cost_within(start, start + length, limit)
        if cost is None:
            continue
        if cost.perfect:
            return start, cost
        if floor is not None and (cost.calendar, cost.internal - _DEFER_TOLERANCE) > floor:
            continue
        seen.append((cost, start))
        floor = min(floor or (cost.calendar, cost.internal), (cost.calendar, cost.internal))
    if floor is None:
        raise ValueError(f"empty search window {lo} - {hi}")
    calendar, internal = floor
    near = [
        (cost, start)
        for cost, start in seen
        if cost.calendar == calendar and cost.internal <= internal + _DEFER_TOLERANCE
    ]
    near = [(cost, start) for cost, start in near if not cost.busy] or near
    day = min((start - lo) // _ONE_DAY for _, start in near)
    chosen = min(
        ((cost, start) for cost, start in near if (start - lo) // _ONE_DAY == day),
        key=lambda pair: (*pair[0][1:], pair[1]),
    )
    return chosen[1], chosen[0]
