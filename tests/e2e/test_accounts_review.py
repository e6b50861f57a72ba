"""Review of the account rhythm: attacks and edge cases found after issue 15 was merged
(SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask

from tests.e2e.signin_support import (
    app_fixture,  # noqa: F401 - the app fixture
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
URL = f"/api/accounts/{ACCOUNT}"


def _internal_agenda(services: Any) -> str:
    """Make the agenda of the account's next internal sync; return its document's text."""
    from pathlib import Path

    from service.store.account_models import AgendaRow
    from service.workflows import agendas

    ctx = services.rhythm
    occurrence = agendas.next_sync(ctx, ACCOUNT, agendas.INTERNAL, ctx.clock())
    assert occurrence is not None
    assert agendas.make_agenda(ACCOUNT, occurrence, ctx=ctx)
    with services.db.transaction() as session:
        document_id = session.query(AgendaRow).one().document_id
    return Path(services.drive.path_of(document_id)).read_text()


def _state(client: Any, kind: str, item_id: str) -> str:
    items = client.get(URL).get_json()[kind]
    return str(next(i["state"] for i in items if i["id"] == item_id))


def test_a_cross_site_form_cannot_acknowledge_or_resolve_through_the_cookie_api(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    pm, am = client_as(app, google, PM), client_as(app, google, AM)
    esc = pm.post(f"{URL}/escalations", json={"summary": "Unhappy", "severity": "high"})
    esc_id = esc.get_json()["id"]

    # What a hostile page's <form method="post"> sends with the victim's session cookie:
    # no JSON, no CSRF token (the API is exempt from the page's CSRF check).
    for action in ("acknowledge", "close"):
        forged = am.post(f"{URL}/items/{esc_id}/{action}", data={"note": "x"})
        assert forged.status_code == 415, forged.get_data(as_text=True)
        empty = am.post(f"{URL}/items/{esc_id}/{action}")
        assert empty.status_code == 415
    assert _state(am, "escalations", esc_id) == "open"
    assert am.post(f"{URL}/items/{esc_id}/acknowledge", json={}).status_code == 200
    assert _state(am, "escalations", esc_id) == "acknowledged"


def test_the_page_shows_each_sync_in_words_at_its_own_zones_time(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    kickoff(app)
    am = client_as(app, google, AM)
    syncs = am.get(URL).get_json()["next_syncs"]
    page = am.get(f"/accounts/{ACCOUNT}").get_data(as_text=True)

    assert syncs
    for sync in syncs:
        start = datetime.fromisoformat(sync["starts_at"])
        local = start.astimezone(ZoneInfo(sync["timezone"]))
        words = f"{local:%A} {local.day} {local:%B %Y}, {local:%H:%M}"
        assert sync["when"] == f"{words} ({sync['timezone']})"
        assert sync["when"] in page
        if local.utcoffset():  # the UTC wall time is not shown as if it were local
            assert f"{start:%Y-%m-%d %H:%M} ({sync['timezone']})" not in page


def _subjects(app: Flask) -> list[str]:
    from email import message_from_bytes, policy

    return [
        " ".join(str(message_from_bytes(p.read_bytes(), policy=policy.default)["Subject"]).split())
        for p in app.extensions["handover"].mail.messages()
    ]


def test_reminder_and_notes_emails_give_their_dates_in_words(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from service.jobs import run_job

    services = app.extensions["handover"]
    _, pm = pm_at(app, google, datetime(2027, 1, 14, 15, 0, tzinfo=UTC))
    assert pm.post(f"{URL}/tasks", json={"title": "Send SOW", "owner_email": PM,
                                         "due_on": "2027-01-15"}).status_code == 201
    assert pm.post(f"{URL}/notes", json={"held_on": "2027-01-13", "attendees": ["Kim"],
                                         "notes": "Talked"}).status_code == 201
    run_job(services, "account_reminders", {})

    subjects = _subjects(app)
    assert "Due soon: Send SOW (Acme Corp, due Friday 15 January 2027)" in subjects
    assert "Notes of a meeting with Acme Corp on Wednesday 13 January 2027" in subjects


def test_dates_out_of_range_or_in_other_shapes_are_refused_naming_the_field(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    pm = client_as(app, google, PM)
    for day in ("0001-01-01", "9999-12-31", "1899-12-31", "2027-W05-1", "20270131",
                "\uff12\uff10\uff12\uff17-01-31", "2027-01-31T10:00"):  # fmt: skip
        task = pm.post(f"{URL}/tasks", json={"title": "t", "owner_email": PM, "due_on": day})
        assert task.status_code == 422, (day, task.get_data(as_text=True))
        assert [e["field"] for e in task.get_json()["errors"]] == ["due_on"], day
        note = pm.post(f"{URL}/notes", json={"held_on": day, "attendees": ["Kim"], "notes": "n"})
        assert [e["field"] for e in note.get_json()["errors"]] == ["held_on"], day
        health = pm.post(f"{URL}/health", json={
            "sync_on": day, "on_track": "yes", "resourcing_met": "yes", "client_happy": "yes",
            "would_recommend": "yes"})  # fmt: skip
        assert health.status_code == 422
        assert [e["field"] for e in health.get_json()["errors"]] == ["sync_on"], day
    account = pm.get(URL).get_json()
    assert account["notes"] == account["health"] == []
    assert [t for t in account["tasks"] if t["kind"] == "task"] == []


def test_a_note_on_a_move_too_long_or_with_control_characters_is_refused_not_cut(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from tests.e2e.signin_support import csrf_of

    kickoff(app)
    pm, am = client_as(app, google, PM), client_as(app, google, AM)
    opp = pm.post(f"{URL}/opportunities", json={"summary": "More work", "urgent": False})
    esc = pm.post(f"{URL}/escalations", json={"summary": "Unhappy", "severity": "low"})
    opp_id, esc_id = opp.get_json()["id"], esc.get_json()["id"]

    for note in ("x" * 4001, "bell\x07", 42):
        moved = am.post(f"{URL}/opportunities/{opp_id}/state",
                        json={"state": "with_client", "note": note})  # fmt: skip
        assert moved.status_code == 422, moved.get_data(as_text=True)
        assert [e["field"] for e in moved.get_json()["errors"]] == ["note"]
        acked = am.post(f"{URL}/items/{esc_id}/acknowledge", json={"note": note})
        assert acked.status_code == 422
        assert [e["field"] for e in acked.get_json()["errors"]] == ["note"]
    page = am.get(f"/accounts/{ACCOUNT}").get_data(as_text=True)
    form = am.post(f"/accounts/{ACCOUNT}/items/{opp_id}/move",
                   data={"csrf_token": csrf_of(page), "state": "with_client", "note": "y" * 4001})
    assert form.status_code == 422 and "note must be at most" in form.get_data(as_text=True)
    assert _state(am, "opportunities", opp_id) == "new"
    assert _state(am, "escalations", esc_id) == "open"
    long_enough = "z" * 4000
    assert am.post(f"{URL}/opportunities/{opp_id}/state",
                   json={"state": "with_client", "note": long_enough}).status_code == 200
    [item] = am.get(URL).get_json()["opportunities"]
    assert item["history"][-1]["note"] == long_enough


def _statements(app: Flask, run: Any) -> int:
    """Return how many SQL statements `run()` sends."""
    from sqlalchemy import event

    engine = app.extensions["handover"].db.engine
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        run()
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return len(seen)


def test_the_reminders_run_reads_what_may_be_owed_not_every_item_ever(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from service.jobs import run_job

    services = app.extensions["handover"]
    _, pm = pm_at(app, google, datetime(2027, 1, 11, 15, 0, tzinfo=UTC))

    def add_some(n: int) -> None:
        for i in range(n):
            assert pm.post(f"{URL}/notes", json={"held_on": "2027-01-08", "attendees": ["Kim"],
                                                 "notes": f"n{i}"}).status_code == 201
            assert pm.post(f"{URL}/tasks", json={"title": f"t{i}", "owner_email": PM,
                                                 "due_on": "2027-06-30"}).status_code == 201
            assert pm.post(f"{URL}/escalations", json={"summary": f"e{i}",
                                                       "severity": "low"}).status_code == 201

    def reminders() -> None:
        run_job(services, "account_reminders", {})

    add_some(3)
    reminders()  # whatever a first run owes
    few = _statements(app, reminders)
    add_some(12)
    reminders()
    many = _statements(app, reminders)
    assert many == few, (few, many)  # 45 items, notices all sent, no task due: same cost
    mailed = len(list(services.mail.messages()))
    services.clock.now += timedelta(days=200)  # now every task is overdue: each told once
    reminders()
    reminders()
    assert len(list(services.mail.messages())) == mailed + 15


def test_two_people_using_the_same_idempotency_key_each_get_their_own_item(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    pm, am = client_as(app, google, PM), client_as(app, google, AM)
    key = {"Idempotency-Key": "k" * 200}

    mine = pm.post(f"{URL}/opportunities", json={"summary": "PM heard", "urgent": False},
                   headers=key)  # fmt: skip
    theirs = am.post(f"{URL}/opportunities", json={"summary": "AM heard", "urgent": False},
                     headers=key)  # fmt: skip
    again = am.post(f"{URL}/opportunities", json={"summary": "AM heard", "urgent": False},
                    headers=key)  # fmt: skip

    assert (mine.status_code, theirs.status_code, again.status_code) == (201, 201, 200)
    assert again.get_json()["id"] == theirs.get_json()["id"] != mine.get_json()["id"]
    summaries = sorted(i["summary"] for i in am.get(URL).get_json()["opportunities"])
    assert summaries == ["AM heard", "PM heard"]  # nothing the AM submitted was lost


def test_an_item_of_one_account_cannot_be_reached_through_another_accounts_address(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    kickoff(app, client="Beta Corp")
    pm, am = client_as(app, google, PM), client_as(app, google, AM)
    beta = "/api/accounts/betacorp.example"
    esc = pm.post(f"{beta}/escalations", json={"summary": "Beta unhappy", "severity": "high"})
    task = pm.post(f"{beta}/tasks", json={"title": "Beta task", "owner_email": PM,
                                          "due_on": "2027-01-15"})  # fmt: skip
    opp = pm.post(f"{beta}/opportunities", json={"summary": "Beta more", "urgent": False})
    esc_id, task_id, opp_id = (r.get_json()["id"] for r in (esc, task, opp))

    assert am.post(f"{URL}/items/{esc_id}/acknowledge", json={}).status_code == 404
    assert pm.post(f"{URL}/items/{task_id}/close", json={}).status_code == 404
    assert am.post(f"{URL}/opportunities/{opp_id}/state", json={"state": "lost"}).status_code \
        == 404
    assert am.post(f"{URL}/agenda/executive", json={"items": [esc_id]}).status_code in {409, 422}
    after = am.get(beta).get_json()
    assert [i["state"] for i in after["escalations"]] == ["open"]
    assert [i["state"] for i in after["opportunities"]] == ["new"]
    assert [i["state"] for i in after["tasks"] if i["kind"] == "task"] == ["open"]
    assert all(i["for_executive_at"] is None for i in after["escalations"])


def test_a_double_submitted_move_is_one_step_in_the_history(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    pm, am = client_as(app, google, PM), client_as(app, google, AM)
    opp = pm.post(f"{URL}/opportunities", json={"summary": "More work", "urgent": False})
    opp_id = opp.get_json()["id"]

    for _ in range(2):
        moved = am.post(f"{URL}/opportunities/{opp_id}/state",
                        json={"state": "with_client", "note": "called them"})  # fmt: skip
        assert moved.status_code == 200 and moved.get_json()["state"] == "with_client"

    [item] = am.get(URL).get_json()["opportunities"]
    assert [h["state"] for h in item["history"]] == ["new", "with_client"]
    audit = [h["action"] for h in am.get(URL).get_json()["history"]]
    assert audit.count("opportunity.moved") == 1


def test_a_cancelled_handover_no_longer_opens_the_account_to_the_people_it_named(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from service.demo import example_handover
    from service.workflows import kickoff as use_cases
    from tests.e2e.signin_support import OPS

    services = app.extensions["handover"]
    kickoff(app)
    wrong = example_handover("Acme Corp")  # sent to the wrong client by mistake
    wrong["project_manager"] = {**wrong["project_manager"], "name": "Pia Ray",
                                "email": "pia@agency.example"}  # fmt: skip
    submitted = use_cases.submit_handover(wrong, idempotency_key=None, actor="sam@agency.example",
                                          db=services.db, tasks=services.tasks)  # fmt: skip
    services.tasks.wait_idle()
    pia = client_as(app, google, "pia@agency.example")
    assert pia.get(URL).status_code == 200  # named PM of a running handover of the account

    cancelled = app.test_client().post(f"/api/handovers/{submitted.handover_id}/cancel",
                                       headers=OPS)  # fmt: skip
    assert cancelled.status_code == 202
    services.tasks.wait_idle()

    assert pia.get(URL).status_code == 403
    assert pia.get(f"/accounts/{ACCOUNT}").status_code == 403
    assert pia.post(f"{URL}/escalations", json={"summary": "x", "severity": "low"}).status_code \
        == 403
    assert f"/accounts/{ACCOUNT}" not in pia.get("/accounts").get_data(as_text=True)
    am = client_as(app, google, AM)
    people = am.get(URL).get_json()["people"]
    assert [p["email"] for p in people["project_managers"]] == [PM]


def test_a_persons_account_list_reads_only_the_handovers_that_name_them(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from service.demo import example_handover
    from service.store import account_items as repo
    from service.workflows import kickoff as use_cases

    services = app.extensions["handover"]
    kickoff(app)
    kickoff(app, client="Beta Corp")
    gamma = example_handover("Gamma Corp")
    gamma["project_manager"] = {**gamma["project_manager"], "name": "Pia Ray",
                                "email": "Pia@agency.example"}  # fmt: skip
    use_cases.submit_handover(gamma, idempotency_key=None, actor="ola@agency.example",
                              db=services.db, tasks=services.tasks)  # fmt: skip
    services.tasks.wait_idle()

    with services.db.transaction() as session:
        for_pia = repo.overview(session, person="pia@agency.example")
        for_pat = repo.overview(session, person=PM)
        for_all = repo.overview(session)
    assert [(k, len(p)) for k, _, p, _, _ in for_pia] == [("gammacorp.example", 1)]
    assert sorted(k for k, *_ in for_pat) == ["acmecorp.example", "betacorp.example"]
    assert len(for_all) == 3
    listed = client_as(app, google, "pia@agency.example").get("/accounts").get_data(as_text=True)
    assert "/accounts/gammacorp.example" in listed and "/accounts/acmecorp.example" not in listed
    everything = client_as(app, google, "ola@agency.example").get("/accounts").get_data(
        as_text=True)  # fmt: skip
    assert all(f"/accounts/{k}" in everything for k, *_ in for_all)


def test_markup_in_what_people_write_is_shown_as_text_on_the_page_in_emails_and_agenda(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from email import message_from_bytes, policy

    services = app.extensions["handover"]
    kickoff(app)
    pm = client_as(app, google, PM)
    evil = "<script>alert(1)</script>"
    assert pm.post(f"{URL}/escalations", json={"summary": evil, "severity": "high"}
                   ).status_code == 201  # fmt: skip
    assert pm.post(f"{URL}/notes", json={"held_on": "2026-12-01", "attendees": [
        '<img src=x onerror="alert(2)">'], "notes": evil}).status_code == 201  # fmt: skip

    page = pm.get(f"/accounts/{ACCOUNT}").get_data(as_text=True)
    assert evil not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page
    for path in services.mail.messages():
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        html = message.get_body(("html",))
        if html is not None:
            assert evil not in html.get_content() and "<img src=x" not in html.get_content()
    document = _internal_agenda(services)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in document
    assert evil not in document and "<img src=x" not in document


def test_the_agenda_run_costs_the_same_however_many_projects_an_account_has(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from service.jobs import run_job

    services = app.extensions["handover"]
    kickoff(app)

    def agendas() -> None:
        run_job(services, "sync_agendas", {})

    agendas()
    one = _statements(app, agendas)
    for _ in range(3):
        kickoff(app)  # three more projects of the same client
    agendas()
    four = _statements(app, agendas)
    assert four == one, (one, four)


def test_an_opportunity_logged_through_an_api_token_is_mailed_without_the_tokens_name(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from email import message_from_bytes, policy

    from tests.conftest import API_TOKEN

    services = app.extensions["handover"]
    kickoff(app)
    logged = app.test_client().post(
        f"{URL}/opportunities", json={"summary": "Wants an app", "urgent": True},
        headers={"Authorization": f"Bearer {API_TOKEN}"},
    )  # fmt: skip
    assert logged.status_code == 201
    [urgent] = [
        m for m in (message_from_bytes(p.read_bytes(), policy=policy.default)
                    for p in services.mail.messages())
        if str(m["Subject"]).startswith("Urgent opportunity")
    ]  # fmt: skip
    text = urgent.get_body(("plain",)).get_content()
    assert "token:" not in text and "An integration (through the API) logged" in text


def test_the_agenda_reads_what_goes_on_it_not_the_accounts_whole_past(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from service.store.account_models import AccountItemRow

    kickoff(app)
    pm = client_as(app, google, PM)

    def close_tasks(n: int) -> None:
        for i in range(n):
            made = pm.post(f"{URL}/tasks", json={"title": f"t{i}", "owner_email": PM,
                                                 "due_on": "2027-01-15"})  # fmt: skip
            assert pm.post(f"{URL}/items/{made.get_json()['id']}/close", json={}).status_code \
                == 200

    def cost() -> tuple[int, int]:
        loaded: list[object] = []

        def seen(session: Any, instance: object) -> None:
            if isinstance(instance, AccountItemRow):
                loaded.append(instance)

        event.listen(Session, "loaded_as_persistent", seen)
        try:
            statements = _statements(app, lambda: pm.get(f"{URL}/agenda").get_json())
        finally:
            event.remove(Session, "loaded_as_persistent", seen)
        return statements, len(loaded)

    assert pm.post(f"{URL}/tasks", json={"title": "Open one", "owner_email": PM,
                                         "due_on": "2027-01-15"}).status_code == 201
    close_tasks(2)
    before = cost()
    close_tasks(10)
    for _ in range(2):
        kickoff(app)  # more projects of the same client
    after = cost()
    assert after == before, (before, after)
    items = pm.get(f"{URL}/agenda").get_json()["items"]
    assert [i["summary"] for i in items if i["kind"] == "task"] == ["Open one"]


def test_the_agenda_document_and_email_give_dates_in_words(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from email import message_from_bytes, policy

    services = app.extensions["handover"]
    kickoff(app)
    pm = client_as(app, google, PM)
    assert pm.post(f"{URL}/tasks", json={"title": "Send SOW", "owner_email": PM,
                                         "due_on": "2027-01-15"}).status_code == 201
    assert pm.post(f"{URL}/notes", json={"held_on": "2026-12-01", "attendees": ["Kim"],
                                         "notes": "Talked"}).status_code == 201
    document = _internal_agenda(services)
    assert "due Friday 15 January 2027" in document and "2027-01-15" not in document
    assert "held Tuesday 1 December 2026" in document
    [mail] = [
        m for m in (message_from_bytes(p.read_bytes(), policy=policy.default)
                    for p in services.mail.messages())
        if str(m["Subject"]).startswith("Agenda:")
    ]  # fmt: skip
    assert "due Friday 15 January 2027" in mail.get_body(("plain",)).get_content()


def test_someone_not_on_the_account_is_refused_before_what_they_sent_is_checked(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    pm = client_as(app, google, PM)
    stranger = client_as(app, google, "pia@agency.example")  # a PM of no account
    esc = pm.post(f"{URL}/escalations", json={"summary": "Unhappy", "severity": "low"})
    esc_id = esc.get_json()["id"]
    for action in ("acknowledge", "close"):
        answer = stranger.post(f"{URL}/items/{esc_id}/{action}", json={"note": "x" * 5000})
        assert answer.status_code == 403, (action, answer.get_data(as_text=True))


def test_a_task_due_on_monday_is_reminded_on_the_friday_before_not_on_sunday(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from service.jobs import run_job

    services = app.extensions["handover"]
    thursday = datetime(2027, 1, 14, 15, 0, tzinfo=UTC)
    clock, pm = pm_at(app, google, thursday)
    assert pm.post(f"{URL}/tasks", json={"title": "Send SOW", "owner_email": PM,
                                         "due_on": "2027-01-18"}).status_code == 201  # Monday
    run_job(services, "account_reminders", {})
    assert not [s for s in _subjects(app) if s.startswith("Due soon: Send SOW")]
    clock.now += timedelta(days=1)  # Friday: the business day before
    run_job(services, "account_reminders", {})
    assert [s for s in _subjects(app) if s.startswith("Due soon: Send SOW")] == [
        "Due soon: Send SOW (Acme Corp, due Monday 18 January 2027)"
    ]
    clock.now += timedelta(days=2)  # Sunday: nothing again
    run_job(services, "account_reminders", {})
    assert len([s for s in _subjects(app) if s.startswith("Due soon: Send SOW")]) == 1


def test_a_contract_reviews_due_day_is_the_pms_day_not_utcs(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    from service.domain.contracts import OPEN
    from service.store.review_models import ReviewRow
    from tests.e2e.signin_support import a_review

    services = app.extensions["handover"]
    kickoff(app)
    review_id = a_review(app)
    with services.db.transaction() as session:
        review = session.get(ReviewRow, review_id)
        review.state, review.pm_timezone = OPEN, "America/Los_Angeles"
        review.deadline = datetime(2026, 12, 11, 2, 0, tzinfo=UTC)  # Thu 18:00 in Los Angeles
    am = client_as(app, google, AM)

    account = am.get(URL).get_json()
    [task] = [t for t in account["tasks"] if t["kind"] == "contract_review"]
    assert task["due_on"] == "2026-12-10"
    [item] = [i for i in am.get(f"{URL}/agenda").get_json()["items"]
              if i["kind"] == "contract_review"]  # fmt: skip
    assert item["due_on"] == "2026-12-10"
    page = am.get(f"/accounts/{ACCOUNT}").get_data(as_text=True)
    assert "Thu 10 Dec 2026, 18:00 (Los Angeles time)" in page
