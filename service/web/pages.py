"""The web pages: the handover form, the list, and each handover's live status."""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response as WerkzeugResponse

from service.domain.access import ADMIN, EVERYONE, OPERATIONS, SALES, may_see_handover
from service.domain.model import Person
from service.schema import InvalidHandover, validate_handover, validate_person
from service.schema_errors import field_anchor, field_name
from service.store import handovers as repo
from service.store.handover_parts import load_parts
from service.web import guards, words
from service.web import handover_view as view
from service.web import services as _services
from service.web.audit import audit_json
from service.web.auth import login_required, require
from service.web.formdata import LIST_FIELDS, flatten, nest
from service.web.pickers import country_options, zone_options
from service.web.present import handover_json
from service.web.timeline import layout
from service.workflows import change_preview, kickoff, meetings

bp = Blueprint("pages", __name__)

_FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
# The fixed choices: the value sent, then the words shown.
CADENCES = (
    ("fortnightly", "Fortnightly (every two weeks)"),
    ("monthly", "Monthly"),
    ("quarterly", "Quarterly (every three months)"),
)
CONTACT_ROLES = (
    ("buyer", "Buyer"),
    ("executive_sponsor", "Executive sponsor"),
    ("champion", "Champion"),
    ("influencer", "Influencer"),
    ("detractor", "Detractor"),
)



@bp.get("/healthz")
def healthz() -> Response:
    """Answer that the process is alive, with the backend it uses."""
    s = _services().settings
    return jsonify({"ok": True, "backend": s.workspace_backend, "queue": s.task_queue})


PAGE_SIZE = 50  # handovers shown on one page of the list
PAGE_READ = 1000  # rows read at most for one page (those the person may not see are skipped)


STATUS_CHOICES = ("running", "failed", "done", "pending", "cancelled")


@bp.get("/")
@login_required
@require(*EVERYONE)
def index() -> str:
    """List the handovers the person may see, newest first, a page at a time (`before`);
    `q` searches client, project and PM, `status`, `mine` and `attention` filter. At most
    PAGE_READ rows are read for one page, whatever the filters: the rest is on the next."""
    user = g.user
    before = request.args.get("before", "").strip() or None
    if before is not None and not re.fullmatch(r"[0-9a-f]{32}", before):
        abort(400)
    status = request.args.get("status", "")
    if status and status not in STATUS_CHOICES:
        abort(400)
    filters = view.Filters(
        q=request.args.get("q", "").strip()[:200],
        status=status,
        mine=request.args.get("mine") == "1",
        attention=request.args.get("attention") == "1",
    )
    s = _services()
    now = s.clock().isoformat()
    items: list[dict[str, object]] = []
    older: str | None = None
    with s.db.transaction() as session:
        read = 0
        while len(items) < PAGE_SIZE and read < PAGE_READ:
            rows = repo.handovers_before(session, before, min(200, PAGE_READ - read))
            seen = [
                r
                for r in rows
                if may_see_handover(user.email, user.role, r.payload, r.submitted_by)
                and filters.may_keep(r.client_name, r.project_name, r.payload, r.submitted_by,
                                     viewer=user.email)
            ]  # fmt: skip
            load_parts(session, seen[: PAGE_SIZE - len(items)] if not filters.needs_parts()
                       else seen)  # fmt: skip
            kept = {r.id for r in seen}
            for r in rows:
                read += 1
                before = r.id
                if r.id in kept:
                    line = view.summary(handover_json(r, base_url=""), r.payload, now=now)
                    if filters.keep(line, user.email):
                        items.append(line)
                        if len(items) == PAGE_SIZE:
                            break
            if not rows:
                before = None
                break
        if before is not None and repo.handovers_before(session, before, 1):
            older = before
    return render_template(
        "index.html",
        handovers=items,
        user=g.user,
        older=older,
        older_args={**filters.args(), "before": older} if older else None,
        filters=filters,
        statuses=[(k, words.status(k)) for k in STATUS_CHOICES],
    )


@bp.app_template_filter("status_words")
def status_words(key: str) -> str:
    """Return a handover's status in words: "Setting up"."""
    return words.status(key)


@bp.app_template_filter("date_words")
def date_words(value: object) -> str:
    """Return a calendar day ("2026-12-10") as people write it: "Thu 10 Dec 2026"."""
    if not value:
        return ""
    try:
        day = date.fromisoformat(str(value)[:10])
    except ValueError:
        return str(value)
    return f"{day:%a %d %b %Y}"


@bp.app_template_filter("role_words")
def role_words(key: str) -> str:
    """Return a role's name for the header: "Project Manager"."""
    return words.role(key)


@bp.get("/handovers/new")
@login_required
@require(SALES, OPERATIONS)
def new() -> str:
    """Show the empty handover form."""
    return _form({}, {}, status=200)[0]


def _form(
    values: dict[str, object],
    errors: dict[str, str],
    status: int,
    extra: Mapping[str, object] | None = None,
    *,
    fresh_key: bool = False,
) -> tuple[str, int]:
    key = secrets.token_urlsafe(16) if fresh_key else _form_key()
    countries = country_options()
    return (
        render_template(
            "new.html",
            v=flatten(values),
            errors=_at_fields(errors),
            idempotency_key=key,
            rows={name: max(1, _count(values.get(name))) for name in LIST_FIELDS},
            cadences=CADENCES,
            contact_roles=CONTACT_ROLES,
            zones=zone_options(_services().clock().date()),
            countries=countries,
            country_codes={code for code, _ in countries},
            field_name=field_name,
            field_anchor=field_anchor,
            user=g.user,
            **{"plan": None, "tl": None, "edit_id": None, "change": None, **(extra or {})},
        ),
        status,
    )


def _at_fields(errors: dict[str, str]) -> dict[str, str]:
    """Return the errors by the form's field: a contact's wrong role is at its roles."""
    out: dict[str, str] = {}
    for path, message in errors.items():
        parts = path.split(".")
        if "roles" in parts:
            path = ".".join(parts[: parts.index("roles") + 1])
        out.setdefault(path, message)
    return out


def _form_key() -> str:
    """Return the form's hidden key if it looks like one we made; else a fresh one."""
    key = request.form.get("idempotency_key", "")
    return key if _FORM_KEY.match(key) else secrets.token_urlsafe(16)


def _count(rows: object) -> int:
    return len(rows) if isinstance(rows, list) else 0


@bp.post("/handovers")
@login_required
@require(SALES, OPERATIONS)
def submit() -> WerkzeugResponse | tuple[str, int]:
    """Store the submitted handover and show its page; on errors, the form again."""
    data = nest(request.form)
    s = _services()
    try:
        result = kickoff.submit_handover(
            data,
            idempotency_key="form:" + _form_key(),
            actor=g.user.email,
            db=s.db,
            tasks=s.tasks,
            actor_role=g.user.role,
            allowed_domain=s.settings.allowed_domain,
        )
    except InvalidHandover as exc:
        errors = {e.field: e.message for e in exc.errors}
        return _form(data, errors, status=422)
    except kickoff.KeyReused:
        # The same form sent again with other values: keep them, under a fresh key.
        errors = {"body": "This form was already sent with other values: check them, send again."}
        return _form(data, errors, status=409, fresh_key=True)
    return redirect(url_for("pages.show", handover_id=result.handover_id), code=303)


@bp.post("/handovers/preview")
@login_required
@require(SALES, OPERATIONS)
def preview() -> tuple[str, int]:
    """Show the form again with the meetings it would plan; nothing is stored or sent."""
    data = nest(request.form)
    s = _services()
    try:
        _, handover = validate_handover(data, allowed_domain=s.settings.allowed_domain)
    except InvalidHandover as exc:
        return _form(data, {e.field: e.message for e in exc.errors}, status=422)
    plan = meetings.preview(handover, settings=s.settings, calendar=s.calendar, now=s.clock())
    extra: dict[str, object] = {
        "plan": plan,
        "tl": layout(plan["meetings"], s.settings.agency_timezone),
        "notice": s.settings.meeting_notice.sentence(),
    }
    return _form(data, {}, status=200, extra=extra)


@bp.get("/handovers/<handover_id>")
@login_required
@require(*EVERYONE)
def show(handover_id: str) -> str:
    """Show one handover: what needs attention, steps, meetings, links and history."""
    return render_template("handover.html", **_handover_page(handover_id), pm_errors={})


@bp.get("/handovers/<handover_id>/live")
@login_required
@require(*EVERYONE)
def live(handover_id: str) -> Response:
    """Return the page's changing sections, rendered, for the page to swap in (one row read)."""
    html = render_template("_handover_live.html", **_handover_page(handover_id))
    answer = Response(html, content_type="text/html; charset=utf-8")
    answer.headers["Cache-Control"] = "no-store"
    return answer


@bp.get("/handovers/<handover_id>/meetings/<kind>.ics")
@login_required
@require(*EVERYONE)
def meeting_file(handover_id: str, kind: str) -> Response:
    """Return a sent meeting's invitation as an .ics file (local backend; Google's events
    have their own page)."""
    s = _services()
    if kind not in words.MEETING or not isinstance(s.calendar, view.HasEventFiles):
        abort(404)
    with s.db.transaction() as session:
        guards.mine(repo.get_handover(session, handover_id))
        event = repo.artifact(session, handover_id, f"event:{kind}")
        event_id = event.external_id if event is not None else None
    data = s.calendar.event_file(event_id) if event_id else None
    if data is None:
        abort(404)
    answer = Response(data, content_type="text/calendar; charset=utf-8")
    answer.headers["Content-Disposition"] = f'attachment; filename="{kind}.ics"'
    answer.headers["Cache-Control"] = "private, no-store"
    answer.headers["X-Content-Type-Options"] = "nosniff"
    return answer


def _handover_page(handover_id: str, *, trail: bool = True) -> dict[str, Any]:
    """Read the handover (404/403 as its page) and return what its templates show."""
    s = _services()
    with s.db.transaction() as session:
        row = guards.mine(repo.get_handover(session, handover_id))
        data = handover_json(row, base_url="")
        payload, can = dict(row.payload), guards.permissions(row)
        lines = [audit_json(a) for a in repo.audit_trail(session, handover_id, limit=50)] if (
            trail) else []
    zone = s.settings.agency_timezone
    names = words.names(payload)
    feeds = s.calendar if isinstance(s.calendar, view.HasFeeds) else None
    meetings_ = view.meetings(data, names, viewer=g.user.email, feeds=feeds)
    plan = view.plan_in_words(data.get("plan"))
    return {
        "h": data,
        "payload": payload,
        "can": can,
        "user": g.user,
        "plan": plan,
        "tl": layout(plan["meetings"], zone) if plan else None,
        "status_words": words.status(data["status"]),
        "steps": view.steps(data),
        "meetings": meetings_,
        "attention": view.attention(data, meetings_, data.get("plan"), can, viewer=g.user.email),
        "history": view.history(lines, names, zone),
        "submitted_by": words.person(data["submitted_by"], names),
        "finished": view.finished(data),
        "zone": zone,
        # The PM form picks the zone and the country by name, as the handover form does.
        "pm_zones": zone_options(s.clock().date()) if can.get("assign") else (),
        "pm_countries": country_options() if can.get("assign") else (),
    }


@bp.post("/handovers/<handover_id>/project-manager")
@login_required
@require(OPERATIONS)
def assign_pm(handover_id: str) -> WerkzeugResponse | tuple[str, int]:
    """Assign or change the PM; the brief is re-rendered into the same document."""
    s = _services()
    guards.check(_services().db, handover_id)
    try:
        pm_in = validate_person(
            {
                k: v
                for k, v in {
                    "name": request.form.get("name", ""),
                    "email": request.form.get("email", ""),
                    "timezone": request.form.get("timezone") or None,
                    "country": request.form.get("country") or None,
                }.items()
                if v is not None
            }
        )
    except InvalidHandover as exc:
        return _pm_errors(handover_id, {e.field: e.message for e in exc.errors})
    pm = Person(
        pm_in.name, str(pm_in.email).lower(), "Project Manager", pm_in.timezone, pm_in.country
    )
    try:
        kickoff.assign_project_manager(
            handover_id,
            pm,
            actor=g.user.email,
            db=s.db,
            tasks=s.tasks,
            clock=s.clock,
            actor_role=g.user.role,
            allowed_domain=s.settings.allowed_domain,
        )
    except InvalidHandover as exc:
        prefix = "project_manager."
        errors = {e.field.removeprefix(prefix): e.message for e in exc.errors}
        return _pm_errors(handover_id, errors)
    except LookupError:
        abort(404)
    return redirect(url_for("pages.show", handover_id=handover_id), code=303)


def _pm_errors(handover_id: str, errors: dict[str, str]) -> tuple[str, int]:
    """Show the handover's page again with what is wrong with the PM given."""
    context = _handover_page(handover_id, trail=False)
    return render_template("handover.html", **context, pm_errors=errors), 422


@bp.post("/handovers/<handover_id>/confirm-account")
@login_required
@require(OPERATIONS)
def confirm_account(handover_id: str) -> WerkzeugResponse:
    """Let a handover submitted by someone not on its account join the account."""
    s = _services()
    guards.check(s.db, handover_id)
    try:
        kickoff.confirm_account(
            handover_id, actor=g.user.email, db=s.db, tasks=s.tasks, clock=s.clock
        )
    except LookupError:
        abort(404)
    return redirect(url_for("pages.show", handover_id=handover_id), code=303)


@bp.get("/handovers/<handover_id>/edit")
@login_required
@require(SALES, OPERATIONS)
def edit(handover_id: str) -> tuple[str, int]:
    """Show the handover's form filled with what is stored, to change it."""
    with _services().db.transaction() as session:
        row = guards.mine(repo.get_handover(session, handover_id), change=True)
        payload = dict(row.payload)
    return _form(payload, {}, status=200, extra={"edit_id": handover_id})


@bp.post("/handovers/<handover_id>/edit")
@login_required
@require(SALES, OPERATIONS)
def save(handover_id: str) -> WerkzeugResponse | tuple[str, int]:
    """Store the changed handover; its brief, shares and meetings follow."""
    guards.check(_services().db, handover_id, change=True)
    data = nest(request.form)
    s = _services()
    try:
        guards.update(s, handover_id, data)
    except InvalidHandover as exc:
        errors = {e.field: e.message for e in exc.errors}
        return _form(data, errors, status=422, extra={"edit_id": handover_id})
    except kickoff.NotAllowed as exc:
        abort(403, str(exc))
    except LookupError:
        abort(404)
    return redirect(url_for("pages.show", handover_id=handover_id), code=303)


@bp.post("/handovers/<handover_id>/edit/preview")
@login_required
@require(SALES, OPERATIONS)
def preview_change(handover_id: str) -> tuple[str, int]:
    """Show the edit form again with what saving it would do; nothing is stored or sent."""
    s = _services()
    guards.check(s.db, handover_id, change=True)
    data = nest(request.form)
    extra: dict[str, object] = {"edit_id": handover_id}
    try:
        parsed, handover = validate_handover(data, allowed_domain=s.settings.allowed_domain)
        with s.db.transaction() as session:
            row = repo.get_handover(session, handover_id)
            if row is None:
                abort(404)
            kickoff.check_change(row, parsed, handover, actor_role=g.user.role)
            before, stored_plan = dict(row.payload), handover_json(row, base_url="")["plan"]
    except InvalidHandover as exc:
        return _form(data, {e.field: e.message for e in exc.errors}, status=422, extra=extra)
    except kickoff.NotAllowed as exc:
        abort(403, str(exc))
    extra["change"] = change_preview.preview_change(
        handover_id,
        before,
        parsed.model_dump(mode="json"),
        handover,
        stored_plan=stored_plan if isinstance(stored_plan, dict) else None,
        settings=s.settings,
        now=s.clock(),
    )
    return _form(data, {}, status=200, extra=extra)


@bp.post("/handovers/<handover_id>/cancel")
@login_required
@require(SALES, OPERATIONS)
def cancel(handover_id: str) -> WerkzeugResponse:
    """Cancel the handover and its meetings."""
    guards.cancel(_services(), handover_id)
    return redirect(url_for("pages.show", handover_id=handover_id), code=303)


@bp.post("/handovers/<handover_id>/retry")
@login_required
@require(OPERATIONS)
def retry(handover_id: str) -> WerkzeugResponse:
    """Run the failed steps again (after the cause was fixed)."""
    guards.check(_services().db, handover_id)
    s = _services()
    kickoff.retry_handover(handover_id, actor=g.user.email, db=s.db, tasks=s.tasks, clock=s.clock)
    return redirect(url_for("pages.show", handover_id=handover_id), code=303)


@bp.post("/handovers/<handover_id>/meetings/<kind>/confirm")
@login_required
@require(*EVERYONE)
def confirm_meeting(handover_id: str, kind: str) -> WerkzeugResponse:
    """Confirm a proposed client meeting at the chosen offered time; it is then sent."""
    from service.workflows.meeting_confirm import NothingToConfirm, NotYours, confirm_meeting

    s = _services()
    guards.may_confirm(s.db, handover_id, kind)
    try:
        confirm_meeting(
            handover_id,
            kind,
            start=request.form.get("start") or None,
            actor=g.user.email,
            role=g.user.role,
            db=s.db,
            tasks=s.tasks,
            now=s.clock(),
        )
    except NotYours:
        abort(403)
    except (NothingToConfirm, InvalidHandover):
        abort(409)
    return redirect(url_for("pages.show", handover_id=handover_id), code=303)


@bp.get("/operations/pm-needed")
@login_required
@require(OPERATIONS, ADMIN)
def pm_needed() -> str:
    """Operations' queue: the handovers waiting for a PM, the longest waiting first."""
    from service.workflows.pm_first import waiting_for_pm

    s = _services()
    waiting = waiting_for_pm(s.db, s.clock())
    return render_template(
        "pm_needed.html", waiting=waiting, user=g.user, zone=s.settings.agency_timezone
    )
