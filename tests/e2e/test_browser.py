"""The handover form in a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.e2e.tour import browser_page

pytestmark = pytest.mark.browser


@pytest.fixture
def page() -> Iterator[Any]:
    yield from browser_page()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_fill_the_form_add_two_team_rows_submit_and_open_the_brief(
    live_server: LiveServer, page: Any
) -> None:
    page.goto(f"{live_server.url}/handovers/new")
    fill = page.fill
    fill("#client\\.name", "Globex <Widgets>")
    fill("#client\\.timezone", "Europe/Berlin")
    fill("#client\\.domain", "globex.example")
    fill("#project\\.name", "Globex Portal")
    fill("#project\\.contract_signed_on", "2026-11-20")
    fill("#project\\.proposal_url", "https://docs.example/globex")
    page.select_option("#project\\.sync_cadence", "monthly")
    fill("#account_manager\\.name", "Ada Lane")
    fill("#account_manager\\.email", "ada@agency.example")
    fill("#project_manager\\.name", "Pat Moss")
    fill("#project_manager\\.email", "pat@agency.example")
    fill("#sales\\.0\\.name", "Sam Reed")
    fill("#sales\\.0\\.email", "sam@agency.example")
    fill("#delivery_team\\.0\\.name", "Dev One")
    fill("#delivery_team\\.0\\.email", "dev1@agency.example")
    fill("#delivery_team\\.0\\.role", "Engineer")
    for n, (name, zone) in enumerate(
        [("Kiran Rao", "Asia/Kolkata"), ("Lea Roth", "Europe/Berlin")], 1
    ):
        page.click("button[data-add=delivery_team]")
        fill(f"#delivery_team\\.{n}\\.name", name)
        fill(f"#delivery_team\\.{n}\\.email", f"{name.split()[0].lower()}@agency.example")
        fill(f"#delivery_team\\.{n}\\.role", "Engineer")
        fill(f"#delivery_team\\.{n}\\.timezone", zone)
    fill("#client_contacts\\.0\\.name", "Gina Sponsor")
    fill("#client_contacts\\.0\\.email", "gina@globex.example")
    page.check("input[name='client_contacts.0.roles'][value=executive_sponsor]")
    fill("#success\\.why_bought", "They need a <b>portal</b> & fast.")
    fill("#success\\.problem_and_goals", "Self-service for dealers.")
    fill("#success\\.success_definition", "Dealers order online by Q2.")
    page.click("#submit")

    page.wait_for_url("**/handovers/*")
    page.wait_for_selector("#status.state-done", timeout=20_000)
    states = page.locator("#steps .state").all_inner_texts()
    assert [s.lower() for s in states] == ["done"] * 9
    assert page.title().startswith("Globex <Widgets>: Globex Portal")

    page.click("#brief-link")
    page.wait_for_load_state()
    body = page.inner_text("body")
    assert "Project Brief: Globex <Widgets>" in body
    assert "They need a <b>portal</b> & fast." in body  # shown as text, never as markup
    assert "Kiran Rao" in body and "Lea Roth" in body
    assert page.locator("table").count() >= 2
