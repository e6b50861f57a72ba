"""Make docs/screenshots/*.png: every page of a first-time user's tour at 1280 and 390 px.

    .venv/bin/python -m tests.e2e.screenshots [--out docs/screenshots] [--axe]

Serves a fresh app (local backend, a throwaway database and workspace) on a free port,
walks the tour of tests/e2e/tour.py in Debian's chromium at each width, and saves
`<page>-<width>.png` (the page, up to 2,000 px tall; the preview's meetings alone). With --axe it also prints axe-core's violations per page
and impact. The README shows the pictures; run this again after changing a page.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

from service import create_app
from tests.conftest import LiveServer, close_app, free_port, make_settings
from tests.e2e.tour import CHROMIUM, FLAGS, ROOT, WIDTHS, axe_violations, impact_counts, tour

MAX_HEIGHT = 2000  # px: the top of a long page says what it is; keeps each file small
PICTURES = (
    "form", "form-errors", "preview", "handover", "edit-preview", "reviews", "review",
    "review-decided", "home", "account", "audit",
)  # fmt: skip


def _picture(page: Any, stop: str, path: Path) -> None:
    """Save one picture: the preview shows its meetings (the form has its own picture)."""
    if stop == "preview":
        page.locator("#preview-plan").screenshot(path=str(path))
        return
    tall = page.evaluate("() => document.documentElement.scrollHeight")
    width = page.viewport_size["width"]
    page.screenshot(
        path=str(path),
        full_page=True,
        clip={"x": 0, "y": 0, "width": width, "height": min(tall, MAX_HEIGHT)},
    )


def main(argv: list[str] | None = None) -> int:
    """Take the pictures (and count axe-core's findings with --axe); return an exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--axe", action="store_true", help="print axe-core violations per page")
    parser.add_argument("--all", action="store_true", help="a picture of every page, not a few")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("integrations").setLevel(logging.ERROR)
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        for label, (width, height) in WIDTHS.items():
            with tempfile.TemporaryDirectory() as tmp:
                port = free_port()
                settings = make_settings(
                    Path(tmp),
                    database_url=f"sqlite:///{Path(tmp) / 'handover.db'}",
                    public_base_url=f"http://127.0.0.1:{port}",
                )
                app = create_app(settings)
                context = browser.new_context(
                    viewport={"width": width, "height": height},
                    timezone_id="Europe/London",
                    locale="en-GB",
                )
                page = context.new_page()
                try:
                    with LiveServer(app, port) as server:
                        for stop in tour(page, app, server.url):
                            if args.all or stop in PICTURES:
                                path = args.out / f"{stop}-{width}.png"
                                _picture(page, stop, path)
                                print(f"{label:8} {path} {path.stat().st_size // 1024} KB")
                            if args.axe:
                                found = axe_violations(page)
                                wide = page.evaluate("() => document.documentElement.scrollWidth")
                                counts = impact_counts(found)
                                print(f"{label:8} axe {stop:11} {counts} page {wide} px wide")
                                for v in found:
                                    print(f"{'':21} {v['impact']:9} {v['id']}: {v['targets']}")
                finally:
                    context.close()
                    close_app(app)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
