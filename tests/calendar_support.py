"""What the Calendar adapters' tests plan: the people, and a recurring sync across a DST change."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from integrations.ports import Attendee, CalendarEvent

BERLIN = ZoneInfo("Europe/Berlin")
ADA = Attendee("ada@agency.example", "Ada Lane")
PAT = Attendee("pat@agency.example", "Pat Moss")
CLEO = Attendee("cleo@acme.example", "Cleo Buyer", optional=True)


def sync_event(**changes: Any) -> CalendarEvent:
    """A fortnightly sync from 6 Oct 2026 (CEST), skipping 3 Nov 2026 (CET)."""
    event = CalendarEvent(
        id="h0spon0001",
        summary="Executive Sponsor Sync",
        description="Agenda:\n- scope\n- hours",
        start=datetime(2026, 10, 6, 10, tzinfo=BERLIN),
        end=datetime(2026, 10, 6, 10, 45, tzinfo=BERLIN),
        timezone="Europe/Berlin",
        attendees=(ADA, PAT, CLEO),
        recurrence=("RRULE:FREQ=WEEKLY;INTERVAL=2", "EXDATE;TZID=Europe/Berlin:20261103T100000"),
        properties={"handoverId": "h0", "meetingKind": "executive_sponsor_sync"},
    )
    return replace(event, **changes)
