"""Internal keys in words: statuses, steps, meetings, warnings, people."""

from __future__ import annotations

from service.web import words
from service.workflows.steps import STEP_NAMES


def test_every_step_and_status_has_words_of_its_own() -> None:
    assert {n: words.step(n) for n in STEP_NAMES if "_" in words.step(n)} == {}
    assert all(words.step(n) in words.STEP.values() for n in STEP_NAMES)
    assert [words.status(s) for s in ("pending", "running", "done", "failed", "cancelled")] == [
        "Waiting to start", "Setting up", "Done", "Needs attention", "Cancelled",
    ]  # fmt: skip


def test_a_new_key_reads_as_words_never_as_a_key() -> None:
    assert words.step("archive_old_files") == "Archive old files"
    assert words.meeting("quarterly_review") == "Quarterly review"


def test_a_warning_names_its_meeting_in_words() -> None:
    text = "executive_sponsor_sync: Kiran Rao (Asia/Kolkata) is outside working hours"
    assert words.warning(text) == (
        "Executive Sponsor Sync: Kiran Rao (Asia/Kolkata) is outside working hours"
    )
    assert words.warning("No client contact is the Executive Sponsor") == (
        "No client contact is the Executive Sponsor"
    )


def test_people_by_name_from_the_handover_else_their_address() -> None:
    payload = {
        "account_manager": {"name": "Ada Lane", "email": "Ada@agency.example"},
        "project_manager": None,
        "sales": [{"name": "Sam Reed", "email": "sam@agency.example"}],
        "client_contacts": [{"name": "Cleo Buyer", "email": "cleo@acme.example"}],
    }
    names = words.names(payload)
    assert words.person("ada@agency.example", names) == "Ada Lane"
    assert words.person("ola@agency.example", names) == "ola@agency.example"
    assert words.person("token:0123abcd", names) == "An integration (through the API)"
    assert words.fields(["client", "sales", "delivery_team"]) == (
        "the client, Sales and the delivery team"
    )
