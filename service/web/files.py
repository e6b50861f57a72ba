"""Serves the local backend's documents (briefs as HTML) and folders to the people they are for.

A brief is open to every signed-in person (as on the handover page); a client folder, its
Contracts folder and the drafts in it only to the account's people (those its running
projects name), the drafts' reviewers, Operations and admins. Nothing shows a server path.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, g, render_template, send_file
from sqlalchemy import select

from integrations.local.drive import LocalDrive
from service.domain.access import EVERYONE, may_open_file, people_named
from service.store import handovers as repo
from service.store.review_models import ReviewRow
from service.web.auth import ensure, login_required, require

bp = Blueprint("files", __name__)


def _allowed(drive: LocalDrive, file_id: str) -> bool:
    described = drive.describe(file_id)
    if described is None:
        return False
    if described.properties.get("kind") == "project_brief":
        return True
    services = current_app.extensions["handover"]
    with services.db.transaction() as session:
        key = described.properties.get("accountKey") or repo.account_of_files(
            session, [file_id, *described.parents]
        )
        people: frozenset[str] = frozenset()
        if key:
            for row in repo.running_handovers(session, key):
                if row.account_pending_since is None:
                    people |= people_named(row.payload)
        reviews = session.execute(
            select(ReviewRow.pm_email, ReviewRow.am_email).where(ReviewRow.file_id == file_id)
        )
        reviewers = frozenset(str(e).lower() for pair in reviews for e in pair if e)
    return may_open_file(
        g.user.email, g.user.role, brief=False, account_people=people, reviewers=reviewers
    )


@bp.get("/files/<file_id>")
@login_required
@require(*EVERYONE)
def show(file_id: str) -> Response:
    """Return a local document or a folder's listing by id (local backend only)."""
    drive = current_app.extensions["handover"].drive
    if not isinstance(drive, LocalDrive):
        abort(404)
    path = drive.path_of(file_id)
    if path is None:
        abort(404)
    ensure(_allowed(drive, file_id), "This file is for the account's people and reviewers.")
    if path.is_dir():
        entries = sorted(
            (p.name, p.is_dir()) for p in path.iterdir() if not p.name.startswith(".")
        )
        return Response(render_template("folder.html", folder=path.name, entries=entries,
                                        user=None))
    answer = send_file(path, mimetype="text/html" if path.suffix == ".html" else None)
    # A brief is our own escaped HTML; still, give it no script rights.
    answer.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    return answer
