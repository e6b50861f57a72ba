"""Contract reviews: the pages (`bp`) and the JSON API (`api_bp`, exempt from CSRF).

The PM approves or asks for changes; the AM sees the state; Operations gives the drafts
no account was found for to an account.
"""

from __future__ import annotations

import logging
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

from service.domain import contracts as rules
from service.domain import review_notice as notice
from service.domain.access import (
    ACCOUNT_MANAGER,
    OPERATIONS,
    PROJECT_MANAGER,
    may_see_review,
)
from service.domain.business_days import zone
from service.links import absolute
from service.store import handovers as audit
from service.store import reviews as repo
from service.store.review_models import ReviewRow, SeenFileRow
from service.web import review_badges as badges
from service.web import services as _services
from service.web import words
from service.web.auth import api_auth, ensure, login_required, require
from service.web.errors import error_response
from service.workflows import contracts, review_decisions

log = logging.getLogger(__name__)

bp = Blueprint("reviews", __name__)
api_bp = Blueprint("reviews_api", __name__)

# What each line of a review's history says, in words (the audit's own keys stay there).
HISTORY_WORDS = {
    "review.opened": "draft arrived",
    "review.reopened": "new revision arrived",
    "review.routed": "sent to the Project Manager",
    "review.assigned": "given to an account",
    "review.approved": "approved",
    "review.changes_requested": "asked for changes",
    "review.shared_outside": "shared outside the agency",
    "review.alerted": "AM and PM alerted",
    "review.reminded": "Project Manager reminded",
    "review.decision_told": "decision emailed",
}

STATE_LABELS = {
    rules.UNMATCHED: "needs an account",
    rules.ROUTING: "being routed",
    rules.OPEN: "in review",
    rules.APPROVED: "approved",
    rules.CHANGES_REQUESTED: "changes requested",
}



def review_json(row: ReviewRow, *, base_url: str, agency_timezone: str) -> dict[str, Any]:
    """Return a review as the API shows it."""
    tz = row.pm_timezone or agency_timezone
    return {
        "id": row.id,
        "file": {
            "id": row.file_id,
            "name": row.name,
            "url": absolute(row.web_url, base_url),
            "kind": row.kind,
        },
        "revision": row.revision,
        "state": row.state,
        "account": row.account_key,
        "client": row.client_name,
        "project": row.project_name,
        "project_manager": {"name": row.pm_name, "email": row.pm_email} if row.pm_email else None,
        "account_manager": {"name": row.am_name, "email": row.am_email} if row.am_email else None,
        "arrived_at": row.arrived_at.isoformat(),
        "routed_at": row.routed_at.isoformat() if row.routed_at else None,
        # The earliest time the draft may go to the client.
        "deadline": row.deadline.astimezone(zone(tz)).isoformat() if row.deadline else None,
        "deadline_text": rules.format_deadline(row.deadline, tz) if row.deadline else None,
        "approval_id": row.approval_id,
        "decided_at": row.decided_at.isoformat() if row.decided_at else None,
        "decided_by": row.decided_by,
        "comment": row.comment,
        "flagged_external_at": (
            row.flagged_external_at.isoformat() if row.flagged_external_at else None
        ),
        "external_recipients": list(row.external_recipients or []),
        "route_error": row.route_error,
        "uploaded_by": row.uploaded_by,
        "page_url": f"{base_url}/reviews/{row.id}",
    }


def _visible(rows: list[ReviewRow]) -> list[ReviewRow]:
    """Return the reviews the user may see: all for Operations, their accounts' for AM and PM."""
    user = g.user
    return [r for r in rows if may_see_review(user.email, user.role, r.am_email, r.pm_email)]


def _mine(row: ReviewRow | None) -> ReviewRow:
    if row is None:
        abort(404)
    ensure(bool(_visible([row])), "This review is not on one of your accounts.")
    return row


READERS = (OPERATIONS, ACCOUNT_MANAGER, PROJECT_MANAGER)


def _jsons(rows: list[ReviewRow], base_url: str = "") -> list[dict[str, Any]]:
    tz = _services().settings.agency_timezone
    return [review_json(r, base_url=base_url, agency_timezone=tz) for r in rows]


bp.app_context_processor(badges.nav_badge)


# --- pages ----------------------------------------------------------------------------


@bp.get("/reviews")
@login_required
@require(*READERS)
def index() -> str:
    """List the contract reviews, newest first (optionally one state)."""
    state = request.args.get("state", "")
    with _services().db.transaction() as session:
        rows = repo.list_reviews(session, states=[state] if state in rules.STATES else [])
        rows = _visible(rows)
    counts = badges.due_counts()
    return render_template(
        "reviews.html",
        reviews=badges.with_badges(rows, _jsons(rows)),
        labels=STATE_LABELS,
        state=state,
        counts=notice.counts_text(*counts) if counts is not None else "",
        user=g.user,
    )


@bp.get("/reviews/unmatched")
@login_required
@require(OPERATIONS)
def unmatched() -> str:
    """List the drafts no account was found for, for Operations to assign."""
    with _services().db.transaction() as session:
        rows = repo.list_reviews(session, states=[rules.UNMATCHED])
        accounts = sorted(repo.client_names(session).items(), key=lambda kv: kv[1].lower())
    return render_template(
        "unmatched.html",
        reviews=_jsons(rows),
        accounts=accounts,
        tz=_services().settings.agency_timezone,
        user=g.user,
    )


@bp.get("/reviews/<review_id>")
@login_required
@require(*READERS)
def show(review_id: str) -> str:
    """Show one review: the draft, its deadline, the decision form and its history."""
    return _page(review_id, errors={}, values={})[0]


def _page(
    review_id: str, *, errors: dict[str, str], values: dict[str, str], status: int = 200
) -> tuple[str, int]:
    with _services().db.transaction() as session:
        row = _mine(repo.get_review(session, review_id))
        seen = session.get(SeenFileRow, row.file_id)
        sharing_known = seen is None or seen.sharing_known
        rounds = _jsons(repo.rounds_of(session, row.file_id))
        accounts = sorted(repo.client_names(session).items(), key=lambda kv: kv[1].lower())
        known = {e.lower(): n for e, n in ((row.pm_email, row.pm_name),
                                            (row.am_email, row.am_name)) if e and n}  # fmt: skip
        trail = [
            (
                a.at.isoformat(timespec="seconds"),
                "The service" if a.actor == "service" else words.person(a.actor, known),
                HISTORY_WORDS.get(a.action, a.action.rpartition(".")[2].replace("_", " ")),
                a.detail,
            )
            for a in audit.audit_trail(session, review_id, limit=50)
        ]
    review = badges.with_badges([row], _jsons([row]))[0]
    review["sharing_known"] = sharing_known
    review["uploaded_by_name"] = row.uploaded_by_name or ""
    told = request.args.get("told", "")
    confirmation = ""
    if told and row.state in rules.DECISIONS:
        who = review_decisions.told_of(row, _services().settings.allowed_domain)
        confirmation = notice.confirmation(row.state, who)
        if told == "later":
            confirmation += " The emails could not go out yet: the service sends them shortly."
    return render_template(
        "review.html",
        r=review,
        rounds=rounds,
        accounts=accounts,
        trail=trail,
        labels=STATE_LABELS,
        errors=errors,
        values=values,
        confirmation=confirmation,
        uploaded=bool(request.args.get("uploaded")),
        tz=row.pm_timezone or _services().settings.agency_timezone,
        user=g.user,
    ), status


def _tell(review_id: str) -> bool:
    """Email the decision to the AM and the uploader; on failure queue it and return False."""
    s = _services()
    try:
        review_decisions.tell_decision(
            review_id, db=s.db, ctx=s.reviews, clock=s.clock,
            allowed_domain=s.settings.allowed_domain,
        )  # fmt: skip
    except Exception:
        log.exception("telling review %s's decision failed; queued", review_id)
        s.tasks.enqueue(
            "tell_decision", {"review_id": review_id}, key=f"tell_decision:{review_id}"
        )
        return False
    return True


@bp.post("/reviews/<review_id>/decision")
@login_required
@require(PROJECT_MANAGER, OPERATIONS)
def decide(review_id: str) -> WerkzeugResponse | tuple[str, int]:
    """Record the decision from the review page's form."""
    values = {k: request.form.get(k, "") for k in ("decision", "comment")}
    s = _services()
    try:
        contracts.decide(
            review_id,
            values["decision"],
            values["comment"],
            actor=g.user.email,
            actor_role=g.user.role,
            db=s.db,
            clock=s.clock,
        )
    except rules.InvalidDecision as exc:
        return _page(review_id, errors=exc.errors, values=values, status=422)
    except rules.NotAllowed as exc:
        abort(403, str(exc))
    except rules.WrongState as exc:
        return _page(review_id, errors={"state": str(exc)}, values=values, status=409)
    except LookupError:
        abort(404)
    told = _tell(review_id)
    return redirect(
        url_for("reviews.show", review_id=review_id, told="1" if told else "later"), code=303
    )


@bp.post("/reviews/<review_id>/account")
@login_required
@require(OPERATIONS)
def assign(review_id: str) -> WerkzeugResponse | tuple[str, int]:
    """Give an unmatched draft to the account Operations picked."""
    s = _services()
    key = request.form.get("account_key", "")
    try:
        contracts.assign_unmatched(
            review_id,
            key,
            actor=g.user.email,
            db=s.db,
            tasks=s.tasks,
            clock=s.clock,
            allowed_domain=s.settings.allowed_domain,
        )
    except rules.WrongState as exc:
        return _page(review_id, errors={"account_key": str(exc)}, values={}, status=409)
    except LookupError:
        return _page(
            review_id, errors={"account_key": "pick one of the accounts"}, values={}, status=422
        )
    return _back(review_id)


def _back(review_id: str) -> WerkzeugResponse:
    return redirect(url_for("reviews.show", review_id=review_id), code=303)


# --- the JSON API ---------------------------------------------------------------------


@api_bp.get("/api/reviews")
@api_auth
@require(*READERS)
def api_list() -> Response | tuple[Response, int]:
    """Return the reviews, newest first; `state` and `account` filter them."""
    state = request.args.get("state", "")
    if state and state not in rules.STATES:
        message = f"must be one of {', '.join(rules.STATES)}"
        return error_response(
            400, f"state {message}", errors=[{"field": "state", "message": message}]
        )
    s = _services()
    with s.db.transaction() as session:
        rows = repo.list_reviews(
            session, states=[state] if state else [], account_key=request.args.get("account")
        )
        rows = _visible(rows)
    return jsonify({"reviews": _jsons(rows, s.settings.public_base_url)})


@api_bp.get("/api/reviews/<review_id>")
@api_auth
@require(*READERS)
def api_show(review_id: str) -> Response:
    """Return one review."""
    s = _services()
    with s.db.transaction() as session:
        row = _mine(repo.get_review(session, review_id))
    return jsonify(_jsons([row], s.settings.public_base_url)[0])


@api_bp.post("/api/reviews/<review_id>/decision")
@api_auth
@require(PROJECT_MANAGER, OPERATIONS)
def api_decide(review_id: str) -> tuple[Response, int]:
    """Record a decision: `{"decision": "approved"|"changes_requested", "comment": "..."}`."""
    if not request.is_json:
        abort(415)
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        abort(400, "The body must be a JSON object.")
    s = _services()
    try:
        row = contracts.decide(
            review_id,
            body.get("decision"),
            body.get("comment", ""),
            actor=g.user.email,
            actor_role=g.user.role,
            db=s.db,
            clock=s.clock,
        )
    except rules.InvalidDecision as exc:
        errors = [{"field": f, "message": m} for f, m in exc.errors.items()]
        return error_response(422, "The decision is not valid.", errors=errors)
    except rules.NotAllowed as exc:
        return error_response(
            403, str(exc), errors=[{"field": "Authorization", "message": str(exc)}]
        )
    except rules.WrongState as exc:
        return error_response(409, str(exc), errors=[{"field": "state", "message": str(exc)}])
    except LookupError:
        abort(404)
    _tell(review_id)
    return jsonify(_jsons([row], s.settings.public_base_url)[0]), 200
