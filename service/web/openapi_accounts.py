"""The OpenAPI paths of the accounts: the account, its items, its agenda and health."""

from __future__ import annotations

from typing import Any

from service.domain.account_rhythm import (
    HEALTH_ANSWERS,
    HEALTH_QUESTIONS,
    MAX_TEXT,
    OPPORTUNITY_STEPS,
    SEVERITIES,
)


def _id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _ok(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {
        "type": "object"}}}}  # fmt: skip


TEXT = {"type": "string", "minLength": 1, "maxLength": MAX_TEXT}
DAY = {"type": "string", "format": "date"}
BODIES = {
    "opportunities": (
        "logOpportunity", "Log what the client said about more work (urgent: the AM is emailed)",
        {"summary": TEXT, "urgent": {"type": "boolean"}}, ["summary"]),
    "escalations": (
        "raiseEscalation", "The PM escalates a client service issue to the AM",
        {"summary": TEXT, "severity": {"enum": list(SEVERITIES)}}, ["summary", "severity"]),
    "tasks": (
        "addTask", "An account task with an owner of the agency and a due date",
        {"title": {"type": "string", "minLength": 1, "maxLength": 300},
         "owner_email": {"type": "string", "format": "email"}, "due_on": DAY},
        ["title", "owner_email", "due_on"]),
    "notes": (
        "recordNotes", "Notes of a meeting held outside the syncs (the other of AM and PM is "
        "emailed)",
        {"held_on": DAY, "attendees": {"type": "array", "items": {"type": "string"},
                                       "minItems": 1},
         "notes": {"type": "string", "minLength": 1}},
        ["held_on", "attendees", "notes"]),
}  # fmt: skip


def account_paths(errors: dict[str, Any]) -> dict[str, Any]:
    """Return the path items of the accounts API."""
    some = {code: errors[code] for code in ("400", "401", "403", "404", "413", "415", "422")}
    account = [_id("account_id")]
    paths: dict[str, Any] = {
        "/api/accounts/{account_id}": {"get": {
            "operationId": "getAccount",
            "summary": "The account: projects, people, next syncs, contract reviews, "
                       "opportunities, tasks, escalations, notes, health and history",
            "parameters": account,
            "responses": {"200": _ok("The account"), **{c: errors[c] for c in
                                                         ("401", "403", "404")}},
        }},
        "/api/accounts/{account_id}/agenda": {"get": {
            "operationId": "getAgenda",
            "summary": "The next Internal Account Sync's agenda: sync_starts_at, "
                       "document_url, items (kind, summary, owner, due_on...)",
            "parameters": [*account, {"name": "meeting", "in": "query", "schema": {
                "enum": ["internal_account_sync", "executive_sponsor_sync"]}}],
            "responses": {"200": _ok("The agenda"), **{c: errors[c] for c in
                                                        ("400", "401", "403", "404")}},
        }},
        "/api/accounts/{account_id}/agenda/template": {"put": {
            "operationId": "putAgendaTemplate",
            "summary": "The AM or PM sets this client's agenda questions",
            "parameters": account,
            "requestBody": _body({"questions": {"type": "array", "items": {"type": "string"},
                                                "minItems": 1, "maxItems": 30}}, ["questions"]),
            "responses": {"200": _ok("The questions kept"), **some},
        }},
        "/api/accounts/{account_id}/agenda/executive": {"post": {
            "operationId": "markForExecutiveSync",
            "summary": "The AM puts items on the next Executive Sponsor Sync's agenda",
            "parameters": account,
            "requestBody": _body({"items": {"type": "array", "items": {"type": "string"}}},
                                 ["items"]),
            "responses": {"200": _ok("The items marked"), **some},
        }},
        "/api/accounts/{account_id}/health": {"post": {
            "operationId": "answerHealth",
            "summary": "The AM or PM answers the handbook's questions for one internal sync",
            "parameters": account,
            "requestBody": _body(
                {"sync_on": DAY, **{k: {"enum": list(HEALTH_ANSWERS)} for k in HEALTH_QUESTIONS}},
                ["sync_on", *HEALTH_QUESTIONS]),
            "responses": {"201": _ok("Stored"), **some},
        }},
        "/api/accounts/{account_id}/opportunities/{item_id}/state": {"post": {
            "operationId": "moveOpportunity",
            "summary": "The AM moves an opportunity on (with who and when in its history)",
            "parameters": [*account, _id("item_id")],
            "requestBody": _body({"state": {"enum": list(OPPORTUNITY_STEPS)},
                                  "note": {"type": "string"}}, ["state"]),
            "responses": {"200": _ok("Its new state"), "409": errors["409"], **some},
        }},
    }  # fmt: skip
    for action, summary in (
        ("acknowledge", "The PM acknowledges an opportunity the AM raised; the AM an escalation"),
        ("close", "Resolve an escalation, or mark a task done"),
    ):
        paths[f"/api/accounts/{{account_id}}/items/{{item_id}}/{action}"] = {"post": {
            "operationId": f"{action}Item",
            "summary": summary,
            "parameters": [*account, _id("item_id")],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "properties": {"note": {"type": "string"}}}}}},
            "responses": {"200": _ok("Its new state"), "409": errors["409"],
                          **{c: errors[c] for c in ("401", "403", "404", "415")}},
        }}  # fmt: skip
    for collection, (operation, summary, properties, required) in BODIES.items():
        paths[f"/api/accounts/{{account_id}}/{collection}"] = {"post": {
            "operationId": operation,
            "summary": summary,
            "parameters": [*account, {"name": "Idempotency-Key", "in": "header",
                                      "schema": {"type": "string", "maxLength": 200}}],
            "requestBody": _body(properties, required),
            "responses": {"201": _ok("Stored: {\"id\"}"), "200": _ok("Stored before, same key"),
                          **some},
        }}  # fmt: skip
    return paths
