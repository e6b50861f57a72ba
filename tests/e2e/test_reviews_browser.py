"""Contract reviews in a real browser (Debian's chromium), at 1280 and 390 px: the due
badges and counts, the decision's confirmation, and the upload form, each page with no
serious axe-core violation and no sideways scroll on a phone."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import Clock, LiveServer
from tests.e2e.signin_support import a_review, kickoff
from tests.e2e.tour import AXE_JS, BLOCKING, WIDTHS, axe_violations, browser_page

pytestmark = pytest.mark.browser

LONDON = ZoneInfo("Europe/London")
PAGE_WIDTH = "() => document.documentElement.scrollWidth"


def _check(page: object, width: int, stop: str, problems: dict[str, list[str]]) -> None:
    blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
    found = [f"{v['impact']} {v['id']}: {v['targets']}" for v in blocking]
    if page.evaluate(PAGE_WIDTH) > width:  # type: ignore[attr-defined]
        found.append(f"{page.evaluate(PAGE_WIDTH)} px wide")  # type: ignore[attr-defined]
    if found:
        problems[stop] = found


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("size", list(WIDTHS))
def test_badges_confirmation_and_upload_in_the_browser(
    live_server: LiveServer, size: str, tmp_path: Path
) -> None:
    if not AXE_JS.exists():
        pytest.skip("axe-core is not installed (bin/test installs it with npm)")
    app, base = live_server.app, live_server.url
    services = app.extensions["handover"]
    services.clock = Clock(datetime(2026, 11, 27, 16, 0, tzinfo=LONDON))  # Friday
    kickoff(app)
    a_review(app, "SOW - Acme Corp v1.docx")  # may go to the client Monday 16:00
    services.clock.now = datetime(2026, 12, 2, 10, 0, tzinfo=LONDON)  # Wednesday: overdue
    draft = tmp_path / "MSA - Acme Corp.pdf"
    draft.write_bytes(b"%PDF-1.7 msa")
    width, height = WIDTHS[size]
    problems: dict[str, list[str]] = {}

    for page in browser_page(
        viewport={"width": width, "height": height}, locale="en-US", timezone_id="Europe/London"
    ):
        page.goto(f"{base}/reviews")
        assert page.inner_text("#review-counts") == "1 to review, 1 overdue"
        assert page.inner_text("#reviews .badge") == "Overdue by 2 business days"
        assert page.text_content("#nav-reviews-due") == "1 to review"  # read out whole
        assert page.inner_text("#nav-reviews-overdue") == "1 overdue"
        _check(page, width, "reviews", problems)

        page.click("#reviews a[href^='/reviews/']")
        page.check("input[value=changes_requested]")
        page.fill("#comment", "Clause 4 names the wrong client.")
        page.click("#decision-form button[type=submit]")
        page.wait_for_selector("#confirmation")
        assert page.inner_text("#confirmation").startswith(
            "Recorded: changes requested. The AM Ada Lane was told."
        )
        _check(page, width, "review decided", problems)

        page.goto(f"{base}/reviews/upload")
        _check(page, width, "upload", problems)
        page.set_input_files("#file", str(draft))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#uploaded")
        assert page.inner_text("h1") == "MSA - Acme Corp.pdf"
        _check(page, width, "uploaded", problems)
        page.goto(f"{base}/reviews")
        assert page.inner_text("#review-counts") == "1 to review, 0 overdue"
    assert problems == {}
