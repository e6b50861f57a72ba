"""Upload a contract draft from the browser: the page and its form's POST.

The POST takes a larger body than the app's other requests: the limit is raised for it
before any check reads the body. It is exempt from the app-wide CSRF check, which would
read the body first; the view checks the form's CSRF token itself.
"""

from __future__ import annotations

import uuid

from flask import Blueprint, abort, g, redirect, render_template, request, url_for
from flask_wtf.csrf import validate_csrf
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import ValidationError

from service.domain import draft_upload as rules
from service.domain.access import ACCOUNT_MANAGER, OPERATIONS, PROJECT_MANAGER, SALES
from service.jobs import drive_sync
from service.web import services as _services
from service.web.auth import login_required, require
from service.workflows import review_uploads

bp = Blueprint("review_upload", __name__)

UPLOADERS = (OPERATIONS, ACCOUNT_MANAGER, PROJECT_MANAGER, SALES)
# The form's own fields and the multipart framing around the file.
SLACK = 64 * 1024


def _uploader() -> review_uploads.Uploader:
    return review_uploads.uploader(_services().db, g.user.email, g.user.role)


def _form(errors: dict[str, str], account: str = "", status: int = 200) -> tuple[str, int]:
    return render_template(
        "upload.html",
        accounts=_uploader().accounts,
        account=account or request.args.get("account", ""),
        uploaded=request.args.get("uploaded", "") if status == 200 else "",
        errors=errors,
        upload_key=uuid.uuid4().hex,
        max_mb=rules.MAX_BYTES // (1024 * 1024),
        user=g.user,
    ), status


@bp.before_app_request
def _upload_limit() -> None:
    """Let the upload's body be as large as a draft may be (other requests keep theirs)."""
    if request.endpoint == "review_upload.upload":
        request.max_content_length = rules.MAX_BYTES + SLACK


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> tuple[str, int]:
    """Say what was too large (the body is refused before anyone is signed in: no form)."""
    limit = rules.MAX_BYTES // (1024 * 1024)
    message = f"The file is larger than {limit} MB: upload a smaller draft (a PDF of it)."
    return render_template("error.html", status=413, message=message), 413


@bp.get("/reviews/upload")
@login_required
@require(*UPLOADERS)
def form() -> tuple[str, int]:
    """Show the form to upload a contract draft into one of one's accounts."""
    return _form({})


@bp.post("/reviews/upload")
@login_required
@require(*UPLOADERS)
def upload() -> WerkzeugResponse | tuple[str, int]:
    """Store the uploaded draft in the account's Contracts folder and open its review."""
    fields = request.form
    sent = request.files.get("file")
    try:
        validate_csrf(fields.get("csrf_token"))
    except ValidationError:
        abort(400, "The form expired or came from elsewhere: open it again and resend.")
    account = fields.get("account_key", "")
    data = b""
    if sent is not None:
        with sent.stream:  # a large one is a temporary file: closed now, not at exit
            data = sent.read(rules.MAX_BYTES + 1)
    s = _services()
    sync = drive_sync(s)
    who = _uploader()
    try:
        made = review_uploads.upload_draft(
            account,
            (sent.filename or "") if sent is not None else "",
            data,
            uploader_email=g.user.email,
            uploader_name=who.name,
            upload_key=fields.get("upload_key", "") or uuid.uuid4().hex,
            allowed=who.accounts,
            db=s.db,
            drive=s.drive,
            sync=sync,
        )
    except rules.InvalidUpload as exc:
        return _form(exc.errors, account=account, status=422)
    if made.review_id is None or g.user.role == SALES:  # Sales do not see reviews
        return redirect(url_for("review_upload.form", uploaded=made.name), code=303)
    return redirect(url_for("reviews.show", review_id=made.review_id, uploaded=1), code=303)
