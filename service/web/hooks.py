"""Drive push notifications: `POST /hooks/drive`.

A notification says only "the feed changed" (its body is empty and never read); it is
believed when its channel id, token and resource id match a live channel of ours, and
then answered at once while the sync job reads the feed. Drive's retries, duplicates and
bursts collapse into one queued sync through the job's key.
"""

from __future__ import annotations

from flask import Blueprint, Response, request

from service.web import services as _services
from service.workflows.channels import HOOK_PATH, verify_notification

bp = Blueprint("hooks", __name__)

SYNC_JOB = "sync_drive"



@bp.post(HOOK_PATH)
def drive() -> Response:
    """Verify a Drive notification and queue a sync of the change feed."""
    s = _services()
    headers = request.headers
    valid = verify_notification(
        headers.get("X-Goog-Channel-ID", ""),
        headers.get("X-Goog-Channel-Token", ""),
        headers.get("X-Goog-Resource-ID", ""),
        db=s.db,
        feed=s.change_feed,
    )
    if not valid:
        return Response(status=403)
    # `sync` is a channel's first message: nothing changed yet.
    if headers.get("X-Goog-Resource-State", "") != "sync":
        s.tasks.enqueue(SYNC_JOB, {}, key=SYNC_JOB)
    return Response(status=200)
