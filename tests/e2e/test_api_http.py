"""The JSON API over real HTTP: tokens, idempotency, bad input, and the whole kickoff."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from service import create_app
from service.demo import example_handover
from service.store.models import HandoverRow
from tests.conftest import (
    API_TOKEN,
    EXAMPLE_TEAM,
    LiveServer,
    close_app,
    free_port,
    make_settings,
    outbox_subjects,
    told,
)

AUTH = {"Authorization": f"Bearer {API_TOKEN}"}


@pytest.fixture
def api_server(tmp_path: Path, database_url: str) -> Any:
    """A live server with a domain configured, so the API needs its bearer token."""
    port = free_port()
    app = create_app(
        make_settings(
            tmp_path,
            database_url=database_url,
            allowed_domain="agency.example",
            public_base_url=f"http://127.0.0.1:{port}",
        )
    )
    with LiveServer(app, port) as server:
        yield server
    close_app(app)


def stored(server: LiveServer) -> int:
    with server.app.extensions["handover"].db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(HandoverRow)) or 0)


def workspace_files(server: LiveServer) -> list[Path]:
    root = server.app.extensions["handover"].settings.workspace_dir
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


def wait_done(server: LiveServer, handover_id: str) -> dict[str, Any]:
    server.app.extensions["handover"].tasks.wait_idle(timeout=30)
    answer = requests.get(f"{server.url}/api/handovers/{handover_id}", headers=AUTH, timeout=10)
    assert answer.status_code == 200
    return answer.json()  # type: ignore[no-any-return]


def test_a_handover_through_the_api_makes_folder_brief_share_and_email(
    api_server: LiveServer,
) -> None:
    answer = requests.post(
        f"{api_server.url}/api/handovers", json=example_handover(), headers=AUTH, timeout=10
    )
    assert answer.status_code == 202
    body = answer.json()
    assert body["status_url"].endswith(f"/api/handovers/{body['id']}")

    data = wait_done(api_server, body["id"])
    assert data["status"] == "done", data
    assert [s["name"] for s in data["steps"]] == [
        "client_folder",
        "project_brief",
        "share_brief",
        "notify_team",
        "plan_meetings",
        "sales_handover",
        "internal_kickoff",
        "client_kickoff",
        "account_syncs",
    ]
    kinds = [e["kind"] for e in data["artifacts"]["events"]]
    # Internal meetings are sent; the two with the client wait for their organiser.
    assert kinds == ["sales_handover", "internal_kickoff", "internal_account_sync"]
    states = {m["kind"]: m["state"] for m in data["meetings"]}
    assert states == {
        "sales_handover": "sent", "internal_kickoff": "sent", "client_kickoff": "proposed",
        "internal_account_sync": "sent", "executive_sponsor_sync": "proposed",
    }
    assert data["account_id"] == "acmecorp.example"
    assert {s["state"] for s in data["steps"]} == {"done"}
    brief = requests.get(data["artifacts"]["brief"]["url"], timeout=10)
    # The brief is served to signed-in users only; the API token does not open pages.
    assert brief.status_code == 401
    drive = api_server.app.extensions["handover"].drive
    html = drive.path_of(data["artifacts"]["brief"]["id"]).read_text()
    assert re.search(r"<h1 [^>]*>Project Brief: Acme Corp</h1>", html)
    assert "Replatform the storefront" in html
    assert drive.path_of(data["artifacts"]["contracts_folder"]["id"]).name == "Contracts"
    grants = {(g.email, g.role) for g in drive.grants(data["artifacts"]["folder"]["id"])}
    assert grants == {("ada@agency.example", "writer"), ("pat@agency.example", "writer")}
    services = api_server.app.extensions["handover"]
    assert set(outbox_subjects(services, "Handover:")) == {"Handover: Acme Corp Commerce Platform"}
    assert told(services) == EXAMPLE_TEAM  # one each


def test_the_same_idempotency_key_answers_the_same_handover(api_server: LiveServer) -> None:
    headers = {**AUTH, "Idempotency-Key": "crm-deal-4711"}
    first = requests.post(
        f"{api_server.url}/api/handovers", json=example_handover(), headers=headers, timeout=10
    )
    second = requests.post(
        f"{api_server.url}/api/handovers", json=example_handover(), headers=headers, timeout=10
    )
    assert (first.status_code, second.status_code) == (202, 200)
    assert first.json()["id"] == second.json()["id"]
    wait_done(api_server, first.json()["id"])
    assert stored(api_server) == 1
    briefs = [p for p in workspace_files(api_server) if p.name.startswith("Project Brief")]
    assert len(briefs) == 1
    services = api_server.app.extensions["handover"]
    assert told(services) == EXAMPLE_TEAM  # one each, for both posts
    data = wait_done(api_server, first.json()["id"])
    moved = sum(len(e["moved"]) for e in data["artifacts"]["events"])
    invitations = outbox_subjects(services, "Invitation:")
    assert len(set(invitations)) == 3  # the client's two wait for their organiser
    assert len(invitations) == 3 + moved  # a moved occurrence is invited as its own event


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": f"Basic {API_TOKEN}"},
    ],
)
def test_calls_without_a_valid_token_are_refused(
    api_server: LiveServer, headers: dict[str, str]
) -> None:
    answer = requests.post(
        f"{api_server.url}/api/handovers", json=example_handover(), headers=headers, timeout=10
    )
    assert answer.status_code == 401
    assert "token" in answer.json()["error"]
    assert (
        requests.get(f"{api_server.url}/api/handovers/x", headers=headers, timeout=10).status_code
        == 401
    )
    assert stored(api_server) == 0


def test_malformed_json_answers_400_and_stores_nothing(api_server: LiveServer) -> None:
    answer = requests.post(
        f"{api_server.url}/api/handovers",
        data="{not json",
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["error"] == "The body is not valid JSON."
    assert stored(api_server) == 0


def test_a_json_array_answers_400(api_server: LiveServer) -> None:
    answer = requests.post(
        f"{api_server.url}/api/handovers", json=[example_handover()], headers=AUTH, timeout=10
    )
    assert answer.status_code == 400
    assert "JSON object" in answer.json()["error"]


def test_form_encoding_answers_415(api_server: LiveServer) -> None:
    answer = requests.post(
        f"{api_server.url}/api/handovers", data={"client": "x"}, headers=AUTH, timeout=10
    )
    assert answer.status_code == 415


def test_an_oversized_body_answers_413_and_stores_nothing(api_server: LiveServer) -> None:
    data = example_handover()
    data["influencers_notes"] = "x" * 400_000
    answer = requests.post(
        f"{api_server.url}/api/handovers",
        data=json.dumps(data),
        headers={**AUTH, "Content-Type": "application/json"},
        timeout=10,
    )
    assert answer.status_code == 413
    assert stored(api_server) == 0


def test_invalid_handover_answers_422_with_one_error_per_field(api_server: LiveServer) -> None:
    data = example_handover()
    data["client"]["timezone"] = "Atlantis/Capital"
    data["delivery_team"][0]["email"] = "not-an-email"
    data["client_contacts"][0]["roles"] = ["buyer"]
    answer = requests.post(f"{api_server.url}/api/handovers", json=data, headers=AUTH, timeout=10)
    assert answer.status_code == 422
    fields = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert set(fields) == {"client.timezone", "delivery_team.0.email", "client_contacts"}
    codes = {e["field"]: e["code"] for e in answer.json()["errors"]}
    assert codes["client_contacts"] == "no_executive_sponsor"
    assert "\u201cExecutive sponsor\u201d for at least one client contact" in fields["client_contacts"]
    assert stored(api_server) == 0
    assert workspace_files(api_server) == []


def test_a_bad_idempotency_key_is_refused(api_server: LiveServer) -> None:
    answer = requests.post(
        f"{api_server.url}/api/handovers",
        json=example_handover(),
        headers={**AUTH, "Idempotency-Key": "x" * 201},
        timeout=10,
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "Idempotency-Key"
    assert stored(api_server) == 0


def test_an_unknown_handover_answers_404(api_server: LiveServer) -> None:
    assert (
        requests.get(f"{api_server.url}/api/handovers/nope", headers=AUTH, timeout=10).status_code
        == 404
    )


def test_openapi_describes_both_operations(api_server: LiveServer) -> None:
    doc = requests.get(f"{api_server.url}/api/openapi.json", timeout=10).json()
    assert doc["openapi"].startswith("3.1")
    assert doc["paths"]["/api/handovers"]["post"]["operationId"] == "createHandover"
    assert doc["paths"]["/api/handovers/{handover_id}"]["get"]["operationId"] == "getHandover"
    request_schema = doc["components"]["schemas"]["HandoverIn"]
    assert {"client", "project", "account_manager", "sales", "client_contacts", "success"} <= set(
        request_schema["required"]
    )
    assert doc["components"]["schemas"]["Cadence"]["enum"] == [
        "fortnightly",
        "monthly",
        "quarterly",
    ]


def test_pages_need_sign_in_when_a_domain_is_configured(api_server: LiveServer) -> None:
    assert requests.get(f"{api_server.url}/handovers/new", timeout=10).status_code == 401
    assert requests.get(f"{api_server.url}/healthz", timeout=10).json()["backend"] == "local"
