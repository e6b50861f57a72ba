"""Contract reviews over real HTTP: the API, the review page's forms, the unmatched page."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import requests

from tests.conftest import API_TOKEN, TASKS_SECRET, LiveServer
from tests.integration.test_contract_reviews import all_reviews, drop, kickoff_acme, mails

TOKEN = {"Authorization": f"Bearer {API_TOKEN}"}


def services_of(server: LiveServer) -> Any:
    services = server.app.extensions["handover"]
    services.review_policy = replace(services.review_policy, settle_seconds=0)
    return services


def run_sync(server: LiveServer) -> None:
    """Run the sync job as the queue or cron would, over HTTP."""
    answer = requests.post(
        f"{server.url}/tasks/run/sync_drive", json={}, headers={"X-Tasks-Secret": TASKS_SECRET},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    server.app.extensions["handover"].tasks.wait_idle()


def a_review(server: LiveServer, name: str = "SOW - Acme Corp v1.docx") -> str:
    services = services_of(server)
    drop(kickoff_acme(services), name)
    run_sync(server)
    return str(all_reviews(services)[-1].id)


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def test_the_api_lists_reviews_and_records_a_decision(live_server: LiveServer) -> None:
    review_id = a_review(live_server)

    listed = requests.get(f"{live_server.url}/api/reviews", timeout=10).json()["reviews"]
    [review] = listed
    assert review["id"] == review_id and review["state"] == "open"
    assert review["project_manager"]["email"] == "pat@agency.example"
    assert review["deadline"] and "(London time)" in review["deadline_text"]
    assert review["file"]["kind"] == "sow"
    only_open = requests.get(f"{live_server.url}/api/reviews?state=approved", timeout=10).json()
    assert only_open["reviews"] == []

    answer = requests.post(
        f"{live_server.url}/api/reviews/{review_id}/decision",
        json={"decision": "approved", "comment": "Fine to send."},
        headers={"Origin": live_server.url},  # as the review page's script sends it
        timeout=10,
    )

    assert answer.status_code == 200, answer.text
    assert answer.json()["state"] == "approved"
    assert answer.json()["decided_by"] == "dev@localhost"
    page = requests.get(f"{live_server.url}/reviews/{review_id}", timeout=10).text
    assert "approved" in page and "Fine to send." in page


def test_bad_decisions_answer_422_naming_the_field(live_server: LiveServer) -> None:
    review_id = a_review(live_server)
    url = f"{live_server.url}/api/reviews/{review_id}/decision"
    web = requests.Session()
    web.headers["Origin"] = live_server.url  # as the review page's script sends it

    bad = web.post(url, json={"decision": "yes please"}, timeout=10)
    assert bad.status_code == 422
    assert [e["field"] for e in bad.json()["errors"]] == ["decision"]
    no_comment = web.post(url, json={"decision": "changes_requested"}, timeout=10)
    assert no_comment.status_code == 422
    assert [e["field"] for e in no_comment.json()["errors"]] == ["comment"]
    assert web.post(url, data="decision=approved", timeout=10).status_code == 415
    assert web.post(url, json=["approved"], timeout=10).status_code == 400
    missing = f"{live_server.url}/api/reviews/nope/decision"
    assert web.post(missing, json={"decision": "approved"}, timeout=10).status_code == 404
    state = requests.get(f"{live_server.url}/api/reviews/{review_id}", timeout=10).json()
    assert state["state"] == "open"


def test_a_sales_token_may_neither_read_nor_decide_reviews(
    live_server: LiveServer,
) -> None:
    # Contract reviews are the PM's, AM's and Operations' part, not Sales'.
    review_id = a_review(live_server)
    listed = requests.get(f"{live_server.url}/api/reviews", headers=TOKEN, timeout=10)
    assert listed.status_code == 403
    answer = requests.post(
        f"{live_server.url}/api/reviews/{review_id}/decision",
        json={"decision": "approved"}, headers=TOKEN, timeout=10,
    )
    assert answer.status_code == 403


def test_the_review_page_records_a_decision_with_its_csrf_token(live_server: LiveServer) -> None:
    review_id = a_review(live_server)
    browser = requests.Session()
    page = browser.get(f"{live_server.url}/reviews/{review_id}", timeout=10)
    assert "The earliest time the draft may go to the client" in page.text
    url = f"{live_server.url}/reviews/{review_id}/decision"

    forged = browser.post(url, data={"decision": "approved"}, timeout=10)
    assert forged.status_code == 400
    empty = browser.post(url, data={"csrf_token": csrf_of(page.text)}, timeout=10)
    assert empty.status_code == 422 and "must be approved or changes_requested" in empty.text
    answer = browser.post(
        url,
        data={"csrf_token": csrf_of(page.text), "decision": "changes_requested",
              "comment": "Cap the hours in 4.2"},
        timeout=10, allow_redirects=False,
    )

    assert answer.status_code == 303
    shown = browser.get(live_server.url + answer.headers["Location"], timeout=10).text
    assert "changes requested" in shown and "Cap the hours in 4.2" in shown
    listing = browser.get(f"{live_server.url}/reviews", timeout=10).text
    assert "SOW - Acme Corp v1.docx" in listing


def test_operations_assigns_an_unmatched_draft_from_its_page(
    live_server: LiveServer, tmp_path: Path
) -> None:
    services = services_of(live_server)
    kickoff_acme(services)
    intake = services.drive.ensure_folder("Intake", parent_id=None, properties={"kind": "intake"})
    services.settings = replace(services.settings, drive_intake_folder=intake.id)
    drop(Path(services.drive.path_of(intake.id)), "MSA - new prospect.pdf")
    run_sync(live_server)
    browser = requests.Session()
    page = browser.get(f"{live_server.url}/reviews/unmatched", timeout=10)
    assert "MSA - new prospect.pdf" in page.text
    review_id = re.search(r'action="/reviews/([0-9a-f]+)/account"', page.text).group(1)  # type: ignore[union-attr]

    answer = browser.post(
        f"{live_server.url}/reviews/{review_id}/account",
        data={"csrf_token": csrf_of(page.text), "account_key": "acmecorp.example"},
        timeout=10, allow_redirects=False,
    )

    assert answer.status_code == 303
    services.tasks.wait_idle()
    [review] = all_reviews(services)
    assert (review.state, review.account_key) == ("open", "acmecorp.example")
    assert len(mails(services, "Contract review:")) == 1
    assert "Nothing waiting" in browser.get(f"{live_server.url}/reviews/unmatched", timeout=10).text
