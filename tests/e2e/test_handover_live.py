"""The handover page follows the handover by itself: steps, meetings and links appear
without a reload, and it stops asking once nothing changes by itself any more."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from service.demo import example_handover
from service.workflows import kickoff
from tests.conftest import LiveServer
from tests.e2e.tour import browser_page

pytestmark = pytest.mark.browser


class Held:
    """A queue that keeps the jobs: the handover waits, as submitted, until the test lets it go."""

    def enqueue(
        self, job: str, payload: Mapping[str, str], *, key: str, delay_seconds: float = 0
    ) -> None:
        pass


@pytest.fixture
def page() -> Iterator[Any]:
    yield from browser_page(viewport={"width": 390, "height": 844}, timezone_id="Europe/Berlin")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_meetings_and_links_appear_without_a_reload_then_the_page_stops_asking(
    live_server: LiveServer, page: Any
) -> None:
    services = live_server.app.extensions["handover"]
    made = kickoff.submit_handover(
        example_handover("Acme Corp"), idempotency_key=None, actor="sam@agency.example",
        db=services.db, tasks=Held(),
    )  # fmt: skip
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if r.url.endswith("/live") else None)
    page.goto(f"{live_server.url}/handovers/{made.handover_id}")
    assert page.text_content("#status") == "Waiting to start"
    assert page.locator("#meetings").count() == 0 and page.locator("#brief-link").count() == 0
    page.evaluate("() => { window.sameDocument = true; }")

    kickoff.queue_advance(services.tasks, made.handover_id)  # the steps run now

    page.wait_for_selector("#meetings [data-meeting=sales_handover]", timeout=30_000)
    page.wait_for_selector("#brief-link", timeout=30_000)
    page.wait_for_selector("#live[data-finished='1']", timeout=30_000)
    assert page.evaluate("() => window.sameDocument") is True  # no reload: the same document
    row = page.text_content("[data-meeting=sales_handover]") or ""
    assert "Invitation sent" in row and page.text_content("#status") == "Done"
    # The times the swap brought in are in the viewer's zone too, the meeting's own beside.
    assert "15:00-16:00 your time (09:00-10:00 New York time)" in row
    # Finished: it asks no more.
    seen = len(asked)
    page.wait_for_timeout(2500)
    assert len(asked) == seen
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 390
