"""Key-less domain-wide delegation (docs/deploy.md's path) against the loopback Google.

GOOGLE_AUTH=adc with runtime credentials that have no key (here an `authorized_user` ADC
file whose tokens come from the fake, as the metadata server gives App Engine its own):
the delegation JWT is signed by the fake's IAM `signBlob`, traded at its token endpoint,
which checks issuer, subject, scopes, audience, signature and expiry; every API call is
then recorded with the user it acts as. A refusal on any link fails at once, saying what
to fix, and `handover doctor` names the link.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from integrations.google.auth import SCOPES
from integrations.google.doctor import Finding, diagnose
from integrations.google.execute import RetryPolicy
from service.demo import example_handover
from service.store.models import StepRow
from service.workflows import kickoff
from tests.conftest import app_on_the_fake
from tests.fakes import FakeGoogle
from tests.fakes.auth import CLOUD_PLATFORM, SERVICE_ACCOUNT, keyless_delegation

SERVICE_USER = "handover@agency.example"
DRIVE = "https://www.googleapis.com/auth/drive"


@pytest.fixture
def adc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Point ADC at a file the test writes (google-auth reads GOOGLE_APPLICATION_CREDENTIALS)."""
    path = tmp_path / "adc.json"
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(path))
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    return path


@pytest.fixture
def keyless_app(
    tmp_path: Path, database_url: str, fake_google: FakeGoogle, adc: Path
) -> Iterator[Callable[..., Flask]]:
    """Return a function that sets Google up (keyless_delegation's options), then starts
    the app on GOOGLE_AUTH=adc as deployed on App Engine."""
    with ExitStack() as stack:

        def start(**delegation: Any) -> Flask:
            keyless_delegation(fake_google, adc, **delegation)
            return stack.enter_context(
                app_on_the_fake(
                    tmp_path,
                    database_url,
                    fake_google,
                    google_auth="adc",
                    google_impersonate=SERVICE_USER,
                    google_service_account=SERVICE_ACCOUNT,
                )
            )

        yield start


def run_handover(app: Flask) -> tuple[str, dict[str, tuple[str, str]]]:
    services = app.extensions["handover"]
    result = kickoff.submit_handover(
        example_handover(), idempotency_key=None, actor="test", db=services.db,
        tasks=services.tasks,
    )
    assert services.tasks.wait_idle(timeout=60)
    with services.db.transaction() as session:
        steps = session.scalars(select(StepRow).where(StepRow.handover_id == result.handover_id))
        states = {s.name: (s.state, s.error or "") for s in steps}
    status = "done" if all(state == "done" for state, _ in states.values()) else "failed"
    return status, states


def api_calls(fake: FakeGoogle) -> list[Any]:
    return [r for r in fake.requests if r.method_id not in ("oauth2.token", "iamcredentials.sign")]


def test_the_service_acts_as_the_user_with_a_jwt_signed_by_iam(
    keyless_app: Callable[..., Flask], fake_google: FakeGoogle
) -> None:
    status, steps = run_handover(keyless_app())

    assert status == "done", steps
    calls = api_calls(fake_google)
    # Drive, Docs and Gmail act as the service user; each invitation is made in its
    # organiser's calendar (the handbook: Sales, the PM, the AM), by the same delegation.
    calendar = [r for r in calls if (r.method_id or "").startswith("calendar.events.")]
    others = [r for r in calls if r not in calendar]
    assert others and {r.acting_as for r in others} == {SERVICE_USER}
    people = {"sam@agency.example", "ada@agency.example", "pat@agency.example"}
    assert calendar and {r.acting_as for r in calendar} <= people
    # The runtime's own token asked cloud-platform only; the Workspace scopes went to the
    # delegated tokens alone.
    delegates = people | {SERVICE_USER}
    tokens = fake_google.auth.tokens.values()
    source = {t.scopes for t in tokens if t.acting_as not in delegates}
    assert source == {frozenset({CLOUD_PLATFORM})}
    delegated = {t.scopes for t in tokens if t.acting_as in delegates}
    assert delegated == {frozenset(SCOPES)}
    assert fake_google.auth.signatures >= 1


def test_without_token_creator_the_handover_fails_at_once_saying_what_to_fix(
    keyless_app: Callable[..., Flask], fake_google: FakeGoogle
) -> None:
    status, steps = run_handover(keyless_app(token_creator=False))

    assert status == "failed"
    state, error = steps["client_folder"]
    assert state == "failed"
    assert "Service Account Token Creator" in error and SERVICE_ACCOUNT in error
    signs = [r for r in fake_google.requests if r.method_id == "iamcredentials.sign"]
    # A 403 is not retried: one attempt per call that needed a token (the step's and the
    # file-id pool's, side by side), none repeated.
    assert 1 <= len(signs) <= 2
    assert api_calls(fake_google) == []


def test_scopes_not_allowed_in_the_admin_console_fail_at_once_saying_what_to_fix(
    keyless_app: Callable[..., Flask], fake_google: FakeGoogle
) -> None:
    status, steps = run_handover(keyless_app(scopes=[DRIVE]))

    assert status == "failed"
    state, error = steps["client_folder"]
    assert state == "failed" and "Admin console" in error and "gmail.compose" in error
    # Not retried: one grant per call that needed a token (the step's, the id pool's).
    assert {g["error"] for g in fake_google.auth.grants} == {"unauthorized_client"}
    assert 1 <= len(fake_google.auth.grants) <= 2
    assert api_calls(fake_google) == []


def doctor(fake: FakeGoogle) -> list[Finding]:
    """Return what `handover doctor` finds for the service user, with key-less delegation."""
    return diagnose(
        auth="adc",
        impersonate=SERVICE_USER,
        endpoint=fake.url,
        clients_folder=None,
        account=SERVICE_ACCOUNT,
        policy=RetryPolicy(base=0.01, max_attempts=2, deadline=5),
    )


@pytest.mark.parametrize(
    ("token_creator", "scopes", "link"),
    [
        (False, None, "delegation (IAM signer)"),
        (True, [DRIVE], "delegation (token endpoint)"),
    ],
)
def test_doctor_names_the_link_of_the_chain_that_failed(
    fake_google: FakeGoogle, adc: Path, token_creator: bool, scopes: Any, link: str
) -> None:
    keyless_delegation(fake_google, adc, token_creator=token_creator, scopes=scopes)

    findings = doctor(fake_google)

    failed = [f for f in findings if not f.ok]
    assert [f.check for f in failed] == [link]


def test_doctor_passes_the_whole_chain_when_google_is_set_up(
    fake_google: FakeGoogle, adc: Path
) -> None:
    keyless_delegation(fake_google, adc)

    findings = doctor(fake_google)

    assert all(f.ok for f in findings), findings
    [delegation] = [f for f in findings if f.check == "delegation"]
    assert "signed through IAM" in delegation.message
    assert {r.acting_as for r in api_calls(fake_google)} == {SERVICE_USER}
