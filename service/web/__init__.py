"""The HTTP side: pages, the JSON API, sign-in, tasks and cron, Drive's hooks."""

from __future__ import annotations

from flask import current_app

from service.wiring import Services


def services() -> Services:
    """Return the running app's wired services (the app's state, in app.extensions)."""
    return current_app.extensions["handover"]  # type: ignore[no-any-return]
