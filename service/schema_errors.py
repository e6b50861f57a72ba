"""The handover schema's errors in plain words, each with a stable code.

Pydantic says "String should have at least 1 character"; a person filling the form needs
"Enter the client's name." This module turns each validation error into the field's
dotted path, a code a program can test (`required`, `too_long`, `invalid_email`...) and a
sentence for people. The codes are part of the API's contract: keep them stable.
"""

from __future__ import annotations

from typing import Any

# What each field is, in words ("Enter ___."), by its name in the path.
LABELS = {
    "client.name": "the client's name",
    "client.timezone": "the client's time zone",
    "client.domain": "the client's email domain",
    "project.name": "the project's name",
    "project.contract_signed_on": "the date the contract was signed",
    "project.proposal_url": "the link to the proposal",
    "project.sync_cadence": "how often the account syncs run",
    "success.why_bought": "why the client bought",
    "success.problem_and_goals": "the client's problem and goals",
    "success.success_definition": "what success looks like",
    "success.roadblocks": "the roadblocks",
    "influencers_notes": "the notes on influencers",
    "name": "the person's name",
    "email": "the email address",
    "timezone": "the person's time zone",
    "country": "the country",
    "role": "the person's role on the team",
    "roles": "the contact's roles",
    "title": "the contact's job title",
    "sales": "at least one person from Sales",
    "client_contacts": "at least one client contact",
    "account_manager": "the Account Manager",
    "client": "the client",
    "project": "the project",
    "success": "the answers about success",
}
LIST_NAMES = {
    "sales": "people from Sales",
    "delivery_team": "members of the delivery team",
    "client_contacts": "client contacts",
    "roles": "roles",
}
ONE = {
    "sales": "one person from Sales",
    "client_contacts": "one client contact",
    "roles": "one role for the contact",
    "delivery_team": "one member of the delivery team",
}
DATE_TYPES = {
    "date_parsing",
    "date_from_datetime_parsing",
    "date_type",
    "date_from_datetime_inexact",
}
TYPE_WORDS = {
    "string_type": "text",
    "dict_type": "a group of fields (a JSON object)",
    "model_type": "a group of fields (a JSON object)",
    "model_attributes_type": "a group of fields (a JSON object)",
    "list_type": "a list",
}


def label(loc: tuple[Any, ...]) -> str:
    """Return what the field at this path is, in words."""
    if not loc:
        return "the handover"
    names = [str(p) for p in loc if not isinstance(p, int) and not str(p).isdecimal()]
    dotted = ".".join(names)
    for key in (dotted, ".".join(names[-2:]), names[-1] if names else ""):
        if key in LABELS:
            return LABELS[key]
    return "this field"


def plain(err: dict[str, Any]) -> tuple[str, str]:
    """Return (code, message) in plain words for one pydantic error."""
    kind, loc, ctx = str(err["type"]), tuple(err["loc"]), err.get("ctx") or {}
    last = str(loc[-1]) if loc else ""
    what = label(loc)
    if kind == "missing" or (kind == "string_too_short" and ctx.get("min_length") == 1):
        return "required", f"Enter {what}."
    if kind == "too_short":
        return "required", f"Add at least {ONE.get(_last_name(loc), 'one entry')}."
    if kind == "too_long":
        return "too_many", f"Give at most {ctx.get('max_length')} {_list(loc)}."
    if kind == "string_too_long":
        return "too_long", f"Shorten {what} to at most {ctx.get('max_length')} characters."
    if kind == "value_error" and last == "email":
        return "invalid_email", "Enter an email address such as ada@agency.example."
    if kind == "string_pattern_mismatch" and last == "domain":
        return "invalid_domain", (
            "Enter the client's email domain, the part after @ in their addresses, "
            "such as acme.example."
        )
    if kind == "string_pattern_mismatch" and last == "proposal_url":
        return "invalid_url", "Enter a link that starts with https:// or http://."
    if kind in DATE_TYPES and err.get("input") == "":
        return "invalid_date", f"Enter {what}."
    if kind in DATE_TYPES:
        return "invalid_date", (
            f"Enter {what} as a real date, such as 20 November 2026 (2026-11-20)."
        )
    if kind == "enum":
        return "invalid_choice", _choose(loc)
    if kind == "extra_forbidden":
        return "unknown_field", "This is not a field of a handover: leave it out."
    if kind in TYPE_WORDS:
        named = f"the {LIST_NAMES[last]}" if last in LIST_NAMES else what
        return "wrong_type", f"Send {named} as {TYPE_WORDS[kind]}."
    if kind == "invalid_timezone":
        if ctx.get("suggestion"):
            return kind, f"Choose {what} from the list, such as {ctx['suggestion']}."
        return kind, (
            f"Choose {what} from the list: type a city, such as New York (America/New_York) "
            "or Kolkata (Asia/Kolkata)."
        )
    if kind == "invalid_country" and ctx.get("suggestion"):
        return kind, f"Enter {ctx['suggestion']}, the two-letter code of {ctx['name']}."
    if kind in {"invalid_country", "line_break", "control_characters"}:
        return kind, str(err["msg"])
    return "invalid", f"Check {what}: it is not valid."


# The choices of the fixed lists, in words (the API sends the values in brackets).
CHOICES = {
    "roles": (
        "Choose the contact's roles from the list: Buyer, Executive sponsor, Champion, "
        "Influencer or Detractor."
    ),
    "sync_cadence": "Choose how often the account syncs run: fortnightly, monthly or quarterly.",
}


def _choose(loc: tuple[Any, ...]) -> str:
    return CHOICES.get(_last_name(loc), "Choose one of the values in the list.")


def _last_name(loc: tuple[Any, ...]) -> str:
    names = [str(p) for p in loc if not isinstance(p, int)]
    return names[-1] if names else ""


def _list(loc: tuple[Any, ...]) -> str:
    return LIST_NAMES.get(_last_name(loc), "entries")


# --- the names of the form's fields, for the error summary ("Client contact 2: email") ---

SECTIONS = {
    "client": "Client",
    "project": "Project",
    "account_manager": "Account Manager",
    "project_manager": "Project Manager",
    "success": "Guidelines of Success",
    "influencers_notes": "Influencers, champions and detractors: notes",
    "body": "The form",
}
ROWS = {
    "sales": "Sales person",
    "delivery_team": "Team member",
    "client_contacts": "Client contact",
}
WHOLE_LISTS = {
    "sales": "Sales",
    "delivery_team": "Delivery team",
    "client_contacts": "Client contacts",
}
FIELD_WORDS = {
    "name": "name",
    "email": "email",
    "role": "role",
    "title": "job title",
    "timezone": "time zone",
    "country": "country",
    "roles": "roles",
    "domain": "email domain",
    "contract_signed_on": "contract signed on",
    "proposal_url": "proposal link",
    "sync_cadence": "account sync cadence",
    "why_bought": "why did the client buy?",
    "problem_and_goals": "problem and goals",
    "success_definition": "what success means",
    "roadblocks": "potential roadblocks",
}


def field_name(path: str) -> str:
    """Return a field's name as the form shows it: `client_contacts.1.email` is
    "Client contact 2: email"; a path the form has no field for is "The form"."""
    parts = path.split(".")
    head, rest = parts[0], parts[1:]
    if head in ROWS and rest and rest[0].isdecimal() and len(rest[0]) < 7:
        where, rest = f"{ROWS[head]} {int(rest[0]) + 1}", rest[1:]
    elif head in WHOLE_LISTS and not rest:
        return WHOLE_LISTS[head]
    elif head in SECTIONS:
        where = SECTIONS[head]
    else:
        return SECTIONS["body"]
    if not rest:
        return where
    if rest[0] in FIELD_WORDS:
        return f"{where}: {FIELD_WORDS[rest[0]]}"
    return SECTIONS["body"]


def field_anchor(path: str) -> str | None:
    """Return the id of the form's element for this path (None: the form has none)."""
    if field_name(path) == SECTIONS["body"]:
        return None
    parts = path.split(".")
    if len(parts) == 1 and parts[0] not in {*WHOLE_LISTS, "influencers_notes"}:
        return None  # a whole section missing (the API's); the form has its fields
    if parts[0] in ROWS and len(parts) == 2:
        return None
    if "roles" in parts:  # `client_contacts.0.roles.1`: the contact's roles
        return ".".join(parts[: parts.index("roles") + 1])
    return path
