"""Pytest fixture `fake_google`: a started FakeGoogle per test, stopped afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes import FakeGoogle


@pytest.fixture
def fake_google() -> Iterator[FakeGoogle]:
    """A running FakeGoogle, fresh for each test."""
    with FakeGoogle() as fake:
        yield fake
