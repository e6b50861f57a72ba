"""The JSON API (the HTTP contract): handovers, and the OpenAPI document."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, request

from service.domain.access import EVERYONE, OPERATIONS, SALES
from service.schema import InvalidHandover, validate_handover
from service.store import handovers as repo
from service.web import guards
from service.web import services as _services
from service.web.auth import api_auth, require
from service.web.errors import error_response
from service.web.openapi import openapi_document
from service.web.present import handover_json
from service.workflows import kickoff, meetings

bp = Blueprint("api", __name__, url_prefix="/api")

_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")



def _json_body() -> dict[str, Any]:
    if not request.is_json:
        abort(415)
    body = request.get_json(silent=True)
    if body is None:
        abort(400, "The body is not valid JSON.")
    if not isinstance(body, dict):
        abort(400, "The body must be a JSON object.")
    return body


@bp.post("/handovers")
@api_auth
@require(SALES, OPERATIONS)
def create_handover() -> tuple[Response, int]:
    """Store a handover and start its steps; the same Idempotency-Key answers the same one."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _KEY.match(key):
        message = "Send an Idempotency-Key of 1 to 200 visible ASCII characters."
        return error_response(
            400,
            message,
            errors=[{"field": "Idempotency-Key", "code": "invalid_key", "message": message}],
        )
    body = _json_body()
    s = _services()
    if request.args.get("dry_run") in {"1", "true"}:
        try:
            _, handover = validate_handover(body, allowed_domain=s.settings.allowed_domain)
        except InvalidHandover as exc:
            return _invalid(exc)
        plan = meetings.preview(handover, settings=s.settings, calendar=s.calendar, now=s.clock())
        return jsonify({"dry_run": True, "plan": plan}), 200
    try:
        result = kickoff.submit_handover(
            body,
            idempotency_key=f"api:{key}" if key else None,
            actor=g.user.email,
            db=s.db,
            tasks=s.tasks,
            actor_role=g.user.role,
            allowed_domain=s.settings.allowed_domain,
        )
    except InvalidHandover as exc:
        return _invalid(exc)
    except kickoff.KeyReused as exc:
        return error_response(
            409,
            str(exc),
            errors=[{"field": "Idempotency-Key", "code": "key_reused", "message": str(exc)}],
        )
    base = s.settings.public_base_url
    answer = jsonify(
        {
            "id": result.handover_id,
            "created": result.created,
            "status_url": f"{base}/api/handovers/{result.handover_id}",
        }
    )
    answer.headers["Location"] = f"/api/handovers/{result.handover_id}"
    return answer, 202 if result.created else 200


@bp.put("/handovers/<handover_id>")
@api_auth
@require(SALES, OPERATIONS)
def replace_handover(handover_id: str) -> tuple[Response, int]:
    """Replace a handover's data (a team member added, a new cadence...); same artifacts."""
    guards.check(_services().db, handover_id, change=True)
    body = _json_body()
    s = _services()
    try:
        guards.update(s, handover_id, body)
    except InvalidHandover as exc:
        return _invalid(exc)
    except kickoff.NotAllowed as exc:
        abort(403, str(exc))
    except LookupError:
        abort(404)
    return jsonify({"id": handover_id, "status_url": _status_url(handover_id)}), 202


@bp.post("/handovers/<handover_id>/confirm-account")
@api_auth
@require(OPERATIONS)
def confirm_account(handover_id: str) -> tuple[Response, int]:
    """Let a handover submitted by someone not on its account join the account (Operations)."""
    s = _services()
    guards.check(s.db, handover_id)
    try:
        changed = kickoff.confirm_account(
            handover_id, actor=g.user.email, db=s.db, tasks=s.tasks, clock=s.clock
        )
    except LookupError:
        abort(404)
    return jsonify({"id": handover_id, "account_pending": False, "changed": changed}), 202


@bp.post("/handovers/<handover_id>/cancel")
@api_auth
@require(SALES, OPERATIONS)
def cancel(handover_id: str) -> tuple[Response, int]:
    """Cancel a handover: its steps stop and its meetings are cancelled."""
    guards.cancel(_services(), handover_id)
    return jsonify({"id": handover_id, "status": "cancelled"}), 202


def _invalid(exc: InvalidHandover) -> tuple[Response, int]:
    return error_response(
        422,
        "The handover is not valid.",
        errors=[{"field": e.field, "code": e.code, "message": e.message} for e in exc.errors],
    )


def _status_url(handover_id: str) -> str:
    return f"{_services().settings.public_base_url}/api/handovers/{handover_id}"


@bp.get("/handovers/<handover_id>")
@api_auth
@require(*EVERYONE)
def get_handover(handover_id: str) -> Response:
    """Return a handover's status, steps and artifacts."""
    s = _services()
    with s.db.transaction() as session:
        row = guards.mine(repo.get_handover(session, handover_id))
        return jsonify(handover_json(row, base_url=s.settings.public_base_url))


@bp.post("/handovers/<handover_id>/meetings/<kind>/confirm")
@api_auth
@require(*EVERYONE)
def confirm_meeting(handover_id: str, kind: str) -> tuple[Response, int]:
    """Confirm a proposed client meeting (optionally at an offered alternative); it is sent."""
    from service.workflows.meeting_confirm import NothingToConfirm, NotYours
    from service.workflows.meeting_confirm import confirm_meeting as confirm

    s = _services()
    guards.may_confirm(s.db, handover_id, kind)
    body = _json_body() if request.get_data() else {}
    start = body.get("start")
    if start is not None and not isinstance(start, str):
        return error_response(
            422,
            "The start is not valid.",
            errors=[{"field": "start", "message": "must be one of the offered times, as text"}],
        )
    try:
        state = confirm(
            handover_id,
            kind,
            start=start,
            actor=g.user.email,
            role=g.user.role,
            db=s.db,
            tasks=s.tasks,
            now=s.clock(),
        )
    except NotYours as exc:
        return error_response(403, str(exc), errors=[{"field": "kind", "message": str(exc)}])
    except NothingToConfirm as exc:
        return error_response(409, str(exc), errors=[{"field": "kind", "message": str(exc)}])
    except InvalidHandover as exc:
        return error_response(
            422,
            "The start is not one of the offered times.",
            errors=[{"field": e.field, "message": e.message} for e in exc.errors],
        )
    return jsonify({"id": handover_id, "kind": kind, **state}), 200


@bp.get("/openapi.json")
def openapi() -> Response:
    """Return the OpenAPI document of this API (public: it holds no data)."""
    return jsonify(openapi_document(_services().settings.public_base_url))
