"""Serves each person's subscribable calendar feed (local backend only).

The token in the address is the secret, as with Google's "secret address in iCal
format", so calendar apps can subscribe without signing in.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app

from integrations.local.calendar import LocalCalendar

bp = Blueprint("calendar_feed", __name__)


@bp.get("/calendar/<token>.ics")
def feed(token: str) -> Response:
    """Return the feed of the person whose token this is; 404 for any other token."""
    calendar = getattr(current_app.extensions["handover"], "calendar", None)
    if not isinstance(calendar, LocalCalendar):
        abort(404)
    data = calendar.feed(token)
    if data is None:
        abort(404)
    answer = Response(data, content_type="text/calendar; charset=utf-8")
    answer.headers["Content-Disposition"] = 'inline; filename="handover.ics"'
    answer.headers["Cache-Control"] = "private, max-age=300"
    # The address is a credential: keep it out of Referer headers and shared caches.
    answer.headers["Referrer-Policy"] = "no-referrer"
    answer.headers["X-Content-Type-Options"] = "nosniff"
    return answer
