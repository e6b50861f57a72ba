"""Hostile input that must change nothing outside its own record: names that climb out of
folders or break Drive queries, file ids as paths, script in answers, oversized and
malformed bodies. Each test asserts the answer's status and what did (not) change."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service.demo import example_handover
from tests.e2e.signin_support import (
    ADMIN,
    OPS,
    SALES,
    app_with_a_handover_fixture,  # noqa: F401 - the app fixture
    client_as,
    counts,
    csrf_of,
    google_fixture,  # noqa: F401 - the google fixture
)
from tests.fakes.oidc import FakeGoogleSignIn

SCRIPT = "<script>alert(1)</script>"


# --- hostile input ---------------------------------------------------------------------


def test_names_cannot_climb_out_of_the_local_workspace(app: Flask, tmp_path: Path) -> None:
    data = example_handover("../../etc")
    data["project"]["name"] = "..\\..\\x"
    outside_before = _outside(tmp_path, app)

    answer = app.test_client().post("/api/handovers", json=data, headers=OPS)

    assert answer.status_code == 202
    services = app.extensions["handover"]
    services.tasks.wait_idle()
    status = app.test_client().get(answer.headers["Location"], headers=OPS).get_json()
    assert status["status"] == "done", status["steps"]
    root = services.settings.workspace_dir.resolve()
    made = [services.drive.path_of(status["artifacts"][k]["id"]) for k in ("folder", "brief")]
    assert all(p is not None and p.resolve().is_relative_to(root) for p in made), made
    assert _outside(tmp_path, app) == outside_before
    assert not (tmp_path / "etc").exists() and not (tmp_path.parent / "etc").exists()


def _outside(tmp_path: Path, app: Flask) -> list[str]:
    """Files under tmp_path but outside the workspace (the database aside)."""
    root = app.extensions["handover"].settings.workspace_dir.resolve()
    return sorted(
        str(p) for p in tmp_path.rglob("*")
        if p.is_file() and not p.resolve().is_relative_to(root) and "handover.db" not in p.name
    )


@pytest.mark.parametrize(
    "file_id",
    ["../x", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "..", ".index.json", "%2Fetc%2Fpasswd", "..\\x"],
)
def test_file_ids_are_looked_up_never_used_as_paths(
    app: Flask, google: FakeGoogleSignIn, file_id: str
) -> None:
    client = client_as(app, google, "boss@agency.example")
    before = counts(app)

    answer = client.get(f"/files/{file_id}")

    assert answer.status_code == 404
    assert b"root:" not in answer.data
    assert counts(app) == before


def test_script_in_answers_is_escaped_in_the_page_the_brief_and_the_email(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    data = example_handover("Evil Corp")
    data["client"]["name"] = f"Evil {SCRIPT} Corp"
    data["account_manager"]["name"] = f"Ada {SCRIPT}"
    for field in ("why_bought", "problem_and_goals", "success_definition", "roadblocks"):
        data["success"][field] = f"{SCRIPT} and <img src=x onerror=alert(2)>"
    services = app.extensions["handover"]

    answer = app.test_client().post("/api/handovers", json=data, headers=OPS)
    assert answer.status_code == 202
    services.tasks.wait_idle()
    handover_id = answer.get_json()["id"]
    admin = client_as(app, google, "boss@agency.example")
    status = admin.get(f"/api/handovers/{handover_id}").get_json()

    rendered = {
        "page": admin.get(f"/handovers/{handover_id}").data,
        "form": admin.get(f"/handovers/{handover_id}/edit").data,
        "brief": services.drive.path_of(status["artifacts"]["brief"]["id"]).read_bytes(),
        "served brief": _read(admin, f"/files/{status['artifacts']['brief']['id']}"),
        "email": _email_html(services, "Evil"),
    }
    for name, body in rendered.items():
        assert b"<script>alert(1)" not in body, name
        assert b"<img src=x" not in body, name
    for name in ("page", "brief", "email"):
        assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in rendered[name], name


def _read(client: Any, path: str) -> bytes:
    with client.get(path) as answer:
        assert answer.status_code == 200
        assert "script-src" not in answer.headers["Content-Security-Policy"]
        return bytes(answer.data)


def _email_html(services: Any, client_word: str) -> bytes:
    for path in services.mail.messages():
        message = message_from_bytes(path.read_bytes(), policy=policy.default)
        if client_word in str(message["Subject"]):
            part = message.get_body(preferencelist=("html",))
            assert part is not None
            return str(part.get_content()).encode()
    raise AssertionError("no email for the handover")


def test_oversized_and_malformed_bodies_are_refused(app: Flask, google: FakeGoogleSignIn) -> None:
    client = app.test_client()
    sales = client_as(app, google, SALES)
    token = csrf_of(sales.get("/handovers/new").get_data(as_text=True))
    limit = app.extensions["handover"].settings.max_body_bytes
    big = example_handover("Big Co")
    big["influencers_notes"] = "x" * (limit + 1)
    before = counts(app)

    too_big = client.post("/api/handovers", json=big, headers=OPS)
    too_big_form = sales.post(
        "/handovers", data={"csrf_token": token, "influencers_notes": "x" * (limit + 1)}
    )
    not_json = client.post(
        "/api/handovers", data=b'{"client": ', headers={**OPS, "Content-Type": "application/json"}
    )
    array = client.post("/api/handovers", json=[example_handover()], headers=OPS)
    wrong_type = client.post("/api/handovers", data="client=x", headers=OPS)
    nul = client.get("/api/audit?subject=a%00b", headers=ADMIN)
    invalid = client.post("/api/handovers", json={"client": {"name": 3}}, headers=OPS)

    assert too_big.status_code == 413 and too_big_form.status_code == 413
    assert (not_json.status_code, array.status_code) == (400, 400)
    assert wrong_type.status_code == 415
    assert nul.status_code == 400
    assert invalid.status_code == 422
    fields = {
        a.get_json()["errors"][0]["field"]
        for a in (too_big, not_json, array, wrong_type, nul)
    }
    assert fields == {"body", "Content-Type", "subject"}
    assert counts(app) == before


HOSTILE = "Acme' or name contains '"


def test_quotes_in_a_client_name_stay_one_literal_in_drive_queries(
    tmp_path: Path, database_url: str, fake_google: Any
) -> None:
    from service import create_app
    from tests.conftest import close_app, make_settings

    app = create_app(
        make_settings(
            tmp_path, database_url=database_url, workspace_backend="google",
            google_api_endpoint=fake_google.url, google_auth="anonymous",
            google_impersonate="handover@agency.example", google_retry_base=0.01,
        )
    )
    try:
        services = app.extensions["handover"]
        fake_google.drive.add_file(
            "Decoy Corp", mime_type="application/vnd.google-apps.folder",
            app_properties={"accountKey": "decoy.example", "kind": "client_folder"},
        )
        statuses = []
        for project in ("First Project", "Second Project"):
            data = example_handover()
            data["client"]["name"] = HOSTILE
            data["project"]["name"] = f"{project} \\' or '1'='1"
            answer = app.test_client().post(
                "/api/handovers", json=data, headers={"Origin": "http://localhost"}
            )
            assert answer.status_code == 202
            services.tasks.wait_idle(timeout=60)
            statuses.append(app.test_client().get(answer.headers["Location"]).get_json())
    finally:
        close_app(app)

    assert [s["status"] for s in statuses] == ["done", "done"], statuses
    live = [f for f in fake_google.drive.files.values() if not f.get("trashed")]
    folders = [f for f in live if f["mimeType"] == "application/vnd.google-apps.folder"]
    assert [f["name"] for f in folders if f["name"] == HOSTILE] == [HOSTILE]
    assert sorted(f["name"] for f in folders) == sorted(["Contracts", "Decoy Corp", HOSTILE])
    assert statuses[0]["artifacts"]["folder"]["id"] == statuses[1]["artifacts"]["folder"]["id"]
    assert fake_google.crashes == []
    assert all(r.status != 400 for r in fake_google.requests)  # every `q` parsed
