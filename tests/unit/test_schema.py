"""The one validation schema: what it accepts, and a message at the right field for each fault."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from service.demo import example_handover
from service.domain.model import Cadence, ContactRole
from service.schema import InvalidHandover, validate_handover


def errors_of(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidHandover) as caught:
        validate_handover(data)
    return {e.field: e.message for e in caught.value.errors}


def test_the_example_is_valid_and_normalised() -> None:
    data = example_handover()
    data["client"]["domain"] = "  ACME.Example "
    data["account_manager"]["email"] = "Ada@Agency.Example"
    _, handover = validate_handover(data)
    assert handover.client.domain == "acme.example"
    assert handover.account_manager.email == "ada@agency.example"
    assert handover.project.sync_cadence is Cadence.FORTNIGHTLY
    assert handover.contacts_with(ContactRole.EXECUTIVE_SPONSOR)[0].name == "Cleo Buyer"


def test_project_manager_may_be_left_for_operations() -> None:
    data = example_handover()
    data["project_manager"] = None
    _, handover = validate_handover(data)
    assert handover.project_manager is None


def _set(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(example_handover())
    node: Any = data
    parts = path.split(".")
    for part in parts[:-1]:
        node = node[int(part)] if part.isdigit() else node[part]
    last = parts[-1]
    if value is _DELETE:
        del node[int(last) if last.isdigit() else last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return data


_DELETE = object()

BAD_INPUTS = [
    # (what is wrong, path to change, new value, field that must carry the error, its code,
    # words in its message)
    ("client name missing", "client.name", _DELETE, "client.name", "required", "Enter the client's name"),
    ("client name blank", "client.name", "   ", "client.name", "required", "Enter the client's name"),
    ("client name too long", "client.name", "x" * 201, "client.name", "too_long", "at most 200 characters"),
    ("unknown time zone", "client.timezone", "Mars/Olympus", "client.timezone", "invalid_timezone", "type a city, such as New York"),
    ("bad email domain", "client.domain", "not a domain", "client.domain", "invalid_domain", "acme.example"),
    (
        "bad signed date",
        "project.contract_signed_on",
        "2026-13-40",
        "project.contract_signed_on",
        "invalid_date",
        "2026-11-20",
    ),
    (
        "proposal not a link",
        "project.proposal_url",
        "javascript:alert(1)",
        "project.proposal_url",
        "invalid_url",
        "https://",
    ),
    ("unknown cadence", "project.sync_cadence", "weekly", "project.sync_cadence", "invalid_choice", "fortnightly"),
    (
        "AM email invalid",
        "account_manager.email",
        "ada-at-agency",
        "account_manager.email",
        "invalid_email",
        "email address",
    ),
    ("no sales person", "sales", [], "sales", "required", "at least one person from Sales"),
    (
        "team member without role",
        "delivery_team.0.role",
        _DELETE,
        "delivery_team.0.role",
        "required",
        "Enter the person's role",
    ),
    (
        "team member unknown zone",
        "delivery_team.1.timezone",
        "Berlin",
        "delivery_team.1.timezone",
        "invalid_timezone",
        "Choose the person's time zone from the list, such as Europe/Berlin",
    ),
    (
        "team member unknown country",
        "delivery_team.0.country",
        "XX",
        "delivery_team.0.country",
        "invalid_country",
        "Choose a country from the list, for example India",
    ),
    (
        "contact role unknown",
        "client_contacts.0.roles",
        ["buyer", "boss"],
        "client_contacts.0.roles.1",
        "invalid_choice",
        "Buyer, Executive sponsor, Champion",
    ),
    (
        "contact with no role",
        "client_contacts.1.roles",
        [],
        "client_contacts.1.roles",
        "required",
        "at least one role",
    ),
    (
        "no executive sponsor",
        "client_contacts.0.roles",
        ["buyer"],
        "client_contacts",
        "no_executive_sponsor",
        "Tick \u201cExecutive sponsor\u201d for at least one client contact",
    ),
    (
        "signed date left blank",
        "project.contract_signed_on",
        "",
        "project.contract_signed_on",
        "invalid_date",
        "Enter the date the contract was signed.",
    ),
    ("unknown field", "client.colour", "red", "client.colour", "unknown_field", "not a field"),
    ("answer too long", "success.roadblocks", "x" * 5001, "success.roadblocks", "too_long", "at most 5000"),
    ("contacts not a list", "client_contacts", "Cleo", "client_contacts", "wrong_type", "as a list"),
]


# What validators say and people should never read.
VALIDATOR_PHRASES = ("should", "String", "Input", "Value error", "at least 1 ", "IANA", "[")


@pytest.mark.parametrize(
    ("case", "path", "value", "field", "code", "words"),
    BAD_INPUTS,
    ids=[c[0] for c in BAD_INPUTS],
)
def test_each_bad_input_names_its_field_with_a_code_and_plain_words(
    case: str, path: str, value: Any, field: str, code: str, words: str
) -> None:
    with pytest.raises(InvalidHandover) as caught:
        validate_handover(_set(path, value))
    errors = {e.field: (e.code, e.message) for e in caught.value.errors}
    assert field in errors, errors
    assert errors[field][0] == code
    message = errors[field][1]
    assert words.lower() in message.lower(), message
    assert message[0].isupper() and message.endswith("."), message
    assert not any(p in message for p in VALIDATOR_PHRASES), message


def test_the_same_person_twice_in_one_role_is_refused() -> None:
    data = example_handover()
    data["delivery_team"][1]["email"] = data["delivery_team"][0]["email"].upper()
    errors = errors_of(data)
    assert list(errors) == ["delivery_team.1.email"]
    assert errors["delivery_team.1.email"] == (
        "DEV1@agency.example is listed twice: list each person once."
    )


def test_every_error_is_reported_at_once() -> None:
    data = example_handover()
    data["client"]["timezone"] = "Nowhere"
    data["account_manager"]["email"] = "nope"
    data["sales"][0]["name"] = ""
    assert set(errors_of(data)) == {"client.timezone", "account_manager.email", "sales.0.name"}


def test_a_body_that_is_not_an_object() -> None:
    with pytest.raises(InvalidHandover) as caught:
        validate_handover([])  # type: ignore[arg-type]
    assert caught.value.errors[0].field == "body"


def test_the_rules_are_reported_with_the_field_errors_in_one_pass() -> None:
    data = example_handover()
    data["client_contacts"][0]["roles"] = ["buyer"]  # no executive sponsor left
    data["client_contacts"][1]["email"] = "not-an-address"
    data["sales"][0]["email"] = "sam@elsewhere.example"  # not of the agency
    data["delivery_team"][1]["email"] = data["delivery_team"][0]["email"]
    with pytest.raises(InvalidHandover) as caught:
        validate_handover(data, allowed_domain="agency.example")
    codes = {e.field: e.code for e in caught.value.errors}
    assert codes == {
        "sales.0.email": "not_agency_address",
        "delivery_team.1.email": "duplicate",
        "client_contacts": "no_executive_sponsor",
        "client_contacts.1.email": "invalid_email",
    }
    # In the order the form shows the fields, so the summary reads top to bottom.
    assert [e.field for e in caught.value.errors] == [
        "sales.0.email",
        "delivery_team.1.email",
        "client_contacts",
        "client_contacts.1.email",
    ]


def test_a_country_typed_as_its_name_is_pointed_to_the_list_and_its_code() -> None:
    data = example_handover()
    data["delivery_team"][0]["country"] = "India"
    errors = errors_of(data)
    assert errors == {
        "delivery_team.0.country": "Enter IN, the two-letter code of India."
    }


def test_a_city_typed_for_a_zone_names_the_zone_to_choose() -> None:
    data = example_handover()
    data["client"]["timezone"] = "new york"
    assert errors_of(data) == {
        "client.timezone": "Choose the client's time zone from the list, such as America/New_York."
    }


INTERNAL_WORDS = ("executive_sponsor", "client_contacts", "IANA", "_")


def test_no_message_names_an_internal_key() -> None:
    data = example_handover()
    data["client_contacts"][0]["roles"] = ["boss"]
    data["client_contacts"][1]["roles"] = ["buyer"]
    data["project"]["sync_cadence"] = "weekly"
    data["client"]["timezone"] = "Mars"
    with pytest.raises(InvalidHandover) as caught:
        validate_handover(data)
    messages = [e.message for e in caught.value.errors]
    assert len(messages) == 4, messages
    for message in messages:
        message_words = message.replace("America/New_York", "").replace("Asia/Kolkata", "")
        assert not any(w in message_words for w in INTERNAL_WORDS), message


def test_the_pm_operations_assigns_gets_every_fault_in_words() -> None:
    from service.schema import validate_person

    with pytest.raises(InvalidHandover) as caught:
        validate_person({"name": "", "email": "priya", "timezone": "Kolkata", "country": "India"})
    assert {e.field: e.message for e in caught.value.errors} == {
        "name": "Enter the person's name.",
        "email": "Enter an email address such as ada@agency.example.",
        "timezone": "Choose the person's time zone from the list, such as Asia/Kolkata.",
        "country": "Enter IN, the two-letter code of India.",
    }
