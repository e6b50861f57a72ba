"""Reading an append-only JSON-lines journal that other processes append to."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_appended(journal: Path, offset: int) -> tuple[int, list[Any]]:
    """Return the new offset and the records appended to `journal` after `offset`.

    Only whole lines are read: a torn last line is left for the next read. A line that is not
    JSON (half a line a crash left behind, ended by the next append) is skipped.
    """
    with open(journal, "rb") as f:
        f.seek(offset)
        data = f.read()
    complete = data[: data.rfind(b"\n") + 1]
    records = []
    for line in complete.splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # half a line a crash left behind, ended by the next append
    return offset + len(complete), records
