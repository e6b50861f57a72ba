"""The plan's rules and warnings in words: meeting names, countries, people and their zones."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from service.domain.plan_words import (
    countries_words,
    country_words,
    day_words,
    kind_label,
    kind_words,
    person_words,
    when_words,
)
from service.domain.planning import plan_meetings
from service.domain.planning_model import MeetingKind
from tests.unit.test_planning import PRIYA, make


def test_meeting_kinds_read_as_names() -> None:
    assert kind_words("internal_kickoff") == "the internal kickoff"
    assert kind_label("executive_sponsor_sync") == "Executive Sponsor Sync"
    assert kind_label("sales_handover") == "Sales handover"
    assert kind_words("no_such_kind") == "a meeting"


def test_countries_people_and_times_in_words() -> None:
    assert country_words("US") == "the United States"
    assert country_words("GB") == "the United Kingdom"
    assert country_words("DE") == "Germany"
    assert country_words("GB-ENG") == "the United Kingdom"
    assert countries_words(["US", "DE", "IN", "US"]) == "Germany, India or the United States"
    assert person_words(PRIYA) == "Priya Rao (Kolkata time)"
    moment = datetime(2026, 3, 2, 14, 0, tzinfo=ZoneInfo("UTC"))
    assert when_words(moment, "America/New_York") == "Mon 2 Mar 2026, 09:00 New York time"
    assert day_words(date(2026, 12, 25)) == "Fri 25 Dec 2026"


def test_a_recurring_meeting_names_how_many_of_its_series_break_a_rule() -> None:
    # Priya in Kolkata as the PM: every Internal Account Sync is late in her day.
    plan = plan_meetings(make(pm=PRIYA))
    sync = plan.meeting(MeetingKind.INTERNAL_ACCOUNT_SYNC)
    assert sync.warnings, "the planner found no time inside both zones' hours"
    warning = sync.warnings[0]
    assert warning.endswith(" meetings of the series).")
    assert " is outside working hours 09:00-17:00: " in warning and " their time, up to " in warning
    assert any(
        c.startswith("Each Internal Account Sync comes at least 1 business day before")
        for c in sync.constraints
    )
