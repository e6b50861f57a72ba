"""Counting what the code under test touches with Python audit hooks (no patching of our
code): the files it opens, the folders it lists."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

# The collectors active now: (audit event, which first arguments to keep, where to keep them).
_ACTIVE: list[tuple[str, Callable[[Any], bool], list[str]]] = []


def _audit(event: str, args: tuple[Any, ...]) -> None:
    for name, keep, seen in _ACTIVE:
        if event == name and keep(args[0]):
            seen.append(str(args[0]))


sys.addaudithook(_audit)  # once: a hook cannot be taken away, so one serves every block


@contextmanager
def audited(event: str, keep: Callable[[Any], bool] = lambda _: True) -> Iterator[list[str]]:
    """Collect the first argument (as text) of each `event` raised inside the block."""
    seen: list[str] = []
    collector = (event, keep, seen)
    _ACTIVE.append(collector)
    try:
        yield seen
    finally:
        _ACTIVE.remove(collector)
