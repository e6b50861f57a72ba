"""Due badges, who hears of a decision, and what a browser upload may be: pure rules."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from service.domain import draft_upload
from service.domain import review_notice as notice

LONDON = ZoneInfo("Europe/London")
DEADLINE = datetime(2026, 12, 24, 16, 0, tzinfo=LONDON)  # Thursday; 25 and 26 are holidays
AGENCY = frozenset({"agency.example"})


@pytest.mark.parametrize(
    ("now", "badge"),
    [
        (datetime(2026, 12, 23, 17, 0, tzinfo=LONDON), None),  # due tomorrow
        (datetime(2026, 12, 24, 9, 0, tzinfo=LONDON), "Due today"),
        (datetime(2026, 12, 24, 16, 30, tzinfo=LONDON), "Overdue since 16:00 today"),
        # Christmas (Fri), the weekend and Boxing Day's substitute (Mon 28) do not count.
        (datetime(2026, 12, 28, 12, 0, tzinfo=LONDON), "Overdue since Thu 24 Dec"),
        (datetime(2026, 12, 29, 12, 0, tzinfo=LONDON), "Overdue by 1 business day"),
        (datetime(2026, 12, 31, 12, 0, tzinfo=LONDON), "Overdue by 3 business days"),
    ],
)
def test_the_due_badge_counts_business_days_in_the_pms_zone(
    now: datetime, badge: str | None
) -> None:
    assert notice.due_badge("open", DEADLINE, now, "Europe/London", "GB") == badge


def test_a_decided_review_or_one_without_deadline_has_no_badge() -> None:
    late = datetime(2027, 1, 8, tzinfo=LONDON)
    assert notice.due_badge("approved", DEADLINE, late, "Europe/London", "GB") is None
    assert notice.due_badge("open", None, late, "Europe/London", "GB") is None


def test_counts_read_as_words() -> None:
    assert notice.counts_text(3, 1) == "3 to review, 1 overdue"
    assert notice.counts_text(0, 0) == "Nothing to review"


def test_the_am_and_an_agency_uploader_are_told() -> None:
    told = notice.decision_told(
        am=("Ada Lane", "ada@agency.example"), uploader=("Sam", "SAM@agency.example"),
        internal=AGENCY,
    )
    assert told.people == (
        ("the AM", "Ada Lane", "ada@agency.example"),
        ("the uploader", "Sam", "sam@agency.example"),
    )
    assert notice.confirmation("approved", told) == (
        "Recorded: approved. The AM Ada Lane and the uploader Sam were told."
    )


def test_a_client_uploader_is_never_told_and_an_unknown_one_is_said() -> None:
    client = notice.decision_told(
        am=("Ada", "ada@agency.example"), uploader=("", "cleo@acme.example"), internal=AGENCY
    )
    assert [p[2] for p in client.people] == ["ada@agency.example"]
    assert "outside the agency and was not told" in client.notes[0]
    unknown = notice.decision_told(am=("Ada", "ada@agency.example"), uploader=None,
                                   internal=AGENCY)
    assert unknown.notes == ("Who uploaded the draft is not known, so no uploader was told.",)
    same = notice.decision_told(
        am=("Ada", "ada@agency.example"), uploader=("Ada", "ada@agency.example"),
        internal=AGENCY,
    )
    assert same.people == (("the AM and uploader", "Ada", "ada@agency.example"),)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/SOW: Acme?.pdf", "SOW Acme.pdf"),
        ("C:\\Users\\sam\\MSA - Acme.docx", "MSA - Acme.docx"),
        ("  .hidden SOW.pdf ", "hidden SOW.pdf"),
        ("SOW\x00 Acme.pdf", "SOW Acme.pdf"),
    ],
)
def test_an_uploaded_name_keeps_only_its_last_part_cleaned(raw: str, clean: str) -> None:
    assert draft_upload.clean_name(raw) == clean


def test_an_upload_is_checked_field_by_field() -> None:
    assert draft_upload.check_upload("SOW Acme.odt", 10, account_known=True).mime_type == (
        "application/vnd.oasis.opendocument.text"
    )
    with pytest.raises(draft_upload.InvalidUpload) as bad:
        draft_upload.check_upload("photo.jpg", 10, account_known=False)
    assert set(bad.value.errors) == {"account", "file"}
    with pytest.raises(draft_upload.InvalidUpload) as big:
        draft_upload.check_upload("SOW.pdf", draft_upload.MAX_BYTES + 1, account_known=True)
    assert big.value.errors == {"file": "is larger than 10 MB"}
