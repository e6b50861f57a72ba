"""Gunicorn's access log without secrets in addresses: `bin/serve` names this logger class.

A calendar feed's address is its only credential (`/calendar/<secret>.ics`), so an access
log line must never carry it; the rest of the line stays as gunicorn writes it.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

_FEED = re.compile(r"/calendar/[^/\s?#\"]+\.ics")


def redact(text: str) -> str:
    """Return the text with every calendar feed secret replaced by `…`."""
    return _FEED.sub("/calendar/….ics", text)


class RedactingLogger(Logger):  # type: ignore[misc]
    """Gunicorn's logger, its access lines with calendar feed secrets taken out."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {k: redact(v) if isinstance(v, str) else v for k, v in atoms.items()}
