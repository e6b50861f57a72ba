"""The local Slack outbox: one line per key, across processes, reading only new lines."""

from __future__ import annotations

from pathlib import Path

from integrations.local.chat import LocalChat


def test_each_key_is_posted_once_whichever_process_posts_it(tmp_path: Path) -> None:
    path = tmp_path / "outbox" / "slack.jsonl"
    first, second = LocalChat(path), LocalChat(path)
    for n in range(50):
        first.post(f"review {n}", key=f"review:{n}")
    second.post("review 7 again", key="review:7")  # written by the other one: not again
    second.post("review 50", key="review:50")
    first.post("review 50 again", key="review:50")
    with open(path, "ab") as f:
        f.write(b'{"key": "torn')  # a crash in the middle of a line
    first.post("review 51", key="review:51")
    keys = [m["key"] for m in LocalChat(path).messages()]
    assert keys == [f"review:{n}" for n in range(52)]
