"""The Drive port's contract: the same end state through every implementation."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from integrations.ports import DOC_MIME, FOLDER_MIME, Drive, Grant

# Until tests/conftest.py registers it for every test.
pytest_plugins = ["tests.fakes.pytest_plugin"]


@dataclass
class Subject:
    """An implementation under test, and a way to read a document's text back."""

    drive: Drive
    text_of: Callable[[str], str]
    close: Callable[[], None] = lambda: None


def local_drive(tmp_path: Path) -> Subject:
    from integrations.local.drive import LocalDrive

    drive = LocalDrive(tmp_path / "drive")

    def text_of(file_id: str) -> str:
        path = drive.path_of(file_id)
        assert path is not None
        return re.sub(r"<[^>]+>", " ", path.read_text())

    return Subject(drive, text_of)


def google_drive(fake: Any) -> Subject:
    from integrations.google.auth import Clients
    from integrations.google.drive import GoogleDrive
    from integrations.google.execute import RetryPolicy

    clients = Clients(credentials=None, endpoint=fake.url)
    drive = GoogleDrive(clients, policy=RetryPolicy(base=0.01, cap=0.05, deadline=10.0))
    return Subject(drive, fake.docs.text, clients.close)


@pytest.fixture(params=["local", "google"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Subject]:
    if request.param == "local":
        made = local_drive(tmp_path)
    else:
        made = google_drive(request.getfixturevalue("fake_google"))
    yield made
    made.close()


@pytest.fixture
def drive(subject: Subject) -> Drive:
    return subject.drive


PROPS = {"handoverId": "h-1", "kind": "client_folder"}


class TestDrive:
    """Every Drive adapter makes each artifact once and finds it again."""

    def test_ensure_folder_twice_gives_the_same_folder(self, drive: Drive) -> None:
        first = drive.ensure_folder("Acme Corp", parent_id=None, properties=PROPS)
        second = drive.ensure_folder("Acme Corp", parent_id=None, properties=PROPS)
        assert first.id == second.id
        assert first.mime_type == FOLDER_MIME
        assert dict(first.properties) == PROPS
        assert drive.find(PROPS) == second

    def test_subfolder_lives_under_its_parent(self, drive: Drive) -> None:
        parent = drive.ensure_folder("Acme Corp", parent_id=None, properties=PROPS)
        props = {"handoverId": "h-1", "kind": "contracts"}
        sub = drive.ensure_folder("Contracts", parent_id=parent.id, properties=props)
        assert sub.parents == (parent.id,)
        assert sub.id != parent.id
        assert drive.ensure_folder("Contracts", parent_id=parent.id, properties=props).id == sub.id

    def test_write_document_twice_keeps_one_document(self, subject: Subject) -> None:
        drive = subject.drive
        folder = drive.ensure_folder("Acme Corp", parent_id=None, properties=PROPS)
        props = {"handoverId": "h-1", "kind": "brief"}
        first = drive.write_document(
            "Project Brief", "<h1>Brief</h1><p>v1</p>", parent_id=folder.id, properties=props
        )
        second = drive.write_document(
            "Project Brief", "<h1>Brief</h1><p>v2</p>", parent_id=folder.id, properties=props
        )
        third = drive.write_document(
            "Project Brief",
            "<p>v3</p>",
            parent_id=folder.id,
            properties=props,
            existing_id=first.id,
        )
        assert first.id == second.id == third.id
        assert "v3" in subject.text_of(first.id) and "v2" not in subject.text_of(first.id)
        assert first.mime_type == DOC_MIME
        assert first.parents == (folder.id,)
        found = drive.find(props)
        assert found is not None and found.id == first.id and found.url

    def test_written_document_reads_back(self, subject: Subject) -> None:
        folder = subject.drive.ensure_folder("Acme", parent_id=None, properties=PROPS)
        doc = subject.drive.write_document(
            "Brief",
            "<h1>Project Brief</h1><p>Why they bought</p>",
            parent_id=folder.id,
            properties={"handoverId": "h-1", "kind": "brief"},
        )
        text = " ".join(subject.text_of(doc.id).split())
        assert "Project Brief" in text and "Why they bought" in text

    def test_find_by_properties_with_quotes_and_backslashes(self, drive: Drive) -> None:
        props = {"handoverId": "it's a \\ test", "kind": "client_folder"}
        folder = drive.ensure_folder("O'Brien & Sons \\ Ltd", parent_id=None, properties=props)
        assert drive.find(props) == folder
        assert drive.find({"handoverId": "it's a \\ test", "kind": "brief"}) is None
        assert drive.find({"handoverId": "it", "kind": "client_folder"}) is None

    def test_find_needs_every_property(self, drive: Drive) -> None:
        drive.ensure_folder("A", parent_id=None, properties={"handoverId": "h-1", "kind": "a"})
        assert drive.find({"handoverId": "h-1", "kind": "b"}) is None
        assert drive.find({"handoverId": "h-2", "kind": "a"}) is None

    def test_share_twice_adds_nothing_the_second_time(self, drive: Drive) -> None:
        folder = drive.ensure_folder("Acme Corp", parent_id=None, properties=PROPS)
        doc = drive.write_document(
            "Brief", "<p>x</p>", parent_id=folder.id, properties={"kind": "brief"}
        )
        grants = [Grant("ada@agency.example", "writer"), Grant("cleo@acme.example", "reader")]
        assert sorted(drive.share(doc.id, grants, notify=False), key=str) == sorted(grants, key=str)
        assert drive.share(doc.id, grants, notify=True) == []
        more = [Grant("pat@agency.example", "writer"), Grant("Ada@Agency.example", "writer")]
        assert drive.share(doc.id, more, notify=False) == [more[0]]


class TestUploads:
    """Every Drive adapter stores an uploaded draft's bytes as they are, once per key."""

    def test_upload_twice_keeps_one_file_with_the_bytes(
        self, subject: Subject, request: pytest.FixtureRequest
    ) -> None:
        from integrations.ports import UploadsFiles

        drive = subject.drive
        assert isinstance(drive, UploadsFiles)
        folder = drive.ensure_folder("Contracts", parent_id=None, properties=PROPS)
        key = {"uploadKey": "k-1", "uploadedBy": "sam@agency.example"}

        first = drive.upload("SOW - Acme.pdf", b"%PDF-1.7 sow", mime_type="application/pdf",
                             parent_id=folder.id, properties=key)
        second = drive.upload("SOW - Acme.pdf", b"%PDF-1.7 sow", mime_type="application/pdf",
                              parent_id=folder.id, properties=key)

        assert first.id == second.id and first.parents == (folder.id,)
        assert first.name == "SOW - Acme.pdf" and first.mime_type == "application/pdf"
        if request.node.callspec.params["subject"] == "google":
            assert request.getfixturevalue("fake_google").drive.content[first.id] == (
                b"%PDF-1.7 sow"
            )
        else:
            path = drive.path_of(first.id)  # type: ignore[attr-defined]
            assert path.read_bytes() == b"%PDF-1.7 sow" and path.parent.name == "Contracts"
