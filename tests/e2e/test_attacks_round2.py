"""Attacks of the second round (issue 12): each test is named after its finding and asserts
the answer's status AND that no row, file, share or email changed that should not."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from service import create_app
from service.config import Settings, SettingsError
from service.demo import example_handover
from service.store.models import AccountRow, AuditRow, HandoverRow
from tests.conftest import API_TOKEN, close_app, make_settings
from tests.e2e.signin_support import (
    ADMIN,
    OPS,
    SALES,
    a_review,
    app_with_a_handover_fixture,  # noqa: F401 - the app fixture
    client_as,
    counts,
    csrf_of,
    google_fixture,  # noqa: F401 - the google fixture
    kickoff,
)
from tests.e2e.test_form_http import form_fields
from tests.fakes.oidc import FakeGoogleSignIn

SALES_TOKEN = {"Authorization": f"Bearer {API_TOKEN}"}


def _services(app: Flask) -> Any:
    return app.extensions["handover"]


def _account_folder_grants(app: Flask) -> set[str]:
    services = _services(app)
    with services.db.transaction() as session:
        folder_id = session.scalar(select(AccountRow.folder_id))
    return {g.email for g in services.drive.grants(folder_id)}


def _handover(app: Flask, handover_id: str) -> HandoverRow:
    with _services(app).db.transaction() as session:
        row = session.get(HandoverRow, handover_id)
        assert row is not None
        session.expunge(row)
        return row


def _actions(app: Flask, subject: str) -> list[str]:
    with _services(app).db.transaction() as session:
        return list(
            session.scalars(
                select(AuditRow.action).where(AuditRow.subject == subject).order_by(AuditRow.id)
            )
        )


def _takeover(pm_email: str = "pia@agency.example") -> dict[str, Any]:
    body = example_handover("Acme Corp")
    body["project"]["name"] = "Acme Side Project"
    body["project_manager"] = {"name": "Pia Outsider", "email": pm_email}
    body["sales"] = [{"name": "Sue Seller", "email": "sue@agency.example"}]
    return body


# --- 1. account takeover ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("project_manager", "email"), "project_manager.email"),
        (("account_manager", "email"), "account_manager.email"),
        (("sales", 0, "email"), "sales.0.email"),
        (("delivery_team", 0, "email"), "delivery_team.0.email"),
    ],
)
def test_account_takeover_outsider_as_internal_person_is_refused(
    app: Flask, path: tuple[Any, ...], field: str
) -> None:
    body = example_handover("Acme Corp")
    target: Any = body
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = "mallory@evil.example"
    before, grants = counts(app), _account_folder_grants(app)

    answers = [
        app.test_client().post("/api/handovers", json=body, headers=SALES_TOKEN),
        app.test_client().post("/api/handovers?dry_run=1", json=body, headers=SALES_TOKEN),
    ]

    for answer in answers:
        assert answer.status_code == 422
        errors = answer.get_json()["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, "not_agency_address")]
        assert "@agency.example" in errors[0]["message"]
    assert counts(app) == before
    assert _account_folder_grants(app) == grants


def test_account_takeover_by_sales_not_on_the_account_waits_for_operations(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    """Sue (Sales, not on Acme) submits a project for Acme naming Pia as PM: the project's
    own brief is made and shared, but Acme's folder, its drafts' PM and its syncs stay
    until Operations confirms; then they follow."""
    grants_before = _account_folder_grants(app)
    review_before = a_review(app, "SOW - Acme Corp v1.docx")
    sue = client_as(app, google, "sue@agency.example")

    answer = sue.post("/api/handovers", json=_takeover(), headers={"Origin": "http://localhost"})
    assert answer.status_code == 202
    handover_id = answer.get_json()["id"]
    _services(app).tasks.wait_idle()

    row = _handover(app, handover_id)
    assert row.account_pending_since is not None
    assert _account_folder_grants(app) == grants_before
    assert "pia@agency.example" not in _account_folder_grants(app)
    state = sue.get(f"/api/handovers/{handover_id}").get_json()
    assert state["account_pending"] is True
    assert state["status"] == "done"  # its own project went ahead
    brief_id = state["artifacts"]["brief"]["id"]
    assert "pia@agency.example" in {g.email for g in _services(app).drive.grants(brief_id)}
    assert "event:internal_account_sync" not in _artifacts(app, handover_id)
    assert "handover.account_pending" in _actions(app, handover_id)
    # A new draft of the account still goes to Pat, never to Pia.
    review_id = a_review(app, "SOW - Acme Corp v2.docx")
    ops = client_as(app, google, "ola@agency.example")
    assert ops.get(f"/api/reviews/{review_id}").get_json()["project_manager"]["email"] == "pat@agency.example"
    page = ops.get(f"/handovers/{handover_id}").get_data(as_text=True)
    assert "Operations must confirm this project joins Acme Corp" in page
    assert review_before

    # Sales may not confirm it; Operations does.
    refused = sue.post(
        f"/api/handovers/{handover_id}/confirm-account", headers={"Origin": "http://localhost"}
    )
    assert refused.status_code == 403
    assert _handover(app, handover_id).account_pending_since is not None
    confirmed = app.test_client().post(f"/api/handovers/{handover_id}/confirm-account", headers=OPS)
    assert confirmed.status_code == 202
    _services(app).tasks.wait_idle()
    assert _handover(app, handover_id).account_pending_since is None
    assert "pia@agency.example" in _account_folder_grants(app)
    assert "handover.account_confirmed" in _actions(app, handover_id)
    assert "event:internal_account_sync" in _artifacts(app, handover_id)


def _artifacts(app: Flask, handover_id: str) -> set[str]:
    with _services(app).db.transaction() as session:
        row = session.get(HandoverRow, handover_id)
        assert row is not None
        return {a.kind for a in row.artifacts}


def test_account_takeover_by_someone_on_the_account_joins_at_once(app: Flask) -> None:
    """Sam is Sales on Acme's running project: his second project joins the account."""
    handover_id = kickoff(app, actor=SALES)
    assert _handover(app, handover_id).account_pending_since is None


def test_account_takeover_contract_review_goes_to_the_pm_of_the_draft_s_project(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    """Two running projects of Acme: a draft naming the second goes to its PM, one naming
    none to the PM of the earliest; a newer handover's PM never takes them all."""
    body = example_handover("Acme Corp")
    body["project"]["name"] = "Acme Mobile App"
    body["project_manager"] = {"name": "Pia Two", "email": "pia@agency.example"}
    ops = app.test_client()
    assert ops.post("/api/handovers", json=body, headers=OPS).status_code == 202
    _services(app).tasks.wait_idle()
    boss = client_as(app, google, "boss@agency.example")

    named = a_review(app, "SOW - Acme Mobile App v1.docx")
    unnamed = a_review(app, "MSA - Acme Corp.docx")

    assert boss.get(f"/api/reviews/{named}").get_json()["project_manager"]["email"] == "pia@agency.example"
    assert boss.get(f"/api/reviews/{unnamed}").get_json()["project_manager"]["email"] == "pat@agency.example"


# --- 2. only Operations assigns or changes a PM ---------------------------------------------


def test_pm_change_by_sales_is_refused(app: Flask, google: FakeGoogleSignIn) -> None:
    with _services(app).db.transaction() as session:
        handover_id = str(session.scalar(select(HandoverRow.id)))
    body = example_handover("Acme Corp")
    body["project_manager"] = {"name": "Sam Reed", "email": "sam@agency.example"}
    sam = client_as(app, google, SALES)
    token = csrf_of(sam.get(f"/handovers/{handover_id}/edit").get_data(as_text=True))
    before, grants = counts(app), _account_folder_grants(app)

    answers = [
        app.test_client().put(f"/api/handovers/{handover_id}", json=body, headers=SALES_TOKEN),
        sam.put(f"/api/handovers/{handover_id}", json=body, headers={"Origin": "http://localhost"}),
        sam.post(
            f"/handovers/{handover_id}/edit", data=MultiDict([*form_fields(body), ("csrf_token", token)])
        ),
        sam.post(
            f"/handovers/{handover_id}/project-manager",
            data={"name": "Sam", "email": "sam@agency.example", "csrf_token": token},
        ),
    ]

    assert [a.status_code for a in answers] == [403, 403, 403, 403]
    assert counts(app) == before
    assert _account_folder_grants(app) == grants
    assert _handover(app, handover_id).payload["project_manager"]["email"] == "pat@agency.example"
    # Operations may.
    changed = app.test_client().put(f"/api/handovers/{handover_id}", json=body, headers=ADMIN)
    assert changed.status_code == 202


# --- 3. idempotency keys ---------------------------------------------------------------------


def test_idempotency_key_is_bound_to_its_body_and_caller(app: Flask) -> None:
    first = app.test_client().post(
        "/api/handovers", json=example_handover("Keyed Co"), headers={**OPS, "Idempotency-Key": "k-1"}
    )
    assert first.status_code == 202
    _services(app).tasks.wait_idle()
    before = counts(app)

    other_body = app.test_client().post(
        "/api/handovers", json=example_handover("Other Co"), headers={**OPS, "Idempotency-Key": "k-1"}
    )
    other_caller = app.test_client().post(
        "/api/handovers",
        json=example_handover("Keyed Co"),
        headers={**SALES_TOKEN, "Idempotency-Key": "k-1"},
    )
    same = app.test_client().post(
        "/api/handovers", json=example_handover("Keyed Co"), headers={**OPS, "Idempotency-Key": "k-1"}
    )

    assert other_body.status_code == 409
    assert other_body.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert (same.status_code, same.get_json()["id"]) == (200, first.get_json()["id"])
    assert other_caller.status_code == 202
    assert other_caller.get_json()["id"] != first.get_json()["id"]
    _services(app).tasks.wait_idle()
    after = counts(app)
    assert after["handovers"] == before["handovers"] + 1  # only the other caller's own


# --- 5. dev login -----------------------------------------------------------------------------


@contextmanager
def plain_app(tmp_path: Path, database_url: str, **overrides: Any) -> Iterator[Flask]:
    """An app without Sign-in with Google (the local mode), with these settings."""
    app = create_app(make_settings(tmp_path, database_url=database_url, **overrides))
    try:
        yield app
    finally:
        close_app(app)


def test_dev_login_is_off_unless_DEV_LOGIN_is_set(tmp_path: Path, database_url: str) -> None:
    with plain_app(tmp_path, database_url, dev_login_enabled=False) as app:
        before = counts(app)
        client = app.test_client()
        answers = [
            client.get("/handovers/new").status_code,
            client.post("/api/handovers", json=example_handover("Dev Co")).status_code,
            client.get("/admin/audit").status_code,
        ]
        assert answers == [401, 401, 401]
        assert counts(app) == before


@pytest.mark.parametrize(
    "env",
    [
        {"DEV_LOGIN": "1", "WORKSPACE_BACKEND": "google"},
        {"DEV_LOGIN": "1", "GAE_APPLICATION": "s~acme", "SECRET_KEY": "s" * 32},
        {"DEV_LOGIN": "1", "ALLOWED_DOMAIN": "agency.example", "SECRET_KEY": "s" * 32},
    ],
    ids=["google-backend", "app-engine", "with-a-domain"],
)
def test_dev_login_is_refused_at_start_off_the_local_machine(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="DEV_LOGIN"):
        Settings.from_env(env)
    assert Settings.from_env({"DEV_LOGIN": "1"}).dev_login
    assert not Settings.from_env({}).dev_login


def test_dev_login_wrong_bearer_token_is_401(tmp_path: Path, database_url: str) -> None:
    with plain_app(tmp_path, database_url) as app:
        before = counts(app)
        client = app.test_client()
        wrong = {"Authorization": "Bearer wrong-token-0123456789abcdef"}
        answers = [
            client.post("/api/handovers", json=example_handover("Dev Co"), headers=wrong),
            client.get("/api/audit", headers=wrong),
            client.get("/api/audit", headers={"Authorization": "Basic abc"}),
        ]
        assert [a.status_code for a in answers] == [401, 401, 401]
        assert counts(app) == before


@pytest.mark.parametrize("host", ["evil.example", "rebind.attacker.example:8080", "10.0.0.5"])
def test_dev_login_dns_rebinding_host_is_refused(
    tmp_path: Path, database_url: str, host: str
) -> None:
    with plain_app(tmp_path, database_url) as app:
        before = counts(app)
        client = app.test_client()
        answers = [
            client.get("/handovers/new", headers={"Host": host}).status_code,
            client.post(
                "/api/handovers", json=example_handover("Dev Co"), headers={"Host": host}
            ).status_code,
        ]
        assert answers == [403, 401]
        assert counts(app) == before
        assert client.get("/handovers/new", headers={"Host": "localhost:8080"}).status_code == 200
        assert client.get("/handovers/new", headers={"Host": "127.0.0.1:8080"}).status_code == 200


@pytest.mark.parametrize(
    "env",
    [
        {"ALLOWED_DOMAIN": "agency.example", "SECRET_KEY": "short-secret"},
        {"GAE_APPLICATION": "s~acme", "SECRET_KEY": "x" * 31},
        {"ALLOWED_DOMAIN": "agency.example"},
    ],
    ids=["domain-short", "app-engine-31-bytes", "domain-none"],
)
def test_secret_key_shorter_than_32_bytes_is_refused(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env(env)
    assert Settings.from_env({**env, "SECRET_KEY": "x" * 32}).secret_key == "x" * 32


# --- 9. cookie-authenticated API calls check CSRF (or Origin) ---------------------------------


def test_cookie_api_call_without_csrf_or_origin_is_refused(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    with _services(app).db.transaction() as session:
        handover_id = str(session.scalar(select(HandoverRow.id)))
    review_id = a_review(app)
    ops = client_as(app, google, "ola@agency.example")
    boss = client_as(app, google, "boss@agency.example")
    body = example_handover("Cross Site Co")
    before = counts(app)

    def attempts(headers: dict[str, str]) -> list[int]:
        return [
            ops.post("/api/handovers", json=body, headers=headers).status_code,
            ops.put(
                f"/api/handovers/{handover_id}", json=example_handover(), headers=headers
            ).status_code,
            ops.post(f"/api/handovers/{handover_id}/cancel", headers=headers).status_code,
            ops.post(
                f"/api/reviews/{review_id}/decision",
                json={"decision": "approved", "comment": "ok"},
                headers=headers,
            ).status_code,
            boss.put(
                "/api/roles/eve@agency.example", json={"role": "admin"}, headers=headers
            ).status_code,
        ]

    refused = [
        attempts({}),
        attempts({"Origin": "https://evil.example"}),
        attempts({"Origin": "null"}),
        attempts({"Referer": "https://evil.example/page"}),
        attempts({"X-CSRF-Token": "forged-token"}),
    ]

    assert refused == [[403] * 5] * 5
    assert counts(app) == before
    # From our own page (its Origin, or its CSRF token) it goes through; a token needs none.
    assert ops.post("/api/handovers", json=body, headers={"Origin": "http://localhost"}).status_code == 202
    token = csrf_of(ops.get("/handovers/new").get_data(as_text=True))
    again = example_handover("Cross Site Two")
    assert ops.post("/api/handovers", json=again, headers={"X-CSRF-Token": token}).status_code == 202
    third = example_handover("Token Co")
    assert app.test_client().post("/api/handovers", json=third, headers=OPS).status_code == 202


# --- 10. drafts and folders under /files/ ---------------------------------------------------


def _status(client: Any, path: str) -> int:
    answer = client.get(path)
    answer.close()  # a file sent is an open file until then
    return int(answer.status_code)


def test_files_drafts_and_folders_only_for_the_account_s_people(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    review_id = a_review(app)
    with _services(app).db.transaction() as session:
        from service.store.review_models import ReviewRow

        draft = str(session.scalar(select(ReviewRow.file_id).where(ReviewRow.id == review_id)))
        account = session.scalar(select(AccountRow))
        assert account is not None
        folder, contracts = str(account.folder_id), str(account.contracts_folder_id)
        handover_id = str(session.scalar(select(HandoverRow.id)))
    state = client_as(app, google, "boss@agency.example").get(f"/api/handovers/{handover_id}")
    brief_id = state.get_json()["artifacts"]["brief"]["id"]
    paths = [f"/files/{draft}", f"/files/{folder}", f"/files/{contracts}"]

    outsiders = {
        "sue (Sales of another account)": client_as(app, google, "sue@agency.example"),
        "pia (PM of another account)": client_as(app, google, "pia@agency.example"),
    }
    insiders = {
        "pat (PM, the reviewer)": client_as(app, google, "pat@agency.example"),
        "ada (AM)": client_as(app, google, "ada@agency.example"),
        "sam (Sales on it)": client_as(app, google, SALES),
        "ola (Operations)": client_as(app, google, "ola@agency.example"),
    }

    before = counts(app)

    refused = {n: [_status(c, p) for p in paths] for n, c in outsiders.items()}
    opened = {n: [_status(c, p) for p in paths] for n, c in insiders.items()}

    assert refused == {n: [403, 403, 403] for n in outsiders}
    assert opened == {n: [200, 200, 200] for n in insiders}
    assert all(_status(c, f"/files/{brief_id}") == 200 for c in outsiders.values())
    listing = insiders["ola (Operations)"].get(f"/files/{contracts}").get_data(as_text=True)
    root = str(_services(app).settings.workspace_dir)
    assert "SOW - Acme Corp v1.docx" in listing
    assert root not in listing and str(Path(root).resolve()) not in listing
    assert counts(app) == before


# --- 8. calendar feed secrets -------------------------------------------------------------------


def test_calendar_feed_secret_is_random_per_install_not_from_a_default_key(
    tmp_path: Path, database_url: str
) -> None:
    import hashlib
    import hmac
    import stat

    from service.wiring import feed_secret

    with plain_app(tmp_path / "one", database_url) as one:
        calendar = _services(one).calendar
        token = calendar.feed_token("ada@agency.example")
        first = feed_secret(_services(one).settings)
    default = hmac.new(b"dev-only-not-secret", b"calendar-feed", hashlib.sha256).hexdigest()
    other = feed_secret(make_settings(tmp_path / "two"))
    path = tmp_path / "one" / "workspace" / ".feed-secret"

    assert first != default and first != other and len(first) >= 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert feed_secret(make_settings(tmp_path / "one")) == first  # kept across restarts
    from integrations.local.calendar import LocalCalendar
    from integrations.local.mail import LocalMail

    guessed = LocalCalendar(
        tmp_path / "guess", mail=LocalMail(tmp_path / "guess" / "outbox"), feed_secret=default
    )
    assert guessed.feed_token("ada@agency.example") != token


# --- 11. hostile input is a 4xx, never a 500 ---------------------------------------------------


def test_hostile_input_is_a_4xx_never_a_500(app: Flask, google: FakeGoogleSignIn) -> None:
    review_id = a_review(app)
    ops = client_as(app, google, "ola@agency.example")
    boss = client_as(app, google, "boss@agency.example")
    token = csrf_of(ops.get("/handovers/new").get_data(as_text=True))
    fields = form_fields(example_handover("Hostile Co"))
    json_headers = {**OPS, "Content-Type": "application/json"}
    before = counts(app)

    answers = {
        "json 100,000 deep": app.test_client().post(
            "/api/handovers", data="[" * 100_000 + "]" * 100_000, headers=json_headers
        ),
        "json 100,000 deep (objects)": app.test_client().post(
            "/api/handovers", data='{"a":' * 40_000 + "1" + "}" * 40_000, headers=json_headers
        ),
        "json 1,000 deep in a field": app.test_client().post(
            "/api/handovers",
            data='{"influencers_notes":' + "[" * 1000 + "]" * 1000 + "}",
            headers=json_headers,
        ),
        "decision 100,000 deep": app.test_client().post(
            f"/api/reviews/{review_id}/decision", data="[" * 100_000 + "]" * 100_000, headers=json_headers
        ),
        "form key sales.².name": ops.post(
            "/handovers",
            data=MultiDict([*fields, ("sales.².name", "x"), ("csrf_token", token)]),
        ),
        "form key delivery_team.١.email": ops.post(
            "/handovers/preview",
            data=MultiDict([*fields, ("delivery_team.١.email", "x"), ("csrf_token", token)]),
        ),
        "form key 20,000 parts deep": ops.post(
            "/handovers",
            data=MultiDict([*fields, (".".join(["a"] * 20_000), "x"), ("csrf_token", token)]),
        ),
        "audit ?limit=²": boss.get("/admin/audit?limit=²"),
        "audit api ?limit=²": boss.get("/api/audit?limit=²"),
        "audit api ?limit=١٢": boss.get("/api/audit?limit=١٢"),
    }

    statuses = {name: a.status_code for name, a in answers.items()}
    assert all(400 <= s < 500 for s in statuses.values()), statuses
    assert statuses["form key sales.².name"] == 422
    assert statuses["audit api ?limit=²"] == 400
    assert counts(app) == before


# --- 14. names reject line breaks ---------------------------------------------------------------


@pytest.mark.parametrize(
    "brk", ["\n", "\r\n", "\r", "\u2028", "\u2029", "\x85", "\v", "\f"],
    ids=["lf", "crlf", "cr", "line-sep", "para-sep", "nel", "vt", "ff"],
)
def test_names_with_line_breaks_are_refused(app: Flask, brk: str) -> None:
    fake_line = f"Cleo Buyer{brk}ORGANIZER:mailto:ceo@acmecorp.example"
    body = example_handover("Acme Corp")
    body["client_contacts"][0]["name"] = fake_line
    body["client_contacts"][1]["title"] = f"Champion{brk}Extra: line"
    body["delivery_team"][0]["role"] = f"Engineer{brk}X-Injected: yes"
    body["project"]["name"] = f"Acme{brk}Commerce"
    before = counts(app)

    answer = app.test_client().post("/api/handovers", json=body, headers=OPS)

    # A vertical tab or form feed is a control character first: refused as one.
    code = "control_characters" if brk in "\v\f" else "line_break"
    assert answer.status_code == 422
    assert sorted((e["field"], e["code"]) for e in answer.get_json()["errors"]) == [
        ("client_contacts.0.name", code),
        ("client_contacts.1.title", code),
        ("delivery_team.0.role", code),
        ("project.name", code),
    ]
    assert counts(app) == before


# --- the API's error messages: plain words and a stable code ------------------------------------


def test_api_errors_have_a_stable_code_and_plain_words(app: Flask) -> None:
    body = example_handover("Acme Corp")
    body["client"]["name"] = ""
    body["client"]["timezone"] = "Moon/Base"
    body["project"]["name"] = "x" * 201
    body["account_manager"]["email"] = "ada-at-agency"
    body["delivery_team"][0]["country"] = "XX"
    before = counts(app)

    answer = app.test_client().post("/api/handovers", json=body, headers=OPS)
    unauthorised = app.test_client().get("/api/audit")
    missing = app.test_client().get("/api/handovers/nope", headers=OPS)
    bad_key = app.test_client().post(
        "/api/handovers", json=body, headers={**OPS, "Idempotency-Key": "ü"}
    )

    assert answer.status_code == 422
    errors = {e["field"]: (e["code"], e["message"]) for e in answer.get_json()["errors"]}
    assert errors == {
        "client.name": ("required", "Enter the client's name."),
        "client.timezone": (
            "invalid_timezone",
            "Choose the client's time zone from the list: type a city, such as New York "
            "(America/New_York) or Kolkata (Asia/Kolkata).",
        ),
        "project.name": (
            "too_long",
            "Shorten the project's name to at most 200 characters.",
        ),
        "account_manager.email": (
            "invalid_email",
            "Enter an email address such as ada@agency.example.",
        ),
        "delivery_team.0.country": (
            "invalid_country",
            "Choose a country from the list, for example India (code IN).",
        ),
    }
    assert [e["code"] for e in unauthorised.get_json()["errors"]] == ["sign_in_required"]
    assert [e["code"] for e in missing.get_json()["errors"]] == ["not_found"]
    assert [e["code"] for e in bad_key.get_json()["errors"]] == ["invalid_key"]
    assert counts(app) == before


# --- 13. Slack text escapes & < > -----------------------------------------------------------------


def test_slack_text_escapes_mentions_in_file_names(app: Flask) -> None:
    chat = _services(app).chat
    before = len(chat.messages())

    a_review(app, "SOW <!channel> & <@U0123> <!here|Acme> v1.docx")

    (notice,) = chat.messages()[before:]
    text = notice["text"]
    assert "<!channel>" not in text and "<@U0123>" not in text and "<!here" not in text
    assert "SOW &lt;!channel&gt; &amp; &lt;@U0123&gt; &lt;!here|Acme&gt; v1.docx" in text
    assert "<" not in text and ">" not in text  # nothing Slack would read as markup


# --- 7. long names, and step errors without server paths ----------------------------------------


def test_long_names_of_200_cjk_characters_make_their_files(app: Flask) -> None:
    body = example_handover("Acme Corp")
    body["client"]["name"] = "株" * 200
    body["client"]["domain"] = "kabushiki.example"
    body["project"]["name"] = "計画" * 100

    answer = app.test_client().post("/api/handovers", json=body, headers=OPS)
    assert answer.status_code == 202
    _services(app).tasks.wait_idle()
    state = app.test_client().get(answer.headers["Location"], headers=OPS).get_json()

    assert state["status"] == "done", [s["error"] for s in state["steps"]]
    root = _services(app).settings.workspace_dir / "drive"
    folder = root / ("株" * 60)
    assert folder.is_dir() and (folder / "Contracts").is_dir()
    (brief,) = [p for p in folder.iterdir() if p.suffix == ".html"]
    assert len(brief.name.encode()) <= 255
    assert all(len(p.name.encode()) <= 185 for p in root.rglob("*"))


def test_step_errors_never_carry_server_paths(app: Flask, google: FakeGoogleSignIn) -> None:
    services = _services(app)
    index = services.settings.workspace_dir / "drive" / ".index.jsonl"
    index.unlink()
    index.mkdir()  # the local drive's index cannot be read: every step needing it fails
    before = counts(app)

    answer = app.test_client().post(
        "/api/handovers", json=example_handover("Pathless Co"), headers=OPS
    )
    services.tasks.wait_idle()
    state = app.test_client().get(answer.headers["Location"], headers=OPS).get_json()
    boss = client_as(app, google, "boss@agency.example")
    page = boss.get(f"/handovers/{state['id']}").get_data(as_text=True)

    (failed,) = [s for s in state["steps"] if s["state"] == "failed"]
    assert failed["error"] == "IsADirectoryError: Is a directory (in the service's local workspace)"
    root = str(services.settings.workspace_dir.resolve())
    assert root not in str(state) and str(services.settings.workspace_dir) not in page
    assert root not in page
    assert counts(app)["handovers"] == before["handovers"] + 1


# --- 12. the local drive's crash window ------------------------------------------------------------


def test_local_drive_crash_window_folder_and_brief_found_again_never_duplicated(
    app: Flask,
) -> None:
    """A run that made the folders and the brief on disk, then died before the index was
    saved, left them unnamed by the index: the retry takes them, never `Crashy Co (2)`."""
    root = _services(app).settings.workspace_dir / "drive"
    folder = root / "Crashy Co"
    (folder / "Contracts").mkdir(parents=True)
    brief = folder / "Project Brief - Crashy Co Commerce Platform.html"
    brief.write_text("<p>half written</p>")

    answer = app.test_client().post(
        "/api/handovers", json=example_handover("Crashy Co"), headers=OPS
    )
    _services(app).tasks.wait_idle()
    state = app.test_client().get(answer.headers["Location"], headers=OPS).get_json()

    assert state["status"] == "done"
    assert sorted(p.name for p in root.iterdir() if "Crashy" in p.name) == ["Crashy Co"]
    assert sorted(p.name for p in folder.iterdir()) == ["Contracts", brief.name]
    assert "Crashy Co Commerce Platform" in brief.read_text()
    drive = _services(app).drive
    assert drive.path_of(state["artifacts"]["folder"]["id"]) == folder.resolve()
    assert drive.path_of(state["artifacts"]["brief"]["id"]) == brief.resolve()
