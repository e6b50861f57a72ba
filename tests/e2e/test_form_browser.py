"""The form in a real headless Chromium: the error summary, rows, and previews in view."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import LiveServer
from tests.e2e.tour import WIDTHS, browser_page, fill_form

pytestmark = pytest.mark.browser


@pytest.fixture(params=sorted(WIDTHS))
def page(request: pytest.FixtureRequest) -> Iterator[Any]:
    width, height = WIDTHS[request.param]
    yield from browser_page(viewport={"width": width, "height": height})


def wait_for_focus(page: Any, element_id: str) -> None:
    """Wait (5 s at most) until the element has the focus; fail if it never gets it."""
    page.wait_for_load_state()
    page.wait_for_function(
        "(id) => document.activeElement && document.activeElement.id === id",
        arg=element_id,
        timeout=5_000,
    )


def focused_id(page: Any) -> str:
    return str(page.evaluate("() => document.activeElement && document.activeElement.id"))


def in_view(page: Any, selector: str) -> bool:
    return bool(
        page.evaluate(
            """(selector) => {
              const box = document.querySelector(selector).getBoundingClientRect();
              return box.top >= -1 && box.bottom > 0 && box.top < window.innerHeight;
            }""",
            selector,
        )
    )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_errors_are_summarised_focused_and_linked_to_their_fields(
    live_server: LiveServer, page: Any
) -> None:
    page.goto(f"{live_server.url}/handovers/new")
    fill_form(page)
    page.fill("#client\\.timezone", "Berlin")  # a city, not a zone of the list
    page.fill("#account_manager\\.email", "ada-at-agency")
    page.uncheck("input[name='client_contacts.0.roles'][value=executive_sponsor]")
    page.check("input[name='client_contacts.0.roles'][value=buyer]")
    page.click("#submit")
    page.wait_for_selector("#error-summary")

    wait_for_focus(page, "error-summary")
    assert in_view(page, "#error-summary")
    assert page.inner_text("#error-summary h2") == "There are 3 problems"
    links = page.locator("#error-summary a")
    assert links.all_inner_texts() == [
        "Client: time zone: Choose the client's time zone from the list, such as Europe/Berlin.",
        "Account Manager: email: Enter an email address such as ada@agency.example.",
        "Client contacts: Tick \u201cExecutive sponsor\u201d for at least one client contact: "
        "they are invited to the Executive Sponsor Sync.",
    ]
    zone = page.locator("#client\\.timezone")
    assert zone.get_attribute("aria-invalid") == "true"
    assert zone.get_attribute("aria-describedby") == "client.timezone-error"
    assert page.locator("#account_manager\\.email").get_attribute("aria-invalid") == "true"
    assert page.locator("#project\\.name").get_attribute("aria-invalid") is None

    links.nth(1).click()
    assert focused_id(page) == "account_manager.email"
    assert page.input_value("#client\\.name") == "Globex Corp"  # what was typed is kept


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_rows_are_added_with_focus_removed_and_renumbered(
    live_server: LiveServer, page: Any
) -> None:
    page.goto(f"{live_server.url}/handovers/new")
    fill_form(page)
    remove = "#delivery_team > .person [data-remove]"
    assert page.locator(remove).first.is_hidden()  # the only row is not removed
    for n, name in enumerate(["Kiran Rao", "Mo Diaz"], 1):
        page.click("button[data-add=delivery_team]")
        assert focused_id(page) == f"delivery_team.{n}.name"  # focus on the new row
        page.keyboard.type(name)
        page.fill(f"#delivery_team\\.{n}\\.email", f"{name.split()[0].lower()}@agency.example")
        page.fill(f"#delivery_team\\.{n}\\.role", "Engineer")
    assert page.locator(remove).count() == 3
    assert page.locator(remove).nth(1).get_attribute("aria-label") == "Remove team member 2"

    page.locator(remove).nth(1).click()  # Kiran goes; Mo becomes the second row
    assert page.locator("#delivery_team > .person").count() == 2
    assert page.input_value("#delivery_team\\.1\\.name") == "Mo Diaz"
    assert page.get_attribute("label[for='delivery_team.1.name']", "for") == "delivery_team.1.name"
    assert focused_id(page) == "delivery_team.1.name"
    assert page.locator(remove).nth(1).get_attribute("aria-label") == "Remove team member 2"
    page.click("button[data-add=delivery_team]")
    assert focused_id(page) == "delivery_team.2.name"  # numbers stay contiguous

    page.click("#preview")
    page.wait_for_selector("#preview-plan")
    # The preview is in view, its heading focused; the kept rows are the ones sent.
    wait_for_focus(page, "preview-heading")
    assert in_view(page, "#preview-heading")
    assert page.input_value("#delivery_team\\.1\\.name") == "Mo Diaz"
    assert page.locator("#delivery_team > .person").count() == 2  # the blank third row dropped
    assert "Kiran Rao" not in page.inner_text("#preview-plan")
    assert "Mo Diaz" in page.inner_text("#preview-plan")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= page.viewport_size[
        "width"
    ]
