"""The brief carries the handbook's six Guidelines of Success, always, in the handbook's
order, on both backends; an unanswered one names the Sales person to ask; template mode
refuses a template with no place for one of them."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service import create_app
from service.demo import example_handover
from service.domain.guidelines import QUESTIONS, guidelines
from service.schema import validate_handover
from service.store import handovers as repo
from service.web.present import handover_json
from tests.conftest import (
    app_on_the_fake,
    close_app,
    make_settings,
    on_the_fake,
    submit_and_wait,
)
from tests.fakes import FakeGoogle

DOC = "application/vnd.google-apps.document"
ASK = "Not known yet \u2014 ask Sam Reed"


@pytest.fixture(params=["local", "google"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str
) -> Iterator[tuple[Flask, FakeGoogle | None]]:
    fake = None
    extra: dict[str, Any] = {}
    if request.param == "google":
        fake = request.getfixturevalue("fake_google")
        extra = on_the_fake(fake, google_impersonate="handover@agency.example")
    app = create_app(make_settings(tmp_path, database_url=database_url, **extra))
    try:
        yield app, fake
    finally:
        close_app(app)


def brief_text(app: Flask, fake: FakeGoogle | None, data: dict[str, Any]) -> str:
    """Return the brief's text as a reader sees it, whichever the backend."""
    brief_id = data["artifacts"]["brief"]["id"]
    if fake is not None:
        return fake.docs.text(brief_id)
    path = app.extensions["handover"].drive.path_of(brief_id)
    return html.unescape(re.sub(r"<[^>]+>", "\n", path.read_text()))


def run(app: Flask, data: dict[str, Any]) -> dict[str, Any]:
    handover_id = submit_and_wait(app, data)
    with app.extensions["handover"].db.transaction() as session:
        row = repo.get_handover(session, handover_id)
        assert row is not None
        return handover_json(row, base_url="")


def positions(text: str) -> list[int]:
    return [text.index(question) for _, question in QUESTIONS]


def test_the_six_guidelines_answered_in_the_handbooks_order(
    backend: tuple[Flask, FakeGoogle | None],
) -> None:
    app, fake = backend
    data = example_handover()
    data["client_contacts"].append(
        {"name": "Dora Doubt", "email": "dora@acmecorp.example", "roles": ["detractor"]}
    )
    data["influencers_notes"] = "Chad pushes for speed; Dora worries about cost."
    done = run(app, data)
    text = brief_text(app, fake, done)
    found = positions(text)
    assert found == sorted(found), "the six in the handbook's order"
    assert "Replatform the storefront" in text  # Sales' own words
    buyer = text[found[3] : found[4]]
    assert "Buyer" in buyer and "Cleo Buyer" in buyer  # the contact with the role, by name
    # ... whose email is in the people table only: each contact once, with all their roles
    assert text.count("cleo@acmecorp.example") == 1
    assert "Executive sponsor, Buyer" in text[found[5] :]
    people = text[found[4] : found[5]]
    assert "Chad Champion" in people and "Dora Doubt" in people
    assert "Dora worries about cost." in people  # plus the notes
    assert "Not known yet" not in text


def test_unanswered_guidelines_say_whom_to_ask_instead_of_vanishing(
    backend: tuple[Flask, FakeGoogle | None],
) -> None:
    app, fake = backend
    data = example_handover()
    data["success"] = {"why_bought": "They outgrew their shop."}
    data["client_contacts"] = [
        {"name": "Ed Sponsor", "email": "ed@acmecorp.example", "roles": ["executive_sponsor"]}
    ]
    data["influencers_notes"] = ""
    text = brief_text(app, fake, run(app, data))
    found = positions(text)
    assert found == sorted(found)
    sections = [text[a:b] for a, b in zip(found, [*found[1:], len(text)], strict=True)]
    assert "They outgrew their shop." in sections[0] and ASK not in sections[0]
    for section in sections[1:]:
        assert ASK in section


def test_a_template_with_no_place_for_a_guideline_is_refused_before_any_copy(
    tmp_path: Path, database_url: str, fake_google: FakeGoogle
) -> None:
    text = (
        "{{client.name}}\n{{success.why_bought}}\n{{success.problem_and_goals}}\n"
        "{{success.success_definition}}\n{{influencers_notes}}\n{{success.roadblocks}}\n"
    )  # no place for the buyer
    template = fake_google.drive.add_file("Brief template", mime_type=DOC, text=text)["id"]
    with app_on_the_fake(
        tmp_path, database_url, fake_google, brief_template_doc_id=template
    ) as app:
        data = run(app, example_handover())
    failed = next(s for s in data["steps"] if s["state"] == "failed")
    assert failed["name"] == "project_brief"
    assert "4. Who is the Buyer of the product?" in failed["error"]
    assert "{{guidelines.buyer}}" in failed["error"]
    assert "1. Why did the client buy" not in failed["error"]
    assert not any(r.method_id == "drive.files.copy" for r in fake_google.requests)


def test_a_template_fills_the_six_with_whom_to_ask(
    tmp_path: Path, database_url: str, fake_google: FakeGoogle
) -> None:
    text = "".join(f"{n}: {{{{guidelines.{key}}}}}\n" for n, (key, _) in enumerate(QUESTIONS, 1))
    template = fake_google.drive.add_file("Brief template", mime_type=DOC, text=text)["id"]
    data = example_handover()
    data["success"] = {}
    with app_on_the_fake(
        tmp_path, database_url, fake_google, brief_template_doc_id=template
    ) as app:
        done = run(app, data)
    assert done["status"] == "done", done["steps"]
    filled = fake_google.docs.text(done["artifacts"]["brief"]["id"])
    assert f"1: {ASK}" in filled and f"6: {ASK}" in filled
    assert "4: Buyer: Cleo" in filled


def test_guidelines_are_six_whatever_is_answered() -> None:
    _, h = validate_handover(example_handover())
    assert [g.key for g in guidelines(h)] == [k for k, _ in QUESTIONS]
    assert [g.number for g in guidelines(h)] == [1, 2, 3, 4, 5, 6]
