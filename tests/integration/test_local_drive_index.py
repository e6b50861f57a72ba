"""The local drive's id index costs the entry written, not the size of the index."""

from __future__ import annotations

import os
from pathlib import Path

from integrations.local.drive import LocalDrive
from integrations.ports import Grant


def index_files(root: Path) -> dict[str, tuple[int, bytes]]:
    """Return the drive's hidden bookkeeping files (inode and bytes), lock files aside."""
    return {
        p.name: (p.stat().st_ino, p.read_bytes())
        for p in root.iterdir()
        if p.is_file() and p.name.startswith(".index") and not p.name.endswith(".lock")
    }


def test_a_new_folder_appends_its_entry_and_rewrites_nothing(tmp_path: Path) -> None:
    drive = LocalDrive(tmp_path)
    for n in range(300):
        drive.ensure_folder(f"Client {n}", parent_id=None, properties={"accountKey": f"c{n}"})
    before = index_files(tmp_path)
    made = drive.ensure_folder("Client new", parent_id=None, properties={"accountKey": "new"})
    after = index_files(tmp_path)
    assert before.keys() == after.keys()  # today: .index.json replaced whole, 300 entries
    for name, (inode, data) in before.items():
        new_inode, new_data = after[name]
        assert new_inode == inode and new_data.startswith(data)  # appended to, not rewritten
        grown = new_data[len(data) :]
        assert grown.count(b"\n") <= 1 and len(grown) < 1000 and made.id.encode() in grown
    # A share appends the one entry too, and the whole index survives a restart.
    drive.share(made.id, [Grant("ada@agency.example", "writer")], notify=False)
    again = LocalDrive(tmp_path)
    assert again.grants(made.id) == [Grant("ada@agency.example", "writer")]
    assert again.find({"accountKey": "c7"}) is not None
    assert again.find({"accountKey": "new"}) == made


def test_another_process_sees_the_entries_appended_after_it_read(tmp_path: Path) -> None:
    first, second = LocalDrive(tmp_path), LocalDrive(tmp_path)
    folder = first.ensure_folder("Acme", parent_id=None, properties={"accountKey": "acme"})
    assert second.find({"accountKey": "acme"}) == folder
    doc = second.write_document(
        "Brief", "<p>hi</p>", parent_id=folder.id, properties={"handoverId": "h1"}
    )
    assert first.find({"handoverId": "h1"}) == doc
    assert first.path_of(doc.id) == tmp_path.resolve() / "Acme" / "Brief.html"


def test_an_index_of_the_earlier_version_is_taken_over(tmp_path: Path) -> None:
    (tmp_path / "Acme").mkdir()
    legacy = (
        '{"loc0001": {"grants": [], "mime_type": "application/vnd.google-apps.folder",'
        ' "parents": [], "path": "Acme", "properties": {"accountKey": "acme"}}}'
    )
    (tmp_path / ".index.json").write_text(legacy)
    drive = LocalDrive(tmp_path)
    found = drive.find({"accountKey": "acme"})
    assert found is not None and found.id == "loc0001"


def test_the_journal_is_compacted_when_mostly_old_lines(tmp_path: Path) -> None:
    drive = LocalDrive(tmp_path)
    folder = drive.ensure_folder("Acme", parent_id=None, properties={"accountKey": "acme"})
    for n in range(1100):
        drive.share(folder.id, [Grant(f"p{n}@agency.example", "reader")], notify=False)
    journal = tmp_path / ".index.jsonl"
    assert journal.read_bytes().count(b"\n") < 200
    assert len(LocalDrive(tmp_path).grants(folder.id)) == 1100
    assert os.path.exists(journal)
