"""Roles from the database: an admin gives people roles on /admin/people or `/api/roles`,
they apply at the person's next request, the ROLES setting still wins, and nobody else
may change them."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from service.store.models import AuditRow
from tests.conftest import API_TOKEN
from tests.e2e.signin_support import (
    ADMIN,
    OPS,
    app_fixture,  # noqa: F401 - the app fixture
    client_as,
    counts,
    csrf_of,
    google_fixture,  # noqa: F401 - the google fixture
    kickoff,
)
from tests.fakes.oidc import FakeGoogleSignIn

NEW_OPS = "nora@agency.example"  # in no ROLES setting: Sales until an admin says otherwise


def audit(app: Flask, action: str) -> list[tuple[str, str, dict[str, Any]]]:
    with app.extensions["handover"].db.transaction() as session:
        rows = session.scalars(select(AuditRow).where(AuditRow.action == action))
        return [(r.actor, r.subject, dict(r.detail or {})) for r in rows]


def give(client: Any, email: str, role: str) -> Any:
    page = client.get("/admin/people").get_data(as_text=True)
    return client.post(
        "/admin/people", data={"csrf_token": csrf_of(page), "email": email, "role": role}
    )


def test_a_role_given_on_the_page_applies_at_the_next_request_and_can_be_taken_back(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    handover_id = kickoff(app)
    nora = client_as(app, google, NEW_OPS)
    assert nora.get(f"/handovers/{handover_id}").status_code == 403  # Sales, not hers
    admin = client_as(app, google, "boss@agency.example")

    answer = give(admin, NEW_OPS.upper(), "operations")

    assert answer.status_code == 303
    assert nora.get(f"/handovers/{handover_id}").status_code == 200  # same session, new role
    page = admin.get("/admin/people").get_data(as_text=True)
    assert f'data-email="{NEW_OPS}"' in page and "boss@agency.example, " in page
    assert audit(app, "role.assigned") == [
        ("boss@agency.example", NEW_OPS, {"role": "operations", "before": None})
    ]

    csrf = csrf_of(page)
    taken = admin.post("/admin/people/remove", data={"csrf_token": csrf, "email": NEW_OPS})
    assert taken.status_code == 303
    assert nora.get(f"/handovers/{handover_id}").status_code == 403
    assert audit(app, "role.removed") == [("boss@agency.example", NEW_OPS, {"role": "operations"})]


def test_a_role_is_given_through_the_api_and_listed_with_its_source(app: Flask) -> None:
    client = app.test_client()

    answer = client.put(f"/api/roles/{NEW_OPS}", json={"role": "project_manager"}, headers=ADMIN)

    assert answer.status_code == 200
    assert answer.get_json() == {"email": NEW_OPS, "role": "project_manager", "source": "database"}
    listed = client.get("/api/roles", headers=ADMIN).get_json()["roles"]
    by_email = {r["email"]: (r["role"], r["source"]) for r in listed}
    assert by_email[NEW_OPS] == ("project_manager", "database")
    assert by_email["boss@agency.example"] == ("admin", "setting")
    removed = client.delete(f"/api/roles/{NEW_OPS}", headers=ADMIN)
    assert removed.get_json() == {"email": NEW_OPS, "role": "sales", "removed": "project_manager"}
    assert client.delete(f"/api/roles/{NEW_OPS}", headers=ADMIN).status_code == 404


def test_bad_assignments_name_the_field_and_change_nothing(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    client = app.test_client()
    admin = client_as(app, google, "boss@agency.example")
    before = counts(app)
    cases = [
        (NEW_OPS, {"role": "boss"}, "role", "must be one of sales, operations"),
        (NEW_OPS, {"role": None}, "role", "must be one of"),
        ("someone@gmail.com", {"role": "admin"}, "email", "must be an address of agency.example"),
        ("not-an-email", {"role": "admin"}, "email", "must be an email address"),
        ("a/b@agency.example", {"role": "admin"}, "email", "must be an email address"),
        ("x@y@agency.example", {"role": "admin"}, "email", "must be an email address"),
        # The setting wins: an admin named in ROLES cannot be demoted from the API.
        ("boss@agency.example", {"role": "sales"}, "email", "from the ROLES setting"),
    ]
    for email, body, field, words in cases:
        answer = client.put(f"/api/roles/{email}", json=body, headers=ADMIN)
        assert answer.status_code == 422, (email, body)
        [error] = answer.get_json()["errors"]
        assert error["field"] == field and words in error["message"], error
    assert client.put(f"/api/roles/{NEW_OPS}", data="role=admin", headers=ADMIN).status_code == 415

    page = give(admin, "mallory@elsewhere.example", "admin")
    assert page.status_code == 422
    assert "must be an address of agency.example" in page.get_data(as_text=True)
    assert counts(app) == before
    assert client.get("/api/roles", headers=ADMIN).get_json()["roles"][-1]["source"] == "setting"


def test_only_admins_may_see_or_change_roles(app: Flask, google: FakeGoogleSignIn) -> None:
    client = app.test_client()
    for headers in (OPS, {"Authorization": f"Bearer {API_TOKEN}"}):
        assert client.get("/api/roles", headers=headers).status_code == 403
        answer = client.put(f"/api/roles/{NEW_OPS}", json={"role": "admin"}, headers=headers)
        assert answer.status_code == 403
        assert client.delete("/api/roles/x@agency.example", headers=headers).status_code == 403
    assert client.put(f"/api/roles/{NEW_OPS}", json={"role": "admin"}).status_code == 401
    for email in ("ola@agency.example", "sam@agency.example"):  # Operations, Sales
        person = client_as(app, google, email)
        assert person.get("/admin/people").status_code == 403
        assert give_blind(person, NEW_OPS).status_code == 403
    assert audit(app, "role.assigned") == []
    assert client.get("/api/roles", headers=ADMIN).get_json()["roles"][-1]["email"] != NEW_OPS


def give_blind(client: Any, email: str) -> Any:
    """Post the form with a CSRF token from a page the person may see (not the people page)."""
    csrf = csrf_of(client.get("/handovers/new").get_data(as_text=True))
    return client.post("/admin/people", data={"csrf_token": csrf, "email": email, "role": "admin"})


def test_an_admin_cannot_take_away_their_own_role(app: Flask, google: FakeGoogleSignIn) -> None:
    boss = client_as(app, google, "boss@agency.example")
    assert give(boss, NEW_OPS, "admin").status_code == 303
    nora = client_as(app, google, NEW_OPS)  # an admin by the database only

    refused = give(nora, NEW_OPS, "sales")
    page = nora.get("/admin/people").get_data(as_text=True)
    removed = nora.post(
        "/admin/people/remove", data={"csrf_token": csrf_of(page), "email": NEW_OPS}
    )

    assert refused.status_code == removed.status_code == 422
    assert "is you: another admin must change your own role" in refused.get_data(as_text=True)
    assert nora.get("/admin/people").status_code == 200  # still an admin
    assert give(nora, "sue@agency.example", "operations").status_code == 303  # and acts as one
