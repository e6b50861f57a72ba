"""The error summary names each field as the form shows it and links to its element."""

from __future__ import annotations

import pytest

from service.schema_errors import field_anchor, field_name

CASES = [
    ("client_contacts.1.email", "Client contact 2: email", "client_contacts.1.email"),
    ("client.timezone", "Client: time zone", "client.timezone"),
    ("delivery_team.0.role", "Team member 1: role", "delivery_team.0.role"),
    ("sales.2.name", "Sales person 3: name", "sales.2.name"),
    ("sales", "Sales", "sales"),
    ("client_contacts", "Client contacts", "client_contacts"),
    ("client_contacts.0.roles.1", "Client contact 1: roles", "client_contacts.0.roles"),
    ("project.contract_signed_on", "Project: contract signed on", "project.contract_signed_on"),
    ("account_manager.email", "Account Manager: email", "account_manager.email"),
    ("client.colour", "The form", None),
    ("body", "The form", None),
    ("success", "Guidelines of Success", None),
]


@pytest.mark.parametrize(("path", "name", "anchor"), CASES, ids=[c[0] for c in CASES])
def test_each_path_has_words_and_an_anchor(path: str, name: str, anchor: str | None) -> None:
    assert field_name(path) == name
    assert field_anchor(path) == anchor
