"""The meetings table reads as words: repeats, times with their zone, moved occurrences."""

from __future__ import annotations

from pathlib import Path

from service import create_app
from tests.conftest import close_app, make_settings

TABLE = '{% from "_timeline.html" import plan_table %}{{ plan_table(plan) }}'


def test_a_moved_occurrence_and_the_repeat_read_as_words(tmp_path: Path) -> None:
    meeting = {
        "kind": "executive_sponsor_sync",
        "title": "Executive Sponsor Sync: Acme",
        "start": "2026-12-23T11:00:00-05:00",
        "end": "2026-12-23T11:45:00-05:00",
        "timezone": "America/New_York",
        "attendees": [{"name": "Ada Lane", "email": "ada@agency.example", "internal": True}],
        "recurrence": ["RRULE:FREQ=MONTHLY;BYDAY=4WE"],
        "moved": [
            {
                "original_start": "2027-11-24T16:00:00+00:00",
                "start": "2027-11-23T16:00:00+00:00",
                "reason": "the day before Thanksgiving is kept free",
            }
        ],
        "constraints": [],
    }
    app = create_app(make_settings(tmp_path))
    try:
        with app.test_request_context("/"):
            html = app.jinja_env.from_string(TABLE).render(plan={"meetings": [meeting]})
    finally:
        close_app(app)
    assert "Every month on the fourth Wednesday, 11:00-11:45 (New York time)" in html
    assert "Wed 24 Nov 2027 moves to" in html
    assert '<time datetime="2027-11-23T11:00:00-05:00" data-zone="America/New_York">' in html
    assert "RRULE" not in html and "2027-11-24" not in html
