"""Structured logs: JSON lines on App Engine, readable lines locally; ids on every line."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

_CONTEXT_KEYS = ("handover_id", "step", "job", "review_id", "file_id", "account_key")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the fields Cloud Logging reads."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "severity": record.levelname,
            "message": record.getMessage(),
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "logger": record.name,
        }
        entry.update({k: getattr(record, k) for k in _CONTEXT_KEYS if hasattr(record, k)})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    """A readable line with the context ids at the end."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = " ".join(f"{k}={getattr(record, k)}" for k in _CONTEXT_KEYS if hasattr(record, k))
        return f"{line} [{ids}]" if ids else line


def configure(fmt: str, level: int = logging.INFO) -> None:
    """Send the service's logs to stderr in the chosen format (json or text)."""
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in ("service", "integrations"):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False
