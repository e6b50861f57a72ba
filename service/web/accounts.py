"""Accounts: the page `/accounts/<id>` with its forms, and the JSON API under
`/api/accounts/<id>` (the HTTP contract). Thin: parse, call one use case, answer."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, redirect, render_template, request
from werkzeug.wrappers import Response as WerkzeugResponse

from service.domain import account_rhythm as rules
from service.domain.access import ADMIN, EVERYONE, OPERATIONS, SALES, named_on
from service.store import account_items as accounts_repo
from service.web import services as _services
from service.web.auth import api_auth, login_required, require
from service.web.errors import error_response
from service.web.handover_view import history
from service.web.health_chart import chart
from service.workflows import account_items as use_cases
from service.workflows.account_view import account_json
from service.workflows.agendas import EXECUTIVE, INTERNAL, agenda_json, next_sync

bp = Blueprint("accounts", __name__)
api_bp = Blueprint("accounts_api", __name__, url_prefix="/api/accounts")

_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
KINDS = {"opportunities": "opportunity", "escalations": "escalation", "tasks": "task",
         "notes": "note"}  # fmt: skip


def _ctx() -> use_cases.RhythmContext:
    return _services().rhythm


def _guarded(call: Callable[[], Any]) -> Any:
    """Run a use case, turning its refusals into 404/403 answers."""
    try:
        return call()
    except LookupError:
        abort(404, "There is no such account or item.")
    except use_cases.NotAllowed as exc:
        abort(403, str(exc))


def _may_see(key: str) -> None:
    who = _guarded(lambda: use_cases.standing_of(_ctx(), key, g.user.email, g.user.role))
    if not rules.may("see", who):
        abort(403, "This is not one of your accounts.")


# --- the API ----------------------------------------------------------------------------


def _body() -> Any:
    if not request.is_json:
        abort(415)
    body = request.get_json(silent=True)
    if body is None:
        abort(400, "The body is not valid JSON.")
    return body


def _invalid(errors: dict[str, str]) -> tuple[Response, int]:
    return error_response(
        422,
        "Some fields need another look: " + "; ".join(f"{k} {v}" for k, v in errors.items()),
        errors=[{"field": k, "message": v} for k, v in errors.items()],
    )


def _refused(exc: use_cases.Refused) -> tuple[Response, int]:
    return error_response(409, str(exc), errors=[{"field": exc.field, "message": str(exc)}])


@api_bp.get("/<account_id>")
@api_auth
@require(*EVERYONE)
def get_account(account_id: str) -> Response:
    """Return the account with its projects, people, syncs, items and health."""
    _may_see(account_id)
    return jsonify(_guarded(lambda: account_json(_ctx(), account_id)))


@api_bp.post("/<account_id>/<collection>")
@api_auth
@require(*EVERYONE)
def add_item(account_id: str, collection: str) -> tuple[Response, int]:
    """Log an opportunity, raise an escalation, add a task or record an ad-hoc meeting."""
    kind = KINDS.get(collection)
    if kind is None:
        abort(404)
    key = request.headers.get("Idempotency-Key")
    if key is not None and not _KEY.match(key):
        return error_response(
            400, "Idempotency-Key must be 1-200 visible ASCII characters",
            errors=[{"field": "Idempotency-Key", "message": "invalid"}],
        )  # fmt: skip
    body = _body()
    try:
        logged = _guarded(
            lambda: use_cases.log_item(
                account_id, kind, body, email=g.user.email, role=g.user.role,
                request_key=f"api:{key}" if key else None, ctx=_ctx(),
            )
        )  # fmt: skip
    except rules.InvalidItem as exc:
        return _invalid(exc.errors)
    answer = jsonify({"id": logged.id, "created": logged.created, "kind": kind,
                      "account_url": _ctx().url(account_id)})  # fmt: skip
    return answer, 201 if logged.created else 200


@api_bp.post("/<account_id>/opportunities/<item_id>/state")
@api_auth
@require(*EVERYONE)
def move_opportunity(account_id: str, item_id: str) -> tuple[Response, int]:
    """The AM moves an opportunity on: {"state", "note"}."""
    body = _body()
    state = body.get("state") if isinstance(body, dict) else None
    note = body.get("note") if isinstance(body, dict) else None
    if not isinstance(state, str):
        return _invalid({"state": f"must be one of {', '.join(rules.OPPORTUNITY_STEPS)}"})
    try:
        new = _guarded(lambda: use_cases.move_opportunity(
            account_id, item_id, state, note, email=g.user.email, role=g.user.role,
            ctx=_ctx()))  # fmt: skip
    except rules.InvalidItem as exc:
        return _invalid(exc.errors)
    except use_cases.Refused as exc:
        if state not in rules.OPPORTUNITY_STEPS:
            return _invalid({"state": str(exc)})
        return _refused(exc)
    return jsonify({"id": item_id, "state": new}), 200


@api_bp.post("/<account_id>/items/<item_id>/<action>")
@api_auth
@require(*EVERYONE)
def item_action(account_id: str, item_id: str, action: str) -> tuple[Response, int]:
    """Acknowledge (PM: an AM's opportunity; AM: an escalation) or close (resolve, done)."""
    if action not in {"acknowledge", "close"}:
        abort(404)
    # JSON only, like every other call here: a cross-site form cannot send it, so a
    # session cookie alone never acknowledges or resolves anything.
    body = _body()
    note = body.get("note") if isinstance(body, dict) else None
    use_case = use_cases.acknowledge if action == "acknowledge" else use_cases.close_item
    try:
        state = _guarded(lambda: use_case(
            account_id, item_id, note, email=g.user.email, role=g.user.role, ctx=_ctx()))
    except rules.InvalidItem as exc:
        return _invalid(exc.errors)
    except use_cases.Refused as exc:
        return _refused(exc)
    return jsonify({"id": item_id, "state": state}), 200


@api_bp.get("/<account_id>/agenda")
@api_auth
@require(*EVERYONE)
def agenda(account_id: str) -> Response:
    """Return the next Internal Account Sync's agenda (`?meeting=executive_sponsor_sync`
    for the next Executive Sponsor Sync's)."""
    _may_see(account_id)
    kind = request.args.get("meeting", INTERNAL)
    if kind not in {INTERNAL, EXECUTIVE}:
        abort(400, f"meeting must be {INTERNAL} or {EXECUTIVE}")
    return jsonify(agenda_json(_ctx(), account_id, kind))


@api_bp.put("/<account_id>/agenda/template")
@api_auth
@require(*EVERYONE)
def put_template(account_id: str) -> tuple[Response, int]:
    """The AM or PM sets the client's agenda questions: {"questions": [...]}."""
    body = _body()
    try:
        questions = _guarded(lambda: use_cases.save_template(
            account_id, body, email=g.user.email, role=g.user.role, ctx=_ctx()))
    except rules.InvalidItem as exc:
        return _invalid(exc.errors)
    return jsonify({"questions": questions}), 200


def _next_executive(account_id: str) -> datetime | None:
    found = next_sync(_ctx(), account_id, EXECUTIVE, _ctx().clock())
    return found.original if found else None


@api_bp.post("/<account_id>/agenda/executive")
@api_auth
@require(*EVERYONE)
def mark_executive(account_id: str) -> tuple[Response, int]:
    """The AM puts items on the next Executive Sponsor Sync's agenda: {"items": [ids]}."""
    body = _body()
    ids = body.get("items") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return _invalid({"items": "must be a list of item ids"})
    try:
        marked = _guarded(lambda: use_cases.mark_for_executive(
            account_id, ids, _next_executive(account_id), email=g.user.email, role=g.user.role,
            ctx=_ctx()))  # fmt: skip
    except use_cases.Refused as exc:
        return _invalid({exc.field: str(exc)})
    return jsonify({"items": marked}), 200


@api_bp.post("/<account_id>/health")
@api_auth
@require(*EVERYONE)
def health(account_id: str) -> tuple[Response, int]:
    """The AM or PM answers the handbook's questions for one internal sync."""
    body = _body()
    try:
        day = _guarded(lambda: use_cases.answer_health(
            account_id, body, email=g.user.email, role=g.user.role, ctx=_ctx()))
    except rules.InvalidItem as exc:
        return _invalid(exc.errors)
    return jsonify({"sync_on": day.isoformat()}), 201


# --- the page ---------------------------------------------------------------------------


def _page(account_id: str, errors: dict[str, str] | None = None, form: str = "",
          status: int = 200) -> tuple[str, int]:  # fmt: skip
    who = _guarded(lambda: use_cases.standing_of(_ctx(), account_id, g.user.email, g.user.role))
    if who == SALES:  # Sales may log opportunities, and see nothing else of the account
        with _services().db.transaction() as session:
            account = accounts_repo.account(session, account_id)
            client = account.client_name if account else account_id
        return render_template(
            "account_sales.html", key=account_id, client=client, errors=errors or {},
            values=request.form if errors else {}, done=request.args.get("logged") == "1",
        ), status  # fmt: skip
    _may_see(account_id)
    view = _guarded(lambda: account_json(_ctx(), account_id))
    can = {action: rules.may(action, who) for action in rules.ACTIONS}
    names = {p["email"]: p["name"] for group in view["people"].values() for p in group}
    zone = _services().settings.agency_timezone
    return render_template(
        "account.html", a=view, can=can, errors=errors or {}, form=form, names=names,
        zone=zone, account_history=_history(view["history"], names, zone),
        values=request.form if errors else {}, words=rules.STATE_WORDS,
        steps=rules.OPPORTUNITY_STEPS, severities=rules.SEVERITIES,
        questions=rules.HEALTH_QUESTIONS, chart=chart(view["health"]),
        agenda=agenda_json(_ctx(), account_id), user=g.user,
    ), status  # fmt: skip


def _history(lines: list[dict[str, Any]], names: dict[str, str], zone: str) -> list[Any]:
    """Return the account's audit lines as (when, sentence), the account named as such."""
    trail = [{"at": h["at"], "actor": h["by"], "action": h["action"], "detail": {}}
             for h in lines]  # fmt: skip
    return history(trail, names, zone, subject="the account")


@bp.get("/accounts")
@login_required
@require(*EVERYONE)
def index() -> str:
    """List the accounts the person works on, with how many items are open."""
    user = g.user
    with _services().db.transaction() as session:
        listed = []
        everyone = user.role in {ADMIN, OPERATIONS}
        person = None if everyone else user.email
        for key, client, payloads, submitters, open_items in accounts_repo.overview(
            session, person=person
        ):
            people = rules.account_people(payloads)
            who = rules.standing(user.email, user.role, people)
            mine = rules.may("see", who) or (
                who == SALES and user.email.lower() in submitters
                | {e for p in payloads for e in named_on(p)[SALES]}
            )
            if mine:
                listed.append({"key": key, "client": client, "open": open_items})
    return render_template("accounts.html", accounts=listed, user=user)


@bp.get("/accounts/<account_id>")
@login_required
@require(*EVERYONE)
def page(account_id: str) -> tuple[str, int]:
    """Show the account: projects, people, syncs, items, agenda and health."""
    return _page(account_id)


def _form_key() -> str | None:
    key = request.form.get("form_key", "")
    return f"form:{key}" if re.fullmatch(r"[A-Za-z0-9_-]{8,64}", key) else None


def _back(account_id: str, anchor: str) -> WerkzeugResponse:
    return redirect(f"/accounts/{account_id}#{anchor}", code=303)


@bp.post("/accounts/<account_id>/<collection>")
@login_required
@require(*EVERYONE)
def add_from_form(account_id: str, collection: str) -> Any:
    """The page's forms: log an opportunity, raise an escalation, add a task, a note."""
    kind = KINDS.get(collection)
    if kind is None:
        abort(404)
    f = request.form
    fields = {
        "opportunity": ("summary",), "escalation": ("summary", "severity"),
        "task": ("title", "owner_email", "due_on"), "note": ("held_on", "attendees", "notes"),
    }[kind]  # fmt: skip
    body: dict[str, Any] = {name: f.get(name) for name in fields}
    if kind == "opportunity":
        body["urgent"] = f.get("urgent") == "on"
    if kind == "note":
        body["attendees"] = body["attendees"] or ""
    try:
        _guarded(lambda: use_cases.log_item(
            account_id, kind, body, email=g.user.email, role=g.user.role,
            request_key=_form_key(), ctx=_ctx()))  # fmt: skip
    except rules.InvalidItem as exc:
        return _page(account_id, exc.errors, form=kind, status=422)
    if g.user.role == SALES:
        return redirect(f"/accounts/{account_id}?logged=1", code=303)
    return _back(account_id, collection)


@bp.post("/accounts/<account_id>/items/<item_id>/<action>")
@login_required
@require(*EVERYONE)
def item_form(account_id: str, item_id: str, action: str) -> Any:
    """The page's buttons on an item: move on, acknowledge, resolve or done."""
    note = request.form.get("note", "")
    me = {"email": g.user.email, "role": g.user.role, "ctx": _ctx()}
    try:
        if action == "move":
            state = request.form.get("state", "")
            _guarded(lambda: use_cases.move_opportunity(account_id, item_id, state, note, **me))
        elif action == "acknowledge":
            _guarded(lambda: use_cases.acknowledge(account_id, item_id, note, **me))
        elif action == "close":
            _guarded(lambda: use_cases.close_item(account_id, item_id, note, **me))
        else:
            abort(404)
    except rules.InvalidItem as exc:
        return _page(account_id, {f"item-{item_id}": str(exc)}, status=422)
    except use_cases.Refused as exc:
        return _page(account_id, {f"item-{item_id}": str(exc)}, status=409)
    return _back(account_id, f"item-{item_id}")


@bp.post("/accounts/<account_id>/agenda-template")
@login_required
@require(*EVERYONE)
def template_form(account_id: str) -> Any:
    """The page's agenda questions form (one question a line)."""
    try:
        _guarded(lambda: use_cases.save_template(
            account_id, {"questions": request.form.get("questions", "")}, email=g.user.email,
            role=g.user.role, ctx=_ctx()))  # fmt: skip
    except rules.InvalidItem as exc:
        return _page(account_id, exc.errors, form="template", status=422)
    return _back(account_id, "agenda")


@bp.post("/accounts/<account_id>/executive")
@login_required
@require(*EVERYONE)
def executive_form(account_id: str) -> Any:
    """The page's "for the Executive Sponsor Sync" checkboxes."""
    ids = request.form.getlist("items")
    try:
        _guarded(lambda: use_cases.mark_for_executive(
            account_id, ids, _next_executive(account_id), email=g.user.email,
            role=g.user.role, ctx=_ctx()))  # fmt: skip
    except use_cases.Refused as exc:
        return _page(account_id, {"executive": str(exc)}, status=409)
    return _back(account_id, "executive")


@bp.post("/accounts/<account_id>/health")
@login_required
@require(*EVERYONE)
def health_form(account_id: str) -> Any:
    """The page's health questions, answered at an internal sync."""
    body = {k: request.form.get(k) for k in ("sync_on", *rules.HEALTH_QUESTIONS)}
    try:
        _guarded(lambda: use_cases.answer_health(
            account_id, body, email=g.user.email, role=g.user.role, ctx=_ctx()))
    except rules.InvalidItem as exc:
        return _page(account_id, exc.errors, form="health", status=422)
    return _back(account_id, "health")
