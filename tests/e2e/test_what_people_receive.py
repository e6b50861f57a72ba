"""What people receive, on the local backend: the team's email greets each person by first
name with their meetings at their own wall time; a client's invitation carries no link of
ours; and every link follows the service to another address (old handovers too)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service import create_app
from service.demo import example_handover
from service.domain.email_words import when_words
from service.store import handovers as repo
from service.workflows import kickoff as use_cases
from tests.conftest import (
    API_TOKEN,
    Clock,
    close_app,
    confirm_client_meetings,
    make_settings,
    stored_artifact,
)
from tests.e2e.signin_support import kickoff

START = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)  # a fixed clock: the same plan every run
BASE_A, BASE_B = "http://127.0.0.1:8080", "http://127.0.0.1:8093"
CLIENT = "cleo@acmecorp.example"
ISO = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
KEYS = ("sales_handover", "internal_kickoff", "client_kickoff", "account_sync", "sponsor_sync")


def app_at(tmp_path: Path, base: str) -> Flask:
    settings = make_settings(tmp_path, public_base_url=base, api_tokens={API_TOKEN: "operations"})
    app = create_app(settings)
    app.extensions["handover"].clock = Clock(START)
    return app


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Flask]:
    made = app_at(tmp_path, BASE_A)
    yield made
    close_app(made)


def outbox(app: Flask) -> list[EmailMessage]:
    messages = []
    for path in app.extensions["handover"].mail.messages():
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(message, EmailMessage)
        messages.append(message)
    return messages


def text_of(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def team_emails(app: Flask) -> dict[str, EmailMessage]:
    """Return the team's "Handover: ..." email by recipient; each person gets one."""
    found: dict[str, EmailMessage] = {}
    for message in outbox(app):
        if str(message["Subject"]).startswith("Handover: "):
            (to,) = [a.addr_spec for a in message["To"].addresses]
            assert to not in found, f"{to} got the team's email twice"
            found[to] = message
    return found


def plan_of(app: Flask, handover_id: str) -> dict[str, dict[str, Any]]:
    with stored_artifact(app, handover_id, "plan") as plan:
        return {m["kind"]: m for m in plan.data["meetings"]}


def test_each_person_is_greeted_by_name_with_their_meetings_in_their_own_zone(
    app: Flask,
) -> None:
    handover_id = kickoff(app)
    emails = team_emails(app)
    people = {
        "ada@agency.example": ("Ada", "America/New_York"),  # no zone given: the agency's
        "pat@agency.example": ("Pat", "Europe/London"),
        "sam@agency.example": ("Sam", "America/New_York"),
        "dev1@agency.example": ("Dev", "Europe/Berlin"),
        "dee@agency.example": ("Dee", "America/New_York"),
    }
    assert sorted(emails) == sorted(people)
    plan = plan_of(app, handover_id)
    for email, (first, zone_name) in people.items():
        message = emails[email]
        text = text_of(message)
        assert text.startswith(f"Hi {first},\n")
        assert f"<p>Hi {first},</p>" in str(message.get_body(("html",)).get_content())
        assert parseable_from(message) == ("Agency Handover", "handover@agency.local")
        for kind, meeting in plan.items():
            attends = any(a["email"] == email for a in meeting["attendees"])
            start = datetime.fromisoformat(meeting["start"])
            end = datetime.fromisoformat(meeting["end"])
            assert (when_words(start, zone_name, end) in text) is attends, (email, kind)
        words = re.sub(r"https?://\S+", "", text)  # links may carry ids; the words may not
        assert not ISO.search(words) and not any(key in words for key in KEYS)
    # Pat reads the client kickoff at London time, Dev the internal kickoff at Berlin time.
    kickoff_at = datetime.fromisoformat(plan["client_kickoff"]["start"])
    assert f"Client kickoff: {when_words(kickoff_at, 'Europe/London')[:-15]}" in text_of(
        emails["pat@agency.example"]
    )
    assert "(Berlin time)" in text_of(emails["dev1@agency.example"])
    # The PM is told the kickoff waits for them; the others that it waits for the PM.
    assert "You confirm the client kickoff's time first" in text_of(emails["pat@agency.example"])
    assert "proposed to the PM first" in text_of(emails["sam@agency.example"])


def parseable_from(message: EmailMessage) -> tuple[str, str]:
    (address,) = message["From"].addresses
    return address.display_name, address.addr_spec


def test_the_invitations_went_out_at_the_times_the_email_listed(app: Flask) -> None:
    # The email is written before the meeting steps: the plan it listed is the one sent.
    handover_id = kickoff(app)
    listed = text_of(team_emails(app)["sam@agency.example"])
    sales = plan_of(app, handover_id)["sales_handover"]
    start, end = datetime.fromisoformat(sales["start"]), datetime.fromisoformat(sales["end"])
    assert f"Sales handover: {when_words(start, 'America/New_York', end)}" in listed
    [invitation] = [
        m for m in outbox(app)
        if str(m["Subject"]) == "Invitation: Sales handover: Acme Corp Commerce Platform"
    ]  # fmt: skip
    # The invitation says the time in the meeting's own zone, named in words.
    assert f"When: {when_words(start, sales['timezone'], end)}" in text_of(invitation)


def test_a_clients_invitations_carry_no_link_of_ours(app: Flask) -> None:
    handover_id = kickoff(app)
    services = app.extensions["handover"]
    confirm_client_meetings(services, handover_id)
    services.tasks.wait_idle()
    to_client = [m for m in outbox(app) if CLIENT in str(m["To"])]
    subjects = sorted(str(m["Subject"]) for m in to_client)
    assert subjects == [
        "Invitation: Client kickoff: Acme Corp Commerce Platform",
        "Invitation: Executive Sponsor Sync: Acme Corp",
    ]
    for message in to_client:
        raw = message.as_string()
        assert "/handovers/" not in raw and "/files/" not in raw and "/accounts/" not in raw
        assert "127.0.0.1" not in raw
        text = text_of(message)
        assert text.count("Agenda") == 1, text  # the agenda once
        title = str(message["Subject"]).removeprefix("Invitation: ")
        assert text.count(title) == 1, text  # the title once
    kickoff_text = text_of(next(m for m in to_client if "Client kickoff" in str(m["Subject"])))
    assert "Organizer: Pat Moss <pat@agency.example>" in kickoff_text  # the PM, by name
    # The team's own meetings may link the handover page.
    [internal] = [
        m for m in outbox(app) if str(m["Subject"]).startswith("Invitation: Internal kickoff")
    ]
    assert f"Handover status: {BASE_A}/handovers/{handover_id}" in text_of(internal)


def test_every_link_follows_the_service_to_another_address(tmp_path: Path, app: Flask) -> None:
    handover_id = kickoff(app)
    close_app(app)
    moved = app_at(tmp_path, BASE_B)  # started again on another port, same data
    try:
        services = moved.extensions["handover"]
        token = {"Authorization": f"Bearer {API_TOKEN}"}
        data = moved.test_client().get(f"/api/handovers/{handover_id}", headers=token).get_json()
        links = [data["page_url"], data["status_url"], data["account_url"]]
        links += [a["url"] for k, a in data["artifacts"].items() if k != "events"]
        links += [e["url"] for e in data["artifacts"]["events"]]
        own = [u for u in links if "google.com" not in u]
        assert own and all(u.startswith(BASE_B + "/") for u in own), links
        brief = data["artifacts"]["brief"]["url"]
        assert brief == f"{BASE_B}/files/{data['artifacts']['brief']['id']}"

        html = moved.test_client().get(f"/handovers/{handover_id}").get_data(as_text=True)
        assert BASE_A not in html and f'href="/files/{data["artifacts"]["brief"]["id"]}"' in html

        # A person added now gets the team's email with today's links.
        changed = example_handover()
        changed["delivery_team"].append({"name": "Noor Quinn", "email": "noor@agency.example", "role": "QA"})
        use_cases.update_handover(
            handover_id, changed, actor="t", db=services.db, tasks=services.tasks,
            clock=services.clock,
        )  # fmt: skip
        services.tasks.wait_idle()
        text = text_of(team_emails(moved)["noor@agency.example"])
        assert text.startswith("Hi Noor,\n")
        assert f"{BASE_B}/files/{data['artifacts']['brief']['id']}" in text
        assert f"{BASE_B}/handovers/{handover_id}" in text and BASE_A not in text
        # The change is told by name too: the new person their part, the AM and PM what.
        [added] = [m for m in outbox(moved) if str(m["Subject"]).startswith("You are now on")]
        assert text_of(added).startswith("Hi Noor,\n")
        assert f"{BASE_B}/handovers/{handover_id}" in text_of(added)
        [summary] = [m for m in outbox(moved) if str(m["Subject"]).startswith("Handover changed")]
        assert text_of(summary).startswith("Hi Ada and Pat,\n")
    finally:
        close_app(moved)


def test_a_link_an_earlier_version_stored_whole_is_shown_on_todays_base(
    tmp_path: Path, app: Flask
) -> None:
    handover_id = kickoff(app)
    with stored_artifact(app, handover_id, "brief") as brief:
        assert brief.url == f"/files/{brief.external_id}"
        brief.url = f"{BASE_A}/files/{brief.external_id}"  # as rows were written before
        brief_id = brief.external_id
    close_app(app)
    moved = app_at(tmp_path, BASE_B)
    try:
        token = {"Authorization": f"Bearer {API_TOKEN}"}
        data = moved.test_client().get(f"/api/handovers/{handover_id}", headers=token).get_json()
        assert data["artifacts"]["brief"]["url"] == f"{BASE_B}/files/{brief_id}"
    finally:
        close_app(moved)


def test_the_organiser_is_asked_by_name_with_the_times_at_their_own_wall_time(
    app: Flask,
) -> None:
    handover_id = kickoff(app)
    plan = plan_of(app, handover_id)
    asks = {
        str(m["To"]): m for m in outbox(app) if str(m["Subject"]).strip().startswith("Please confirm")
    }
    pat = text_of(asks["pat@agency.example"])  # the PM organises the client kickoff
    assert pat.startswith("Hi Pat,\n")
    start = datetime.fromisoformat(plan["client_kickoff"]["start"])
    assert f"Proposed: {when_words(start, 'Europe/London')}" in pat  # Pat's zone
    ada = text_of(asks["ada@agency.example"])  # the AM the Executive Sponsor Sync
    assert ada.startswith("Hi Ada,\n")
    start = datetime.fromisoformat(plan["executive_sponsor_sync"]["start"])
    assert f"Proposed: {when_words(start, 'America/New_York')}" in ada  # the agency's
    assert not ISO.search(re.sub(r"https?://\S+", "", pat + ada))


def test_the_plan_the_email_listed_is_kept_by_the_plan_step_once(app: Flask) -> None:
    from datetime import timedelta

    from service.workflows.kickoff import load_handover
    from service.workflows.meeting_steps import plan_step, planned_for_email

    handover_id = kickoff(app)
    services = app.extensions["handover"]
    with services.db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        assert row is not None
        h = load_handover(dict(row.payload))
        stored = repo.artifact(session, handover_id, "plan")
        assert stored is not None
        stored.data = {**stored.data, "for": "an earlier form of the handover"}
    ctx = services.steps
    listed = planned_for_email(handover_id, h, ctx, services.db)  # planned again: not its plan
    assert listed is not None
    first = plan_of(app, handover_id)
    services.clock.now += timedelta(days=3)  # a later plan would say so in planned_at
    plan_step(handover_id, h, ctx, services.db)
    with services.db.transaction() as session:
        kept = repo.artifact(session, handover_id, "plan")
        assert kept is not None and "for_email" not in kept.data
        planned_at = kept.data["planned_at"]
    assert plan_of(app, handover_id) == first and planned_at == START.isoformat()
    plan_step(handover_id, h, ctx, services.db)  # kept once: a later run plans again
    with services.db.transaction() as session:
        again = repo.artifact(session, handover_id, "plan")
        assert again is not None and again.data["planned_at"] != planned_at


def test_on_google_a_clients_events_carry_the_agenda_and_no_link_of_ours(
    tmp_path: Path, database_url: str, fake_google: Any
) -> None:
    from tests.conftest import app_on_the_fake

    with app_on_the_fake(
        tmp_path, database_url, fake_google, google_impersonate="handover@agency.example"
    ) as google_app:
        services = google_app.extensions["handover"]
        services.clock = Clock(START)
        handover_id = kickoff(google_app)
        confirm_client_meetings(services, handover_id)
        services.tasks.wait_idle()
        events = {
            e["extendedProperties"]["private"]["meetingKind"]: e
            for e in fake_google.calendar.events.values()
            if (e.get("extendedProperties") or {}).get("private", {}).get("meetingKind")
        }
    for kind in ("client_kickoff", "executive_sponsor_sync"):
        said = str(events[kind].get("description", "")) + str(events[kind].get("source", ""))
        assert "/handovers/" not in said and "docs.google.com" not in said, said
        assert said.count("Agenda") == 1 and "1. " in said
    assert events["client_kickoff"]["summary"] == (
        "Client kickoff: Acme Corp Commerce Platform"
    )
    assert "Proposal: https://docs.example/proposals/acmecorp" in events["client_kickoff"][
        "description"
    ]
    # The team's meetings link the handover page (on the service's own address).
    assert f"/handovers/{handover_id}" in events["internal_kickoff"]["description"]
