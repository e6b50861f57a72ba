"""The form's dotted names become the API's JSON, and back."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict

from service.web.formdata import flatten, nest


def test_rows_and_multi_valued_roles_nest_in_order() -> None:
    form = MultiDict(
        [
            ("client.name", "Acme"),
            ("delivery_team.1.name", "Second"),
            ("delivery_team.1.email", "b@x.example"),
            ("delivery_team.0.name", "First"),
            ("delivery_team.0.email", "a@x.example"),
            ("delivery_team.2.name", ""),
            ("delivery_team.2.email", ""),
            ("client_contacts.0.roles", "buyer"),
            ("client_contacts.0.roles", "champion"),
            ("project_manager.name", ""),
            ("project_manager.email", ""),
            ("csrf_token", "x"),
        ]
    )
    data = nest(form)
    assert data["client"] == {"name": "Acme"}
    assert [m["name"] for m in data["delivery_team"]] == ["First", "Second"]
    assert data["client_contacts"] == [{"roles": ["buyer", "champion"]}]
    assert data["project_manager"] is None
    assert "csrf_token" not in data


def test_blank_optional_zone_is_dropped_so_the_default_applies() -> None:
    data = nest(
        MultiDict(
            [("sales.0.name", "Sam"), ("sales.0.email", "s@a.example"), ("sales.0.timezone", "")]
        )
    )
    assert data["sales"] == [{"name": "Sam", "email": "s@a.example"}]


def test_flatten_inverts_nest_for_redisplay() -> None:
    data = {
        "client": {"name": "A"},
        "sales": [{"email": "s@a.example"}],
        "client_contacts": [{"roles": ["buyer"]}],
    }
    assert flatten(data) == {
        "client.name": "A",
        "sales.0.email": "s@a.example",
        "client_contacts.0.roles": ["buyer"],
    }


def test_rows_with_gaps_come_out_contiguous_in_number_order() -> None:
    # A row removed in the browser without renumbering (or a hand-made form) leaves gaps.
    form = MultiDict(
        [
            ("sales.10.name", "Third"),
            ("sales.10.email", "c@x.example"),
            ("sales.0.name", "First"),
            ("sales.0.email", "a@x.example"),
            ("sales.2.name", "Second"),
            ("sales.2.email", "b@x.example"),
        ]
    )
    data = nest(form)
    assert [p["name"] for p in data["sales"]] == ["First", "Second", "Third"]
    assert flatten(data)["sales.2.name"] == "Third"  # re-shown at the numbers errors use
