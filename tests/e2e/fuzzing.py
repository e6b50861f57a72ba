"""Fuzzing machinery shared by tests/e2e/test_fuzz.py and bench/fuzz_api.py.

The JSON API is fuzzed from its own OpenAPI document (schemathesis strategies, valid and
invalid requests); the forms with random text in every field they render, posted with a
valid CSRF token. Nothing may answer 5xx, and a JSON 4xx must name the field it blames.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from werkzeug.datastructures import MultiDict

from service import create_app
from service.web.formdata import flatten
from service.web.openapi import openapi_document
from tests.conftest import close_app, make_settings

ADMIN_TOKEN = "fuzz-admin-token-0123456789"  # noqa: S105 - a test value
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
MODES = {"valid": GenerationMode.POSITIVE, "invalid": GenerationMode.NEGATIVE, "mutated": None}
NASTY = [
    "", " ", "\x00", "\x00'", "'", "\"", "\\", "Acme' or name contains '", "../../etc",
    "..\\..\\x", "<script>alert(1)</script>", "a" * 6000, "9" * 400, "-1", "\ufeff", "😀" * 70,
    "ada@agency.example", "Europe/Berlin", "DE", "monthly", "approved", "changes_requested",
]


@dataclass
class Tally:
    """Requests sent and their statuses, per target (an operation or a form)."""

    statuses: dict[str, Counter[int]] = field(default_factory=dict)

    def add(self, target: str, status: int) -> None:
        self.statuses.setdefault(target, Counter())[status] += 1

    @property
    def total(self) -> int:
        return sum(sum(c.values()) for c in self.statuses.values())

    def overall(self) -> Counter[int]:
        return sum(self.statuses.values(), Counter())

    def report(self) -> str:
        """Return the counts as lines a person can quote."""
        lines = [f"{self.total} requests: " + _counts(self.overall())]
        lines += [f"  {t}: {_counts(c)}" for t, c in sorted(self.statuses.items())]
        return "\n".join(lines)


def _counts(counter: Counter[int]) -> str:
    return ", ".join(f"{status}×{n}" for status, n in sorted(counter.items()))


class NullTasks:
    """The Tasks port doing nothing: fuzzed handovers are stored, their steps never run."""

    def enqueue(
        self, job: str, payload: Mapping[str, str], *, key: str, delay_seconds: float = 0
    ) -> None:
        pass

    def wait_idle(self, timeout: float = 30) -> bool:
        return True

    def close(self) -> None:
        pass


@dataclass
class Target:
    """The app under fuzz and the ids of the handover and review it holds."""

    app: Flask
    handover_id: str
    review_id: str


@contextmanager
def fuzz_target(tmp_path: Path, database_url: str, **overrides: Any) -> Iterator[Target]:
    """Yield an app (dev login, an admin token) holding one done handover and one review."""
    from tests.e2e.signin_support import a_review, kickoff

    app = create_app(
        make_settings(
            tmp_path, database_url=database_url, api_tokens={ADMIN_TOKEN: "admin"}, **overrides
        )
    )
    try:
        handover_id = kickoff(app, actor="fuzz@agency.example")
        review_id = a_review(app)
        services = app.extensions["handover"]
        services.tasks.close()
        services.tasks = NullTasks()
        yield Target(app, handover_id, review_id)
    finally:
        close_app(app)


def api_operations() -> list[tuple[str, str]]:
    """Return (method, path) of every operation the OpenAPI document describes."""
    paths = openapi_document("http://localhost")["paths"]
    return [(method.upper(), path) for path, item in paths.items() for method in item]


def check_answer(target: str, status: int, content_type: str, body: Any) -> None:
    """Fail on a 5xx, or a JSON 4xx that does not name the field it blames."""
    assert status < 500, f"{target}: {status} {body!r:.500}"
    if 400 <= status < 500 and content_type.startswith("application/json"):
        errors = body.get("errors") if isinstance(body, dict) else None
        assert errors and all(isinstance(e.get("field"), str) and e["field"] for e in errors), (
            f"{target}: {status} names no field: {body!r:.500}"
        )


def fuzz_api(target: Target, mode: str, *, examples: int, tally: Tally) -> None:
    """Send `examples` requests to every operation in this mode and check every answer.

    `valid` and `invalid` requests are generated from the OpenAPI document; `mutated`
    ones are the example handover with a few of its texts replaced by random ones, so
    that odd text also reaches the database and the pages.
    """
    for method, path in api_operations():
        if mode == "mutated":
            # The operations that take a handover body (not cancel, not confirm-account).
            if method in {"POST", "PUT"} and path in {"/api/handovers", "/api/handovers/{handover_id}"}:
                _fuzz_mutated(target, method, path, examples=examples, tally=tally)
            continue
        _fuzz_generated(target, method, path, mode, examples=examples, tally=tally)


def _fuzz_generated(
    target: Target, method: str, path: str, mode: str, *, examples: int, tally: Tally
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", target.app)
    operation = schema[path][method]
    known = {"handover_id": target.handover_id, "review_id": target.review_id}
    label = f"{method} {path} ({mode})"

    @_settings(examples)
    @given(case=operation.as_strategy(generation_mode=MODES[mode]), real_ids=st.booleans())
    def run(case: Any, real_ids: bool) -> None:
        if real_ids and case.path_parameters:
            case.path_parameters = {k: known.get(k, v) for k, v in case.path_parameters.items()}
        response = case.call(headers=AUTH)
        try:
            body = response.json()
        except ValueError:
            body = response.text
        tally.add(label, response.status_code)
        check_answer(label, response.status_code, response.headers.get("Content-Type", ""), body)

    run()


def _fuzz_mutated(
    target: Target, method: str, path: str, *, examples: int, tally: Tally
) -> None:
    from service.demo import example_handover

    base = example_handover("Fuzz Corp")
    leaves = sorted(k for k, v in flatten(base).items() if isinstance(v, str))
    client = target.app.test_client()
    # A handover of its own: the generated requests may have cancelled the shared one.
    fresh = client.post("/api/handovers", json=base, headers=AUTH).get_json()["id"]
    url = path.replace("{handover_id}", fresh)
    label = f"{method} {path} (mutated)"

    @_settings(examples)
    @example(changes={}, key=None)  # the unchanged example: stored
    @given(
        changes=st.dictionaries(st.sampled_from(leaves), text_values(), min_size=1, max_size=3),
        key=st.one_of(
            st.none(),
            st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=250),
        ),
    )
    def run(changes: dict[str, str], key: str | None) -> None:
        data = nest_json(base, changes)
        headers = {**AUTH, **({"Idempotency-Key": key} if key is not None else {})}
        answer = client.open(url, method=method, json=data, headers=headers)
        tally.add(label, answer.status_code)
        check_answer(label, answer.status_code, answer.content_type or "", answer.get_json())

    run()


def _settings(examples: int) -> Any:
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )


def nest_json(base: dict[str, Any], changes: Mapping[str, str]) -> dict[str, Any]:
    """Return a deep copy of base with the dotted paths in changes set to their values."""
    data = copy.deepcopy(base)
    for dotted, value in changes.items():
        node: Any = data
        *parents, last = dotted.split(".")
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return data


def text_values(*, nul: bool = True) -> st.SearchStrategy[str]:
    """Random text: any unicode, control characters, long runs and known troublemakers.

    Without `nul`, no NUL: a form holding one is refused whole (400) before any view runs.
    """
    nasty = [n for n in NASTY if nul or "\x00" not in n]
    return st.one_of(
        st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=300),
        st.text(st.characters(codec="utf-8", exclude_characters="" if nul else "\x00"), max_size=60),
        st.sampled_from(nasty),
    )


def page_forms(target: Target) -> dict[str, list[str]]:
    """Return each form the pages render (by its action) with the field names it holds."""
    client = target.app.test_client()
    pages = [
        "/handovers/new",
        f"/handovers/{target.handover_id}",
        f"/handovers/{target.handover_id}/edit",
        f"/reviews/{target.review_id}",
        "/admin/people",
        "/accounts/acmecorp.example",
    ]
    forms: dict[str, list[str]] = {}
    for page in pages:
        html = client.get(page).get_data(as_text=True)
        for action, inner in re.findall(r'<form[^>]*action="([^"]+)"[^>]*>(.*?)</form>', html, re.S):
            names = sorted(set(re.findall(r'name="([^"]+)"', inner)) - {"csrf_token"})
            forms.setdefault(action, names)
    forms.setdefault("/handovers/preview", forms.get("/handovers", []))
    return forms


def fuzz_form(
    target: Target,
    action: str,
    names: list[str],
    *,
    examples: int,
    tally: Tally,
    base: dict[str, Any] | None = None,
) -> None:
    """Post `examples` forms with a valid CSRF token: random text in every field, or (with
    `base`) the base form with a few of its fields replaced by random text."""
    client = target.app.test_client()
    html = client.get("/handovers/new").get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    token = match.group(1)
    label = f"POST {action} (form{', mutated' if base else ''})"
    if base is None:
        values_strategy = st.fixed_dictionaries({n: text_values(nul=False) for n in names})
    else:
        values_strategy = st.dictionaries(
            st.sampled_from(names), text_values(nul=False), min_size=1, max_size=3
        ).map(lambda changes: {**base, **changes})

    @_settings(examples)
    @example(values=dict(base or {}))  # with a base: the unchanged base
    @given(values=values_strategy)
    def run(values: dict[str, Any]) -> None:
        answer = client.post(action, data=MultiDict({**values, "csrf_token": token}))
        tally.add(label, answer.status_code)
        assert answer.status_code < 500, f"{label}: {answer.status_code} for {values!r:.500}"
        assert answer.status_code != 400, f"{label}: 400 with a valid CSRF token: {values!r:.300}"

    run()


def example_form() -> dict[str, Any]:
    """Return the example handover as the form posts it (one value per field)."""
    from service.demo import example_handover

    flat = flatten(example_handover("Form Fuzz Corp"))
    return {k: v for k, v in flat.items() if v is not None}
