"""The audit trail for admins: the page `/admin/audit` and `GET /api/audit`."""

from __future__ import annotations

from typing import Any, NoReturn

from flask import Blueprint, Response, abort, g, jsonify, render_template, request

from service.domain.access import ADMIN
from service.store import audit_subjects
from service.store import handovers as repo
from service.store.models import AuditRow
from service.web import services as _services
from service.web import words
from service.web.audit_words import Subject, sentence
from service.web.auth import api_auth, login_required, require
from service.web.errors import error_response
from service.web.timewords import local_time

bp = Blueprint("audit", __name__)

MAX_LIMIT = 1000



def audit_json(row: AuditRow) -> dict[str, Any]:
    """Return one audit line as the API shows it."""
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "subject": row.subject,
        "detail": row.detail or {},
    }


def subjects(session: Any, lines: list[dict[str, Any]]) -> dict[str, Subject]:
    """Name what each line is about (a handover, a review, an account, a person), with a
    link; one query per kind for the whole page."""
    wanted = {str(line["subject"]) for line in lines}
    ids = {w for w in wanted if len(w) == 32 and w.isalnum()}
    found_h = audit_subjects.handovers(session, ids)
    found_r = audit_subjects.reviews(session, ids - set(found_h))
    found_a = audit_subjects.accounts(session, {w for w in wanted if "@" not in w} - ids)
    out: dict[str, Subject] = {}
    for w in wanted:
        if w in found_h:
            client, project, payload = found_h[w]
            out[w] = Subject(f"{client}: {project}", f"/handovers/{w}", words.names(payload))
        elif w in found_r:
            name, pm_email, pm_name = found_r[w]
            known = {pm_email.lower(): pm_name} if pm_email and pm_name else {}
            out[w] = Subject(name, f"/reviews/{w}", known)
        elif w in found_a:
            out[w] = Subject(f"the {found_a[w]} account", f"/accounts/{w}")
        else:
            out[w] = Subject(w)
    return out


def in_words(lines: list[dict[str, Any]], subject_of: dict[str, Subject], zone: str) -> list[
    dict[str, Any]
]:
    """Return each line with its time and sentence in words, for a page."""
    def time(value: str) -> Any:
        return local_time(value, zone)

    return [
        {**line, "when": time(line["at"]), "said": sentence(
            line, subject_of[str(line["subject"])], time=time)}
        for line in lines
    ]  # fmt: skip


def _bad(field: str, message: str) -> NoReturn:
    response, status = error_response(
        400, f"{field} {message}", errors=[{"field": field, "message": message}]
    )
    response.status_code = status
    abort(response)


def _query() -> tuple[str | None, int, int | None]:
    """Return the subject filter, limit and `before` (a line's id: older lines only) from
    the query string, or answer 400 naming the field."""
    subject = request.args.get("subject", "").strip() or None
    raw = request.args.get("limit", "200")
    # ASCII digits only: `²` is a digit to str.isdigit() but no number to int().
    if not (raw.isascii() and raw.isdecimal() and len(raw) < 7 and 1 <= int(raw) <= MAX_LIMIT):
        _bad("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    if subject is not None and len(subject) > 200:
        _bad("subject", "must be at most 200 characters")
    before = request.args.get("before", "").strip() or None
    if before is not None and (not before.isdigit() or len(before) > 18):
        _bad("before", "must be the number of an audit line")
    return subject, int(raw), int(before) if before else None


def _page(
    subject: str | None, limit: int, before: int | None
) -> tuple[list[dict[str, Any]], int | None]:
    """Return a page of lines and the `before` of the next (older) page, if there is one."""
    with _services().db.transaction() as session:
        rows = repo.audit_trail(session, subject, limit=limit + 1, before=before)
    lines = [audit_json(r) for r in rows[:limit]]
    return lines, (lines[-1]["id"] if len(rows) > limit else None)


@bp.get("/admin/audit")
@login_required
@require(ADMIN)
def page() -> str:
    """Show who or what did what, and when (newest first; `subject` filters)."""
    subject, limit, before = _query()
    rows, older = _page(subject, limit, before)
    s = _services()
    with s.db.transaction() as session:
        named = subjects(session, rows)
    rows = in_words(rows, named, s.settings.agency_timezone)
    return render_template(
        "audit.html", rows=rows, subject=subject or "", user=g.user, older=older, limit=limit
    )


@bp.get("/api/audit")
@api_auth
@require(ADMIN)
def api_list() -> Response:
    """Return audit lines, newest first; `subject` (a handover or review id) filters them."""
    subject, limit, before = _query()
    rows, older = _page(subject, limit, before)
    return jsonify({"audit": rows, "subject": subject, "older": older})
