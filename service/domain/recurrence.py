"""Recurrence rules for the account syncs: build RRULE/EXDATE lines and expand them.

Rules are expanded with dateutil on local wall times in the series' IANA zone and each
wall time is then localized, so a 10:00 meeting stays at 10:00 across DST changes (and
a wall time skipped by a DST change moves forward, as RFC 5545 says).

Monthly and quarterly syncs use an nth weekday (`BYDAY=2WE`, "the second Wednesday"),
not a day of the month: a fixed weekday never falls on a weekend, keeps the AM's and
PM's week predictable, and n is kept in 2..4 so that every month has it. The internal
sync that must precede it is "that weekday in the 7-day window c days earlier", written
`BYDAY=TU;BYMONTHDAY=7,8,...,13` (the RFC 5545 election-day idiom): it is always exactly
c days before the executive sync, even across a month boundary.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rrulestr

from service.domain.business_days import localize, zone
from service.domain.model import Cadence
from service.domain.planning_model import MovedOccurrence

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_WEEK_OF_MONTH = 4  # every month has a 4th weekday of each kind
_STAMP = "%Y%m%dT%H%M%S"


class HasSeries(Protocol):
    """Anything with a series: a planned meeting or a stored series."""

    @property
    def start(self) -> datetime: ...

    @property
    def timezone(self) -> str: ...

    @property
    def recurrence(self) -> tuple[str, ...]: ...

    @property
    def exceptions(self) -> tuple[MovedOccurrence, ...]: ...


@dataclass(frozen=True)
class Occurrence:
    """One instance of a series: its rule wall time, rule instant and actual start.

    original and start are in UTC, so adding a duration is exact across DST changes.
    """

    wall: datetime
    original: datetime
    start: datetime
    moved: bool = False


def week_of_month(day: date) -> int:
    """Return n such that day is the nth of its weekday in its month."""
    return (day.day - 1) // 7 + 1


def interval_months(cadence: Cadence) -> int:
    """Return the month interval of a monthly-based cadence (0 for fortnightly)."""
    return {Cadence.FORTNIGHTLY: 0, Cadence.MONTHLY: 1, Cadence.QUARTERLY: 3}[cadence]


def _monthly_head(cadence: Cadence) -> str:
    """Return the FREQ/INTERVAL part of a monthly-based rule."""
    months = interval_months(cadence)
    return "RRULE:FREQ=MONTHLY" + (f";INTERVAL={months}" if months > 1 else "")


def executive_rule(cadence: Cadence, first: date) -> str:
    """Return the RRULE of a series whose first occurrence is on first."""
    weekday = WEEKDAYS[first.weekday()]
    if cadence is Cadence.FORTNIGHTLY:
        return f"RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY={weekday}"
    n = week_of_month(first)
    if n > MAX_WEEK_OF_MONTH:
        raise ValueError(f"{first} is a 5th weekday, which not every month has")
    return f"{_monthly_head(cadence)};BYDAY={n}{weekday}"


def preceding_window(exec_first: date, internal_first: date) -> tuple[int, ...]:
    """Return the month days where the preceding sync falls, or () if they leave 1..28."""
    offset = (exec_first - internal_first).days
    n = week_of_month(exec_first)
    days = tuple(range(7 * (n - 1) + 1 - offset, 7 * n - offset + 1))
    return days if days and days[0] >= 1 and days[-1] <= 28 else ()


def preceding_rule(cadence: Cadence, exec_first: date, internal_first: date) -> str:
    """Return the RRULE of the series that always falls the same days before another."""
    weekday = WEEKDAYS[internal_first.weekday()]
    if cadence is Cadence.FORTNIGHTLY:
        return f"RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY={weekday}"
    days = preceding_window(exec_first, internal_first)
    if not days:
        raise ValueError(f"{internal_first} cannot precede {exec_first} every month")
    return f"{_monthly_head(cadence)};BYDAY={weekday};BYMONTHDAY={','.join(map(str, days))}"


def exdate_line(tz: str, wall: datetime) -> str:
    """Return the EXDATE line removing the occurrence at a local wall time."""
    return f"EXDATE;TZID={tz}:{wall.strftime(_STAMP)}"


def rule_line(recurrence: tuple[str, ...]) -> str | None:
    """Return the RRULE line of a recurrence, if any."""
    rules = [line for line in recurrence if line.upper().startswith("RRULE:")]
    if len(rules) > 1:
        raise ValueError("only one RRULE per series is supported")
    return rules[0] if rules else None


def excluded(recurrence: tuple[str, ...], tz: str) -> frozenset[datetime]:
    """Return the instants removed by the EXDATE lines."""
    out: set[datetime] = set()
    for line in recurrence:
        if not line.upper().startswith("EXDATE"):
            continue
        head, _, values = line.partition(":")
        params = dict(p.split("=", 1) for p in head.split(";")[1:] if "=" in p)
        line_zone = params.get("TZID", tz)
        for value in values.split(","):
            value = value.strip()
            if value.endswith("Z"):
                out.add(datetime.strptime(value, _STAMP + "Z").replace(tzinfo=zone("UTC")))
            elif "T" in value:
                out.add(localize(datetime.strptime(value, _STAMP), line_zone))
            else:
                out.add(localize(datetime.strptime(value + "T000000", _STAMP), line_zone))
    return frozenset(out)


@functools.lru_cache(maxsize=4096)
def rule_walls(line: str, first: datetime, lo: datetime, hi: datetime) -> tuple[datetime, ...]:
    """Return the rule's wall times in [lo, hi] (naive, inclusive)."""
    rule = rrulestr(line, dtstart=first)
    assert isinstance(rule, rrule)
    return tuple(rule.between(lo, hi, inc=True))


def occurrences(
    series: HasSeries,
    *,
    since: datetime | None = None,
    months: int = 12,
    until: datetime | None = None,
) -> list[Occurrence]:
    """Return a series' occurrences whose rule instant is in [since, since + months).

    since defaults to the first occurrence; until, when given, replaces the months.
    EXDATEs are removed; a moved occurrence (in exceptions) replaces its original
    instance at its new start.
    """
    tzinfo = zone(series.timezone)
    first = series.start.astimezone(tzinfo)
    lo = since if since is not None else first
    hi = until if until is not None else lo + relativedelta(months=months)
    line = rule_line(series.recurrence)
    moved = {m.original_start: m for m in series.exceptions}
    if line is None:
        walls: tuple[datetime, ...] = (first.replace(tzinfo=None),)
    else:
        walls = rule_walls(
            line,
            first.replace(tzinfo=None),
            lo.astimezone(tzinfo).replace(tzinfo=None) - relativedelta(days=1),
            hi.astimezone(tzinfo).replace(tzinfo=None) + relativedelta(days=1),
        )
    gone = excluded(series.recurrence, series.timezone)
    lo, hi = lo.astimezone(UTC), hi.astimezone(UTC)
    out: list[Occurrence] = []
    for wall in walls:
        original = localize(wall, tzinfo).astimezone(UTC)
        if not lo <= original < hi:
            continue
        if original in moved:
            out.append(Occurrence(wall, original, moved[original].start.astimezone(UTC), True))
        elif original not in gone:
            out.append(Occurrence(wall, original, original))
    return sorted(out, key=lambda o: (o.start, o.original))


def expand_occurrences(
    meeting: HasSeries, months: int = 12, since: datetime | None = None
) -> list[datetime]:
    """Return the start of every occurrence in the window, honouring exceptions.

    The window is [since, since + months) of rule instants (since defaults to the first
    occurrence); each start is aware, in the meeting's zone.
    """
    tzinfo = zone(meeting.timezone)
    return [o.start.astimezone(tzinfo) for o in occurrences(meeting, since=since, months=months)]
