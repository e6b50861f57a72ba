"""A first-time user's tour of every page in a real browser, for axe-core and the screenshots.

`tour(page, app, base_url)` drives a Playwright page through the form, its errors, its
preview, the submitted handover filled in, its edit page and the preview of a change, its client folder (local
backend), a contract review and its decision, drafts without an account, the home page, the accounts, the
admin pages, an error page and the signed-out page, yielding each stop's name while the
browser shows it. The accessibility test runs axe-core at each stop;
`python -m tests.e2e.screenshots` takes a picture at each stop.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from flask import Flask

from tests.e2e.signin_support import a_review

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
AXE_JS = Path(
    os.environ.get("AXE_CORE_JS")
    or ROOT / ".venv" / "node" / "node_modules" / "axe-core" / "axe.min.js"
)
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
BLOCKING = ("serious", "critical")


def browser_page(**context: Any) -> Iterator[Any]:
    """Yield a page of Debian's headless Chromium (skip the test if it is not installed);
    `context` goes to Playwright's new_context (viewport, locale, timezone_id...)."""
    import pytest

    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (the README's test command installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        browser_context = browser.new_context(**context)
        try:
            yield browser_context.new_page()
        finally:
            browser_context.close()
            browser.close()


def fill_form(page: Any) -> None:
    """Fill the handover form as Sales would: a client, a team in three zones, a sponsor."""
    fill = page.fill
    fill("#client\\.name", "Globex Corp")
    fill("#client\\.timezone", "America/New_York")
    fill("#client\\.domain", "globex.example")
    fill("#project\\.name", "Dealer Portal")
    fill("#project\\.contract_signed_on", "2026-11-20")
    fill("#project\\.proposal_url", "https://docs.example/globex")
    page.select_option("#project\\.sync_cadence", "fortnightly")
    fill("#account_manager\\.name", "Ada Lane")
    fill("#account_manager\\.email", "ada@agency.example")
    fill("#project_manager\\.name", "Pat Moss")
    fill("#project_manager\\.email", "pat@agency.example")
    fill("#sales\\.0\\.name", "Sam Reed")
    fill("#sales\\.0\\.email", "sam@agency.example")
    fill("#delivery_team\\.0\\.name", "Lea Roth")
    fill("#delivery_team\\.0\\.email", "lea@agency.example")
    fill("#delivery_team\\.0\\.role", "Engineer")
    fill("#delivery_team\\.0\\.timezone", "Europe/Berlin")
    fill("#client_contacts\\.0\\.name", "Gina Sponsor")
    fill("#client_contacts\\.0\\.email", "gina@globex.example")
    page.check("input[name='client_contacts.0.roles'][value=executive_sponsor]")
    fill("#success\\.why_bought", "Their dealers phone in every order.")
    fill("#success\\.problem_and_goals", "Self-service ordering for 400 dealers.")
    fill("#success\\.success_definition", "Half of the orders online by Q2.")


def tour(page: Any, app: Flask, base: str) -> Iterator[str]:
    """Show every page in turn, yielding its name while the browser shows it."""
    page.goto(f"{base}/handovers/new")
    yield "form"
    page.click("#preview")  # nothing filled in: the form comes back with its errors
    page.wait_for_selector(".err")
    yield "form-errors"
    fill_form(page)
    page.click("#preview")
    page.wait_for_selector("#preview-plan")
    yield "preview"
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/handovers/[^/]+$"))
    page.wait_for_selector("#status.state-done", timeout=30_000)
    handover_url = page.url
    page.reload()  # the meetings, as someone opening the page later sees them
    yield "handover"
    account = page.get_attribute("#account-link a", "href")
    folder = page.get_attribute("#artifacts [data-kind=folder] a", "href")
    page.goto(f"{handover_url}/edit")
    page.wait_for_selector("#submit")
    yield "edit"
    page.click("button[data-add=delivery_team]")
    page.fill("#delivery_team\\.1\\.name", "Nia Okafor")
    page.fill("#delivery_team\\.1\\.email", "nia@agency.example")
    page.fill("#delivery_team\\.1\\.role", "QA")
    page.click("#preview-edit")
    page.wait_for_selector("#preview-change")
    yield "edit-preview"
    page.goto(f"{base}{folder}" if folder and folder.startswith("/") else str(folder))
    yield "folder"
    review = a_review(app, "SOW - Globex Corp v1.docx")
    page.goto(f"{base}/reviews")
    yield "reviews"
    page.goto(f"{base}/reviews/{review}")
    yield "review"
    page.check("#decision-form input[name=decision][value=approved]")
    page.click("#decision-form button[type=submit]")
    page.wait_for_selector("#confirmation")
    yield "review-decided"
    page.goto(f"{base}/reviews/unmatched")
    yield "unmatched"
    page.goto(f"{base}/")
    yield "home"
    page.goto(f"{base}/accounts")
    yield "accounts"
    page.goto(f"{base}{account}")
    yield "account"
    page.goto(f"{base}/admin/audit")
    yield "audit"
    page.goto(f"{base}/admin/people")
    yield "people"
    page.goto(f"{base}/handovers/no-such-handover")
    yield "error"
    page.goto(handover_url)
    page.evaluate(
        """() => {
          const form = document.createElement("form");
          form.method = "post"; form.action = "/logout";
          const token = document.querySelector("input[name=csrf_token]").cloneNode();
          form.appendChild(token); document.body.appendChild(form); form.submit();
        }"""
    )
    page.wait_for_url(re.compile(r".*/logout$"))
    yield "signed-out"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core (WCAG 2.x A and AA rules) on the page; return its violations."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=AXE_JS.read_text(encoding="utf-8"))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
          const result = await axe.run(document, {resultTypes: ["violations"]});
          return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
            targets: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
          }));
        }"""
    )
    return found


def impact_counts(violations: list[dict[str, Any]]) -> dict[str, int]:
    """Return the number of failing elements per impact (critical, serious, ...)."""
    out: dict[str, int] = {}
    for v in violations:
        out[v["impact"] or "none"] = out.get(v["impact"] or "none", 0) + v["nodes"]
    return out
