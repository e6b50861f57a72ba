"""Who may do what: the roles and the rules that tie a person to the handovers and reviews.

Pure rules, no I/O. Admins may do everything; Operations sees every handover and review
(it assigns PMs and the unmatched drafts); Sales kicks off handovers and sees its own;
an Account Manager or Project Manager sees the handovers and reviews they are named on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SALES = "sales"
OPERATIONS = "operations"
ACCOUNT_MANAGER = "account_manager"
PROJECT_MANAGER = "project_manager"
ADMIN = "admin"
ROLES = (SALES, OPERATIONS, ACCOUNT_MANAGER, PROJECT_MANAGER, ADMIN)
EVERYONE = ROLES
DEFAULT_ROLE = SALES
# What an address of a person of the agency looks like, for roles given by name.
ADDRESS = re.compile(r"[a-z0-9.!#$%&'*+=?^_`{|}~-]+@[a-z0-9-]+(\.[a-z0-9-]+)+")
# Roles that see and act on every handover and review.
EVERYWHERE = frozenset({OPERATIONS, ADMIN})


def role_of(email: str, roles: Mapping[str, str], assigned: str | None = None) -> str:
    """Return the person's role: the ROLES setting first (so the admins it names cannot be
    locked out from a page), then the role an admin assigned in the service, else Sales."""
    return roles.get(email.strip().lower()) or assigned or DEFAULT_ROLE


def assignment_errors(
    email: str, role: str | None, *, allowed_domain: str | None, configured: Mapping[str, str]
) -> dict[str, str]:
    """Return what is wrong with giving the person the role (role None: removing it), by
    field; empty when it may be done."""
    errors: dict[str, str] = {}
    address = email.strip().lower()
    host = address.rpartition("@")[2]
    if len(address) > 254 or not ADDRESS.fullmatch(address):
        errors["email"] = "must be an email address"
    elif allowed_domain and host != allowed_domain.lower():
        errors["email"] = f"must be an address of {allowed_domain.lower()}"
    elif address in configured:
        errors["email"] = (
            f"has the role {configured[address]} from the ROLES setting; change it there"
        )
    if role is not None and role not in ROLES:
        errors["role"] = f"must be one of {', '.join(ROLES)}"
    return errors


def _email(person: Any) -> str:
    if isinstance(person, Mapping):
        return str(person.get("email") or "").strip().lower()
    return ""


def named_on(payload: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """Return the emails a handover names, by role: Sales, its AM and its PM."""
    sales = payload.get("sales")
    sales_emails = {_email(p) for p in sales} if isinstance(sales, list) else set()
    return {
        SALES: frozenset(sales_emails - {""}),
        ACCOUNT_MANAGER: frozenset({_email(payload.get("account_manager"))}) - {""},
        PROJECT_MANAGER: frozenset({_email(payload.get("project_manager"))}) - {""},
    }


def may_see_handover(email: str, role: str, payload: Mapping[str, Any], submitted_by: str) -> bool:
    """Return whether this person may see the handover (and its audit lines)."""
    if role in EVERYWHERE:
        return True
    me = email.strip().lower()
    if role == SALES and me == submitted_by.strip().lower():
        return True
    return me in named_on(payload).get(role, frozenset())


def may_change_handover(
    email: str, role: str, payload: Mapping[str, Any], submitted_by: str
) -> bool:
    """Return whether this person may change or cancel the handover: its Sales or Operations."""
    if role in EVERYWHERE:
        return True
    return role == SALES and may_see_handover(email, role, payload, submitted_by)


def may_see_review(email: str, role: str, am_email: str | None, pm_email: str | None) -> bool:
    """Return whether this person may see the contract review: its account's AM or PM."""
    if role in EVERYWHERE:
        return True
    me = email.strip().lower()
    mine = {ACCOUNT_MANAGER: am_email, PROJECT_MANAGER: pm_email}.get(role)
    return bool(mine) and me == str(mine).strip().lower()


def may_open_file(
    email: str, role: str, *, brief: bool, account_people: frozenset[str], reviewers: frozenset[str]
) -> bool:
    """Return whether this person may open a local file: a brief, any signed-in person; a
    folder or a contract draft, the account's people, the draft's reviewers, Operations and
    admins."""
    if brief or role in EVERYWHERE:
        return True
    me = email.strip().lower()
    return me in account_people or me in reviewers


def people_named(payload: Mapping[str, Any]) -> frozenset[str]:
    """Return every internal person a handover names: AM, PM, Sales and the delivery team."""
    team = payload.get("delivery_team")
    emails = {_email(p) for p in team} if isinstance(team, list) else set()
    for people in named_on(payload).values():
        emails |= people
    return frozenset(emails - {""})
