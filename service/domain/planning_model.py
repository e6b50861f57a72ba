"""The meeting planner's inputs and outputs: frozen dataclasses, independent of storage."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from service.domain.business_days import holiday_calendar, zone
from service.domain.model import Cadence

if TYPE_CHECKING:
    from service.domain.planning_notice import Notice

MAX_SYNC_LEAD = 5  # business days; a longer lead no longer fits between fortnightly syncs


class MeetingKind(enum.StrEnum):
    """The five meetings of a handover (the API's exact kind strings)."""

    SALES_HANDOVER = "sales_handover"
    INTERNAL_KICKOFF = "internal_kickoff"
    CLIENT_KICKOFF = "client_kickoff"
    INTERNAL_ACCOUNT_SYNC = "internal_account_sync"
    EXECUTIVE_SPONSOR_SYNC = "executive_sponsor_sync"


ONE_OFF_KINDS = (
    MeetingKind.SALES_HANDOVER,
    MeetingKind.INTERNAL_KICKOFF,
    MeetingKind.CLIENT_KICKOFF,
)
SYNC_KINDS = (MeetingKind.INTERNAL_ACCOUNT_SYNC, MeetingKind.EXECUTIVE_SPONSOR_SYNC)
CLIENT_KINDS = (MeetingKind.CLIENT_KICKOFF, MeetingKind.EXECUTIVE_SPONSOR_SYNC)


@dataclass(frozen=True)
class Participant:
    """Someone invited: an agency person (internal) or a client contact."""

    email: str
    name: str
    timezone: str
    country: str
    internal: bool
    required: bool = True

    @property
    def key(self) -> str:
        """Return the email, lower-cased, that identifies this person."""
        return self.email.strip().lower()

    def label(self) -> str:
        """Return 'Name <email>' for warnings and constraints."""
        return f"{self.name} <{self.email}>"


@dataclass(frozen=True)
class BusyInterval:
    """A time someone is already busy (from a free/busy query)."""

    email: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Durations:
    """Meeting lengths in minutes, per kind."""

    sales_handover: int = 60
    internal_kickoff: int = 60
    client_kickoff: int = 60
    internal_account_sync: int = 30
    executive_sponsor_sync: int = 45

    def minutes(self, kind: str) -> int:
        """Return the length of a meeting kind in minutes."""
        value: int = getattr(self, MeetingKind(kind).value)
        return value

    def of(self, kind: str) -> timedelta:
        """Return the length of a meeting kind."""
        return timedelta(minutes=self.minutes(kind))


@dataclass(frozen=True)
class MovedOccurrence:
    """One occurrence of a series moved off its rule (an EXDATE plus this instance)."""

    original_start: datetime
    start: datetime
    end: datetime
    reason: str


@dataclass(frozen=True)
class SeriesSpec:
    """A stored recurring series: first occurrence, zone, RRULE/EXDATE lines, moves.

    handled_until: occurrences whose rule instant is before it were checked and moved
    where needed (holidays); later ones are not yet (None: unknown, an older plan).
    """

    start: datetime
    end: datetime
    timezone: str
    recurrence: tuple[str, ...]
    exceptions: tuple[MovedOccurrence, ...] = ()
    handled_until: datetime | None = None

    @property
    def duration(self) -> timedelta:
        """Return the length of each occurrence."""
        return elapsed(self.start, self.end)


@dataclass(frozen=True)
class ExistingSyncSeries:
    """The account's sync series already on the calendar, kept by a later handover."""

    internal: SeriesSpec
    executive: SeriesSpec


@dataclass(frozen=True)
class PlannedMeeting:
    """One planned meeting (a recurring one has RRULE lines and maybe moved occurrences)."""

    kind: MeetingKind
    title: str
    start: datetime
    end: datetime
    timezone: str
    organiser: Participant
    attendees: tuple[Participant, ...]
    recurrence: tuple[str, ...] = ()
    exceptions: tuple[MovedOccurrence, ...] = ()
    constraints: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    kept: bool = False
    handled_until: datetime | None = None  # a series: how far its occurrences are checked
    # Other slots its organiser may pick instead (a client meeting proposed, not sent).
    alternatives: tuple[tuple[datetime, datetime], ...] = ()

    @property
    def duration(self) -> timedelta:
        """Return the length of each occurrence."""
        return elapsed(self.start, self.end)

    def series(self) -> SeriesSpec:
        """Return this meeting's series, to store as an account's existing series."""
        return SeriesSpec(
            self.start,
            self.end,
            self.timezone,
            self.recurrence,
            self.exceptions,
            self.handled_until,
        )


@dataclass(frozen=True)
class Plan:
    """The five planned meetings in order, with every warning (prefixed by kind)."""

    handover_id: str
    account_key: str
    meetings: tuple[PlannedMeeting, ...]
    warnings: tuple[str, ...] = ()

    def meeting(self, kind: str) -> PlannedMeeting:
        """Return the planned meeting of a kind."""
        for meeting in self.meetings:
            if meeting.kind == kind:
                return meeting
        raise KeyError(kind)

    def sync_series(self) -> ExistingSyncSeries:
        """Return the account's sync series, for a later handover of the same account."""
        return ExistingSyncSeries(
            internal=self.meeting(MeetingKind.INTERNAL_ACCOUNT_SYNC).series(),
            executive=self.meeting(MeetingKind.EXECUTIVE_SPONSOR_SYNC).series(),
        )


@dataclass(frozen=True)
class PlanRequest:
    """Everything the planner needs about one handover; validated on construction."""

    handover_id: str
    account_key: str
    client_name: str
    project_name: str
    client_timezone: str
    cadence: Cadence
    earliest: datetime
    am: Participant
    pm: Participant | None
    sales: tuple[Participant, ...] = ()
    team: tuple[Participant, ...] = ()
    client_contacts: tuple[Participant, ...] = ()
    exec_sponsors: tuple[Participant, ...] = ()
    business_hours: tuple[time, time] = (time(9), time(17))
    durations: Durations = field(default_factory=Durations)
    sync_lead_business_days: int = 1
    busy: tuple[BusyInterval, ...] = ()
    horizon_days: int = 30
    existing_sync_series: ExistingSyncSeries | None = None
    plan_months: int = 12
    notice: Notice | None = None  # None: meetings may start at `earliest`
    sent_at: datetime | None = None  # when the form was sent (notice counts from it)

    def __post_init__(self) -> None:
        """Reject a request the planner cannot honour, naming the offending value."""
        _aware(self.earliest, "earliest")
        zone(self.client_timezone)
        people = (self.am, *([self.pm] if self.pm else []), *self.sales, *self.team)
        for person in (*people, *self.client_contacts, *self.exec_sponsors):
            try:
                zone(person.timezone)
            except ValueError as exc:
                raise ValueError(f"{person.label()}: {exc}") from exc
        for person in people:
            if not person.internal:
                raise ValueError(f"{person.label()} is an agency role but not internal")
            try:
                holiday_calendar(person.country, self.earliest.year)
            except ValueError as exc:
                raise ValueError(f"{person.label()}: {exc}") from exc
        start, end = self.business_hours
        if not start < end:
            raise ValueError(f"business hours must start before they end: {start}-{end}")
        if not 1 <= self.sync_lead_business_days <= MAX_SYNC_LEAD:
            raise ValueError(f"sync_lead_business_days must be 1..{MAX_SYNC_LEAD}")
        if self.horizon_days < 1 or not 1 <= self.plan_months <= 36:
            raise ValueError("horizon_days must be >= 1 and plan_months 1..36")
        for kind in MeetingKind:
            if self.durations.minutes(kind) <= 0:
                raise ValueError(f"the {kind} duration must be positive")
        for interval in self.busy:
            _aware(interval.start, "busy start")
            _aware(interval.end, "busy end")

    def internal_people(self) -> tuple[Participant, ...]:
        """Return every agency person once: AM, PM, Sales, team."""
        lead = (self.am, *([self.pm] if self.pm else []))
        return unique((*lead, *self.sales, *self.team))

    def sync_pair(self) -> tuple[Participant, ...]:
        """Return the AM and (when assigned) the PM."""
        return unique((self.am, *([self.pm] if self.pm else [])))


def elapsed(start: datetime, end: datetime) -> timedelta:
    """Return the real time between two aware instants (not wall-clock, across DST)."""
    return end.astimezone(UTC) - start.astimezone(UTC)


def unique(people: tuple[Participant, ...]) -> tuple[Participant, ...]:
    """Return people without repeats (by email, case-insensitive), first kept."""
    seen: dict[str, Participant] = {}
    for person in people:
        seen.setdefault(person.key, person)
    return tuple(seen.values())


def _aware(value: datetime, what: str) -> None:
    """Raise ValueError unless value is timezone-aware."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")
