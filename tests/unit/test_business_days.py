"""Business days, public holidays and the contract review deadline."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.business_days import (
    add_business_days,
    holiday_calendar,
    holiday_name,
    is_business_day,
    localize,
    next_business_day,
    previous_business_day,
    review_deadline,
)

NY = ZoneInfo("America/New_York")


def at(tz: str, *parts: int) -> datetime:
    """Return an aware local time."""
    return datetime(*parts, tzinfo=ZoneInfo(tz))  # type: ignore[misc]


# -- holidays -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "day", "name"),
    [
        ("US", date(2026, 7, 3), "Independence Day (observed)"),
        ("US", date(2026, 11, 26), "Thanksgiving Day"),
        ("DE", date(2026, 10, 3), "German Unity Day"),
        ("DE", date(2026, 4, 6), "Easter Monday"),
        ("GB", date(2026, 12, 28), "Boxing Day (observed)"),
        ("GB-ENG", date(2026, 8, 31), "Late Summer Bank Holiday"),
        ("IN", date(2026, 1, 26), "Republic Day"),
        ("IN", date(2026, 10, 2), "Mahatma Gandhi's Birthday"),
        ("AU", date(2026, 1, 26), "Australia Day"),
        ("FR", date(2026, 7, 14), "National Day"),
        ("JP", date(2026, 5, 6), "Substitute Holiday"),
    ],
)
def test_public_holidays_are_not_business_days(country: str, day: date, name: str) -> None:
    assert holiday_name(day, country) == name
    assert not is_business_day(day, country)


def test_weekdays_without_holiday_are_business_days_and_weekends_are_not() -> None:
    assert is_business_day(date(2026, 11, 25), "US")  # Wednesday before Thanksgiving
    assert not is_business_day(date(2026, 11, 28), "US")  # Saturday
    assert not is_business_day(date(2026, 11, 29), "DE")  # Sunday
    assert is_business_day(date(2026, 4, 6), "GB")  # Easter Monday is not UK-wide...
    assert not is_business_day(date(2026, 4, 6), "GB-ENG")  # ...but it is in England


def test_holiday_calendar_is_cached_read_only_and_spans_years() -> None:
    calendar = holiday_calendar("de", [2026, 2027])
    assert calendar is holiday_calendar("DE", (2027, 2026))
    assert calendar[date(2027, 12, 25)] == "Christmas Day"
    assert date(2026, 5, 1) in calendar
    with pytest.raises(TypeError):
        calendar[date(2026, 1, 2)] = "x"  # type: ignore[index]


@pytest.mark.parametrize("country", ["XX", "Germany", "GB-XX"])
def test_unknown_country_names_it(country: str) -> None:
    with pytest.raises(ValueError, match=country):
        holiday_calendar(country, 2026)
    with pytest.raises(ValueError, match=country):
        is_business_day(date(2026, 1, 3), country)  # a Saturday still checks the code


def test_next_previous_and_added_business_days() -> None:
    friday = date(2026, 5, 22)  # Memorial Day is Monday 25 May
    assert next_business_day(friday, "US") == date(2026, 5, 26)
    assert next_business_day(friday, "DE") == date(2026, 5, 26)  # Whit Monday
    assert next_business_day(friday, "GB") == date(2026, 5, 26)  # Spring bank holiday
    assert next_business_day(friday, "FR") == date(2026, 5, 26)  # Pentecost Monday
    assert next_business_day(friday, "IN") == date(2026, 5, 25)
    assert next_business_day(date(2026, 12, 24), "DE") == date(2026, 12, 28)
    assert previous_business_day(date(2026, 5, 26), "US") == friday
    assert add_business_days(friday, 1, "US") == date(2026, 5, 26)
    assert add_business_days(friday, 3, "US") == date(2026, 5, 28)
    assert add_business_days(date(2026, 5, 28), -3, "US") == friday
    assert add_business_days(date(2026, 5, 23), 0, "US") == date(2026, 5, 23)


# -- review deadline ----------------------------------------------------------------


def test_friday_afternoon_gets_monday_same_time() -> None:
    deadline = review_deadline(at("America/New_York", 2026, 3, 13, 16), "America/New_York", "US")
    assert deadline == at("America/New_York", 2026, 3, 16, 16)


def test_friday_before_a_monday_holiday_gets_tuesday() -> None:
    routed = at("America/New_York", 2026, 5, 22, 16)  # Memorial Day follows
    assert review_deadline(routed, "America/New_York", "US") == at(
        "America/New_York", 2026, 5, 26, 16
    )
    routed = at("Asia/Kolkata", 2026, 1, 23, 16)  # Republic Day on Monday 26 January
    assert review_deadline(routed, "Asia/Kolkata", "IN") == at("Asia/Kolkata", 2026, 1, 27, 16)


def test_wednesday_morning_gets_thursday_morning() -> None:
    routed = at("Europe/Berlin", 2026, 6, 10, 10)
    assert review_deadline(routed, "Europe/Berlin", "DE") == at("Europe/Berlin", 2026, 6, 11, 10)


def test_easter_in_germany_skips_good_friday_and_easter_monday() -> None:
    routed = at("Europe/Berlin", 2026, 4, 2, 10)  # Maundy Thursday
    assert review_deadline(routed, "Europe/Berlin", "DE") == at("Europe/Berlin", 2026, 4, 7, 10)


def test_weekend_routing_gives_monday_whole_and_tuesday_start_of_business() -> None:
    routed = at("America/New_York", 2026, 3, 14, 10)  # Saturday
    assert review_deadline(routed, "America/New_York", "US") == at(
        "America/New_York", 2026, 3, 17, 9
    )
    later = review_deadline(routed, "America/New_York", "US", day_start=time(8, 30))
    assert later == at("America/New_York", 2026, 3, 17, 8, 30)


def test_routing_on_a_holiday_counts_from_the_next_business_day() -> None:
    routed = at("Europe/London", 2026, 12, 25, 11)  # Christmas, then Boxing Day observed
    assert review_deadline(routed, "Europe/London", "GB") == at("Europe/London", 2026, 12, 30, 9)


def test_deadline_is_computed_in_the_pms_zone_not_the_routing_zone() -> None:
    routed = datetime(2026, 3, 13, 23, 30, tzinfo=UTC)  # Friday 23:30 UTC = Sat 04:30 Tokyo
    deadline = review_deadline(routed, "Asia/Tokyo", "JP")
    assert deadline == at("Asia/Tokyo", 2026, 3, 17, 9)
    assert deadline.tzinfo == ZoneInfo("Asia/Tokyo")


def test_dst_keeps_the_local_wall_time() -> None:
    routed = at("America/New_York", 2026, 3, 6, 16)  # clocks go forward on Sunday 8 March
    deadline = review_deadline(routed, "America/New_York", "US")
    assert deadline == at("America/New_York", 2026, 3, 9, 16)
    assert deadline.utcoffset() == timedelta(hours=-4)
    assert deadline.astimezone(UTC) - routed.astimezone(UTC) == timedelta(hours=71)


def test_a_wall_time_skipped_by_dst_moves_forward() -> None:
    routed = at("Africa/Cairo", 2026, 4, 23, 0, 30)  # Egypt's clocks jump 00:00 -> 01:00 Friday
    deadline = review_deadline(routed, "Africa/Cairo", "EG")
    assert deadline.isoformat() == "2026-04-24T01:30:00+03:00"
    assert localize(datetime(2026, 3, 8, 2, 30), "America/New_York").isoformat() == (
        "2026-03-08T03:30:00-04:00"
    )


def test_naive_routing_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="aware"):
        review_deadline(datetime(2026, 3, 13, 16), "America/New_York", "US")
    with pytest.raises(ValueError, match="Mars/Olympus"):
        review_deadline(at("UTC", 2026, 3, 13, 16), "Mars/Olympus", "US")


PLACES = [
    ("America/New_York", "US"),
    ("Europe/Berlin", "DE"),
    ("Europe/London", "GB"),
    ("Asia/Kolkata", "IN"),
    ("Australia/Sydney", "AU"),
    ("Europe/Paris", "FR"),
    ("Asia/Tokyo", "JP"),
]


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.datetimes(datetime(2025, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
    st.sampled_from(PLACES),
)
def test_review_leaves_at_least_one_whole_business_day(
    routed: datetime, place: tuple[str, str]
) -> None:
    """The deadline is a business day after a whole business day the PM had to review."""
    tz, country = place
    deadline = review_deadline(routed, tz, country)
    local = routed.astimezone(ZoneInfo(tz))
    assert deadline.tzinfo == ZoneInfo(tz)
    assert is_business_day(deadline.date(), country)
    assert deadline > routed + timedelta(hours=22)  # a DST night can take an hour
    whole = [
        local.date() + timedelta(days=i)
        for i in range(1, (deadline.date() - local.date()).days)
        if is_business_day(local.date() + timedelta(days=i), country)
    ]
    if is_business_day(local.date(), country):
        assert deadline.date() == next_business_day(local.date(), country)
        assert whole == []  # the rest of the routing day plus the deadline's morning
    else:
        assert len(whole) == 1 and deadline.time() == time(9)
