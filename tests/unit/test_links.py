"""Stored links are made whole on today's base when shown, so a moved service mends them."""

from __future__ import annotations

import pytest

from service.links import absolute

TODAY = "http://127.0.0.1:8093"


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("/files/loc0123456789abcdef0123", f"{TODAY}/files/loc0123456789abcdef0123"),
        ("/handovers/h1a2b3", f"{TODAY}/handovers/h1a2b3"),
        # Rows an earlier version wrote whole, on the base it ran with then:
        (
            "http://127.0.0.1:8080/files/loc0123456789abcdef0123",
            f"{TODAY}/files/loc0123456789abcdef0123",
        ),
        ("http://localhost:5000/handovers/h1a2b3", f"{TODAY}/handovers/h1a2b3"),
        # Google's own addresses stay as Google gave them:
        (
            "https://docs.google.com/document/d/1AbC/edit",
            "https://docs.google.com/document/d/1AbC/edit",
        ),
        (
            "https://www.google.com/calendar/event?eid=abc",
            "https://www.google.com/calendar/event?eid=abc",
        ),
        ("https://drive.google.com/drive/folders/1Xy", "https://drive.google.com/drive/folders/1Xy"),
        ("", ""),
    ],
)
def test_a_stored_link_is_shown_on_todays_base(stored: str, shown: str) -> None:
    assert absolute(stored, TODAY) == shown


def test_on_a_page_of_ours_a_path_stays_a_path() -> None:
    assert absolute("/files/loc0123456789abcdef0123", "") == "/files/loc0123456789abcdef0123"
    assert absolute("http://127.0.0.1:8080/handovers/h1", "") == "/handovers/h1"
