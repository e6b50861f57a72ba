"""The contract review rules: what a draft is, when it arrived, whose it is, its states."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.domain import contracts as rules
from service.domain.contracts import DOCX, GOOGLE_DOC, Sighting, arrival, classify, match_client

PDF = "application/pdf"
TEXT = "text/plain"


@pytest.mark.parametrize(
    ("name", "mime", "kind"),
    [
        ("SOW - Acme Corp v1.docx", DOCX, "sow"),
        ("SOW_acme_v2.pdf", PDF, "sow"),
        ("Acme statement of work", GOOGLE_DOC, "sow"),
        ("MSA draft.pdf", PDF, "msa"),
        ("Master Services Agreement - Acme", GOOGLE_DOC, "msa"),
        ("acme-msa-redlines.docx", "", "msa"),
        ("Amendment 2 to the MSA.docx", DOCX, "msa"),
        ("Amendment no. 3.pdf", PDF, "amendment"),
        ("Change Order 7.pdf", PDF, "change_order"),
        ("Contract - Acme.doc", "application/msword", "contract"),
    ],
)
def test_contract_drafts_are_recognised_by_name_and_type(name: str, mime: str, kind: str) -> None:
    assert classify(name, mime) == kind


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("notes.txt", TEXT),
        ("SOW notes.txt", TEXT),  # a contract word, but not a document type
        ("Project Brief - Acme.html", "text/html"),
        ("Budget.pdf", PDF),
        ("Microsoft stuff.docx", DOCX),  # "ms" inside a word is not MSA
        ("Sowing season.pdf", PDF),
        ("Contracts", "application/vnd.google-apps.folder"),
    ],
)
def test_other_files_are_not_drafts(name: str, mime: str) -> None:
    assert classify(name, mime) is None


def test_patterns_are_configurable() -> None:
    patterns = rules.ContractPatterns(
        kinds=(("nda", r"\bnda\b"),), mime_types=frozenset({TEXT}), extensions=frozenset()
    )
    assert classify("Acme NDA.txt", TEXT, patterns) == "nda"
    assert classify("SOW.pdf", PDF, patterns) is None


WATCHED = {"contracts-acme", "intake"}


def seen(name: str, *parents: str, mime: str = PDF) -> Sighting:
    return Sighting(name, mime, frozenset(parents))


def test_a_new_draft_in_a_watched_folder_arrived() -> None:
    assert arrival(None, seen("SOW.pdf", "contracts-acme"), WATCHED) == "contracts-acme"


def test_a_draft_moved_in_arrived_and_one_that_stayed_did_not() -> None:
    before, after = seen("SOW.pdf", "elsewhere"), seen("SOW.pdf", "contracts-acme")
    assert arrival(before, after, WATCHED) == "contracts-acme"
    assert arrival(after, after, WATCHED) is None


def test_a_file_renamed_into_a_draft_arrived() -> None:
    before = seen("notes.txt", "contracts-acme", mime=TEXT)
    assert arrival(before, seen("MSA draft.pdf", "contracts-acme"), WATCHED) == "contracts-acme"


def test_drafts_outside_watched_folders_and_other_files_never_arrive() -> None:
    assert arrival(None, seen("SOW.pdf", "elsewhere"), WATCHED) is None
    assert arrival(None, seen("notes.txt", "contracts-acme", mime=TEXT), WATCHED) is None
    assert arrival(seen("SOW.pdf", "contracts-acme"), seen("SOW.pdf"), WATCHED) is None


def test_a_draft_added_to_a_second_watched_folder_arrived_there() -> None:
    before, after = seen("SOW.pdf", "contracts-acme"), seen("SOW.pdf", "contracts-acme", "intake")
    assert arrival(before, after, WATCHED) == "intake"


CLIENTS = {"acme.example": "Acme", "acmecorp.example": "Acme Corp", "globex.example": "Globex"}


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("SOW - Acme Corp v1.docx", "acmecorp.example"),  # the longest name wins
        ("SOW_acme_corp_v2.pdf", "acmecorp.example"),
        ("acme-msa.pdf", "acme.example"),
        ("GLOBEX amendment.pdf", "globex.example"),
        ("Acmeville SOW.pdf", None),  # whole words only
        ("SOW for a new client.pdf", None),
    ],
)
def test_the_client_is_found_by_name(name: str, key: str | None) -> None:
    assert match_client(name, CLIENTS) == key


def test_two_accounts_with_the_same_name_are_ambiguous() -> None:
    assert match_client("Acme SOW.pdf", {"a.example": "Acme", "b.example": "ACME"}) is None


def test_decisions_are_checked_field_by_field() -> None:
    assert rules.check_decision("approved", None) == ("approved", "")
    assert rules.check_decision("changes_requested", " fix 4.2 ") == ("changes_requested", "fix 4.2")
    with pytest.raises(rules.InvalidDecision) as bad:
        rules.check_decision("maybe", 3)
    assert set(bad.value.errors) == {"decision", "comment"}
    with pytest.raises(rules.InvalidDecision) as no_comment:
        rules.check_decision("changes_requested", "  ")
    assert set(no_comment.value.errors) == {"comment"}
    with pytest.raises(rules.InvalidDecision):
        rules.check_decision("approved", "x" * (rules.MAX_COMMENT + 1))


def test_state_transitions() -> None:
    assert rules.after_assign(rules.UNMATCHED) == rules.ROUTING
    with pytest.raises(rules.WrongState):
        rules.after_assign(rules.OPEN)
    with pytest.raises(rules.WrongState):
        rules.after_decision(rules.UNMATCHED, rules.APPROVED)
    assert rules.after_decision(rules.OPEN, rules.APPROVED) == rules.APPROVED
    assert rules.after_decision(rules.APPROVED, rules.CHANGES_REQUESTED) == rules.CHANGES_REQUESTED
    assert rules.after_routed(rules.ROUTING) == rules.OPEN
    assert rules.after_routed(rules.APPROVED) == rules.APPROVED  # decided before the email
    assert rules.reopens(rules.APPROVED) and rules.reopens(rules.CHANGES_REQUESTED)
    assert not rules.reopens(rules.OPEN) and not rules.reopens(rules.ROUTING)


def test_who_may_decide() -> None:
    assert rules.may_decide("Pat@agency.example", "sales", "pat@agency.example")
    assert rules.may_decide("ops@agency.example", "operations", "pat@agency.example")
    assert not rules.may_decide("sam@agency.example", "sales", "pat@agency.example")
    assert not rules.may_decide("sam@agency.example", "sales", None)


def test_shares_outside_the_agency_are_found() -> None:
    internal = rules.internal_domains(None, "ada@agency.example", "pat@agency.example", None)
    assert internal == {"agency.example"}
    shared = ["pat@agency.example", "x@eu.agency.example", "Cleo@Acme.example", "anyone", ""]
    assert rules.outside_recipients(shared, internal) == ("anyone", "cleo@acme.example")
    assert rules.outside_recipients(["acme.example"], internal) == ("acme.example",)
    assert rules.internal_domains("agency.example", "x@other.example") == {"agency.example"}


def test_the_guard_applies_until_approved_and_the_deadline_passed() -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    later, earlier = now + timedelta(hours=1), now - timedelta(hours=1)
    assert rules.guard_applies(rules.OPEN, earlier, now)
    assert rules.guard_applies(rules.APPROVED, later, now)  # approved, but too early
    assert not rules.guard_applies(rules.APPROVED, earlier, now)


def test_a_reminder_is_due_once_before_the_deadline() -> None:
    deadline = datetime(2026, 11, 26, 16, tzinfo=UTC)
    lead = timedelta(hours=4)
    assert not rules.reminder_due(rules.OPEN, deadline, False, deadline - lead * 2, lead)
    assert rules.reminder_due(rules.OPEN, deadline, False, deadline - lead, lead)
    assert not rules.reminder_due(rules.OPEN, deadline, True, deadline - lead, lead)
    assert not rules.reminder_due(rules.APPROVED, deadline, False, deadline - lead, lead)
    assert not rules.reminder_due(rules.OPEN, deadline, False, deadline, lead)


def test_the_deadline_reads_in_the_pms_zone() -> None:
    deadline = datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert rules.format_deadline(deadline, "Europe/London") == "Mon 30 Nov 2026, 16:00 (London time)"
    assert rules.format_deadline(deadline, "Asia/Kolkata") == "Mon 30 Nov 2026, 21:30 (Kolkata time)"
