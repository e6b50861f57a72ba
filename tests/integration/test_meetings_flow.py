"""The meetings of a handover end to end on the local backend: planned, sent as .ics
invitations that an independent reader expands to the plan, changed and cancelled in place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import recurring_ical_events

from service.demo import example_handover
from service.store import handovers as repo
from service.web.present import handover_json
from service.workflows import kickoff
from tests.conftest import EXAMPLE_TEAM, confirm_client_meetings, outbox_subjects, told

KINDS = [
    "sales_handover",
    "internal_kickoff",
    "client_kickoff",
    "internal_account_sync",
    "executive_sponsor_sync",
]


def submit(
    services: Any, data: dict[str, Any] | None = None, *, confirm: bool = True
) -> dict[str, Any]:
    """Submit and wait; with confirm, the client meetings are confirmed as proposed."""
    result = kickoff.submit_handover(
        data or example_handover(),
        idempotency_key=None,
        actor="t",
        db=services.db,
        tasks=services.tasks,
    )
    wait(services, result.handover_id)
    if confirm:
        confirm_client_meetings(services, result.handover_id)
    return wait(services, result.handover_id)


def wait(services: Any, handover_id: str) -> dict[str, Any]:
    services.tasks.wait_idle(timeout=60)
    with services.db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        return handover_json(row, base_url="")


def ics(services: Any, event_id: str) -> icalendar.Calendar:
    path = services.calendar.events_dir / f"{event_id}.ics"
    return icalendar.Calendar.from_ical(path.read_bytes())


def events_by_kind(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["kind"]: e for e in data["artifacts"]["events"]}


def test_five_invitations_that_expand_to_exactly_the_plan(services: Any) -> None:
    data = submit(services)
    assert data["status"] == "done", data["steps"]
    events = events_by_kind(data)
    assert sorted(events) == sorted(KINDS)
    plan = {m["kind"]: m for m in data["plan"]["meetings"]}
    for kind in KINDS:
        cal = ics(services, events[kind]["id"])
        assert cal["METHOD"] == "REQUEST"
        assert cal.walk("VTIMEZONE"), "each invitation carries its time zone"
        vevent = cal.walk("VEVENT")[0]
        assert str(vevent["X-HANDOVER-MEETING-KIND"]) == kind
        attendees = sorted(str(a).removeprefix("mailto:").lower() for a in vevent.get("ATTENDEE"))
        assert attendees == sorted(a["email"].lower() for a in plan[kind]["attendees"])
        start = datetime.fromisoformat(plan[kind]["start"])
        window_end = start + timedelta(days=366)
        occurrences = [
            o["DTSTART"].dt for o in recurring_ical_events.of(cal).between(start, window_end)
        ]
        assert occurrences[0] == start
        if kind in KINDS[:3]:
            assert occurrences == [start]
        else:
            # An independent reader agrees with the plan's own expansion, EXDATEs included.
            moved = {datetime.fromisoformat(m["original_start"]) for m in plan[kind]["moved"]}
            assert moved.isdisjoint(occurrences)
            assert len(occurrences) >= 4
    # Internal syncs always come before their executive syncs: the first ones at least.
    first_internal = datetime.fromisoformat(plan["internal_account_sync"]["start"])
    first_exec = datetime.fromisoformat(plan["executive_sponsor_sync"]["start"])
    client_kickoff = datetime.fromisoformat(plan["client_kickoff"]["start"])
    assert first_internal < first_exec and client_kickoff < first_exec
    assert datetime.fromisoformat(plan["sales_handover"]["end"]) <= datetime.fromisoformat(
        plan["internal_kickoff"]["start"]
    )
    # Each invitation went out once by email, with its .ics attached.
    subjects = outbox_subjects(services, "Invitation:")
    assert len(subjects) == 5 + sum(len(m["moved"]) for m in plan.values())


def test_the_internal_meetings_say_to_record_them_and_link_the_brief(services: Any) -> None:
    data = submit(services)
    events = events_by_kind(data)
    brief_url = data["artifacts"]["brief"]["url"]
    for kind in ("sales_handover", "internal_kickoff"):
        description = str(ics(services, events[kind]["id"]).walk("VEVENT")[0]["DESCRIPTION"])
        assert "record this call" in description
        assert brief_url in description
    client = str(ics(services, events["client_kickoff"]["id"]).walk("VEVENT")[0]["DESCRIPTION"])
    assert "record this call" not in client


def test_a_second_project_of_the_account_updates_the_same_sync_series(services: Any) -> None:
    first = submit(services)
    second_data = example_handover()
    second_data["project"]["name"] = "Acme Mobile"
    second_data["project_manager"] = {"name": "Rui Costa", "email": "rui@agency.example"}
    second = submit(services, second_data)
    a, b = events_by_kind(first), events_by_kind(second)
    for kind in ("internal_account_sync", "executive_sponsor_sync"):
        assert a[kind]["id"] == b[kind]["id"]
        assert a[kind]["start"] == b[kind]["start"], "the series keeps its times"
        attendees = {
            str(x).removeprefix("mailto:")
            for x in ics(services, b[kind]["id"]).walk("VEVENT")[0].get("ATTENDEE")
        }
        assert {"pat@agency.example", "rui@agency.example"} <= attendees
    for kind in KINDS[:3]:
        assert a[kind]["id"] != b[kind]["id"]
    files = sorted(p.name for p in services.calendar.events_dir.glob("*.ics"))
    moved = sum(len(m["moved"]) for m in second["plan"]["meetings"])
    assert len(files) == 3 + 3 + 2 + moved


def test_a_new_team_member_is_added_to_the_same_events(services: Any) -> None:
    data = submit(services)
    before = events_by_kind(data)
    changed = example_handover()
    changed["delivery_team"].append(
        {"name": "Nia Okafor", "email": "nia@agency.example", "role": "QA", "country": "GB"}
    )
    kickoff.update_handover(
        data["id"], changed, actor="ops", db=services.db, tasks=services.tasks, clock=services.clock
    )
    after = events_by_kind(wait(services, data["id"]))
    for kind in KINDS:
        assert after[kind]["id"] == before[kind]["id"]
        assert after[kind]["start"] == before[kind]["start"], "times already sent are kept"
    kickoff_event = ics(services, after["internal_kickoff"]["id"]).walk("VEVENT")[0]
    assert "mailto:nia@agency.example" in [str(x) for x in kickoff_event.get("ATTENDEE")]
    assert int(kickoff_event["SEQUENCE"]) == 1
    assert "Updated invitation: Internal kickoff" in " ".join(outbox_subjects(services, "Updated"))
    # Only Nia is told about the handover; the others were told already.
    assert told(services) == sorted([*EXAMPLE_TEAM, "nia@agency.example"])


def test_a_new_cadence_changes_the_rule_of_the_same_series(services: Any) -> None:
    data = submit(services)
    before = events_by_kind(data)
    changed = example_handover()
    changed["project"]["sync_cadence"] = "quarterly"
    kickoff.update_handover(
        data["id"], changed, actor="am", db=services.db, tasks=services.tasks, clock=services.clock
    )
    after = events_by_kind(wait(services, data["id"]))
    for kind in ("internal_account_sync", "executive_sponsor_sync"):
        assert after[kind]["id"] == before[kind]["id"]
        rule = str(ics(services, after[kind]["id"]).walk("VEVENT")[0]["RRULE"].to_ical().decode())
        assert "FREQ=MONTHLY" in rule and "INTERVAL=3" in rule


def test_the_account_cannot_change_on_edit(services: Any) -> None:
    import pytest

    from service.schema import InvalidHandover

    data = submit(services)
    changed = example_handover()
    changed["client"]["domain"] = "other.example"
    with pytest.raises(InvalidHandover) as caught:
        kickoff.update_handover(
            data["id"],
            changed,
            actor="x",
            db=services.db,
            tasks=services.tasks,
            clock=services.clock,
        )
    assert caught.value.errors[0].field == "client.domain"


def test_cancelling_cancels_the_meetings_but_not_a_shared_account_series(services: Any) -> None:
    first = submit(services)
    other = example_handover()
    other["project"]["name"] = "Acme Mobile"
    submit(services, other)
    kickoff.cancel_handover(
        first["id"], actor="ops", db=services.db, tasks=services.tasks, clock=services.clock
    )
    after = wait(services, first["id"])
    assert after["status"] == "cancelled"
    events = events_by_kind(after)
    for kind in KINDS[:3]:
        assert str(ics(services, events[kind]["id"]).walk("VEVENT")[0]["STATUS"]) == "CANCELLED"
    for kind in KINDS[3:]:
        assert str(ics(services, events[kind]["id"]).walk("VEVENT")[0]["STATUS"]) == "CONFIRMED"


def test_busy_people_push_the_meetings(services: Any) -> None:
    # Ada is already in someone else's meeting every morning and afternoon for 2 days.
    services.clock = lambda: datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    first = submit(services)
    sales = datetime.fromisoformat(events_by_kind(first)["sales_handover"]["start"])
    assert sales >= datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    second_data = example_handover("Globex")
    second = submit(services, second_data)
    other = datetime.fromisoformat(events_by_kind(second)["sales_handover"]["start"])
    # Ada, Pat and Sam are in Acme's sales handover then: Globex's must not overlap it.
    assert other >= sales + timedelta(hours=1) or other + timedelta(hours=1) <= sales


def test_the_feed_of_a_person_lists_their_meetings(services: Any, client: Any) -> None:
    submit(services)
    url = services.calendar.feed_url("dev1@agency.example")
    answer = client.get(url.removeprefix(services.settings.public_base_url))
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/calendar")
    feed = icalendar.Calendar.from_ical(answer.data)
    kinds = sorted(str(e["X-HANDOVER-MEETING-KIND"]) for e in feed.walk("VEVENT"))
    assert kinds == ["client_kickoff", "internal_kickoff", "sales_handover"]
    assert client.get("/calendar/" + "A" * 32 + ".ics").status_code == 404


def test_dry_run_plans_and_stores_nothing(services: Any, client: Any) -> None:
    page = {"Origin": "http://localhost"}  # as the form's own page sends it
    answer = client.post("/api/handovers?dry_run=1", json=example_handover(), headers=page)
    assert answer.status_code == 200
    plan = answer.get_json()["plan"]
    assert [m["kind"] for m in plan["meetings"]] == KINDS
    assert all(m["timezone"] for m in plan["meetings"])
    assert client.get("/").status_code == 200
    assert list(services.calendar.events_dir.glob("*.ics")) == []
    assert services.mail.messages() == []
    bad = example_handover()
    bad["client"]["timezone"] = "Nope"
    assert client.post("/api/handovers?dry_run=1", json=bad, headers=page).status_code == 422
