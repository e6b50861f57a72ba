"""The Project Brief as people read it: each person once with all their roles, the next
steps with their dates in the client's zone, print-ready, styled inline for Google Docs,
and no internal names, ISO timestamps or hex ids."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from zoneinfo import ZoneInfo

from service.config import Settings
from service.demo import example_handover
from service.domain.brief_content import agency_people, client_people, next_steps
from service.domain.model import Handover
from service.rendering import Renderer
from service.schema import validate_handover
from service.workflows.meetings import make_plan, plan_json
from tests.fakes.htmltext import html_looks, html_to_text

NOW = datetime(2026, 12, 4, 15, tzinfo=UTC)  # a Friday
LINKS = {"contracts_folder": "https://drive.google.com/drive/folders/abc"}


def handover(**changes: Any) -> Handover:
    data = example_handover(today=NOW.date())
    data.update(changes)
    return validate_handover(data)[1]


def plan_of(h: Handover) -> dict[str, Any]:
    return plan_json(make_plan("h1", h, settings=Settings(), now=NOW))


def brief(h: Handover, plan: dict[str, Any] | None = None) -> str:
    return Renderer().brief(h, links=LINKS, plan=plan, agency_timezone="America/New_York")


def test_each_contact_once_with_all_their_roles_in_words() -> None:
    h = handover(
        client_contacts=[
            {
                "name": "Cleo Buyer",
                "email": "cleo@acmecorp.example",
                "title": "VP Digital",
                "roles": ["champion", "buyer", "executive_sponsor"],
            },
            {"name": "Nia Quiet", "email": "nia@acmecorp.example", "roles": ["influencer"]},
        ],
        sales=[
            {"name": "Sam Reed", "email": "sam@agency.example"},
            {"name": "Ada Lane", "email": "ADA@agency.example"},  # the AM sold it too
        ],
    )
    client = client_people(h)
    assert [(p.name, p.roles, p.detail) for p in client] == [
        ("Cleo Buyer", "Executive sponsor, Buyer, Champion", "VP Digital"),
        ("Nia Quiet", "Influencer", ""),
    ]
    agency = agency_people(h, agency_timezone="America/New_York")
    assert [(p.name, p.roles) for p in agency][:3] == [
        ("Ada Lane", "Account Manager, Sales"),
        ("Pat Moss", "Project Manager"),
        ("Sam Reed", "Sales"),
    ]
    assert agency[1].detail == "London time" and agency[0].detail == "New York time"
    text = html_to_text(brief(h))
    for email in ("cleo@acmecorp.example", "nia@acmecorp.example", "sam@agency.example"):
        assert text.count(email) == 1, email
    assert text.lower().count("ada@agency.example") == 1
    assert "Executive sponsor, Buyer, Champion" in text


def test_next_steps_carry_the_planned_dates_in_the_clients_zone() -> None:
    h = handover()
    plan = plan_of(h)
    starts = {m["kind"]: datetime.fromisoformat(m["start"]) for m in plan["meetings"]}
    steps = {s.title: s for s in next_steps(h, plan)}
    assert list(steps) == [
        "Sales handover",
        "Internal kickoff",
        "Client kickoff",
        "Internal Account Sync",
        "Executive Sponsor Sync",
    ]
    sales = starts["sales_handover"].astimezone(ZoneInfo("America/New_York"))
    day = f"{sales:%a} {sales.day} {sales:%b %Y}, {sales:%H:%M}-"
    assert steps["Sales handover"].when.startswith(day)
    assert steps["Sales handover"].when.endswith(" New York time.")
    kickoff = steps["Client kickoff"].when
    assert kickoff.startswith("Proposed for ")
    assert kickoff.endswith("The Project Manager confirms it before the client is invited.")
    assert ", then every 2 weeks on " in steps["Internal Account Sync"].when
    text = html_to_text(brief(h, plan))
    assert f"Sales handover: {day}" in text
    assert "The meetings are being planned" not in text


def test_without_a_plan_the_next_steps_say_what_happens_in_words() -> None:
    waiting = html_to_text(brief(handover(project_manager=None)))
    assert "The meetings are planned as soon as Operations assigns the Project Manager" in waiting
    assert "Not assigned yet" in waiting and "Project Manager, to be assigned by Operations" in (
        waiting
    )
    planning = html_to_text(brief(handover()))
    assert "The meetings are being planned: everyone gets an invitation" in planning
    assert "Runs every two weeks." in planning


def test_unanswered_questions_name_whom_to_ask() -> None:
    quiet = [{"name": "Ed Sponsor", "email": "ed@acmecorp.example", "roles": ["executive_sponsor"]}]
    text = html_to_text(brief(handover(success={}, influencers_notes="", client_contacts=quiet)))
    assert text.count("Not known yet \u2014 ask Sam Reed") == 6  # the six Guidelines


def test_print_ready_standalone_page_without_navigation() -> None:
    html = brief(handover(), None)
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html and "<title>Project Brief: Acme Corp" in html
    assert "@media print" in html and "@page { margin: 18mm 16mm; }" in html
    assert "break-inside: avoid" in html
    for tag in ("<nav", "<script", "<form", "<button", 'href="/'):
        assert tag not in html, tag


def test_the_look_is_inline_so_drive_keeps_it_in_the_doc() -> None:
    """Drive keeps an element's own style attribute, not a stylesheet: every heading, cell
    and paragraph carries its look inline."""
    looks = html_looks(brief(handover(), plan_of(handover())))
    kept = {"h1", "h2", "h3", "p", "th", "td", "table", "ul", "ol"}
    bare = [tag for tag, props in looks if tag in kept and not props]
    assert bare == []
    h2 = next(props for tag, props in looks if tag == "h2")
    assert h2["color"] == "#1a5fb4" and "font-family" in h2
    th = next(props for tag, props in looks if tag == "th")
    assert th["background-color"] == "#eef3fb" and th["border"].startswith("1px solid")


class _Visible(HTMLParser):
    """The text and the attribute values a reader can see (link targets included)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip += tag in {"style", "head"}
        self.parts += [v or "" for k, v in attrs if k in {"href", "title", "alt"}]

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in {"style", "head"}

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def test_no_internal_names_iso_timestamps_or_hex_ids() -> None:
    h = handover()
    reader = _Visible()
    reader.feed(brief(h, plan_of(h)))
    seen = " ".join(reader.parts)
    for key in (
        "sales_handover",
        "internal_kickoff",
        "client_kickoff",
        "_sync",
        "executive_sponsor",
        "fortnightly",
        "America/",
        "Europe/",
        "RRULE",
    ):
        assert key not in seen, key
    assert not re.search(r"\d{4}-\d\d-\d\d", seen), "an ISO date"
    assert not re.search(r"\b[0-9a-f]{16,}\b", seen), "a hex id"
