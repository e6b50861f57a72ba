"""A change to a handover in words, and who came and went (pure)."""

from __future__ import annotations

from service.demo import example_handover
from service.domain.changes import describe_changes


def test_a_pm_assigned_and_a_member_swapped_read_as_sentences() -> None:
    before = example_handover()
    before["project_manager"] = None
    after = example_handover()
    after["delivery_team"] = after["delivery_team"][:1] + [
        {"name": "Nia Okafor", "email": "nia@agency.example", "role": "QA"}
    ]
    after["project"]["contract_signed_on"] = "2026-12-01"
    lines, added, removed = describe_changes(before, after)
    assert "Project Manager assigned: Pat Moss <pat@agency.example>" in lines
    assert "Delivery team: added Nia Okafor <nia@agency.example>" in lines
    assert "Delivery team: removed Dee Signer <dee@agency.example>" in lines
    signed = [line for line in lines if line.startswith("Contract signed on changed from")]
    assert len(signed) == 1
    assert signed[0].endswith(" to 1 Dec 2026")  # a date in words, never 2026-12-01
    assert [(e, p) for e, _, p in added] == [
        ("pat@agency.example", "Project Manager"),
        ("nia@agency.example", "delivery team"),
    ]
    assert [(e, p) for e, _, p in removed] == [("dee@agency.example", "delivery team")]


def test_nothing_changed_says_nothing() -> None:
    assert describe_changes(example_handover(), example_handover()) == ([], [], [])
