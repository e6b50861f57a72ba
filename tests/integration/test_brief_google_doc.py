"""The Project Brief as a Google Doc, through the loopback Drive: the same look as the HTML
brief (Drive keeps inline styles only), the planned dates in its next steps, written once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service.demo import example_handover
from service.store import handovers as repo
from tests.conftest import app_on_the_fake, submit_and_wait
from tests.fakes import FakeGoogle

DOC = "application/vnd.google-apps.document"


@pytest.fixture
def app(tmp_path: Path, database_url: str, fake_google: FakeGoogle) -> Iterator[Flask]:
    with app_on_the_fake(tmp_path, database_url, fake_google) as made:
        yield made


def run(app: Flask, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """Submit, wait for every step; return the brief's id and the stored plan."""
    handover_id = submit_and_wait(app, data)
    with app.extensions["handover"].db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        assert row is not None
        assert {s.state for s in row.steps} == {"done"}, [(s.name, s.error) for s in row.steps]
        brief = repo.artifact(session, handover_id, "brief")
        plan = repo.artifact(session, handover_id, "plan")
        assert brief is not None and plan is not None
        return brief.external_id, dict(plan.data)


def uploads_into(fake: FakeGoogle, file_id: str) -> list[Any]:
    """Return the answered requests that wrote content into the file (create or update)."""
    return [
        r
        for r in fake.requests
        if r.method_id in {"drive.files.create", "drive.files.update"}
        and r.status < 400
        and r.media is not None
        and file_id in (r.path + str(r.body))
    ]


def test_the_doc_has_the_briefs_look_and_the_planned_dates(
    app: Flask, fake_google: FakeGoogle
) -> None:
    data = example_handover()
    data["client_contacts"][1]["roles"] = ["champion", "influencer"]
    brief_id, plan = run(app, data)
    text = fake_google.docs.text(brief_id)
    # Each contact once, with all their roles in words.
    assert text.count("cleo@acmecorp.example") == 1
    assert "Executive sponsor, Buyer" in text and "Champion, Influencer" in text
    # The next steps carry the dates of the stored plan, in the client's zone, zone named.
    sales = next(m for m in plan["meetings"] if m["kind"] == "sales_handover")
    assert re.search(
        r"Sales handover: \w{3} \d{1,2} \w{3} \d{4}, \d\d:\d\d-\d\d:\d\d New York time\.", text
    ), text
    assert sales["start"][:10] not in text  # as words, never ISO
    assert "Client kickoff: Proposed for " in text
    assert "The meetings are being planned" not in text
    # Drive kept the look: headings, header cells and body cells styled inline.
    look = fake_google.docs.look(brief_id)
    tags = [tag for tag, _ in look]
    assert tags.count("h2") == 3 and "table" in tags and "ol" in tags
    h2 = [props for tag, props in look if tag == "h2"]
    assert all(p.get("color") == "#1a5fb4" and "border-bottom" in p for p in h2)
    th = [props for tag, props in look if tag == "th"]
    assert th and all(p.get("background-color") == "#eef3fb" for p in th)
    assert all(props for tag, props in look if tag in {"h1", "h3", "p", "td", "th"})
    # Written once, with its dates: never written again once shared (a PM may edit it).
    assert [r.method_id for r in uploads_into(fake_google, brief_id)] == ["drive.files.create"]


def test_the_fake_keeps_no_look_a_stylesheet_gave(fake_google: FakeGoogle) -> None:
    """As Drive: a <style> block or a class does not style the converted document."""
    from tests.fakes.htmltext import html_looks

    page = (
        "<html><head><style>h2 { color: red } .x { font-weight: bold }</style></head>"
        '<body><h2 class="x">Plain</h2><h2 style="color: #1a5fb4">Kept</h2></body></html>'
    )
    assert html_looks(page) == [("h2", {}), ("h2", {"color": "#1a5fb4"})]
