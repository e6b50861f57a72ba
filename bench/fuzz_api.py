"""Fuzz the JSON API from its OpenAPI document and every form with random text, at volume.

The same machinery as tests/e2e/test_fuzz.py (in-process, through the app's factory) with
many more examples; prints how many requests each operation and form got, and their
statuses. Any 5xx, or a JSON 4xx that names no field, stops the run with the failing
request. Usage:

    .venv/bin/python bench/fuzz_api.py [--examples 200] [--database-url URL]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.fuzzing import (  # noqa: E402
    MODES,
    Tally,
    example_form,
    fuzz_api,
    fuzz_form,
    fuzz_target,
    page_forms,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200, help="per operation, mode and form")
    parser.add_argument("--database-url", default="", help="default: a fresh SQLite file")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="handover-fuzz-"))
    database_url = args.database_url or f"sqlite:///{tmp / 'fuzz.db'}"
    api, forms = Tally(), Tally()
    started = time.monotonic()
    try:
        with fuzz_target(tmp, database_url) as target:
            for mode in MODES:
                fuzz_api(target, mode, examples=args.examples, tally=api)
            found = page_forms(target)
            for action, names in sorted(found.items()):
                fuzz_form(target, action, names, examples=args.examples, tally=forms)
            base = example_form()
            for action in ("/handovers", "/handovers/preview"):
                fuzz_form(
                    target, action, sorted(base), examples=args.examples, tally=forms, base=base
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    elapsed = time.monotonic() - started
    backend = database_url.split(":", 1)[0]
    print(f"database: {backend}; {args.examples} examples per operation, mode and form")
    print(f"JSON API: {api.report()}")
    print(f"forms: {forms.report()}")
    print(f"total: {api.total + forms.total} requests in {elapsed:.1f} s, no 5xx")


if __name__ == "__main__":
    main()
