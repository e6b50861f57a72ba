"""Serves the local backend's documents (briefs as HTML) to signed-in users."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, render_template, send_file

from integrations.local.drive import LocalDrive
from service.domain.access import EVERYONE
from service.web.auth import login_required, require

bp = Blueprint("files", __name__)


@bp.get("/files/<file_id>")
@login_required
@require(*EVERYONE)
def show(file_id: str) -> Response:
    """Return a local document by id (local backend only)."""
    drive = current_app.extensions["handover"].drive
    if not isinstance(drive, LocalDrive):
        abort(404)
    path = drive.path_of(file_id)
    if path is None:
        abort(404)
    if path.is_dir():
        entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
        return Response(render_template("folder.html", folder=path.name, entries=entries,
                                        root=drive.root, user=None))
    answer = send_file(path, mimetype="text/html" if path.suffix == ".html" else None)
    # A brief is our own escaped HTML; still, give it no script rights.
    answer.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return answer
