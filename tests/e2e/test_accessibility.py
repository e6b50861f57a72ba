"""Every page in a real browser at 1280 and 390 px: axe-core finds nothing serious, phones
need no sideways scrolling, and the form can be filled and sent with the keyboard alone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.e2e.tour import AXE_JS, BLOCKING, WIDTHS, axe_violations, browser_page, tour

pytestmark = pytest.mark.browser

# The meetings' timeline may scroll sideways in its own box; the page itself may not.
PAGE_WIDTH = "() => document.documentElement.scrollWidth"
TIMELINE_FONT = """() => {
  const svg = document.querySelector("#timeline");
  if (!svg) return null;
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = [...svg.querySelectorAll("text")].map(t => parseFloat(t.getAttribute("font-size")));
  return Math.min(...sizes) * scale;
}"""


def _browser_page(width: int, height: int) -> Iterator[Any]:
    if not AXE_JS.exists():
        pytest.skip("axe-core is not installed (bin/test installs it with npm)")
    yield from browser_page(
        viewport={"width": width, "height": height}, locale="en-US", timezone_id="Europe/London"
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("size", list(WIDTHS))
def test_every_page_has_no_serious_axe_violation_and_fits_the_screen(
    live_server: LiveServer, size: str
) -> None:
    width, height = WIDTHS[size]
    found: dict[str, list[str]] = {}
    too_wide: dict[str, int] = {}
    visited = []
    for page in _browser_page(width, height):
        for stop in tour(page, live_server.app, live_server.url):
            visited.append(stop)
            blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
            if blocking:
                found[stop] = [f"{v['impact']} {v['id']}: {v['targets']}" for v in blocking]
            if page.evaluate(PAGE_WIDTH) > width:
                too_wide[stop] = page.evaluate(PAGE_WIDTH)
            if stop in ("preview", "handover"):
                assert page.evaluate(TIMELINE_FONT) >= 12, f"{stop}: timeline labels under 12 px"
                # Repeats are words, never the raw rule; times say whose zone they are in.
                table = page.inner_text("#plan")
                assert "RRULE" not in table and "Every 2 weeks on " in table
                assert "your time" in table and "New York time" in table
    assert len(visited) == 18, visited
    assert found == {}
    assert too_wide == {}


def _tab_to(page: Any, selector: str, limit: int = 120) -> None:
    """Press Tab until the element is focused (the keyboard's only way around the page)."""
    target = page.locator(selector)
    for _ in range(limit):
        if target.evaluate("el => el === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_form_filled_and_sent_with_the_keyboard_alone(live_server: LiveServer) -> None:
    for page in _browser_page(1280, 900):
        page.goto(f"{live_server.url}/handovers/new")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        typed = {
            "#client\\.name": "Initech",
            "#client\\.timezone": "America/Chicago",
            "#client\\.domain": "initech.example",
            "#project\\.name": "TPS Reports",
            "#project\\.proposal_url": "https://docs.example/initech",
            "#account_manager\\.name": "Ada Lane",
            "#account_manager\\.email": "ada@agency.example",
            # With a PM named the meetings go at once (without one they wait for Operations).
            "#project_manager\\.name": "Pat Moss",
            "#project_manager\\.email": "pat@agency.example",
            "#sales\\.0\\.name": "Sam Reed",
            "#sales\\.0\\.email": "sam@agency.example",
            "#client_contacts\\.0\\.name": "Bill Lumbergh",
            "#client_contacts\\.0\\.email": "bill@initech.example",
            "#success\\.why_bought": "Too many cover sheets.",
            "#success\\.problem_and_goals": "One report, one cover sheet.",
            "#success\\.success_definition": "No memo about cover sheets for a quarter.",
        }
        for selector, text in typed.items():
            _tab_to(page, selector)
            page.keyboard.type(text)
            if selector == "#project\\.name":
                _tab_to(page, "#project\\.contract_signed_on")
                page.keyboard.type("11202026")
                _tab_to(page, "#project\\.sync_cadence")
                page.keyboard.type("monthly")
            if selector == "#client_contacts\\.0\\.email":
                _tab_to(page, "input[name='client_contacts.0.roles'][value=executive_sponsor]")
                page.keyboard.press("Space")
        assert page.input_value("#project\\.contract_signed_on") == "2026-11-20"
        assert page.input_value("#project\\.sync_cadence") == "monthly"
        page.keyboard.press("Shift+Tab")  # back one field and forward again: nothing is lost
        page.keyboard.press("Tab")
        _tab_to(page, "#submit")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/handovers/[0-9a-f]+$"))
        page.wait_for_selector("#status.state-done", timeout=30_000)
        assert page.title().startswith("Initech: TPS Reports")
        page.reload()
        assert "Bill Lumbergh" in page.inner_text("#plan")
