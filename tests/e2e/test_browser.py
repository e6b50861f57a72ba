"""The handover form in a real headless Chromium (Debian's, driven by Playwright)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import LiveServer

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(tmp_path: Any) -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (the README's test command installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context()
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


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
