"""The OpenAPI 3.1 document of the JSON API, its request schema taken from the validator."""

from __future__ import annotations

from functools import cache
from typing import Any

from service.schema import HandoverIn
from service.web.openapi_accounts import account_paths
from service.web.openapi_paths import more_paths


@cache
def _handover_schema() -> dict[str, Any]:
    schema = HandoverIn.model_json_schema(ref_template="#/components/schemas/{model}")
    return schema


def openapi_document(base_url: str) -> dict[str, Any]:
    """Return the OpenAPI document."""
    request_schema = dict(_handover_schema())
    defs = request_schema.pop("$defs", {})
    error = {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["field", "code", "message"],
                    "properties": {
                        "field": {"type": "string"},
                        # Stable, for programs: required, too_long, invalid_email,
                        # not_agency_address, invalid_timezone, forbidden, not_found...
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                    },
                },
            },
        },
    }
    step = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "state": {"enum": ["pending", "running", "done", "failed"]},
            "error": {"type": ["string", "null"]},
            "attempts": {"type": "integer"},
        },
    }
    link = {"type": "object", "properties": {"id": {"type": "string"}, "url": {"type": "string"}}}
    status = {
        "type": "object",
        "required": ["id", "status", "steps", "artifacts"],
        "properties": {
            "id": {"type": "string"},
            "status": {"enum": ["pending", "running", "done", "failed"]},
            "client": {"type": "string"},
            "project": {"type": "string"},
            "steps": {"type": "array", "items": step},
            "artifacts": {
                "type": "object",
                "properties": {
                    "folder": link,
                    "contracts_folder": link,
                    "brief": link,
                    "events": {"type": "array", "items": {"type": "object"}},
                },
            },
            "account_id": {"type": "string"},
            "waiting_for": {"type": ["string", "null"]},
            "meetings": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "kind": {"type": "string"},
                        "state": {"enum": ["proposed", "confirmed", "sent", "cancelled"]},
                        "start": {"type": ["string", "null"]},
                        "organiser": {"type": ["string", "null"]},
                        "alternatives": {"type": "array", "items": {"type": "object"}},
                    },
                },
            },
        },
    }
    errors = {
        code: {
            "description": text,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for code, text in {
            "400": "Malformed request",
            "401": "No or wrong bearer token",
            "403": "The caller's role may not do this, or not to this handover or review",
            "404": "No such handover or review",
            "409": "The review is not in a state that allows this, or the Idempotency-Key "
            "was used before with another body",
            "413": "Body too large",
            "415": "Not JSON",
            "422": "Invalid handover: one error per field",
        }.items()
    }
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Handover service API", "version": "1"},
        "servers": [{"url": base_url}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "HandoverIn": request_schema,
                "HandoverStatus": status,
                "Error": error,
                **defs,
            },
        },
        "security": [{"bearer": []}],
        "paths": {
            "/api/handovers": {
                "post": {
                    "operationId": "createHandover",
                    "summary": "Kick off a handover",
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {
                                "type": "string",
                                "maxLength": 200,
                                "pattern": "^[\\x21-\\x7e]+$",
                            },
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/HandoverIn"}
                            }
                        },
                    },
                    "responses": {
                        "202": {
                            "description": "Stored; the steps run asynchronously",
                            "content": {
                                "application/json": {
                                    "schema": {
                                        "type": "object",
                                        "properties": {
                                            "id": {"type": "string"},
                                            "status_url": {"type": "string"},
                                        },
                                    }
                                }
                            },
                        },
                        "200": {
                            "description": "The Idempotency-Key was used before: that handover"
                        },
                        **{k: v for k, v in errors.items() if k != "404"},
                    },
                }
            },
            "/api/handovers/{handover_id}": {
                "get": {
                    "operationId": "getHandover",
                    "parameters": [
                        {
                            "name": "handover_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The handover",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/HandoverStatus"}
                                }
                            },
                        },
                        "401": errors["401"],
                        "403": errors["403"],
                        "404": errors["404"],
                    },
                }
            },
        },
    }
    for path, item in more_paths(errors).items():
        document["paths"].setdefault(path, {}).update(item)
    for path, item in account_paths(errors).items():
        document["paths"].setdefault(path, {}).update(item)
    return document
