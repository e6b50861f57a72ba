"""The meeting planner on concrete handovers: order, hours, holidays, free/busy, syncs."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from service.domain.business_days import add_business_days, is_business_day
from service.domain.model import (
    Cadence,
    Client,
    ClientContact,
    ContactRole,
    Handover,
    Person,
    Project,
)
from service.domain.planning import (
    BusyInterval,
    Durations,
    ExistingSyncSeries,
    MeetingKind,
    MovedOccurrence,
    Participant,
    Plan,
    PlannedMeeting,
    PlanRequest,
    SeriesSpec,
    expand_occurrences,
    plan_meetings,
    request_from_handover,
    verify,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def person(email: str, name: str, tz: str = "America/New_York", country: str = "US") -> Participant:
    """Return an agency participant."""
    return Participant(email, name, tz, country, internal=True)


ADA = person("ada@agency.example", "Ada Lane")
PAT = person("pat@agency.example", "Pat Moss")
SAM = person("sam@agency.example", "Sam Reed")
DEV = person("dev@agency.example", "Dev One", "Europe/Berlin", "DE")
PRIYA = person("priya@agency.example", "Priya Rao", "Asia/Kolkata", "IN")
CLEO = Participant("cleo@acme.example", "Cleo Buyer", "America/New_York", "", internal=False)
BO = Participant("bo@acme.example", "Bo Champion", "America/New_York", "", internal=False)


def make(**changes: object) -> PlanRequest:
    """Return a request for Acme (New York), Monday 2 March 2026 08:00, changed as given."""
    fields: dict[str, object] = {
        "handover_id": "h1",
        "account_key": "acme.example",
        "client_name": "Acme",
        "project_name": "Platform",
        "client_timezone": "America/New_York",
        "cadence": Cadence.FORTNIGHTLY,
        "earliest": datetime(2026, 3, 2, 8, tzinfo=NY),
        "am": ADA,
        "pm": PAT,
        "sales": (SAM,),
        "team": (DEV,),
        "client_contacts": (CLEO, BO),
        "exec_sponsors": (CLEO,),
    }
    fields.update(changes)
    return PlanRequest(**fields)  # type: ignore[arg-type]


def emails(meeting: PlannedMeeting) -> set[str]:
    """Return a meeting's attendee emails."""
    return {p.email for p in meeting.attendees}


# -- the plain case -------------------------------------------------------------------


def test_five_meetings_in_order_inside_everyones_hours() -> None:
    request = make()
    plan = plan_meetings(request)
    assert [m.kind for m in plan.meetings] == list(MeetingKind)
    sales, internal, client, sync, executive = plan.meetings
    # Monday 09:00 New York is 15:00 in Berlin; 10:00 is the last hour Dev can do.
    assert sales.start == datetime(2026, 3, 2, 9, tzinfo=NY)
    assert internal.start == datetime(2026, 3, 2, 10, tzinfo=NY)
    assert client.start == datetime(2026, 3, 3, 9, tzinfo=NY)
    assert sales.end <= internal.start and internal.end <= client.start
    first_exec = expand_occurrences(executive)[0]
    assert client.end <= expand_occurrences(sync)[0] < first_exec
    assert plan.warnings == ()
    assert verify(plan, request) == []


def test_attendees_organisers_zones_and_titles_per_kind() -> None:
    plan = plan_meetings(make(pm=person("pat@agency.example", "Pat Moss", "Europe/Berlin", "DE")))
    sales, internal, client, sync, executive = plan.meetings
    assert emails(sales) == {ADA.email, "pat@agency.example", SAM.email, DEV.email}
    assert emails(internal) == {"pat@agency.example", DEV.email}
    assert emails(client) == {ADA.email, "pat@agency.example", DEV.email, CLEO.email, BO.email}
    assert emails(sync) == {ADA.email, "pat@agency.example"}
    assert emails(executive) == {ADA.email, "pat@agency.example", CLEO.email}
    # The handbook: Sales arranges both internal handover meetings, the AM the syncs; the
    # internal kickoff is held in the zone of the PM who leads it.
    assert (sales.organiser, internal.organiser, sync.organiser) == (SAM, SAM, ADA)
    assert internal.timezone == "Europe/Berlin" and internal.start.tzinfo == BERLIN
    assert [m.timezone for m in (sales, client, sync, executive)] == ["America/New_York"] * 4
    assert sales.title == "Sales handover: Acme, Platform"
    assert internal.title == "Internal kickoff: Acme, Platform"
    # The kind says it is for the client; client and project once each, no repeat.
    assert client.title == "Client kickoff: Acme, Platform"
    assert executive.title == "Executive Sponsor Sync: Acme"
    assert [m.duration for m in plan.meetings] == [
        timedelta(minutes=m) for m in (60, 60, 60, 30, 45)
    ]


def test_constraints_say_what_holds() -> None:
    plan = plan_meetings(make())
    client = plan.meeting(MeetingKind.CLIENT_KICKOFF)
    assert "Must come after the sales handover and the internal kickoff." in client.constraints
    assert (
        "Within working hours (09:00-17:00) for everyone at the agency, in their own time."
        in client.constraints
    )
    assert (
        "Not on a weekend or a public holiday in Germany or the United States."
        in client.constraints
    )
    executive = plan.meeting(MeetingKind.EXECUTIVE_SPONSOR_SYNC)
    assert "Its first meeting must come after the client kickoff." in executive.constraints
    assert any(c.startswith("Every 2 weeks on ") for c in executive.constraints)


def test_same_request_same_plan() -> None:
    assert plan_meetings(make(team=(DEV, PRIYA))) == plan_meetings(make(team=(DEV, PRIYA)))


# -- hours across zones -----------------------------------------------------------------


def test_new_york_and_kolkata_share_no_hours_so_the_plan_names_priya() -> None:
    request = make(team=(PRIYA,))
    plan = plan_meetings(request)
    sales = plan.meeting(MeetingKind.SALES_HANDOVER)
    assert sales.start == datetime(2026, 3, 2, 9, tzinfo=NY)  # three New Yorkers, one Priya
    assert sales.warnings == (
        "Priya Rao (Kolkata time) is outside working hours "
        "09:00-17:00: 19:30-20:30 their time, up to 210 minutes outside.",
    )
    assert any(w.startswith("Sales handover: Priya Rao (Kolkata time)") for w in plan.warnings)
    # Pat and Priya alone: 10.5 hours apart, the stretch is shared fairly.
    internal = plan.meeting(MeetingKind.INTERNAL_KICKOFF)
    assert internal.start == datetime(2026, 3, 3, 7, 15, tzinfo=NY)
    assert [w.split(" (")[0] for w in internal.warnings] == ["Pat Moss", "Priya Rao"]
    assert all("up to 105 minutes outside" in w for w in internal.warnings)
    problems = verify(plan, request)
    assert problems and all(": hours: " in p for p in problems)
    assert all("priya@" in p or "pat@" in p for p in problems)
    # The two syncs do not involve Priya: they stay inside everyone's hours.
    assert not plan.meeting(MeetingKind.EXECUTIVE_SPONSOR_SYNC).warnings


def test_least_minutes_outside_hours_wins_when_nobody_overlaps() -> None:
    tokyo = person("kenji@agency.example", "Kenji", "Asia/Tokyo", "JP")
    la = person("lee@agency.example", "Lee", "America/Los_Angeles", "US")
    london = person("lin@agency.example", "Lin", "Europe/London", "GB")
    request = make(am=la, pm=tokyo, sales=(), team=(london,), client_timezone="Asia/Tokyo")
    plan = plan_meetings(request)
    internal = plan.meeting(MeetingKind.INTERNAL_KICKOFF)  # Tokyo and London: 9 h apart
    assert internal.timezone == "Asia/Tokyo"
    # 17:00-18:00 in Tokyo is 08:00-09:00 in London: an hour each, not 01:00 for Lin.
    local = internal.start.astimezone(ZoneInfo("Asia/Tokyo"))
    assert local.time() == time(17) and local.date() - request.earliest.date() < timedelta(days=3)
    assert [w.split(" (")[0] for w in internal.warnings] == ["Kenji", "Lin"]
    assert all("up to 60 minutes outside" in w for w in internal.warnings)


def test_client_meetings_also_keep_to_the_clients_hours() -> None:
    la = "America/Los_Angeles"
    contacts = (replace(CLEO, timezone=la), replace(BO, timezone=la))
    request = make(
        team=(), client_timezone=la, client_contacts=contacts, exec_sponsors=contacts[:1]
    )
    plan = plan_meetings(request)
    for kind in (MeetingKind.CLIENT_KICKOFF, MeetingKind.EXECUTIVE_SPONSOR_SYNC):
        meeting = plan.meeting(kind)
        assert meeting.timezone == "America/Los_Angeles"
        for start in expand_occurrences(meeting):
            local = start.astimezone(ZoneInfo("America/Los_Angeles"))
            assert time(9) <= local.time() and (local + meeting.duration).time() <= time(14)
    assert verify(plan, request) == []


# -- holidays and free/busy ---------------------------------------------------------------


def test_no_meeting_on_a_holiday_of_any_internal_attendee() -> None:
    # Friday 3 July 2026 is Independence Day (observed) in the US.
    plan = plan_meetings(make(earliest=datetime(2026, 7, 3, 8, tzinfo=NY)))
    assert plan.meetings[0].start == datetime(2026, 7, 6, 9, tzinfo=NY)
    # Easter Monday 6 April 2026 is a holiday in Germany only: Dev's kickoffs skip it.
    plan = plan_meetings(make(earliest=datetime(2026, 4, 6, 8, tzinfo=NY)))
    assert plan.meetings[0].start.date() == date(2026, 4, 7)
    plan = plan_meetings(make(team=(), earliest=datetime(2026, 4, 6, 8, tzinfo=NY)))
    assert plan.meetings[0].start.date() == date(2026, 4, 6)


def test_a_busy_am_pushes_the_slot() -> None:
    busy = (
        BusyInterval(
            "ADA@agency.example",
            datetime(2026, 3, 2, 8, tzinfo=NY),
            datetime(2026, 3, 2, 12, 30, tzinfo=NY),
        ),
    )
    plan = plan_meetings(make(team=(), busy=busy))
    assert plan.meetings[0].start == datetime(2026, 3, 2, 12, 30, tzinfo=NY)
    assert not plan.meetings[0].warnings
    assert (
        "Everyone at the agency who must come is free then, by their calendars."
        in plan.meetings[0].constraints
    )


def test_an_always_busy_am_still_gets_a_plan_with_the_conflict_named() -> None:
    start = datetime(2026, 3, 1, tzinfo=NY)
    busy = (BusyInterval(ADA.email, start, start + timedelta(days=60)),)
    request = make(team=(), busy=busy)
    plan = plan_meetings(request)
    sales = plan.meeting(MeetingKind.SALES_HANDOVER)
    assert sales.start == datetime(2026, 3, 2, 9, tzinfo=NY)
    assert sales.warnings[0].startswith(
        "No time in the next 30 days has everyone free inside working hours, so this one "
        "clashes: Ada Lane (New York time) is busy Sun 1 Mar 2026, 00:00 New York time-"
    )
    assert verify(plan, request) == []  # free/busy is not a rule of the plan's shape


def test_an_optional_attendee_being_busy_does_not_move_the_meeting() -> None:
    sam = replace(SAM, required=False)
    busy = (
        BusyInterval(sam.email, datetime(2026, 3, 2, tzinfo=NY), datetime(2026, 3, 3, tzinfo=NY)),
    )
    plan = plan_meetings(make(team=(), sales=(sam,), busy=busy))
    assert plan.meetings[0].start == datetime(2026, 3, 2, 9, tzinfo=NY)


# -- the recurring syncs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cadence", "head"),
    [
        (Cadence.FORTNIGHTLY, "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY="),
        (Cadence.MONTHLY, "RRULE:FREQ=MONTHLY;BYDAY="),
        (Cadence.QUARTERLY, "RRULE:FREQ=MONTHLY;INTERVAL=3;BYDAY="),
    ],
)
def test_sync_rules_follow_the_cadence(cadence: Cadence, head: str) -> None:
    request = make(cadence=cadence, sync_lead_business_days=2)
    plan = plan_meetings(request)
    for kind in (MeetingKind.INTERNAL_ACCOUNT_SYNC, MeetingKind.EXECUTIVE_SPONSOR_SYNC):
        assert plan.meeting(kind).recurrence[0].startswith(head)
    executive = plan.meeting(MeetingKind.EXECUTIVE_SPONSOR_SYNC)
    if cadence is not Cadence.FORTNIGHTLY:  # the nth weekday: 2nd to 4th, never a 5th
        assert executive.recurrence[0][-3] in "234"
        assert "BYMONTHDAY=" in plan.meeting(MeetingKind.INTERNAL_ACCOUNT_SYNC).recurrence[0]
    assert verify(plan, request) == []
    syncs = expand_occurrences(plan.meeting(MeetingKind.INTERNAL_ACCOUNT_SYNC), months=13)
    execs = expand_occurrences(executive)
    per_year = {Cadence.FORTNIGHTLY: 26, Cadence.MONTHLY: 12, Cadence.QUARTERLY: 4}[cadence]
    assert len(execs) in (per_year, per_year + 1)  # rule instants in [first, first + 12 months)
    for internal, external in zip(syncs, execs, strict=False):
        for who in (ADA, PAT):
            assert external.date() >= add_business_days(internal.date(), 2, who.country)


def test_monthly_internal_sync_precedes_across_month_boundaries() -> None:
    # Exec on the 2nd Monday: the Friday before it is sometimes in the same month
    # (12th -> 9th), sometimes 3 days back (8th -> 5th); BYMONTHDAY keeps both right.
    request = make(cadence=Cadence.MONTHLY, earliest=datetime(2026, 1, 2, 8, tzinfo=NY))
    plan = plan_meetings(request)
    sync = plan.meeting(MeetingKind.INTERNAL_ACCOUNT_SYNC)
    executive = plan.meeting(MeetingKind.EXECUTIVE_SPONSOR_SYNC)
    days = [d.day for d in expand_occurrences(executive)]
    assert len(set(days)) > 1  # an nth weekday wanders over the month
    assert verify(plan, request) == []
    for internal, external in zip(
        expand_occurrences(sync, months=13), expand_occurrences(executive), strict=False
    ):
        assert internal + sync.duration <= external
        assert external - internal < timedelta(days=8)


def test_syncs_keep_their_local_time_across_dst() -> None:
    request = make(team=(), earliest=datetime(2026, 2, 2, 8, tzinfo=NY))
    executive = plan_meetings(request).meeting(MeetingKind.EXECUTIVE_SPONSOR_SYNC)
    starts = expand_occurrences(executive)
    offsets = {s.utcoffset() for s in starts}
    assert offsets == {timedelta(hours=-5), timedelta(hours=-4)}
    assert (
        len({s.time() for s in starts if not any(e.start == s for e in executive.exceptions)}) == 1
    )


def test_occurrences_on_holidays_are_moved_with_exdates() -> None:
    # An account series on alternate Fridays meets on Christmas Day: that one moves.
    friday = datetime(2026, 12, 11, 11, tzinfo=NY)
    series = ExistingSyncSeries(
        internal=SeriesSpec(
            friday - timedelta(days=1),
            friday - timedelta(days=1, minutes=-30),
            "America/New_York",
            ("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=TH",),
        ),
        executive=SeriesSpec(
            friday,
            friday + timedelta(minutes=45),
            "America/New_York",
            ("RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",),
        ),
    )
    request = make(team=(), existing_sync_series=series, earliest=datetime(2026, 12, 1, tzinfo=NY))
    plan = plan_meetings(request)
    executive = plan.meeting(MeetingKind.EXECUTIVE_SPONSOR_SYNC)
    christmas = datetime(2026, 12, 25, 11, tzinfo=NY)
    moved = executive.exceptions[0]
    assert moved.original_start == christmas
    assert moved.start == datetime(2026, 12, 28, 11, tzinfo=NY)  # the next business day
    assert moved.reason == (
        "Fri 25 Dec 2026 is Christmas Day in the United States for Ada Lane and Pat Moss"
    )
    assert "EXDATE;TZID=America/New_York:20261225T110000" in executive.recurrence
    assert executive.recurrence[0] == "RRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"  # rule kept
    starts = expand_occurrences(executive, since=request.earliest)
    assert moved.start in starts and christmas not in starts
    for meeting in plan.meetings[3:]:
        exdates = [line for line in meeting.recurrence if line.startswith("EXDATE")]
        assert len(exdates) == len(meeting.exceptions)
        for start in expand_occurrences(meeting, since=request.earliest):
            assert is_business_day(start.date(), "US")
    assert verify(plan, request) == []


def test_expand_occurrences_honours_exdates_moves_and_dst_gaps() -> None:
    start = datetime(2026, 3, 1, 2, 30, tzinfo=NY)  # Sundays 02:30; 8 March has no 02:30
    moved_from = datetime(2026, 3, 15, 2, 30, tzinfo=NY)
    meeting = PlannedMeeting(
        kind=MeetingKind.INTERNAL_ACCOUNT_SYNC,
        title="t",
        start=start,
        end=start + timedelta(minutes=30),
        timezone="America/New_York",
        organiser=ADA,
        attendees=(ADA,),
        recurrence=(
            "RRULE:FREQ=WEEKLY;BYDAY=SU",
            "EXDATE;TZID=America/New_York:20260315T023000",
            "EXDATE;TZID=America/New_York:20260322T023000",
        ),
        exceptions=(
            MovedOccurrence(
                moved_from,
                moved_from + timedelta(days=1),
                moved_from + timedelta(days=1, minutes=30),
                "test",
            ),
        ),
    )
    starts = expand_occurrences(meeting, months=1)
    assert [s.isoformat() for s in starts] == [
        "2026-03-01T02:30:00-05:00",
        "2026-03-08T03:30:00-04:00",
        "2026-03-16T02:30:00-04:00",
        "2026-03-29T02:30:00-04:00",
    ]


def test_a_second_handover_keeps_the_account_series_and_changes_attendees() -> None:
    first = make(cadence=Cadence.MONTHLY)
    series = plan_meetings(first).sync_series()
    max_ = person("max@agency.example", "Max Berg", "Europe/Berlin", "DE")
    second = make(
        handover_id="h2",
        project_name="Phase 2",
        cadence=Cadence.MONTHLY,
        pm=max_,
        team=(),
        earliest=datetime(2026, 6, 15, 8, tzinfo=NY),
        existing_sync_series=series,
    )
    plan = plan_meetings(second)
    for meeting, old in zip(plan.meetings[3:], (series.internal, series.executive), strict=True):
        assert meeting.kept
        assert (meeting.start, meeting.end, meeting.timezone) == (old.start, old.end, old.timezone)
        assert meeting.recurrence[0] == old.recurrence[0]
        assert max_ in meeting.attendees and PAT not in meeting.attendees
    assert plan.meeting(MeetingKind.SALES_HANDOVER).start.date() == date(2026, 6, 15)
    assert verify(plan, second) == []


def test_a_kept_series_gets_new_exceptions_for_a_new_attendees_holidays() -> None:
    first = make(team=(), earliest=datetime(2026, 9, 7, 8, tzinfo=NY))
    series = plan_meetings(first).sync_series()
    paris = person("pat@agency.example", "Pat Moss", "Europe/Paris", "FR")
    second = make(
        team=(), pm=paris, existing_sync_series=series, earliest=datetime(2026, 9, 28, 8, tzinfo=NY)
    )
    plan = plan_meetings(second)
    assert verify(plan, second) == []
    for meeting in plan.meetings[3:]:
        for start in expand_occurrences(meeting, since=second.earliest):
            assert is_business_day(start.astimezone(ZoneInfo("Europe/Paris")).date(), "FR")


# -- people missing, validation -------------------------------------------------------------


def test_without_a_pm_the_plan_is_made_and_says_so() -> None:
    request = make(pm=None, exec_sponsors=())
    plan = plan_meetings(request)
    assert plan.warnings[0].startswith("No Project Manager yet: the Account Manager stands in")
    assert any("No executive sponsor named at the client" in w for w in plan.warnings)
    assert plan.meeting(MeetingKind.INTERNAL_KICKOFF).organiser == SAM
    assert plan.meeting(MeetingKind.CLIENT_KICKOFF).organiser == ADA  # standing in for the PM
    assert emails(plan.meeting(MeetingKind.EXECUTIVE_SPONSOR_SYNC)) == {ADA.email}
    assert verify(plan, request) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"earliest": datetime(2026, 3, 2, 8)}, "earliest must be timezone-aware"),
        ({"client_timezone": "Mars/Base"}, "Mars/Base"),
        (
            {"team": (person("x@a.example", "X", country="ZZ"),)},
            "X <x@a.example>: unknown country 'ZZ'",
        ),
        ({"sync_lead_business_days": 0}, "sync_lead_business_days"),
        ({"business_hours": (time(17), time(9))}, "business hours"),
        ({"durations": Durations(client_kickoff=0)}, "client_kickoff duration"),
    ],
)
def test_impossible_requests_are_rejected_by_name(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        make(**changes)


# -- verify catches broken plans ----------------------------------------------------------


def _swap(plan: Plan, meeting: PlannedMeeting) -> Plan:
    """Return the plan with one meeting replaced."""
    return replace(
        plan, meetings=tuple(meeting if m.kind == meeting.kind else m for m in plan.meetings)
    )


def test_verify_names_every_broken_rule() -> None:
    request = make()
    plan = plan_meetings(request)
    sales = plan.meeting(MeetingKind.SALES_HANDOVER)
    client = plan.meeting(MeetingKind.CLIENT_KICKOFF)
    sync = plan.meeting(MeetingKind.INTERNAL_ACCOUNT_SYNC)
    executive = plan.meeting(MeetingKind.EXECUTIVE_SPONSOR_SYNC)
    early = replace(client, start=sales.start, end=sales.end)
    assert "client_kickoff: order: starts before internal_kickoff ends" in verify(
        _swap(plan, early), request
    )
    lonely = replace(client, attendees=client.attendees[:-1])
    assert any(": attendees: missing" in p for p in verify(_swap(plan, lonely), request))
    weekly = replace(executive, recurrence=("RRULE:FREQ=WEEKLY;BYDAY=WE",))
    assert any(": recurrence: " in p for p in verify(_swap(plan, weekly), request))
    late = replace(sync, start=sync.start + timedelta(days=1), end=sync.end + timedelta(days=1))
    assert any(
        p.startswith("internal_account_sync: lead: ") for p in verify(_swap(plan, late), request)
    )
    night = replace(
        sales, start=sales.start - timedelta(hours=8), end=sales.end - timedelta(hours=8)
    )
    assert any(
        p.startswith("sales_handover: hours: ") and "ada@agency.example" in p
        for p in verify(_swap(plan, night), request)
    )
    holiday = datetime(2026, 4, 6, 9, tzinfo=NY)  # Easter Monday, Dev is in Germany
    easter = replace(sales, start=holiday, end=holiday + timedelta(hours=1))
    assert any(
        ": holiday: " in p and "Easter Monday in Germany" in p
        for p in verify(_swap(plan, easter), request)
    )


# -- from the domain model ----------------------------------------------------------------


def test_request_from_handover_uses_defaults_and_the_signing_day() -> None:
    handover = Handover(
        client=Client("Acme", "America/Los_Angeles", "Acme.Example"),
        project=Project("Platform", date(2026, 11, 20), "https://x.example", Cadence.QUARTERLY),
        account_manager=Person("Ada", "ada@agency.example"),
        project_manager=Person(
            "Pat", "pat@agency.example", timezone="America/Chicago", country="de"
        ),
        sales=(Person("Sam", "sam@agency.example"),),
        delivery_team=(),
        client_contacts=(
            ClientContact("Cleo", "cleo@acme.example", (ContactRole.EXECUTIVE_SPONSOR,)),
            ClientContact("Bo", "bo@acme.example", (ContactRole.CHAMPION,)),
        ),
    )
    now = datetime(2026, 11, 1, tzinfo=UTC)
    request = request_from_handover(
        handover,
        handover_id="h9",
        now=now,
        agency_timezone="America/New_York",
        business_country="US",
    )
    assert request.account_key == "acme.example"
    assert request.earliest == datetime(2026, 11, 20, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert request.am == Participant("ada@agency.example", "Ada", "America/New_York", "US", True)
    assert request.pm is not None and request.pm.country == "DE"
    assert [c.email for c in request.exec_sponsors] == ["cleo@acme.example"]
    assert all(
        c.timezone == "America/Los_Angeles" and not c.internal for c in request.client_contacts
    )
    later = request_from_handover(
        handover,
        handover_id="h9",
        now=datetime(2026, 12, 1, tzinfo=UTC),
        agency_timezone="America/New_York",
        business_country="US",
    )
    assert later.earliest == datetime(2026, 12, 1, tzinfo=UTC)
    assert verify(plan_meetings(request), request) == []


def test_a_title_names_the_client_once_when_the_project_already_does() -> None:
    from service.domain.planning import meeting_title

    kickoff = MeetingKind.CLIENT_KICKOFF
    assert meeting_title(kickoff, "Acme Corp", "Website relaunch") == (
        "Client kickoff: Acme Corp, Website relaunch"
    )
    assert meeting_title(kickoff, "Acme Corp", "Acme Corp Commerce Platform") == (
        "Client kickoff: Acme Corp Commerce Platform"
    )
    assert meeting_title(MeetingKind.INTERNAL_ACCOUNT_SYNC, "Acme Corp", "Acme Corp site") == (
        "Internal Account Sync: Acme Corp"
    )
