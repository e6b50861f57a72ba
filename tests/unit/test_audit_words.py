"""The audit trail in sentences: people by name, what it is about linked, times in words."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from service.web.audit_words import Subject, sentence
from service.web.handover_view import history

NAMES = {"priya@agency.example": "Priya Shah", "dana@agency.example": "Dana Lee"}
ACME = Subject("Acme Corp: Website relaunch", "/handovers/h1", NAMES)


def line(actor: str, action: str, **detail: Any) -> dict[str, Any]:
    return {"actor": actor, "action": action, "subject": "h1", "detail": detail}


def test_a_pm_assignment_names_both_people_and_links_the_handover() -> None:
    said = sentence(
        line("priya@agency.example", "handover.pm_assigned", changed=["project_manager"],
             pm="dana@agency.example"),
        ACME,
    )  # fmt: skip
    assert said == (
        'Priya Shah assigned Dana Lee as Project Manager of <a href="/handovers/h1">'
        "Acme Corp: Website relaunch</a>"
    )


def test_the_service_says_which_step_it_did_or_could_not_do_in_words() -> None:
    done = sentence(line("service", "step.done", step="share_brief"), ACME)
    assert done.striptags() == (
        "The service finished “Share the brief with the team” for Acme Corp: Website relaunch"
    )
    failed = sentence(
        line("service", "step.failed", step="client_folder", error="PermissionError: denied"),
        ACME,
    )
    assert failed.striptags() == (
        "The service could not “Find or make the client's folder” for Acme Corp: Website "
        "relaunch: PermissionError: denied"
    )


def test_changes_name_the_parts_changed_and_unknown_people_keep_their_address() -> None:
    said = sentence(
        line("ola@agency.example", "handover.changed", changed=["delivery_team", "project"]),
        ACME,
    )
    assert said.striptags() == (
        "ola@agency.example changed the delivery team and the project of Acme Corp: Website "
        "relaunch"
    )


def test_times_come_through_the_time_function_never_as_iso() -> None:
    def time(value: str) -> Markup:
        return Markup("<time>{}</time>").format("Tue 08 Dec 2026, 09:00 New York time")

    said = sentence(
        line("dana@agency.example", "meeting.confirmed", kind="client_kickoff",
             start="2026-12-08T14:00:00+00:00"),
        ACME,
        time=time,
    )  # fmt: skip
    assert said.striptags() == (
        "Dana Lee confirmed the Client kickoff of Acme Corp: Website relaunch for Tue 08 Dec "
        "2026, 09:00 New York time"
    )
    assert "2026-12-08T" not in said


def test_names_and_details_are_escaped_and_api_tokens_read_as_an_integration() -> None:
    hostile = Subject("<b>Evil</b>: x", "/handovers/h1", {})
    said = sentence(line("token:0123456789ab", "handover.submitted"), hostile)
    assert said == (
        'An integration (through the API) submitted <a href="/handovers/h1">'
        "&lt;b&gt;Evil&lt;/b&gt;: x</a>"
    )


def test_a_review_shared_outside_names_the_recipients_and_an_unknown_action_reads_as_words() -> (
    None
):
    review = Subject("SOW - Acme v1.docx", "/reviews/r1")
    said = sentence(
        {"actor": "service", "action": "review.shared_outside", "subject": "r1",
         "detail": {"recipients": ["a@x.example", "b@y.example", "c@z.example"]}},
        review,
    )  # fmt: skip
    assert said.striptags() == (
        "The service found the contract draft SOW - Acme v1.docx shared outside the agency, "
        "with a@x.example, b@y.example and c@z.example"
    )
    new = sentence(line("cron", "invoice.sent_twice"), ACME)
    assert new.striptags() == (
        "The service's daily run did “invoice sent twice” on Acme Corp: Website relaunch"
    )


def test_the_handovers_own_history_calls_it_the_handover_with_times_in_its_zone() -> None:
    trail = [
        {"at": "2026-12-04T18:49:00", "actor": "priya@agency.example",
         "action": "handover.submitted", "subject": "h1", "detail": {}},
    ]  # fmt: skip
    [(when, said)] = history(trail, NAMES, "America/New_York")
    assert said == "Priya Shah submitted the handover"
    assert when == (
        '<time datetime="2026-12-04T13:49:00-05:00" data-zone="America/New_York">'
        "Fri 04 Dec 2026, 13:49 New York time</time>"
    )
