"""The meetings table reads as words: repeats, times with their zone, moved occurrences."""

from __future__ import annotations

import re
from pathlib import Path

from service import create_app
from service.domain.planning import plan_meetings
from service.workflows.meetings import plan_json
from tests.conftest import close_app, make_settings
from tests.unit.test_planning import DEV, PRIYA, make

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


def test_rules_and_warnings_read_as_sentences_without_internal_names(tmp_path: Path) -> None:
    """A real plan (Priya in Kolkata, holidays, syncs): each rule and warning is a sentence."""
    plan = plan_json(plan_meetings(make(team=(DEV, PRIYA))))
    app = create_app(make_settings(tmp_path))
    try:
        with app.test_request_context("/"):
            html = app.jinja_env.from_string(TABLE).render(plan=plan)
    finally:
        close_app(app)
    text = " ".join(re.sub(r"<[^>]+>", " ", html).split())
    assert "Must come after the sales handover and the internal kickoff." in text
    assert "Its first meeting must come after the client kickoff." in text
    assert "Not on a weekend or a public holiday in Germany, India or the United States." in text
    assert "Every 2 weeks on " in text
    assert "Sales handover: Priya Rao (Kolkata time) is outside working hours 09:00-17:00" in text
    assert "their time, up to" in text and "minutes outside." in text
    for kind in ("sales_handover", "internal_kickoff", "client_kickoff", "_sync"):
        assert kind not in text
    assert not re.search(r"\d{4}-\d\d-\d\d", text), "an ISO date is shown"
    assert "@" not in text and "Asia/" not in text and "America/" not in text
