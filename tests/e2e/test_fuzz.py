"""The JSON API fuzzed from its own OpenAPI document, and every form with random text:
no answer is a 5xx, and a JSON 4xx names the field it blames (`errors[].field`).

A few dozen examples per operation keep this under a minute; `bench/fuzz_api.py` runs
many more and prints the counts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.fuzzing import (
    MODES,
    Tally,
    Target,
    api_operations,
    example_form,
    fuzz_api,
    fuzz_form,
    fuzz_target,
    page_forms,
)

API_EXAMPLES = 20
FORM_EXAMPLES = 25


@pytest.fixture
def target(tmp_path: Path, database_url: str) -> Iterator[Target]:
    with fuzz_target(tmp_path, database_url) as target:
        yield target


@pytest.mark.parametrize("mode", list(MODES))
def test_the_api_survives_requests_generated_from_its_openapi(
    target: Target, mode: str, record_property: Any
) -> None:
    tally = Tally()

    fuzz_api(target, mode, examples=API_EXAMPLES, tally=tally)

    print(tally.report())
    record_property("fuzz", tally.report())
    # Mutated: the operations that take a handover body (create, replace).
    assert len(tally.statuses) == (2 if mode == "mutated" else len(api_operations()))
    if mode == "mutated":
        assert tally.overall()[202] >= 1  # odd text reached the database


def test_every_form_survives_random_text_in_every_field(
    target: Target, record_property: Any
) -> None:
    forms = page_forms(target)
    assert {"/handovers", f"/reviews/{target.review_id}/decision"} <= set(forms)
    assert len(forms["/handovers"]) > 30  # the whole handover form, not a stub
    tally = Tally()

    for action, names in sorted(forms.items()):
        fuzz_form(target, action, names, examples=FORM_EXAMPLES, tally=tally)
    base = example_form()
    for action in ("/handovers", "/handovers/preview"):
        fuzz_form(target, action, sorted(base), examples=FORM_EXAMPLES, tally=tally, base=base)

    print(tally.report())
    record_property("fuzz", tally.report())
    assert tally.overall()[303] >= 1  # some mutated forms were stored
