"""The preview keeps the notice: a form sent on Friday morning gets no meeting before Monday."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from werkzeug.datastructures import MultiDict

from service import create_app
from service.demo import example_handover
from service.domain.business_days import zone
from service.domain.planning_notice import Notice
from tests.conftest import Clock, close_app, make_settings
from tests.e2e.test_form_http import csrf_of, form_fields

FRIDAY_MORNING = datetime(2026, 12, 4, 7, 57, tzinfo=zone("America/New_York"))


def _preview(tmp_path: Path, notice: Notice) -> str:
    settings = replace(make_settings(tmp_path), meeting_notice=notice)
    app = create_app(settings)
    try:
        app.extensions["handover"].clock = Clock(FRIDAY_MORNING)
        client: Any = app.test_client()
        token = csrf_of(client.get("/handovers/new").get_data(as_text=True))
        fields = form_fields(example_handover()) + [("csrf_token", token)]
        answer = client.post("/handovers/preview", data=MultiDict(fields))
        assert answer.status_code == 200
        return str(answer.get_data(as_text=True))
    finally:
        close_app(app)


def _first_meeting_day(html: str) -> str:
    starts = re.findall(r'<time datetime="([^"]+)" data-zone="([^"]+)"', html)
    assert starts, "the preview lists the meetings"
    return (
        min(datetime.fromisoformat(s).astimezone(zone("America/New_York")) for s, _ in starts)
        .date()
        .isoformat()
    )


def test_the_preview_says_the_notice_and_keeps_it(tmp_path: Path) -> None:
    html = _preview(tmp_path, Notice())
    assert "No meeting starts before the next business day of its agency attendees" in html
    assert _first_meeting_day(html) == "2026-12-07"  # Monday, not three minutes later


def test_with_no_notice_the_same_form_gets_a_meeting_that_afternoon(tmp_path: Path) -> None:
    html = _preview(tmp_path, Notice(hours=0))
    assert "no notice is added" in html
    assert _first_meeting_day(html) == "2026-12-04"
