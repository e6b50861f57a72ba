"""Each person only for their part: what every role may see and do, through the pages and
the API (the refusals, with nothing changed, are in test_attacks.py)."""

from __future__ import annotations

from flask import Flask
from werkzeug.datastructures import MultiDict

from service.demo import example_handover
from tests.conftest import API_TOKEN
from tests.e2e.signin_support import (
    ADMIN_TOKEN,
    OPS_TOKEN,
    SALES,
    a_review,
    app_fixture,  # noqa: F401 - the app fixture
    client_as,
    counts,
    csrf_of,
    google_fixture,  # noqa: F401 - the google fixture
    kickoff,
)
from tests.e2e.test_form_http import form_fields
from tests.fakes.oidc import FakeGoogleSignIn


def test_each_person_sees_the_handovers_they_are_part_of(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    handover_id = kickoff(app)
    seen = {
        email: client_as(app, google, email).get(f"/handovers/{handover_id}").status_code
        for email in [
            SALES,  # submitted it
            "ada@agency.example",  # its AM
            "pat@agency.example",  # its PM
            "ola@agency.example",  # Operations
            "boss@agency.example",  # admin
            "pia@agency.example",  # a PM of other accounts
            "sue@agency.example",  # another salesperson
        ]
    }
    assert seen == {
        SALES: 200, "ada@agency.example": 200, "pat@agency.example": 200,
        "ola@agency.example": 200, "boss@agency.example": 200,
        "pia@agency.example": 403, "sue@agency.example": 403,
    }
    listed = client_as(app, google, "pia@agency.example").get("/").get_data(as_text=True)
    assert handover_id not in listed
    assert handover_id in client_as(app, google, SALES).get("/").get_data(as_text=True)
    am_page = client_as(app, google, "ada@agency.example").get(f"/handovers/{handover_id}")
    ops_page = client_as(app, google, "ola@agency.example").get(f"/handovers/{handover_id}")
    assert 'id="pm-form"' not in am_page.get_data(as_text=True)  # forms only for their part
    assert 'id="cancel-form"' not in am_page.get_data(as_text=True)
    assert 'id="pm-form"' in ops_page.get_data(as_text=True)


def test_sales_kicks_off_a_handover_from_the_form(app: Flask, google: FakeGoogleSignIn) -> None:
    from werkzeug.datastructures import MultiDict

    from tests.e2e.test_form_http import form_fields

    client = client_as(app, google, SALES)
    page = client.get("/handovers/new").get_data(as_text=True)
    fields = form_fields(example_handover()) + [("csrf_token", csrf_of(page))]
    answer = client.post("/handovers", data=MultiDict(fields))

    assert answer.status_code == 303, answer.get_data(as_text=True)[:2000]
    handover_id = answer.headers["Location"].rsplit("/", 1)[1]
    audit = client_as(app, google, "boss@agency.example").get(
        f"/api/audit?subject={handover_id}"
    ).get_json()["audit"]
    assert ("handover.submitted", SALES) in {(a["action"], a["actor"]) for a in audit}
    assert client_as(app, google, "ada@agency.example").get("/handovers/new").status_code == 403


def test_operations_assigns_the_pm(app: Flask, google: FakeGoogleSignIn) -> None:
    handover_id = kickoff(app)
    ops = client_as(app, google, "ola@agency.example")
    page = ops.get(f"/handovers/{handover_id}").get_data(as_text=True)

    answer = ops.post(
        f"/handovers/{handover_id}/project-manager",
        data={"csrf_token": csrf_of(page), "name": "Pia Quill", "email": "pia@agency.example"},
    )

    assert answer.status_code == 303
    app.extensions["handover"].tasks.wait_idle()
    pia = client_as(app, google, "pia@agency.example")
    assert pia.get(f"/handovers/{handover_id}").status_code == 200  # now her account
    history = pia.get(f"/handovers/{handover_id}").get_data(as_text=True)
    assert "ola@agency.example assigned Pia Quill as Project Manager of the handover" in history


def test_operations_picks_the_pms_zone_and_country_by_name(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    handover_id = kickoff(app)
    ops = client_as(app, google, "ola@agency.example")
    page = ops.get(f"/handovers/{handover_id}").get_data(as_text=True)
    assert '<option value="Asia/Kolkata" label="Kolkata (India, UTC+5:30)">' in page
    assert '<option value="IN">India</option>' in page

    answer = ops.post(
        f"/handovers/{handover_id}/project-manager",
        data={"csrf_token": csrf_of(page), "name": "Pia Quill", "email": "pia@agency.example",
              "timezone": "Kolkata", "country": "IN"},
    )  # fmt: skip
    assert answer.status_code == 422  # a city is not a zone: the message names the zone
    text = answer.get_data(as_text=True)
    assert 'aria-invalid="true" aria-describedby="pm-tz-error"' in text
    assert "Asia/Kolkata" in text.split('id="pm-tz-error">', 1)[1].split("</p>", 1)[0]
    answer = ops.post(
        f"/handovers/{handover_id}/project-manager",
        data={"csrf_token": csrf_of(page), "name": "Pia Quill", "email": "pia@agency.example",
              "timezone": "Asia/Kolkata", "country": "IN"},
    )  # fmt: skip
    assert answer.status_code == 303
    pm = app.extensions["handover"].db
    with pm.transaction() as session:
        from service.store import handovers as repo

        payload = repo.get_handover(session, handover_id).payload
    assert payload["project_manager"]["timezone"] == "Asia/Kolkata"
    assert payload["project_manager"]["country"] == "IN"


def test_the_pm_decides_the_review_of_their_account_and_the_am_sees_it(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    kickoff(app)
    review_id = a_review(app)
    am = client_as(app, google, "ada@agency.example")
    assert review_id in am.get("/reviews").get_data(as_text=True)
    assert am.get(f"/api/reviews/{review_id}").status_code == 200
    pia = client_as(app, google, "pia@agency.example")
    assert review_id not in pia.get("/reviews").get_data(as_text=True)
    assert pia.get("/api/reviews").get_json()["reviews"] == []
    assert pia.get(f"/reviews/{review_id}").status_code == 403

    pm = client_as(app, google, "pat@agency.example")
    page = pm.get(f"/reviews/{review_id}").get_data(as_text=True)
    answer = pm.post(
        f"/reviews/{review_id}/decision",
        data={"csrf_token": csrf_of(page), "decision": "approved", "comment": "Fine."},
    )

    assert answer.status_code == 303
    decided = am.get(f"/api/reviews/{review_id}").get_json()
    assert (decided["state"], decided["decided_by"]) == ("approved", "pat@agency.example")


def test_api_tokens_carry_their_role(app: Flask) -> None:
    client = app.test_client()
    as_ops = {"Authorization": f"Bearer {OPS_TOKEN}"}
    as_sales = {"Authorization": f"Bearer {API_TOKEN}"}
    as_admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    made = client.post("/api/handovers", json=example_handover(), headers=as_ops)
    assert made.status_code == 202
    handover_id = made.get_json()["id"]
    assert client.get(f"/api/handovers/{handover_id}", headers=as_ops).status_code == 200
    assert client.get(f"/api/handovers/{handover_id}", headers=as_sales).status_code == 403
    assert client.get("/api/reviews", headers=as_ops).status_code == 200
    assert client.get("/api/audit", headers=as_ops).status_code == 403

    audit = client.get(f"/api/audit?subject={handover_id}", headers=as_admin).get_json()
    [submitted] = [a for a in audit["audit"] if a["action"] == "handover.submitted"]
    assert submitted["actor"].startswith("token:") and OPS_TOKEN[:8] not in submitted["actor"]


def test_the_audit_page_is_for_admins(app: Flask, google: FakeGoogleSignIn) -> None:
    handover_id = kickoff(app)
    admin = client_as(app, google, "boss@agency.example")

    page = admin.get(f"/admin/audit?subject={handover_id}")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    # In sentences, with the people's names and a link to the handover (no action keys).
    assert f'Sam Reed submitted <a href="/handovers/{handover_id}">Acme Corp: Acme' in text
    assert "The service finished “Write the Project Brief” for <a" in text
    assert "handover.submitted" not in text and "step.done" not in text
    assert admin.get("/api/audit?limit=0").status_code == 400
    assert admin.get("/api/audit?limit=0").get_json()["errors"][0]["field"] == "limit"
    assert client_as(app, google, "ola@agency.example").get("/admin/audit").status_code == 403


# The edit page's change preview answers whoever may change the handover, as saving would:
# Sales may preview a team change but not a new PM, someone not on it gets nothing.


def test_the_change_preview_follows_who_may_change_what(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    handover_id = kickoff(app)
    sales = client_as(app, google, SALES)
    token = csrf_of(sales.get(f"/handovers/{handover_id}/edit").get_data(as_text=True))
    url = f"/handovers/{handover_id}/edit/preview"
    before = counts(app)

    team = example_handover()
    team["delivery_team"][0]["name"] = "Dev Renamed"
    seen = sales.post(url, data=MultiDict([*form_fields(team), ("csrf_token", token)]))
    assert seen.status_code == 200
    assert "What saving this change will do" in seen.get_data(as_text=True)

    new_pm = example_handover()
    new_pm["project_manager"] = {"name": "Priya Shah", "email": "priya@agency.example"}
    refused = sales.post(url, data=MultiDict([*form_fields(new_pm), ("csrf_token", token)]))
    assert refused.status_code == 403  # Sales may not change the PM: saving would say so too

    outsider = client_as(app, google, "someone@agency.example")
    other_token = csrf_of(outsider.get("/handovers/new").get_data(as_text=True))
    hidden = outsider.post(url, data=MultiDict([*form_fields(team), ("csrf_token", other_token)]))
    assert hidden.status_code in {403, 404}
    after = counts(app)
    assert after.pop("audit") == before.pop("audit") + 1  # the outsider's sign-in, no more
    assert after == before  # a preview stores, sends and writes nothing
