"""The account rhythm's pure rules: when an agenda is due (holidays skipped), who may do
what on an account, what a task's owner must be, how an opportunity moves on."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from service.domain import account_rhythm as rules
from service.workflows.agendas import SyncOccurrence, agenda_due

NEW_YORK = ZoneInfo("America/New_York")


def sync_at(local: datetime) -> SyncOccurrence:
    start = local.astimezone(UTC)
    return SyncOccurrence("internal_account_sync", "s" * 10, start, start, "America/New_York",
                          False, start)  # fmt: skip


@pytest.mark.parametrize(
    ("sync", "due"),
    [
        # An ordinary Thursday: Wednesday, same time.
        (datetime(2027, 1, 14, 14, tzinfo=NEW_YORK), datetime(2027, 1, 13, 14, tzinfo=NEW_YORK)),
        # Tuesday after Memorial Day (Monday 31 May 2027): Friday before it.
        (datetime(2027, 6, 1, 14, tzinfo=NEW_YORK), datetime(2027, 5, 28, 14, tzinfo=NEW_YORK)),
        # Monday after Juneteenth (Friday 19 June 2026): Thursday.
        (datetime(2026, 6, 22, 9, tzinfo=NEW_YORK), datetime(2026, 6, 18, 9, tzinfo=NEW_YORK)),
    ],
)
def test_the_agenda_is_due_one_business_day_before_holidays_skipped(
    sync: datetime, due: datetime
) -> None:
    assert agenda_due(sync_at(sync), lead=1, country="US") == due


def test_two_business_days_before_when_asked() -> None:
    sync = datetime(2027, 6, 1, 14, tzinfo=NEW_YORK)
    assert agenda_due(sync_at(sync), lead=2, country="US") == datetime(
        2027, 5, 27, 14, tzinfo=NEW_YORK
    )


PEOPLE = rules.account_people([
    {"account_manager": {"name": "Ada", "email": "Ada@agency.example"},
     "project_manager": {"name": "Pat", "email": "pat@agency.example"}},
])  # fmt: skip


@pytest.mark.parametrize(
    ("email", "role", "standing"),
    [
        ("ada@agency.example", "account_manager", "am"),
        ("pat@agency.example", "project_manager", "pm"),
        ("pia@agency.example", "project_manager", None),  # a PM of other accounts
        ("pat@agency.example", "account_manager", None),  # named as PM, not AM
        ("ola@agency.example", "operations", "operations"),
        ("sam@agency.example", "sales", "sales"),
    ],
)
def test_standing_on_the_account(email: str, role: str, standing: str | None) -> None:
    assert rules.standing(email, role, PEOPLE) == standing


def test_what_each_standing_may_do() -> None:
    assert rules.may("log_opportunity", "sales") and not rules.may("see", "sales")
    assert rules.may("raise_escalation", "pm") and not rules.may("raise_escalation", "am")
    assert rules.may("acknowledge_escalation", "am") and not rules.may("acknowledge_escalation",
                                                                      "operations")  # fmt: skip
    assert all(rules.may(action, "admin") for action in rules.ACTIONS)
    assert not any(rules.may(action, None) for action in rules.ACTIONS)


def test_a_task_owner_must_be_of_the_agency() -> None:
    agency = rules.agency_domain(None, PEOPLE)
    assert agency == "agency.example"
    body = {"title": "Send SOW", "owner_email": "PAT@agency.example", "due_on": "2027-01-15"}
    assert rules.task(body, agency=agency).owner_email == "pat@agency.example"
    with pytest.raises(rules.InvalidItem) as outside:
        rules.task({**body, "owner_email": "cleo@client.example"}, agency=agency)
    assert list(outside.value.errors) == ["owner_email"]
    assert rules.agency_domain("Agency.Example", PEOPLE) == "agency.example"


def test_an_opportunity_the_am_raised_needs_the_pm_before_the_client() -> None:
    assert rules.first_state(rules.opportunity({"summary": "x"}), "am") == "awaiting_pm"
    assert rules.first_state(rules.opportunity({"summary": "x"}), "pm") == "new"
    assert rules.move_error("awaiting_pm", "with_client", acknowledged=False, raised_as="am")
    assert rules.move_error("awaiting_pm", "lost", acknowledged=False, raised_as="am") is None
    assert rules.move_error("discussed_with_pm", "won", acknowledged=True, raised_as="am") is None
    assert rules.move_error("won", "lost", acknowledged=True, raised_as="pm")
    assert rules.move_error("new", "maybe", acknowledged=False, raised_as="pm")


def test_notes_held_in_the_future_are_refused() -> None:
    today = date(2026, 12, 4)
    body = {"held_on": "2026-12-04", "attendees": "Cleo, Pat", "notes": "Good call."}
    assert rules.note(body, today=today).attendees == ("Cleo", "Pat")
    with pytest.raises(rules.InvalidItem):
        rules.note({**body, "held_on": "2026-12-05"}, today=today)
