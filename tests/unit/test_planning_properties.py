"""Property tests of the meeting planner over zones, countries, dates, cadences and DST."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.domain.business_days import is_business_day
from service.domain.model import Cadence
from service.domain.planning import (
    BusyInterval,
    MeetingKind,
    Participant,
    Plan,
    PlanRequest,
    expand_occurrences,
    plan_meetings,
    verify,
)
from service.domain.planning_checks import plan_breaches

CLIENT_ZONES = (
    "America/New_York",
    "Europe/Berlin",
    "Asia/Kolkata",
    "Australia/Sydney",
    "America/Los_Angeles",
    "Pacific/Auckland",
    "Asia/Tokyo",
    "Europe/London",
)
PEOPLE_PLACES = (
    ("America/New_York", "US"),
    ("America/Los_Angeles", "US"),
    ("Europe/Berlin", "DE"),
    ("Europe/London", "GB"),
    ("Asia/Kolkata", "IN"),
    ("Australia/Sydney", "AU"),
    ("Europe/Paris", "FR"),
    ("Asia/Tokyo", "JP"),
)
# Days around the DST changes of the zones above (US, EU, AU, NZ), 2025-2030.
DST_DAYS = tuple(
    day
    for year in range(2025, 2031)
    for day in (
        date(year, 3, 8),
        date(year, 3, 25),
        date(year, 4, 1),
        date(year, 9, 24),
        date(year, 10, 1),
        date(year, 10, 25),
        date(year, 11, 1),
    )
)
SETTINGS = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def earliest_moments(draw: st.DrawFn) -> datetime:
    """Draw a start moment in 2025-2030, often days before a DST change."""
    if draw(st.booleans()):
        day = draw(st.sampled_from(DST_DAYS)) - timedelta(days=draw(st.integers(0, 20)))
    else:
        day = draw(st.dates(date(2025, 1, 1), date(2030, 12, 1)))
    minutes = draw(st.integers(0, 24 * 4 - 1)) * 15 + draw(st.sampled_from((0, 7)))
    return datetime.combine(day, time(), tzinfo=UTC) + timedelta(minutes=minutes)


def _person(name: str, place: tuple[str, str]) -> Participant:
    """Return an internal participant at a place."""
    return Participant(f"{name.lower()}@agency.example", name, place[0], place[1], internal=True)


@st.composite
def requests(draw: st.DrawFn, places: tuple[tuple[str, str], ...] = PEOPLE_PLACES) -> PlanRequest:
    """Draw a plan request with internal people spread over the given places."""
    zones = CLIENT_ZONES if places is PEOPLE_PLACES else tuple(sorted({tz for tz, _ in places}))
    client_tz = draw(st.sampled_from(zones))
    place = st.sampled_from(places)
    am = _person("Ada", draw(place))
    pm = _person("Pat", draw(place)) if draw(st.integers(0, 9)) else None
    sales = tuple(_person(f"Sales{i}", draw(place)) for i in range(draw(st.integers(0, 2))))
    team = tuple(_person(f"Dev{i}", draw(place)) for i in range(draw(st.integers(0, 3))))
    sponsor = Participant("cleo@client.example", "Cleo", client_tz, "", internal=False)
    buyer = Participant("bo@client.example", "Bo", client_tz, "", internal=False)
    earliest = draw(earliest_moments())
    busy = ()
    if draw(st.booleans()):
        start = earliest + timedelta(minutes=15 * draw(st.integers(0, 4 * 24 * 5)))
        busy = (BusyInterval(am.email, start, start + timedelta(hours=draw(st.integers(1, 30)))),)
    return PlanRequest(
        handover_id="h",
        account_key="client.example",
        client_name="Client",
        project_name="Project",
        client_timezone=client_tz,
        cadence=draw(st.sampled_from(list(Cadence))),
        earliest=earliest,
        am=am,
        pm=pm,
        sales=sales,
        team=team,
        client_contacts=(buyer, sponsor),
        exec_sponsors=(sponsor,) if draw(st.integers(0, 9)) else (),
        sync_lead_business_days=draw(st.sampled_from((1, 1, 1, 2, 3))),
        busy=busy,
    )


def _assert_order(plan: Plan) -> None:
    """Assert the meeting order and the sync pairing on 12 months of occurrences."""
    sales, internal, client, sync, executive = plan.meetings
    assert [m.kind for m in plan.meetings] == list(MeetingKind)
    assert sales.end <= internal.start and internal.end <= client.start
    syncs, execs = expand_occurrences(sync, months=13), expand_occurrences(executive)
    assert execs and execs[0] >= client.end and syncs[0] >= client.end
    for i, start in enumerate(execs):
        assert syncs[i] + sync.duration <= start
        assert i == 0 or syncs[i] >= execs[i - 1] + executive.duration


@SETTINGS
@given(requests())
def test_every_rule_holds_or_is_named_in_a_warning(request: PlanRequest) -> None:
    """Only hours/holiday rules may fail, and each failure names its person in a warning."""
    plan = plan_meetings(request)
    _assert_order(plan)
    for breach in plan_breaches(plan, request):
        assert breach.rule in {"hours", "holiday"}, str(breach)
        assert breach.person is not None
        warnings = plan.meeting(breach.kind).warnings
        assert any(breach.person.name in w and ("outside" in w or "day off" in w) for w in warnings)


EUROPE = (("Europe/Berlin", "DE"), ("Europe/London", "GB"), ("Europe/Paris", "FR"))
AMERICAS = (("America/New_York", "US"), ("America/Los_Angeles", "US"))
ASIA_PACIFIC = (("Asia/Tokyo", "JP"), ("Australia/Sydney", "AU"))


@settings(SETTINGS, max_examples=100)
@given(st.sampled_from((EUROPE, AMERICAS, ASIA_PACIFIC)).flatmap(requests))
def test_teams_sharing_hours_get_a_plan_that_verifies(request: PlanRequest) -> None:
    """Where everyone's hours overlap, every rule holds for 12 months of occurrences."""
    plan = plan_meetings(request)
    assert verify(plan, request) == []
    _assert_order(plan)
    for meeting in plan.meetings:
        for start in expand_occurrences(meeting):
            for person in meeting.attendees:
                if person.internal:
                    local = start.astimezone(ZoneInfo(person.timezone)).date()
                    assert is_business_day(local, person.country)


@settings(max_examples=10, deadline=None, derandomize=True)
@given(requests())
def test_planning_is_deterministic(request: PlanRequest) -> None:
    """The same request gives the same plan."""
    assert plan_meetings(request) == plan_meetings(request)


@settings(SETTINGS, max_examples=25)
@given(requests(), requests(), st.integers(1, 400))
def test_a_later_handover_keeps_the_account_series(
    first: PlanRequest, other: PlanRequest, days_later: int
) -> None:
    """A second handover keeps the sync times and rules; rules still hold or are warned."""
    series = plan_meetings(first).sync_series()
    second = replace(
        other,
        handover_id="h2",
        client_timezone=first.client_timezone,
        cadence=first.cadence,
        sync_lead_business_days=first.sync_lead_business_days,
        earliest=first.earliest + timedelta(days=days_later),
        existing_sync_series=series,
    )
    plan = plan_meetings(second)
    for meeting, old in zip(plan.meetings[3:], (series.internal, series.executive), strict=True):
        assert meeting.kept and (meeting.start, meeting.timezone) == (old.start, old.timezone)
        assert meeting.recurrence[: len(old.recurrence)] == old.recurrence
    for breach in plan_breaches(plan, second):
        assert breach.rule in {"hours", "holiday"}, str(breach)
        assert breach.person is not None
        assert any(breach.person.name in w for w in plan.meeting(breach.kind).warnings)
