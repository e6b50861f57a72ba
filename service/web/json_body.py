"""How request bodies are read as JSON: hostile nesting is a 400, never a crash.

Python's JSON decoder recurses once per level, so a body nested 100,000 deep raises
RecursionError, which Flask does not treat as bad JSON. No handover is deeper than a few
levels: anything past MAX_DEPTH is refused as unreadable before it reaches any code.
"""

from __future__ import annotations

from typing import Any

from flask.json.provider import DefaultJSONProvider

MAX_DEPTH = 32


class BoundedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, with reading limited to MAX_DEPTH levels of nesting."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = s.decode("utf-8", "replace") if isinstance(s, bytes) else s
        if _depth(text) > MAX_DEPTH:
            raise ValueError(f"The JSON is nested more than {MAX_DEPTH} levels deep.")
        try:
            return super().loads(s, **kwargs)
        except RecursionError:  # pragma: no cover - the depth check comes first
            raise ValueError("The JSON is nested too deeply.") from None


def _depth(text: str) -> int:
    """Return the deepest nesting of brackets outside strings (a cheap upper bound)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return deepest
        elif char in "]}":
            depth -= 1
    return deepest
