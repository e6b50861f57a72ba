"""Business days: weekends and public holidays per country, and the review deadline.

A business day is Monday to Friday and not a public holiday of the person's country:
the `holidays` package's national calendar for an ISO 3166 code ("GB" has only the
UK-wide holidays), or a subdivision's for "CC-SUB" ("GB-ENG" adds Easter Monday and the
August bank holiday; "US-CA", "DE-BY"). Everything here is pure: the holiday tables are
computed in memory and cached per country and year.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

__all__ = [
    "add_business_days",
    "holiday_calendar",
    "holiday_name",
    "is_business_day",
    "localize",
    "next_business_day",
    "previous_business_day",
    "review_deadline",
    "zone",
]

_SATURDAY = 5


def zone(tz: str) -> ZoneInfo:
    """Return the IANA zone named tz, or raise ValueError naming it."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ValueError(f"unknown time zone {tz!r} (use an IANA name like Europe/Berlin)") from exc


def localize(wall: datetime, tz: str | ZoneInfo) -> datetime:
    """Return the aware instant for a naive local wall time in tz.

    An ambiguous wall time (the repeated hour when clocks go back) is its first
    occurrence; a nonexistent one (the skipped hour when clocks go forward) moves forward
    by the length of the gap, as RFC 5545 prescribes for recurrence instances.
    """
    tzinfo = zone(tz) if isinstance(tz, str) else tz
    aware = wall.replace(tzinfo=tzinfo, fold=0)
    return aware.astimezone(UTC).astimezone(tzinfo)


def _normal_country(country: str) -> str:
    """Return the country code as the holidays package spells it."""
    return country.strip().upper()


@functools.lru_cache(maxsize=1024)
def _holidays_of_year(country: str, year: int) -> Mapping[date, str]:
    """Return the public holidays of one country (or CC-SUB subdivision) and year."""
    code, _, subdivision = _normal_country(country).partition("-")
    try:
        # English names whatever the machine's locale: they appear in warnings and emails.
        table = holidays.country_holidays(
            code, subdiv=subdivision or None, years=year, language="en_US"
        )
    except NotImplementedError as exc:
        raise ValueError(
            f"unknown country {country!r} for public holidays (use an ISO 3166 code such "
            "as US, DE, GB, IN, or a subdivision such as GB-ENG, US-CA, DE-BY)"
        ) from exc
    return MappingProxyType({day: str(name) for day, name in sorted(table.items())})


@functools.lru_cache(maxsize=512)
def _calendar(country: str, years: tuple[int, ...]) -> Mapping[date, str]:
    """Return the merged holidays of a country over the given years, read-only."""
    merged: dict[date, str] = {}
    for year in years:
        merged.update(_holidays_of_year(country, year))
    return MappingProxyType(merged)


def holiday_calendar(country: str, years: int | Iterable[int]) -> Mapping[date, str]:
    """Return the public holidays (date -> name) of a country over one or more years.

    The result is read-only and cached per country and year range; an unknown country
    raises ValueError naming it.
    """
    wanted = (years,) if isinstance(years, int) else tuple(sorted(set(years)))
    _holidays_of_year(country, wanted[0] if wanted else 2000)  # names an unknown country
    return _calendar(_normal_country(country), wanted)


def holiday_name(day: date, country: str) -> str | None:
    """Return the name of the public holiday on day in country, or None."""
    return _holidays_of_year(country, day.year).get(day)


def is_business_day(day: date, country: str) -> bool:
    """Return whether day is Monday to Friday and not a public holiday of country."""
    if day.weekday() >= _SATURDAY:
        _holidays_of_year(country, day.year)  # still reject unknown codes
        return False
    return holiday_name(day, country) is None


def next_business_day(day: date, country: str) -> date:
    """Return the first business day strictly after day."""
    candidate = day + timedelta(days=1)
    while not is_business_day(candidate, country):
        candidate += timedelta(days=1)
    return candidate


def previous_business_day(day: date, country: str) -> date:
    """Return the last business day strictly before day."""
    candidate = day - timedelta(days=1)
    while not is_business_day(candidate, country):
        candidate -= timedelta(days=1)
    return candidate


@functools.lru_cache(maxsize=65536)
def add_business_days(day: date, n: int, country: str) -> date:
    """Return the date n business days after day (before it when n is negative).

    n = 0 returns day itself, business day or not; add_business_days(friday, 1) is
    the Monday after, or the Tuesday when that Monday is a holiday.
    """
    result = day
    for _ in range(abs(n)):
        result = (
            next_business_day(result, country) if n > 0 else previous_business_day(result, country)
        )
    return result


def review_deadline(
    routed_at: datetime, tz: str, country: str, day_start: time = time(9)
) -> datetime:
    """Return when a contract draft routed at routed_at may go to the client.

    The handbook allows the PM "at minimum 1 business day to review". Computed in the
    PM's zone tz and country:

    - routed on a business day: the same local wall time on the next business day
      (Wednesday 10:00 -> Thursday 10:00; Friday 16:00 -> Monday 16:00, or Tuesday
      16:00 when that Monday is a public holiday). The PM always gets the rest of the
      routing day plus the next business day up to that time: one business day's worth
      of business hours, whatever the hour of routing.
    - routed on a weekend or public holiday: the first business day after it is the
      full review day, so the deadline is day_start (the start of business hours) on
      the business day after that (Saturday 10:00 -> Tuesday 09:00).

    The result is aware, in tz; a wall time that does not exist that day (clocks going
    forward) moves forward by the gap.
    """
    if routed_at.tzinfo is None or routed_at.utcoffset() is None:
        raise ValueError("routed_at must be timezone-aware")
    tzinfo = zone(tz)
    local = routed_at.astimezone(tzinfo)
    if is_business_day(local.date(), country):
        review_day, wall = local.date(), local.time().replace(tzinfo=None, fold=0)
    else:
        review_day, wall = next_business_day(local.date(), country), day_start
    return localize(datetime.combine(next_business_day(review_day, country), wall), tzinfo)
