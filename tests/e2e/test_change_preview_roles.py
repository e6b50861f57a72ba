"""The edit page's change preview answers whoever may change the handover, as saving would:
Sales may preview a team change but not a new PM, someone not on it gets nothing."""

from __future__ import annotations

from flask import Flask
from werkzeug.datastructures import MultiDict

from service.demo import example_handover
from tests.e2e.signin_support import (
    SALES,
    app_fixture,  # noqa: F401 - the app fixture
    client_as,
    counts,
    csrf_of,
    google_fixture,  # noqa: F401 - the google fixture
    kickoff,
)
from tests.e2e.test_form_http import form_fields
from tests.fakes.oidc import FakeGoogleSignIn


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
