"""Properties of the review deadline, with the public holidays of several countries.

The handbook: "allowing (at minimum) 1 business day to review prior to sending". For any
routing instant, in the PM's zone and country: the deadline falls on a business day; the
PM gets at least one business day's worth of time on business days; and exactly one
business day lies in [routing date, deadline date), so it is never later than needed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.business_days import holiday_calendar, is_business_day, review_deadline

PLACES = [
    ("America/New_York", "US"),
    ("Europe/London", "GB"),
    ("Europe/Berlin", "DE"),
    ("Asia/Kolkata", "IN"),
    ("Europe/Paris", "FR"),
]
YEARS = range(2025, 2031)


def business_time(start: datetime, end: datetime, country: str) -> timedelta:
    """Return the wall-clock time between two local naive times that falls on business days."""
    total = timedelta(0)
    day = start.date()
    while day <= end.date():
        lo = max(start, datetime.combine(day, time(0)))
        hi = min(end, datetime.combine(day + timedelta(days=1), time(0)))
        if hi > lo and is_business_day(day, country):
            total += hi - lo
        day += timedelta(days=1)
    return total


def check(routed: datetime, tz: str, country: str) -> datetime:
    deadline = review_deadline(routed, tz, country)
    zone = ZoneInfo(tz)
    start = routed.astimezone(zone).replace(tzinfo=None)
    end = deadline.astimezone(zone).replace(tzinfo=None)
    assert deadline > routed
    assert is_business_day(end.date(), country), "the deadline falls on a business day"
    assert business_time(start, end, country) >= timedelta(hours=24), "a whole business day"
    days = [start.date() + timedelta(days=i) for i in range((end.date() - start.date()).days)]
    assert sum(is_business_day(d, country) for d in days) == 1, "never more than needed"
    return deadline


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.datetimes(datetime(2025, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
    st.sampled_from(PLACES),
)
def test_any_routing_time_gets_one_whole_business_day(
    routed: datetime, place: tuple[str, str]
) -> None:
    check(routed, *place)


def holidays_of(country: str) -> list[date]:
    return sorted(holiday_calendar(country, YEARS))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.data(), st.sampled_from(PLACES), st.integers(-3, 1), st.times())
def test_routing_around_a_public_holiday_skips_it(
    data: st.DataObject, place: tuple[str, str], offset: int, wall: time
) -> None:
    tz, country = place
    holiday = data.draw(st.sampled_from(holidays_of(country)))
    local = datetime.combine(holiday + timedelta(days=offset), wall, ZoneInfo(tz))
    deadline = check(local.astimezone(UTC), tz, country)
    assert deadline.astimezone(ZoneInfo(tz)).date() != holiday


MONDAY_HOLIDAYS = [  # (place, the Friday before a Monday public holiday)
    (("America/New_York", "US"), date(2026, 5, 22)),  # Memorial Day
    (("Europe/London", "GB"), date(2026, 5, 22)),  # Spring Bank Holiday
    (("Europe/Berlin", "DE"), date(2026, 5, 22)),  # Pentecost Monday
    (("Asia/Kolkata", "IN"), date(2026, 1, 23)),  # Republic Day
    (("Europe/Paris", "FR"), date(2026, 4, 3)),  # Easter Monday
]


@pytest.mark.parametrize(("place", "friday"), MONDAY_HOLIDAYS)
def test_friday_before_a_monday_holiday_gets_tuesday_same_time(
    place: tuple[str, str], friday: date
) -> None:
    tz, country = place
    routed = datetime.combine(friday, time(16), ZoneInfo(tz))
    deadline = check(routed.astimezone(UTC), tz, country)
    assert deadline == datetime.combine(friday + timedelta(days=4), time(16), ZoneInfo(tz))


@pytest.mark.parametrize("place", PLACES)
def test_an_ordinary_friday_afternoon_gets_monday_same_time(place: tuple[str, str]) -> None:
    tz, country = place
    routed = datetime(2026, 11, 13, 16, tzinfo=ZoneInfo(tz))
    assert check(routed, tz, country) == datetime(2026, 11, 16, 16, tzinfo=ZoneInfo(tz))
