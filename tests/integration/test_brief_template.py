"""Template mode (BRIEF_TEMPLATE_DOC_ID) against the loopback Google: the brief is one filled
copy of the template, even with retries; a placeholder no field fills stops before any copy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from service.demo import example_handover
from service.rendering import handover_fields
from service.schema import validate_handover
from service.store import handovers as repo
from service.workflows import kickoff
from service.workflows.brief_template import check_template
from service.workflows.context import StepFailed
from tests.conftest import app_on_the_fake, submit_and_wait
from tests.fakes import FakeGoogle, Fault

DOC = "application/vnd.google-apps.document"
TEMPLATE = (
    "Project Brief: {{client.name}} - {{project.name}}\n"
    "AM: {{account_manager.name}}, PM: {{project_manager.name}}\n"
    "Team: {{delivery_team}}\n"
    "Why they bought: {{success.why_bought}}\n"
    "Contracts: {{links.contracts_folder}}\n"
    "2. {{guidelines.problem_and_goals}}\n3. {{guidelines.success_definition}}\n"
    "4. {{guidelines.buyer}}\n5. {{guidelines.influencers}}\n6. {{guidelines.roadblocks}}\n"
)
SIX = {
    "guidelines.why_bought",
    "guidelines.problem_and_goals",
    "guidelines.success_definition",
    "guidelines.buyer",
    "guidelines.influencers",
    "guidelines.roadblocks",
}


@pytest.fixture
def template_id(fake_google: FakeGoogle) -> str:
    return str(fake_google.drive.add_file("Brief template", mime_type=DOC, text=TEMPLATE)["id"])


@pytest.fixture
def app(
    tmp_path: Path, database_url: str, fake_google: FakeGoogle, template_id: str
) -> Iterator[Flask]:
    with app_on_the_fake(
        tmp_path, database_url, fake_google, brief_template_doc_id=template_id
    ) as made:
        yield made


def run(app: Flask, data: dict[str, Any] | None = None) -> dict[str, Any]:
    return status(app, submit_and_wait(app, data or example_handover()))


def status(app: Flask, handover_id: str) -> dict[str, Any]:
    return app.test_client().get(f"/api/handovers/{handover_id}").get_json()  # type: ignore[no-any-return]


def copies(fake: FakeGoogle, template_id: str) -> list[dict[str, Any]]:
    return [
        f
        for f in fake.drive.files.values()
        if f["mimeType"] == DOC and f["id"] != template_id and not f.get("trashed")
    ]


def retry(app: Flask, handover_id: str) -> dict[str, Any]:
    services = app.extensions["handover"]
    kickoff.retry_handover(
        handover_id, actor="ops", db=services.db, tasks=services.tasks, clock=services.clock
    )
    services.tasks.wait_idle(timeout=60)
    return status(app, handover_id)


def test_the_brief_is_one_filled_copy_even_when_answers_are_lost_and_the_step_retried(
    app: Flask, fake_google: FakeGoogle, template_id: str
) -> None:
    # The copy is made but its answer lost (the retry gets 409); the fill is refused once
    # for good, so the step fails after the copy exists and is run again by a retry.
    fake_google.faults.add(Fault(reset=True, after=True, path=r"/copy$", times=1))
    fake_google.faults.add(Fault(status=403, reason="forbidden", path=r":batchUpdate$", times=1))
    data = run(app)
    assert data["status"] == "failed"
    assert next(s for s in data["steps"] if s["state"] == "failed")["name"] == "project_brief"
    assert len(copies(fake_google, template_id)) == 1

    data = retry(app, data["id"])
    assert data["status"] == "done", data["steps"]
    [brief] = copies(fake_google, template_id)
    assert data["artifacts"]["brief"]["id"] == brief["id"]
    assert brief["parents"] == [data["artifacts"]["folder"]["id"]]
    text = fake_google.docs.text(brief["id"])
    assert "Project Brief: Acme Corp - Acme Corp Commerce Platform" in text
    assert "AM: Ada Lane, PM: Pat Moss" in text
    assert "Team: Dev One (Engineer), Dee Signer (Designer)" in text
    assert data["artifacts"]["contracts_folder"]["url"] in text
    assert "{{" not in text
    assert "{{client.name}}" in fake_google.docs.text(template_id)  # the template is untouched
    # Made once (its answer lost); the library's retry and the step's retry both got 409.
    copied = [r.status for r in fake_google.requests if r.method_id == "drive.files.copy"]
    assert copied == [0, 409, 409]
    emails = {p.get("emailAddress") for p in fake_google.drive.permissions[brief["id"]]}
    assert {"sam@agency.example", "dev1@agency.example", "dee@agency.example"} <= emails


def test_fields_the_template_never_uses_are_warnings_in_the_brief_data(app: Flask) -> None:
    data = run(app)
    assert data["status"] == "done", data["steps"]
    services = app.extensions["handover"]
    with services.db.transaction() as session:
        brief = repo.artifact(session, data["id"], "brief")
        assert brief is not None
        unused = brief.data["unused_fields"]
        warnings = brief.data["warnings"]
    assert "success.roadblocks" in unused and "client.name" not in unused
    assert "success.roadblocks" in warnings[0]


def test_a_placeholder_no_field_fills_fails_the_step_naming_it_and_copies_nothing(
    tmp_path: Path, database_url: str, fake_google: FakeGoogle
) -> None:
    bad = fake_google.drive.add_file(
        "Bad template", mime_type=DOC, text="{{client.name}} {{unknown_field}} {{budget.total}}"
    )["id"]
    with app_on_the_fake(tmp_path, database_url, fake_google, brief_template_doc_id=bad) as app:
        data = run(app)
    assert data["status"] == "failed"
    failed = next(s for s in data["steps"] if s["state"] == "failed")
    assert failed["name"] == "project_brief"
    assert "{{unknown_field}}" in failed["error"] and "{{budget.total}}" in failed["error"]
    assert "{{client.name}}" not in failed["error"]
    assert "brief" not in data["artifacts"]
    assert not any(r.method_id == "drive.files.copy" for r in fake_google.requests)
    assert copies(fake_google, bad) == []


def test_a_changed_handover_gets_a_new_copy_and_the_old_one_is_trashed(
    app: Flask, fake_google: FakeGoogle, template_id: str
) -> None:
    data = run(app)
    first = data["artifacts"]["brief"]["id"]
    services = app.extensions["handover"]
    changed = example_handover()
    changed["project_manager"] = {"name": "Nia Park", "email": "nia@agency.example"}
    kickoff.update_handover(
        data["id"], changed, actor="ops", db=services.db, tasks=services.tasks, clock=services.clock
    )
    services.tasks.wait_idle(timeout=60)
    data = status(app, data["id"])
    assert data["status"] == "done", data["steps"]
    [brief] = copies(fake_google, template_id)
    assert brief["id"] == data["artifacts"]["brief"]["id"] != first
    assert fake_google.drive.files[first]["trashed"]
    assert "PM: Nia Park" in fake_google.docs.text(brief["id"])


def test_handover_fields_are_flat_strings() -> None:
    _, h = validate_handover(example_handover())
    fields = handover_fields(h, links={"contracts_folder": "https://drive.example/c"})
    assert fields["client.name"] == "Acme Corp"
    assert fields["account_manager.email"] == "ada@agency.example"
    assert fields["sales"] == "Sam Reed <sam@agency.example>"
    assert fields["contacts.champion"] == "Chad Champion"
    assert fields["links.contracts_folder"] == "https://drive.example/c"
    assert all(isinstance(v, str) for v in fields.values())
    # Plain words in the Doc: no ISO date, zone id or internal cadence key.
    assert fields["client.timezone"] == "New York time"
    assert fields["project.sync_cadence"] == "Every two weeks"
    signed = h.project.contract_signed_on
    assert fields["project.contract_signed_on"] == f"{signed:%a} {signed.day} {signed:%b %Y}"


def test_check_template_names_unknown_placeholders_and_returns_unused_fields() -> None:
    six = dict.fromkeys(SIX, "x")
    assert check_template({"a", *SIX}, {"a": "1", "b": "2", **six}) == ["b"]
    with pytest.raises(StepFailed, match=r"\{\{c\}\}"):
        check_template({"a", "c", *SIX}, {"a": "1", **six})
