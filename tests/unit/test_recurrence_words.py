"""A series' repeat rule reads as a sentence, never as a raw RRULE."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.business_days import localize, zone
from service.domain.model import Cadence
from service.domain.recurrence import executive_rule, preceding_rule
from service.domain.recurrence_words import CUSTOM, repeat_words, zone_words

NY = "America/New_York"


def _at(day: date, hour: int, minute: int = 0, tz: str = NY) -> datetime:
    return localize(datetime(day.year, day.month, day.day, hour, minute), zone(tz))


def test_fortnightly_reads_every_two_weeks_with_time_and_zone() -> None:
    start = _at(date(2026, 12, 8), 10)
    words = repeat_words(
        ("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU",), start, start + timedelta(minutes=30), NY
    )
    assert words == "Every 2 weeks on Tuesday, 10:00-10:30 (New York time)"


def test_monthly_on_the_fourth_wednesday() -> None:
    start = _at(date(2026, 12, 23), 11)
    words = repeat_words(
        ("RRULE:FREQ=MONTHLY;BYDAY=4WE",), start, start + timedelta(minutes=45), NY
    )
    assert words == "Every month on the fourth Wednesday, 11:00-11:45 (New York time)"


def test_quarterly_on_the_fourth_wednesday() -> None:
    start = _at(date(2026, 12, 23), 11)
    words = repeat_words(
        ("RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY=4WE",), start, start + timedelta(minutes=45), NY
    )
    assert words.startswith("Every 3 months on the fourth Wednesday, 11:00-11:45")


def test_the_preceding_window_reads_as_a_range_of_days() -> None:
    start = _at(date(2026, 12, 15), 9, tz="Europe/Berlin")
    line = "RRULE:FREQ=MONTHLY;BYDAY=TU;BYMONTHDAY=15,16,17,18,19,20,21"
    words = repeat_words((line,), start, start + timedelta(minutes=30), "Europe/Berlin")
    assert words == (
        "Every month on the Tuesday between the 15th and the 21st, 09:00-09:30 (Berlin time)"
    )


def test_the_time_is_the_series_own_zone_not_utc() -> None:
    start = _at(date(2026, 12, 8), 10, tz="Asia/Kolkata").astimezone(zone("UTC"))
    words = repeat_words(
        ("RRULE:FREQ=WEEKLY;BYDAY=TU",), start, start + timedelta(hours=1), "Asia/Kolkata"
    )
    assert words == "Every week on Tuesday, 10:00-11:00 (Kolkata time)"


def test_no_rule_no_words_and_exdates_are_not_the_rule() -> None:
    start = _at(date(2026, 12, 8), 10)
    assert repeat_words((), start, start, NY) == ""
    words = repeat_words(
        ("EXDATE;TZID=America/New_York:20261222T100000", "RRULE:FREQ=WEEKLY;BYDAY=TU"),
        start,
        start + timedelta(minutes=30),
        NY,
    )
    assert words.startswith("Every week on Tuesday")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "Every weekday"),
        ("RRULE:FREQ=MONTHLY;BYDAY=-1FR", "Every month on the last Friday"),
        ("RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR", "Every week on Monday, Wednesday and Friday"),
        ("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=6", "Every 2 weeks on Tuesday, 6 times"),
        (
            "RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20270301T000000Z",
            "Every week on Tuesday, until 1 March 2027",
        ),
        ("RRULE:FREQ=MONTHLY;BYMONTHDAY=1", "Every month on the 1st"),
        ("RRULE:FREQ=WEEKLY", "Every week on Tuesday"),
        ("RRULE:FREQ=HOURLY", CUSTOM),
        ("RRULE:FREQ=MONTHLY;BYDAY=9TU", CUSTOM),
    ],
)
def test_common_rules_read_as_words(line: str, expected: str) -> None:
    start = _at(date(2026, 12, 8), 10)
    words = repeat_words((line,), start, start + timedelta(minutes=30), NY)
    assert words == f"{expected}, 10:00-10:30 (New York time)"


def test_zone_words() -> None:
    assert zone_words("America/Argentina/Buenos_Aires") == "Buenos Aires time"
    assert zone_words("UTC") == "UTC"


@given(
    st.sampled_from(list(Cadence)),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=1, max_value=6),
)
def test_every_rule_the_planner_writes_reads_as_words(
    cadence: Cadence, day: date, lead: int
) -> None:
    if (day.day - 1) // 7 + 1 > 4:
        day -= timedelta(days=7)
    rules = [executive_rule(cadence, day)]
    with contextlib.suppress(ValueError):  # a lead that does not fit every month: not planned
        rules.append(preceding_rule(cadence, day, day - timedelta(days=lead)))
    start = _at(day, 10)
    for line in rules:
        words = repeat_words((line,), start, start + timedelta(minutes=30), NY)
        assert words.startswith("Every ")
        assert CUSTOM not in words and "RRULE" not in words and "BYDAY" not in words


def test_the_page_filters_write_words_and_a_time_element_for_the_viewer_zone() -> None:
    from service.web.timewords import day_words, local_time, repeats

    meeting = {
        "start": "2026-12-15T09:00:00-05:00",
        "end": "2026-12-15T09:30:00-05:00",
        "timezone": NY,
        "recurrence": ["RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TU"],
    }
    assert repeats(meeting) == "Every 2 weeks on Tuesday, 09:00-09:30 (New York time)"
    assert repeats({**meeting, "recurrence": []}) == ""
    html = str(local_time("2026-12-15T14:00:00+00:00", NY, "2026-12-15T14:30:00+00:00"))
    assert html == (
        '<time datetime="2026-12-15T09:00:00-05:00" data-zone="America/New_York"'
        ' data-end="2026-12-15T09:30:00-05:00">Tue 15 Dec 2026, 09:00-09:30 New York time</time>'
    )
    assert day_words("2026-12-25T14:00:00+00:00", NY) == "Fri 25 Dec 2026"
