"""Pages in plain words: no ISO timestamps, internal keys or hex ids where people read; the
handover page's needs-attention panel; the home page's search and filters."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from service.demo import example_handover
from service.store.models import StepRow
from service.workflows import kickoff as use_cases
from tests.conftest import stored_artifact
from tests.e2e.plain_words import leaks, visible_text
from tests.e2e.signin_support import (  # noqa: F401 - fixtures
    SALES,
    a_review,
    app_fixture,
    client_as,
    google_fixture,
    kickoff,
    page_client_as,
)
from tests.fakes.oidc import FakeGoogleSignIn

ACCOUNT = "acmecorp.example"


def without_pm(app: Flask, client: str = "Initech") -> str:
    """Submit a handover with no PM yet (Operations assigns one later); return its id."""
    services = app.extensions["handover"]
    body = example_handover(client)
    body.pop("project_manager")
    made = use_cases.submit_handover(
        body, idempotency_key=None, actor=SALES, db=services.db, tasks=services.tasks
    )
    services.tasks.wait_idle()
    return str(made.handover_id)


def test_the_pages_show_no_iso_time_internal_key_or_hex_id(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    handover_id = kickoff(app)
    waiting = without_pm(app)
    a_review(app)
    pm = page_client_as(app, google, "pat@agency.example")
    am = page_client_as(app, google, "ada@agency.example")
    task = {"title": "Send SOW", "owner_email": "pat@agency.example", "due_on": "2027-01-15"}
    assert pm.post(f"/api/accounts/{ACCOUNT}/tasks", json=task).status_code == 201
    opportunity = am.post(f"/api/accounts/{ACCOUNT}/opportunities", json={"summary": "SEO"})
    assert opportunity.status_code == 201
    admin = client_as(app, google, "boss@agency.example")
    pages = [
        "/",
        f"/handovers/{handover_id}",
        f"/handovers/{handover_id}/live",
        f"/handovers/{waiting}",
        "/admin/audit",
        f"/admin/audit?subject={handover_id}",
        "/accounts",
        f"/accounts/{ACCOUNT}",
        "/operations/pm-needed",
        "/reviews",  # the review's own page is the "reviews" branch's (issue 13, item 2)
        "/admin/people",
    ]
    found = {}
    for url in pages:
        answer = admin.get(url)
        assert answer.status_code == 200, url
        text = visible_text(answer.get_data(as_text=True))
        found[url] = leaks(text)
    assert found == {url: [] for url in pages}
    account = visible_text(admin.get(f"/accounts/{ACCOUNT}").get_data(as_text=True))
    assert "Fri 15 Jan 2027" in account and "Ada Lane logged an opportunity on the account" in (
        account
    )


def attention_items(html: str) -> dict[str, str]:
    """Return the needs-attention panel's items by kind, as text with their link's target."""
    panel = re.search(r'<section id="attention".*?</section>', html, re.S)
    if panel is None:
        return {}
    items: dict[str, str] = {}
    for kind, body in re.findall(r'<li data-attention="(\w+)">(.*?)</li>', panel.group(0), re.S):
        link = re.search(r'href="([^"]+)"', body)
        text = visible_text(body).strip() + (f" -> {link.group(1)}" if link else "")
        items[kind] = items.get(kind, "") + text
    return items


def fail_a_step(app: Flask, handover_id: str, name: str, error: str) -> None:
    """Leave one step failed with this (user-facing) error, as a run that failed leaves it."""
    with app.extensions["handover"].db.transaction() as session:
        step = session.scalar(
            select(StepRow).where(StepRow.handover_id == handover_id, StepRow.name == name)
        )
        assert step is not None
        step.state, step.error = "failed", error


def test_the_needs_attention_panel_says_what_waits_on_whom_with_the_link_to_act(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    acme = kickoff(app)
    initech = without_pm(app)
    fail_a_step(app, acme, "share_brief", "PermissionError: the folder is not shared with us")
    ops = client_as(app, google, "ola@agency.example")
    pm = client_as(app, google, "pat@agency.example")

    waiting = attention_items(ops.get(f"/handovers/{initech}").get_data(as_text=True))
    assert waiting == {
        "pm": "No Project Manager yet: Operations assigns one. No meeting is planned or sent "
        "until then. Assign the Project Manager -> #pm-form"
    }
    as_ops = attention_items(ops.get(f"/handovers/{acme}").get_data(as_text=True))
    assert as_ops["meeting"].startswith(
        "The Client kickoff is proposed: Pat Moss must confirm its time before the client is "
        "invited. Confirm the time -> #meeting-client_kickoff"
    )
    assert "Executive Sponsor Sync is proposed: Ada Lane must confirm" in as_ops["meeting"]
    assert as_ops["failed"] == (
        "“Share the brief with the team” failed: PermissionError: the folder is not shared "
        "with us. Fix what the message says (often a sharing or permission setting in Google "
        "Workspace), then retry; Operations can retry it. Retry the failed step -> #retry-form"
    )
    # The PM confirms their own kickoff; the retry is Operations': no link they cannot use.
    as_pm = attention_items(pm.get(f"/handovers/{acme}").get_data(as_text=True))
    assert as_pm["meeting"].startswith(
        "The Client kickoff is proposed: Pat Moss must confirm its time before the client is "
        "invited. Confirm the time -> #meeting-client_kickoff"
    )
    assert "->" not in as_pm["failed"]
    # The same panel comes with the live sections the page swaps in.
    live = ops.get(f"/handovers/{acme}/live")
    assert live.headers["Cache-Control"] == "no-store"
    assert attention_items(live.get_data(as_text=True)) == as_ops


def test_a_meeting_outside_someones_hours_is_flagged_on_the_page_and_the_home_page(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    acme = kickoff(app)
    with stored_artifact(app, acme, "plan") as plan:
        plan.data = {
            **plan.data,
            "warnings": [
                "client_kickoff: Kiran Rao (Asia/Kolkata) is outside working hours 09:00-17:00: "
                "Tue 19:30 local, up to 150 min outside"
            ],
        }
    sales = client_as(app, google, SALES)
    items = attention_items(sales.get(f"/handovers/{acme}").get_data(as_text=True))
    assert items["hours"] == (
        "Client kickoff: Kiran Rao (Asia/Kolkata) is outside working hours 09:00-17:00: Tue "
        f"19:30 local, up to 150 min outside Change the handover -> /handovers/{acme}/edit"
    )
    home = visible_text(sales.get("/").get_data(as_text=True))
    assert "Outside someone's hours" in home


def home_rows(client: Any, query: str = "") -> list[str]:
    """Return the home page's lines as "client | PM | status | flags"."""
    html = client.get("/" + query).get_data(as_text=True)
    rows = re.findall(r'<tr data-status="\w+">(.*?)</tr>', html, re.S)
    out = []
    for row in rows:
        cells = [visible_text(c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        out.append(" | ".join([cells[0], cells[2], cells[3], cells[5]]))
    return out


def test_the_home_page_answers_what_needs_me_with_search_and_filters(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    acme = kickoff(app)
    without_pm(app, "Initech")
    gone = kickoff(app, client="Globex")
    services = app.extensions["handover"]
    use_cases.cancel_handover(
        gone, actor=SALES, db=services.db, tasks=services.tasks, clock=services.clock
    )
    services.tasks.wait_idle()
    ops = client_as(app, google, "ola@agency.example")

    assert home_rows(ops) == [
        "Globex | Pat Moss | Cancelled | ",
        "Initech | Not assigned yet | Setting up | No PM yet",
        "Acme Corp | Pat Moss | Done | Meeting to confirm",
    ]
    assert home_rows(ops, "?q=initech") == ["Initech | Not assigned yet | Setting up | No PM yet"]
    assert home_rows(ops, "?q=pat+moss") == [
        "Globex | Pat Moss | Cancelled | ",
        "Acme Corp | Pat Moss | Done | Meeting to confirm",
    ]
    assert home_rows(ops, "?status=done") == ["Acme Corp | Pat Moss | Done | Meeting to confirm"]
    assert home_rows(ops, "?attention=1") == [
        "Initech | Not assigned yet | Setting up | No PM yet",
        "Acme Corp | Pat Moss | Done | Meeting to confirm",
    ]
    assert home_rows(ops, "?q=acme&status=failed") == []
    assert "No handover matches" in ops.get("/?q=nobody").get_data(as_text=True)
    assert ops.get("/?status=finished").status_code == 400
    # "Mine": the handovers that name me (the PM sees theirs, not Initech's, which has none).
    pm = client_as(app, google, "pat@agency.example")
    assert [r.split(" | ")[0] for r in home_rows(pm, "?mine=1")] == ["Globex", "Acme Corp"]
    assert [r.split(" | ")[0] for r in home_rows(ops, "?mine=1")] == []
    # The next meeting, in words, in the meeting's zone for the page's script to localise.
    html = ops.get(f"/?q={'Acme'}").get_data(as_text=True)
    assert re.search(r"Sales handover: <time datetime=\"[^\"]+\" data-zone=\"America/New_York\">"
                     r"\w{3} \d\d \w{3} 2026, \d\d:\d\d New York time</time>", html)  # fmt: skip
    assert f'href="/handovers/{acme}"' in html


def test_the_home_page_keeps_its_filters_on_the_next_page(
    app: Flask, google: FakeGoogleSignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.web import pages

    monkeypatch.setattr(pages, "PAGE_SIZE", 1)
    kickoff(app)
    kickoff(app, client="Acme Two")
    ops = client_as(app, google, "ola@agency.example")
    first = ops.get("/?q=acme&attention=1").get_data(as_text=True)
    older = re.search(r'href="/\?([^"]+)">Older handovers', first)
    assert older is not None
    args = older.group(1).replace("&amp;", "&").split("&")
    assert {"attention=1", "q=acme"} <= set(args) and any(a.startswith("before=") for a in args)
    assert [r.split(" | ")[0] for r in home_rows(ops, "?q=acme&attention=1")] == ["Acme Two"]
    second = home_rows(ops, "?" + older.group(1).replace("&amp;", "&"))
    assert [r.split(" | ")[0] for r in second] == ["Acme Corp"]


def test_the_navigation_marks_the_current_page_on_every_page(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    handover_id = kickoff(app)
    admin = client_as(app, google, "boss@agency.example")
    expected = {
        "/": "Handovers",
        "/?q=acme": "Handovers",
        f"/handovers/{handover_id}": "Handovers",
        f"/handovers/{handover_id}/edit": "Handovers",
        "/handovers/new": "New handover",
        "/reviews": "Contract reviews",
        "/reviews/unmatched": "Contract reviews",
        "/accounts": "Accounts",
        f"/accounts/{ACCOUNT}": "Accounts",
        "/operations/pm-needed": "Waiting for a PM",
        "/admin/audit": "Audit",
        "/admin/people": "People",
    }
    marked = {}
    for url in expected:
        nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', admin.get(url).get_data(as_text=True),
                        re.S)  # fmt: skip
        assert nav is not None, url
        marked[url] = re.findall(r'<a href="[^"]+" aria-current="page">([^<]+)</a>', nav.group(1))
    assert marked == {url: [name] for url, name in expected.items()}
    # The header names the role in words.
    assert "boss@agency.example · Admin" in admin.get("/").get_data(as_text=True)
