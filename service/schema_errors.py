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
        return "invalid_domain", "Enter the client's email domain, such as acme.example."
    if kind == "string_pattern_mismatch" and last == "proposal_url":
        return "invalid_url", "Enter a link that starts with https:// or http://."
    if kind in DATE_TYPES:
        return "invalid_date", f"Enter {what} as year-month-day, such as 2026-11-20."
    if kind == "enum":
        return "invalid_choice", f"Choose one of {ctx.get('expected', 'the listed values')}."
    if kind == "extra_forbidden":
        return "unknown_field", "This is not a field of a handover: leave it out."
    if kind in TYPE_WORDS:
        named = f"the {LIST_NAMES[last]}" if last in LIST_NAMES else what
        return "wrong_type", f"Send {named} as {TYPE_WORDS[kind]}."
    if kind == "invalid_timezone":
        return kind, f"Enter {what}, such as America/New_York or Europe/Berlin."
    if kind in {"invalid_country", "line_break", "control_characters"}:
        return kind, str(err["msg"])
    return "invalid", f"Check {what}: it is not valid."


def _last_name(loc: tuple[Any, ...]) -> str:
    names = [str(p) for p in loc if not isinstance(p, int)]
    return names[-1] if names else ""


def _list(loc: tuple[Any, ...]) -> str:
    return LIST_NAMES.get(_last_name(loc), "entries")
