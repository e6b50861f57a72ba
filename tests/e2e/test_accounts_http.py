"""The account rhythm end to end over HTTP, as the AM, the PM, Operations and Sales:
opportunities, escalations, tasks, ad-hoc notes, the page, the agenda, health; each
notice emailed once (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes, policy
from typing import Any

from flask import Flask

from service.store.models import AuditRow
from tests.conftest import API_TOKEN, confirm_client_meetings
from tests.e2e.signin_support import (
    OPS,
    SALES,
    app_fixture,  # noqa: F401 - the app fixture
    csrf_of,
    google_fixture,  # noqa: F401 - the google fixture
    kickoff,
    pm_at,
)
from tests.e2e.signin_support import (
    page_client_as as client_as,  # API calls as the account page makes them
)
from tests.fakes.oidc import FakeGoogleSignIn

AM, PM = "ada@agency.example", "pat@agency.example"
ACCOUNT = "acmecorp.example"


def mails(app: Flask) -> list[Any]:
    services = app.extensions["handover"]
    return [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in services.mail.messages()
    ]


def to_of(app: Flask, subject_start: str) -> list[tuple[str, str]]:
    """Return (To, Cc) of each email whose subject starts so."""
    return [
        (str(m["To"]), str(m["Cc"] or ""))
        for m in mails(app)
        if " ".join(str(m["Subject"]).split()).startswith(subject_start)
    ]


def test_handover_names_its_account_and_the_account_answers(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    handover_id = kickoff(app)
    # The AM confirms the proposed Executive Sponsor Sync (nothing reaches the client before).
    confirm_client_meetings(app.extensions["handover"], handover_id)
    am = client_as(app, google, AM)

    handover = am.get(f"/api/handovers/{handover_id}").get_json()
    account = am.get(f"/api/accounts/{handover['account_id']}").get_json()

    assert handover["account_id"] == ACCOUNT
    assert account["id"] == ACCOUNT and account["client"] == "Acme Corp"
    assert [p["id"] for p in account["projects"]] == [handover_id]
    assert account["people"]["account_managers"] == [{"email": AM, "name": "Ada Lane"}]
    assert account["people"]["project_managers"] == [{"email": PM, "name": "Pat Moss"}]
    assert {s["kind"] for s in account["next_syncs"]} == {
        "internal_account_sync", "executive_sponsor_sync"
    }
    for who, status in [(PM, 200), ("ola@agency.example", 200), ("boss@agency.example", 200),
                        (SALES, 403), ("pia@agency.example", 403)]:  # fmt: skip
        assert client_as(app, google, who).get(f"/api/accounts/{ACCOUNT}").status_code == status
        listed = client_as(app, google, who).get("/accounts").get_data(as_text=True)
        assert (f"/accounts/{ACCOUNT}" in listed) == (status == 200 or who == SALES), who
    assert am.get("/api/accounts/nobody.example").status_code == 404
    assert am.get("/accounts/nobody.example").status_code == 404
    assert client_as(app, google, "pia@agency.example").get(f"/accounts/{ACCOUNT}").status_code \
        == 403
    page = am.get(f"/accounts/{ACCOUNT}").get_data(as_text=True)
    assert "Ada Lane" in page and "Pat Moss" in page and 'id="task-form"' in page
    handover_page = am.get(f"/handovers/{handover_id}").get_data(as_text=True)
    assert f'href="/accounts/{ACCOUNT}"' in handover_page


def test_sales_may_log_an_opportunity_from_the_page_and_see_nothing_else(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    sales = client_as(app, google, SALES)
    page = sales.get(f"/accounts/{ACCOUNT}").get_data(as_text=True)
    assert 'id="opportunity-form"' in page
    assert 'id="escalation-form"' not in page and "Pat Moss" not in page

    empty = sales.post(f"/accounts/{ACCOUNT}/opportunities",
                       data={"csrf_token": csrf_of(page), "summary": "  "})  # fmt: skip
    assert empty.status_code == 422 and "is required" in empty.get_data(as_text=True)
    logged = sales.post(f"/accounts/{ACCOUNT}/opportunities", data={
        "csrf_token": csrf_of(page), "summary": "They asked about an app", "urgent": "on"})
    assert logged.status_code == 303 and logged.headers["Location"].endswith("?logged=1")
    assert sales.post(f"/accounts/{ACCOUNT}/tasks", data={
        "csrf_token": csrf_of(page), "title": "x", "owner_email": SALES, "due_on": "2027-01-01"
    }).status_code == 403  # fmt: skip
    assert to_of(app, "Urgent opportunity at Acme Corp") == [(AM, "")]
    [opp] = client_as(app, google, AM).get(f"/api/accounts/{ACCOUNT}").get_json()[
        "opportunities"]  # fmt: skip
    assert opp["raised_by"] == SALES and opp["state"] == "new"


def test_hostile_and_malformed_input_is_refused_naming_the_field(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    pm = client_as(app, google, PM)
    url = f"/api/accounts/{ACCOUNT}"

    cases = [
        ("opportunities", {"summary": "bell\x07", "urgent": False}, "summary"),
        ("opportunities", {"summary": "ok", "urgent": "yes"}, "urgent"),
        ("opportunities", ["not", "an", "object"], "body"),
        ("escalations", {"summary": "x" * 5000, "severity": "low"}, "summary"),
        ("tasks", {"title": "t", "owner_email": PM, "due_on": "31/01/2027"}, "due_on"),
        ("tasks", {"title": "t", "owner_email": "not an address", "due_on": "2027-01-31"},
         "owner_email"),
        ("notes", {"held_on": "2026-12-01", "attendees": [], "notes": "n"}, "attendees"),
    ]  # fmt: skip
    for collection, body, field in cases:
        answer = pm.post(f"{url}/{collection}", json=body)
        assert answer.status_code == 422, (collection, body, answer.get_data(as_text=True))
        assert [e["field"] for e in answer.get_json()["errors"]] == [field], body
    account = pm.get(url).get_json()
    assert account["opportunities"] == account["escalations"] == account["notes"] == []
    assert [t for t in account["tasks"] if t["kind"] == "task"] == []


def test_an_urgent_opportunity_emails_the_am_once_the_rest_wait_for_the_agenda(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    pm = client_as(app, google, PM)
    url = f"/api/accounts/{ACCOUNT}/opportunities"
    headers = {"Idempotency-Key": "opp-1"}

    urgent = pm.post(url, json={"summary": "Wants a mobile app", "urgent": True}, headers=headers)
    again = pm.post(url, json={"summary": "Wants a mobile app", "urgent": True}, headers=headers)
    calm = pm.post(url, json={"summary": "Maybe a second site next year", "urgent": False})
    # Sales may log one too (the API token is Sales), but may not read the account.
    sales = app.test_client().post(
        url, json={"summary": "Heard at the trade show"},
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )  # fmt: skip

    assert urgent.status_code == 201 and again.status_code == 200
    assert again.get_json()["id"] == urgent.get_json()["id"]
    assert calm.status_code == 201 and sales.status_code == 201
    assert to_of(app, "Urgent opportunity at Acme Corp") == [(AM, "")]
    agenda = pm.get(f"/api/accounts/{ACCOUNT}/agenda").get_json()
    summaries = {i["summary"] for i in agenda["items"] if i["kind"] == "opportunity"}
    assert {"Maybe a second site next year", "Heard at the trade show"} <= summaries
    assert agenda["sync_starts_at"] and agenda["document_url"] is None
    assert {"kind", "summary", "owner", "due_on"} <= set(agenda["items"][0])


def test_an_opportunity_the_am_raises_waits_for_the_pm_before_the_client(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    am, pm = client_as(app, google, AM), client_as(app, google, PM)
    made = am.post(f"/api/accounts/{ACCOUNT}/opportunities", json={"summary": "New brand site"})
    opp = made.get_json()["id"]
    move = f"/api/accounts/{ACCOUNT}/opportunities/{opp}/state"

    early = am.post(move, json={"state": "with_client"})
    assert early.status_code == 409 and early.get_json()["errors"][0]["field"] == "state"
    assert to_of(app, "Before it goes further") == [(PM, "")]
    assert pm.post(move, json={"state": "won"}).status_code == 403  # the AM moves it on
    assert pm.post(f"/api/accounts/{ACCOUNT}/items/{opp}/acknowledge", json={}).status_code == 200
    assert am.post(move, json={"state": "with_client", "note": "Call on Monday"}).status_code == 200
    assert am.post(move, json={"state": "won"}).status_code == 200
    assert am.post(move, json={"state": "lost"}).status_code == 409

    [item] = am.get(f"/api/accounts/{ACCOUNT}").get_json()["opportunities"]
    assert [(h["state"], h["by"]) for h in item["history"]] == [
        ("awaiting_pm", AM), ("discussed_with_pm", PM), ("with_client", AM), ("won", AM)
    ]
    assert item["history"][2]["note"] == "Call on Monday"


def test_an_escalation_emails_the_am_who_acknowledges_it_stays_until_resolved(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    am, pm = client_as(app, google, AM), client_as(app, google, PM)
    url = f"/api/accounts/{ACCOUNT}/escalations"

    bad = pm.post(url, json={"summary": "Deploys keep failing", "severity": "dire"})
    assert bad.status_code == 422 and [e["field"] for e in bad.get_json()["errors"]] == ["severity"]
    assert am.post(url, json={"summary": "x", "severity": "high"}).status_code == 403
    made = pm.post(url, json={"summary": "Deploys keep failing", "severity": "high"})
    assert made.status_code == 201
    esc = made.get_json()["id"]
    assert to_of(app, "Escalation (high) at Acme Corp") == [(AM, "")]
    acknowledged = am.post(f"/api/accounts/{ACCOUNT}/items/{esc}/acknowledge", json={})
    assert acknowledged.status_code == 200

    on_agenda = am.get(f"/api/accounts/{ACCOUNT}/agenda").get_json()["items"]
    assert [i["state"] for i in on_agenda if i["kind"] == "escalation"] == ["acknowledged"]
    assert pm.post(f"/api/accounts/{ACCOUNT}/items/{esc}/close", json={}).status_code == 200
    after = am.get(f"/api/accounts/{ACCOUNT}/agenda").get_json()["items"]
    assert [i for i in after if i["kind"] == "escalation"] == []


def test_tasks_need_an_agency_owner_and_contract_reviews_are_the_pms_tasks(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from tests.e2e.signin_support import a_review

    kickoff(app)
    review_id = a_review(app)
    am = client_as(app, google, AM)
    url = f"/api/accounts/{ACCOUNT}/tasks"

    outside = am.post(url, json={"title": "Send SOW", "owner_email": "cleo@acmecorp.example",
                                 "due_on": "2027-01-15"})  # fmt: skip
    assert outside.status_code == 422
    assert [e["field"] for e in outside.get_json()["errors"]] == ["owner_email"]
    ok = am.post(url, json={"title": "Send SOW", "owner_email": PM, "due_on": "2027-01-15"})
    assert ok.status_code == 201

    tasks = am.get(f"/api/accounts/{ACCOUNT}").get_json()["tasks"]
    assert {(t["kind"], t["owner"]) for t in tasks} == {("task", PM), ("contract_review", PM)}
    assert review_id in {t["id"] for t in tasks}
    agenda = am.get(f"/api/accounts/{ACCOUNT}/agenda").get_json()["items"]
    assert ("task", "Send SOW", PM, "2027-01-15") in {
        (i["kind"], i["summary"], i["owner"], i["due_on"]) for i in agenda
    }
    assert "contract_review" in {i["kind"] for i in agenda}


def test_notes_of_an_ad_hoc_meeting_go_to_the_other_of_am_and_pm(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    pm = client_as(app, google, PM)
    url = f"/api/accounts/{ACCOUNT}/notes"
    body = {"held_on": "2026-12-01", "attendees": ["Cleo Buyer", PM], "notes": "They like it."}

    assert pm.post(url, json={**body, "held_on": "2999-01-01"}).status_code == 422
    assert pm.post(url, json=body).status_code == 201

    assert to_of(app, "Notes of a meeting with Acme Corp") == [(AM, "")]
    notes = pm.get(f"/api/accounts/{ACCOUNT}").get_json()["notes"]
    assert notes[0]["attendees"] == ["Cleo Buyer", PM]


def test_the_page_forms_log_items_and_say_what_is_wrong(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    pm = client_as(app, google, PM)
    page = pm.get(f"/accounts/{ACCOUNT}").get_data(as_text=True)
    token = csrf_of(page)
    assert 'id="escalation-form"' in page and 'id="opportunity-form"' in page
    assert 'name="viewport"' in page  # usable on a phone

    bad = pm.post(f"/accounts/{ACCOUNT}/tasks", data={
        "csrf_token": token, "form_key": "k" * 16, "title": "Plan Q2", "owner_email": "x@else.org",
        "due_on": "2027-02-01"})  # fmt: skip
    assert bad.status_code == 422 and "must be an address of the agency" in bad.get_data(
        as_text=True
    )
    for _ in range(2):  # a double click is one opportunity
        done = pm.post(f"/accounts/{ACCOUNT}/opportunities", data={
            "csrf_token": token, "form_key": "f" * 16, "summary": "Wants SEO work"})
        assert done.status_code == 303
    account = pm.get(f"/api/accounts/{ACCOUNT}").get_json()
    assert [o["summary"] for o in account["opportunities"]] == ["Wants SEO work"]
    assert "Wants SEO work" in pm.get(f"/accounts/{ACCOUNT}").get_data(as_text=True)


def test_health_answers_are_drawn_over_time_and_everything_is_audited(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    am = client_as(app, google, AM)
    url = f"/api/accounts/{ACCOUNT}/health"
    answers = {"on_track": "yes", "resourcing_met": "partly", "client_happy": "yes",
               "would_recommend": "no"}  # fmt: skip

    assert am.post(url, json={**answers, "sync_on": "2026-12-01", "on_track": "so-so"}
                   ).status_code == 422  # fmt: skip
    assert am.post(url, json={**answers, "sync_on": "2026-12-01"}).status_code == 201
    assert am.post(url, json={**answers, "sync_on": "2026-12-15", "client_happy": "no"}
                   ).status_code == 201  # fmt: skip

    health = am.get(f"/api/accounts/{ACCOUNT}").get_json()["health"]
    assert [(h["sync_on"], h["answers"]["client_happy"]) for h in health] == [
        ("2026-12-01", "yes"), ("2026-12-15", "no")
    ]
    page = am.get(f"/accounts/{ACCOUNT}").get_data(as_text=True)
    assert 'id="health-chart"' in page and page.count('class="health-line"') == 4
    services = app.extensions["handover"]
    with services.db.transaction() as session:
        actions = [a.action for a in session.query(AuditRow).filter(AuditRow.subject == ACCOUNT)]
    assert actions.count("health.answered") == 2


def test_operations_may_act_on_every_account_and_admins_mark_executive_items(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    confirm_client_meetings(app.extensions["handover"], kickoff(app))
    ops = app.test_client()
    made = ops.post(f"/api/accounts/{ACCOUNT}/tasks", headers=OPS,
                    json={"title": "Renewal call", "owner_email": AM, "due_on": "2027-03-01"})
    assert made.status_code == 201
    am = client_as(app, google, AM)
    marked = am.post(f"/api/accounts/{ACCOUNT}/agenda/executive",
                     json={"items": [made.get_json()["id"]]})  # fmt: skip
    assert marked.status_code == 200
    executive = am.get(
        f"/api/accounts/{ACCOUNT}/agenda?meeting=executive_sponsor_sync"
    ).get_json()["items"]
    assert ("task", "Renewal call") in {(i["kind"], i["summary"]) for i in executive}
    assert "project_status" in {i["kind"] for i in executive}


def test_task_reminders_go_before_the_due_date_and_when_overdue_once_each(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from datetime import UTC, datetime

    from service.jobs import run_job

    services = app.extensions["handover"]
    clock, pm = pm_at(app, google, datetime(2027, 1, 11, 15, 0, tzinfo=UTC))
    made = pm.post(f"/api/accounts/{ACCOUNT}/tasks",
                   json={"title": "Send SOW", "owner_email": PM, "due_on": "2027-01-15"})
    assert made.status_code == 201

    run_job(services, "account_reminders", {})
    assert to_of(app, "Due soon: Send SOW") == []  # four days ahead: nothing yet
    clock.now += timedelta(days=3)  # Thursday: due tomorrow
    run_job(services, "account_reminders", {})
    run_job(services, "account_reminders", {})
    assert to_of(app, "Due soon: Send SOW") == [(PM, AM)]
    clock.now += timedelta(days=2)  # Saturday: overdue
    run_job(services, "account_reminders", {})
    run_job(services, "account_reminders", {})
    assert to_of(app, "Overdue: Send SOW") == [(PM, AM)]
    done = pm.post(f"/api/accounts/{ACCOUNT}/items/{made.get_json()['id']}/close", json={})
    assert done.status_code == 200
    clock.now += timedelta(days=30)
    run_job(services, "account_reminders", {})
    assert len(to_of(app, "Overdue: Send SOW")) == 1


class MailDownOnce:
    """The outbox failing for its first message (Gmail down), then working."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.failed = inner, False

    def send(self, email: Any) -> str:
        if not self.failed:
            self.failed = True
            raise ConnectionError("mail is down")
        return str(self.inner.send(email))


def test_a_notice_mail_could_not_send_goes_out_with_the_next_reminders_run_once(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from service.jobs import run_job

    services = app.extensions["handover"]
    kickoff(app)
    outbox = services.mail
    services.mail = MailDownOnce(outbox)
    pm = client_as(app, google, PM)

    made = pm.post(f"/api/accounts/{ACCOUNT}/escalations",
                   json={"summary": "The client is unhappy", "severity": "critical"})
    services.mail = outbox

    assert made.status_code == 201  # stored: nothing the PM submitted is lost
    assert to_of(app, "Escalation (critical)") == []
    run_job(services, "account_reminders", {})
    run_job(services, "account_reminders", {})
    assert to_of(app, "Escalation (critical) at Acme Corp") == [(AM, "")]
