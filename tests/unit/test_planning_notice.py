"""Notice: no meeting before the next business day of its internal attendees (MEETING_NOTICE)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.config import Settings, SettingsError
from service.domain.business_days import is_business_day, zone
from service.domain.model import Cadence
from service.domain.planning import plan_meetings
from service.domain.planning_model import SYNC_KINDS, Participant, PlanRequest
from service.domain.planning_notice import Notice, parse_notice

NY, BERLIN, KOLKATA = "America/New_York", "Europe/Berlin", "Asia/Kolkata"


def _person(email: str, tz: str = NY, country: str = "US") -> Participant:
    return Participant(email, email.split("@")[0].title(), tz, country, internal=True)


def _request(
    now: datetime, notice: Notice | None, *, team_tz: str = NY, team_country: str = "US"
) -> PlanRequest:
    return PlanRequest(
        handover_id="h1",
        account_key="acme",
        client_name="Acme",
        project_name="Relaunch",
        client_timezone=NY,
        cadence=Cadence.MONTHLY,
        earliest=now,
        am=_person("ada@agency.example"),
        pm=_person("pat@agency.example"),
        sales=(_person("sam@agency.example"),),
        team=(_person("lea@agency.example", team_tz, team_country),),
        client_contacts=(Participant("cleo@acme.example", "Cleo", NY, "", internal=False),),
        exec_sponsors=(Participant("cleo@acme.example", "Cleo", NY, "", internal=False),),
        notice=notice,
        sent_at=now,
    )


FRIDAY_AFTERNOON = datetime(2026, 12, 4, 14, 57, tzinfo=zone(NY))  # a Friday


def test_a_form_sent_friday_afternoon_gets_its_first_meeting_on_monday() -> None:
    plan = plan_meetings(_request(FRIDAY_AFTERNOON, Notice()))
    first = min(m.start for m in plan.meetings)
    assert first.astimezone(zone(NY)).date() == date(2026, 12, 7)
    assert first.astimezone(zone(NY)).hour == 9
    assert all("next business day" in " ".join(m.constraints) for m in plan.meetings if not m.kept)


def test_without_notice_the_first_meeting_is_the_same_afternoon() -> None:
    plan = plan_meetings(_request(FRIDAY_AFTERNOON, None))
    first = min(m.start for m in plan.meetings)
    assert first.astimezone(zone(NY)).date() == date(2026, 12, 4)  # what the notice prevents


def test_the_next_business_day_is_each_attendee_s_own_holiday_aware() -> None:
    # Thursday 30 April 2026: 1 May is Labour Day in Germany, not in the US.
    now = datetime(2026, 4, 30, 10, tzinfo=zone(NY))
    notice = Notice()
    lea = _person("lea@agency.example", BERLIN, "DE")
    ada = _person("ada@agency.example")
    assert notice.earliest(now, [ada]) == datetime(2026, 5, 1, tzinfo=zone(NY))
    assert notice.earliest(now, [ada, lea]) == datetime(2026, 5, 4, tzinfo=zone(BERLIN))
    client = Participant("c@x.example", "C", KOLKATA, "", internal=False)
    assert notice.earliest(now, [client]) == now  # clients do not set the notice


def test_a_number_of_hours() -> None:
    now = datetime(2026, 12, 4, 9, tzinfo=UTC)
    assert Notice(hours=48).earliest(now, [_person("a@agency.example")]) == now + timedelta(
        hours=48
    )
    plan = plan_meetings(_request(now, Notice(hours=48)))
    assert min(m.start for m in plan.meetings) >= now + timedelta(hours=48)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("next-business-day", Notice()),
        ("Next business day", Notice()),
        ("48h", Notice(hours=48)),
        ("0h", Notice(hours=0)),
        ("24 hours", Notice(hours=24)),
    ],
)
def test_the_setting_reads_both_forms(text: str, expected: Notice) -> None:
    assert parse_notice(text) == expected
    assert Settings.from_env({"MEETING_NOTICE": text}).meeting_notice == expected


def test_the_default_is_the_next_business_day_and_a_bad_value_names_the_setting() -> None:
    assert Settings.from_env({}).meeting_notice == Notice()
    with pytest.raises(SettingsError, match="MEETING_NOTICE"):
        Settings.from_env({"MEETING_NOTICE": "soon"})


def test_the_sentences_the_preview_shows() -> None:
    assert Notice().sentence().startswith("No meeting starts before the next business day")
    assert "48 hours" in Notice(hours=48).sentence()


@settings(max_examples=40, deadline=None)
@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31)),
    st.sampled_from([(NY, "US"), (BERLIN, "DE"), (KOLKATA, "IN")]),
)
def test_no_meeting_starts_before_the_next_business_day_of_its_internal_attendees(
    moment: datetime, team: tuple[str, str]
) -> None:
    now = moment.replace(tzinfo=UTC)
    request = _request(now, Notice(), team_tz=team[0], team_country=team[1])
    for meeting in plan_meetings(request).meetings:
        for person in meeting.attendees:
            if not person.internal:
                continue
            sent_day = now.astimezone(zone(person.timezone)).date()
            day = meeting.start.astimezone(zone(person.timezone)).date()
            assert day > sent_day, (meeting.kind, person.email)
            between = [sent_day + timedelta(days=n) for n in range(1, (day - sent_day).days)]
            if meeting.kind not in SYNC_KINDS:  # one-offs: on a business day, so after one
                assert is_business_day(day, person.country) or any(
                    is_business_day(d, person.country) for d in between
                )
