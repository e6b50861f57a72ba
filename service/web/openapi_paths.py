"""The OpenAPI paths beyond kicking off and reading a handover: change, cancel, reviews,
roles, audit."""

from __future__ import annotations

from typing import Any

from service.domain.access import ROLES
from service.domain.contracts import DECISIONS, MAX_COMMENT, STATES


def _path_id(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _pick(errors: dict[str, Any], *codes: str) -> dict[str, Any]:
    return {code: errors[code] for code in codes}


def more_paths(errors: dict[str, Any]) -> dict[str, Any]:
    """Return the path items of the handover changes, the reviews and the audit trail."""
    handover = {"$ref": "#/components/schemas/HandoverIn"}
    accepted = _json({"type": "object"}, "Accepted; the steps follow")
    review = {"type": "object", "required": ["id", "state"]}
    decision = {
        "type": "object",
        "required": ["decision"],
        "properties": {
            "decision": {"enum": list(DECISIONS)},
            "comment": {"type": "string", "maxLength": MAX_COMMENT},
        },
    }
    role = {
        "type": "object",
        "required": ["role"],
        "properties": {"role": {"enum": list(ROLES)}},
    }
    return {
        "/api/handovers/{handover_id}": {
            "put": {
                "operationId": "replaceHandover",
                "summary": "Replace a handover's data (same account); its artifacts follow",
                "parameters": [_path_id("handover_id")],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": handover}},
                },
                "responses": {
                    "202": accepted,
                    **_pick(errors, "400", "401", "403", "404", "413", "415", "422"),
                },
            },
        },
        "/api/handovers/{handover_id}/confirm-account": {
            "post": {
                "operationId": "confirmAccount",
                "summary": "Operations: let a handover submitted by someone not on its "
                "account join the account (its folder, PM for drafts and syncs)",
                "parameters": [_path_id("handover_id")],
                "responses": {"202": accepted, **_pick(errors, "401", "403", "404")},
            }
        },
        "/api/handovers/{handover_id}/cancel": {
            "post": {
                "operationId": "cancelHandover",
                "parameters": [_path_id("handover_id")],
                "responses": {"202": accepted, **_pick(errors, "401", "403", "404")},
            }
        },
        "/api/handovers/{handover_id}/meetings/{kind}/confirm": {
            "post": {
                "operationId": "confirmMeeting",
                "summary": "The organiser (or Operations) confirms a proposed client meeting, "
                "optionally at one of its offered alternatives; the invitation is then sent",
                "parameters": [
                    _path_id("handover_id"),
                    {
                        "name": "kind",
                        "in": "path",
                        "required": True,
                        "schema": {"enum": ["client_kickoff", "executive_sponsor_sync"]},
                    },
                ],
                "requestBody": {
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {"start": {"type": "string", "format": "date-time"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": _json({"type": "object"}, "The meeting, confirmed (or as it was)"),
                    **_pick(errors, "400", "401", "403", "404", "409", "413", "415", "422"),
                },
            }
        },
        "/api/reviews": {
            "get": {
                "operationId": "listReviews",
                "parameters": [
                    {"name": "state", "in": "query", "schema": {"enum": list(STATES)}},
                    {"name": "account", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": _json(
                        {"type": "object", "properties": {"reviews": {"type": "array"}}},
                        "The reviews the caller may see, newest first",
                    ),
                    **_pick(errors, "400", "401", "403"),
                },
            }
        },
        "/api/reviews/{review_id}": {
            "get": {
                "operationId": "getReview",
                "parameters": [_path_id("review_id")],
                "responses": {
                    "200": _json(review, "The review"),
                    **_pick(errors, "401", "403", "404"),
                },
            }
        },
        "/api/reviews/{review_id}/decision": {
            "post": {
                "operationId": "decideReview",
                "summary": (
                    "The PM approves or asks for changes (with a comment); the AM and the "
                    "uploader, if of the agency, are emailed once per decision"
                ),
                "parameters": [_path_id("review_id")],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": decision}},
                },
                "responses": {
                    "200": _json(review, "The decided review"),
                    **_pick(errors, "400", "401", "403", "404", "409", "413", "415", "422"),
                },
            }
        },
        "/api/roles": {
            "get": {
                "operationId": "listRoles",
                "summary": "Who has which role by name, from the ROLES setting or assigned here",
                "responses": {
                    "200": _json(
                        {"type": "object", "properties": {"roles": {"type": "array"}}},
                        "Roles by name; everyone else of the agency is Sales",
                    ),
                    **_pick(errors, "401", "403"),
                },
            }
        },
        "/api/roles/{email}": {
            "put": {
                "operationId": "assignRole",
                "summary": "Give a person of the agency a role (admins only)",
                "parameters": [_path_id("email")],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": role}},
                },
                "responses": {
                    "200": _json({"type": "object"}, "The role is in force"),
                    **_pick(errors, "400", "401", "403", "413", "415", "422"),
                },
            },
            "delete": {
                "operationId": "removeRole",
                "summary": "Take back a role assigned here: the person is Sales again",
                "parameters": [_path_id("email")],
                "responses": {
                    "200": _json({"type": "object"}, "The role was taken back"),
                    **_pick(errors, "401", "403", "404", "422"),
                },
            },
        },
        "/api/audit": {
            "get": {
                "operationId": "listAudit",
                "summary": "Who or what did what, and when (admins only)",
                "parameters": [
                    {
                        "name": "subject",
                        "in": "query",
                        "schema": {"type": "string", "maxLength": 200},
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000},
                    },
                    {
                        "name": "before",
                        "in": "query",
                        "description": "only lines older than this one (the `older` of a page)",
                        "schema": {"type": "integer", "minimum": 1},
                    },
                ],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "audit": {"type": "array"},
                                "older": {"type": ["integer", "null"]},
                            },
                        },
                        "Audit lines, newest first; `older` is the next page's `before`",
                    ),
                    **_pick(errors, "400", "401", "403"),
                },
            }
        },
    }
