"""Who has which role: the admin page `/admin/people` and `/api/roles`.

Roles come from the ROLES setting (deploy time; it wins for the people it names) and
from assignments an admin makes here (the database; they apply at the person's next
request). Everyone else of the agency's domain is Sales.
"""

from __future__ import annotations

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
)
from werkzeug.wrappers import Response as WerkzeugResponse

from service.domain.access import ADMIN, DEFAULT_ROLE, ROLES
from service.store import roles as repo
from service.web import services as _services
from service.web.auth import api_auth, login_required, require
from service.web.errors import error_response
from service.workflows import people

bp = Blueprint("people", __name__)
api_bp = Blueprint("people_api", __name__, url_prefix="/api")



def roles_json() -> list[dict[str, Any]]:
    """Every role given by name: from the ROLES setting, then from the database."""
    s = _services()
    configured = [
        {
            "email": email,
            "role": role,
            "source": "setting",
            "assigned_by": None,
            "assigned_at": None,
        }
        for email, role in sorted(s.settings.roles.items())
    ]
    with s.db.transaction() as session:
        assigned = [
            {
                "email": row.email,
                "role": row.role,
                "source": "database",
                "assigned_by": row.assigned_by,
                "assigned_at": row.assigned_at.isoformat(),
            }
            for row in repo.assignments(session)
            if row.email not in s.settings.roles  # the setting wins: not in force
        ]
    return configured + assigned


def _assign(email: str, role: str) -> None:
    s = _services()
    people.assign_role(
        email,
        role,
        actor=g.user.email,
        configured=s.settings.roles,
        allowed_domain=s.settings.allowed_domain,
        db=s.db,
        clock=s.clock,
    )


def _remove(email: str) -> str | None:
    s = _services()
    return people.remove_role(
        email,
        actor=g.user.email,
        configured=s.settings.roles,
        allowed_domain=s.settings.allowed_domain,
        db=s.db,
    )


# --- the page ---------------------------------------------------------------------------


@bp.get("/admin/people")
@login_required
@require(ADMIN)
def page() -> tuple[str, int]:
    """List who has which role, with a form to give one or take it back."""
    return _page({}, {})


def _page(errors: dict[str, str], values: dict[str, str], status: int = 200) -> tuple[str, int]:
    html = render_template(
        "people.html", people=roles_json(), roles=ROLES, errors=errors, v=values, user=g.user
    )
    return html, status


@bp.post("/admin/people")
@login_required
@require(ADMIN)
def assign() -> WerkzeugResponse | tuple[str, int]:
    """Give the person the role picked in the form."""
    values = {k: request.form.get(k, "").strip() for k in ("email", "role")}
    try:
        _assign(values["email"], values["role"])
    except people.RoleRefused as exc:
        return _page(exc.errors, values, status=422)
    return redirect("/admin/people", code=303)


@bp.post("/admin/people/remove")
@login_required
@require(ADMIN)
def remove() -> WerkzeugResponse | tuple[str, int]:
    """Take back a role assigned here: the person is Sales again."""
    email = request.form.get("email", "").strip()
    try:
        _remove(email)
    except people.RoleRefused as exc:
        return _page(exc.errors, {"email": email}, status=422)
    return redirect("/admin/people", code=303)


# --- the JSON API -----------------------------------------------------------------------


def _refused(exc: people.RoleRefused) -> tuple[Response, int]:
    errors = [{"field": field, "message": message} for field, message in exc.errors.items()]
    return error_response(422, str(exc), errors=errors)


@api_bp.get("/roles")
@api_auth
@require(ADMIN)
def api_list() -> Response:
    """Return every role given by name, and where it comes from."""
    return jsonify({"roles": roles_json(), "default_role": DEFAULT_ROLE})


@api_bp.put("/roles/<path:email>")
@api_auth
@require(ADMIN)
def api_assign(email: str) -> tuple[Response, int]:
    """Give the person a role: the body is {"role": "..."}."""
    if not request.is_json:
        abort(415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "The body must be a JSON object.")
    role = body.get("role")
    role = role if isinstance(role, str) else ""  # refused below as no role there is
    try:
        _assign(email, role)
    except people.RoleRefused as exc:
        return _refused(exc)
    return jsonify({"email": email.strip().lower(), "role": role, "source": "database"}), 200


@api_bp.delete("/roles/<path:email>")
@api_auth
@require(ADMIN)
def api_remove(email: str) -> tuple[Response, int]:
    """Take back a role assigned here; 404 when none was."""
    try:
        before = _remove(email)
    except people.RoleRefused as exc:
        return _refused(exc)
    if before is None:
        return error_response(
            404,
            "no role is assigned to this person here",
            errors=[{"field": "email", "message": "has no role assigned here"}],
        )
    return jsonify({"email": email.strip().lower(), "role": DEFAULT_ROLE, "removed": before}), 200
