"""A loopback Google for tests: `FakeGoogle` serves Drive, Docs, Gmail and Calendar REST."""

from tests.fakes.fake import FakeGoogle
from tests.fakes.faults import Fault

__all__ = ["FakeGoogle", "Fault"]
