"""GoogleDrive against the loopback fake: real HTTP, uploads, faults; nothing duplicated."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import httplib2
import pytest

from integrations.google.auth import Clients
from integrations.google.discovery import build_client
from integrations.google.drive import GoogleDrive, properties_query, quote
from integrations.google.errors import NotFound, RateLimited
from integrations.google.execute import RetryPolicy
from integrations.ports import DOC_MIME, Grant
from tests.fakes import Fault

# Until tests/conftest.py registers it for every test.
pytest_plugins = ["tests.fakes.pytest_plugin"]

BRIEF = {"handoverId": "h-1", "kind": "brief"}
FOLDER = {"handoverId": "h-1", "kind": "client_folder"}
HTML = "<html><body><h1>Project Brief</h1><p>Acme wants a faster checkout.</p></body></html>"
FAST = RetryPolicy(base=0.01, cap=0.05, deadline=10.0, max_attempts=8)


OPEN: list[Clients] = []


def clients_for(fake: Any, build: Any = None) -> Clients:
    """Return clients on the fake, closed after the test (their sockets would leak)."""
    clients = Clients(credentials=None, endpoint=fake.url, build=build)
    OPEN.append(clients)
    return clients


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while OPEN:
        OPEN.pop().close()


def make_drive(fake: Any, policy: RetryPolicy = FAST) -> GoogleDrive:
    return GoogleDrive(clients_for(fake), policy=policy)


def live_files(fake: Any, props: dict[str, str]) -> list[dict[str, Any]]:
    return [
        f
        for f in fake.drive.files.values()
        if not f.get("trashed")
        and all((f.get("appProperties") or {}).get(k) == v for k, v in props.items())
    ]


class LosingHttp(httplib2.Http):
    """Delivers the first matching POSTs, then drops their answers: a reset after the fact."""

    def __init__(self, pattern: str, budget: list[int]) -> None:
        super().__init__(timeout=10)
        self.pattern = pattern
        self.budget = budget

    def request(self, uri: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
        answer = super().request(uri, method, *args, **kwargs)
        if method == "POST" and re.search(self.pattern, uri) and self.budget[0] > 0:
            self.budget[0] -= 1
            raise ConnectionResetError(104, "connection reset after the server acted")
        return answer


def losing_clients(fake: Any, pattern: str, times: int = 1) -> Clients:
    budget = [times]

    def build(api: str, version: str, *, endpoint: str, credentials: Any, http: Any) -> Any:
        return build_client(
            api,
            version,
            endpoint=endpoint,
            credentials=credentials,
            http=LosingHttp(pattern, budget),
        )

    return clients_for(fake, build)


@pytest.fixture
def drive(fake_google: Any) -> GoogleDrive:
    return make_drive(fake_google)


@pytest.fixture
def folder_id(drive: GoogleDrive) -> str:
    return drive.ensure_folder("Acme Corp", parent_id=None, properties=FOLDER).id


def test_quote_escapes_backslashes_then_quotes() -> None:
    assert quote("O'Brien \\ Co") == "'O\\'Brien \\\\ Co'"
    assert properties_query({"k": "it's"}) == ["appProperties has { key='k' and value='it\\'s' }"]


def test_brief_is_one_converted_google_doc(fake_google: Any, drive: GoogleDrive, folder_id: str):
    doc = drive.write_document("Project Brief", HTML, parent_id=folder_id, properties=BRIEF)
    assert doc.mime_type == DOC_MIME
    assert doc.url == f"https://docs.google.com/document/d/{doc.id}/edit"
    assert doc.parents == (folder_id,)
    assert "Acme wants a faster checkout." in fake_google.docs.text(doc.id)
    assert "<p>" not in fake_google.docs.text(doc.id)
    creates = [
        r for r in fake_google.requests if r.method == "POST" and "upload/drive/v3/files" in r.path
    ]
    assert len(creates) == 1  # one call: metadata, content and conversion together
    assert len(live_files(fake_google, BRIEF)) == 1


def test_existing_brief_is_updated_in_place(fake_google: Any, drive: GoogleDrive, folder_id: str):
    first = drive.write_document("Project Brief", HTML, parent_id=folder_id, properties=BRIEF)
    by_props = drive.write_document(
        "Brief v2", "<p>second</p>", parent_id=folder_id, properties=BRIEF
    )
    by_id = drive.write_document(
        "Brief v3",
        "<p>third</p>",
        parent_id=folder_id,
        properties={"kind": "other"},
        existing_id=first.id,
    )
    assert first.id == by_props.id == by_id.id
    assert by_id.name == "Brief v3"
    assert "third" in fake_google.docs.text(first.id)
    assert "faster checkout" not in fake_google.docs.text(first.id)
    assert len(live_files(fake_google, BRIEF)) == 1


def test_a_trashed_existing_id_makes_a_new_document(
    fake_google: Any, drive: GoogleDrive, folder_id: str
) -> None:
    first = drive.write_document("Brief", HTML, parent_id=folder_id, properties=BRIEF)
    fake_google.drive.files[first.id]["trashed"] = True
    second = drive.write_document(
        "Brief", HTML, parent_id=folder_id, properties=BRIEF, existing_id=first.id
    )
    assert second.id != first.id
    assert [f["id"] for f in live_files(fake_google, BRIEF)] == [second.id]


def test_rate_limit_bursts_and_5xx_on_create_make_one_file(
    fake_google: Any, drive: GoogleDrive, folder_id: str
) -> None:
    fake_google.faults.add(Fault(status=429, path=r"upload/drive/v3/files", method="POST", times=3))
    fake_google.faults.add(Fault(status=503, path=r"upload/drive/v3/files", method="POST", times=2))
    doc = drive.write_document("Project Brief", HTML, parent_id=folder_id, properties=BRIEF)
    assert [f["id"] for f in live_files(fake_google, BRIEF)] == [doc.id]
    assert "faster checkout" in fake_google.docs.text(doc.id)


def test_rate_limits_beyond_the_policy_raise_rate_limited(fake_google: Any, folder_id: str) -> None:
    drive = make_drive(fake_google, RetryPolicy(base=0.001, cap=0.001, max_attempts=2))
    fake_google.faults.add(Fault(status=429, path=r"upload/drive/v3/files", method="POST", times=5))
    with pytest.raises(RateLimited):
        drive.write_document("Project Brief", HTML, parent_id=folder_id, properties=BRIEF)
    assert live_files(fake_google, BRIEF) == []


def test_create_whose_answer_is_lost_makes_one_file(fake_google: Any, folder_id: str) -> None:
    drive = GoogleDrive(losing_clients(fake_google, r"upload/drive/v3/files"), policy=FAST)
    doc = drive.write_document("Project Brief", HTML, parent_id=folder_id, properties=BRIEF)
    assert [f["id"] for f in live_files(fake_google, BRIEF)] == [doc.id]
    statuses = [r.status for r in fake_google.requests if "upload/drive/v3/files" in r.path]
    assert 409 in statuses  # the retry carried the same id and was refused


def test_reset_before_the_create_is_retried(
    fake_google: Any, drive: GoogleDrive, folder_id: str
) -> None:
    fake_google.faults.add(Fault(reset=True, path=r"upload/drive/v3/files", method="POST", times=2))
    doc = drive.write_document("Project Brief", HTML, parent_id=folder_id, properties=BRIEF)
    assert [f["id"] for f in live_files(fake_google, BRIEF)] == [doc.id]


def test_writing_twice_after_a_crash_makes_one_file(fake_google: Any, folder_id: str) -> None:
    # A fresh adapter (a new process) has no memory of the first create.
    make_drive(fake_google).write_document("Brief", HTML, parent_id=folder_id, properties=BRIEF)
    make_drive(fake_google).write_document("Brief", HTML, parent_id=folder_id, properties=BRIEF)
    assert len(live_files(fake_google, BRIEF)) == 1


def test_quotes_in_names_and_properties(fake_google: Any, drive: GoogleDrive) -> None:
    props = {"handoverId": "O'Brien \\ 'quoted'", "kind": "client_folder"}
    folder = drive.ensure_folder('O\'Brien & Sons \\ "Ltd"', parent_id=None, properties=props)
    again = drive.ensure_folder('O\'Brien & Sons \\ "Ltd"', parent_id=None, properties=props)
    assert again.id == folder.id
    assert folder.name == 'O\'Brien & Sons \\ "Ltd"'
    assert drive.find(props) == folder
    assert len(live_files(fake_google, props)) == 1


def test_ensure_folder_looks_under_the_given_parent(fake_google: Any, drive: GoogleDrive):
    a = drive.ensure_folder("A", parent_id=None, properties={"kind": "root-a"})
    b = drive.ensure_folder("B", parent_id=None, properties={"kind": "root-b"})
    props = {"handoverId": "h-1", "kind": "contracts"}
    under_a = drive.ensure_folder("Contracts", parent_id=a.id, properties=props)
    under_b = drive.ensure_folder("Contracts", parent_id=b.id, properties=props)
    assert under_a.id != under_b.id
    assert under_a.url == f"https://drive.google.com/drive/folders/{under_a.id}"
    assert drive.ensure_folder("Contracts", parent_id=a.id, properties=props) == under_a


def test_ids_are_generated_ahead(fake_google: Any, drive: GoogleDrive) -> None:
    for n in range(4):
        drive.ensure_folder(f"F{n}", parent_id=None, properties={"kind": f"f{n}"})
    assert sum("generateIds" in r.path for r in fake_google.requests) == 1


def test_share_twice_does_not_duplicate_permissions(
    fake_google: Any, drive: GoogleDrive, folder_id: str
) -> None:
    doc = drive.write_document("Brief", HTML, parent_id=folder_id, properties=BRIEF)
    grants = [Grant("ada@agency.example", "writer"), Grant("cleo@acme.example", "reader")]
    assert drive.share(doc.id, grants, notify=True) == grants
    assert drive.share(doc.id, [*grants, Grant("ADA@agency.example", "reader")], notify=True) == []
    emails = [p.get("emailAddress", "").lower() for p in fake_google.drive.permissions[doc.id]]
    assert sorted(e for e in emails if e != "").count("ada@agency.example") == 1
    assert emails.count("cleo@acme.example") == 1
    creates = [r for r in fake_google.requests if r.method == "POST" and "permissions" in r.path]
    assert len(creates) == 2
    assert all(r.query.get("sendNotificationEmail") == "true" for r in creates)


def test_share_upgrades_a_weaker_role(fake_google: Any, drive: GoogleDrive, folder_id: str):
    doc = drive.write_document("Brief", HTML, parent_id=folder_id, properties=BRIEF)
    drive.share(doc.id, [Grant("pat@agency.example", "reader")], notify=False)
    assert drive.share(doc.id, [Grant("pat@agency.example", "writer")], notify=False) == [
        Grant("pat@agency.example", "writer")
    ]
    roles = [
        p["role"]
        for p in fake_google.drive.permissions[doc.id]
        if p.get("emailAddress") == "pat@agency.example"
    ]
    assert roles == ["writer"]


def test_a_role_inherited_from_the_folder_is_raised_on_the_file_itself(
    fake_google: Any, drive: GoogleDrive, folder_id: str
) -> None:
    # Pat reads everything in the client folder; the brief needs Pat as a writer. Drive
    # refuses to update the inherited permission on the brief: a permission of its own
    # raises the role.
    drive.share(folder_id, [Grant("pat@agency.example", "reader")], notify=False)
    doc = drive.write_document("Brief", HTML, parent_id=folder_id, properties=BRIEF)

    added = drive.share(doc.id, [Grant("pat@agency.example", "writer")], notify=False)

    assert added == [Grant("pat@agency.example", "writer")]
    assert [
        (p["role"], p.get("permissionDetails"))
        for p in fake_google.drive.effective_permissions(doc.id)
        if p.get("emailAddress") == "pat@agency.example"
    ] == [("writer", None)]
    assert fake_google.crashes == []


def test_concurrent_shares_of_one_file_all_land(
    fake_google: Any, drive: GoogleDrive, folder_id: str
) -> None:
    doc = drive.write_document("Brief", HTML, parent_id=folder_id, properties=BRIEF)
    fake_google.drive.permission_window = 0.05  # overlapping creates: only the last would stick
    people = [f"dev{n}@agency.example" for n in range(8)]
    threads = [
        threading.Thread(
            target=drive.share, args=(doc.id, [Grant(p, "writer")]), kwargs={"notify": False}
        )
        for p in people
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    emails = {p.get("emailAddress") for p in fake_google.drive.permissions[doc.id]}
    assert set(people) <= emails


def test_share_under_faults_adds_each_person_once(
    fake_google: Any, drive: GoogleDrive, folder_id: str
) -> None:
    doc = drive.write_document("Brief", HTML, parent_id=folder_id, properties=BRIEF)
    fake_google.faults.add(Fault(status=503, path=r"/permissions", method="POST", times=2))
    fake_google.faults.add(Fault(status=429, path=r"/permissions", method="GET", times=1))
    grants = [Grant(f"p{n}@agency.example", "reader") for n in range(3)]
    assert drive.share(doc.id, grants, notify=False) == grants
    emails = [p.get("emailAddress") for p in fake_google.drive.permissions[doc.id]]
    assert sorted(e for e in emails if e in {g.email for g in grants}) == [g.email for g in grants]


def test_a_share_that_emails_is_not_sent_twice_when_its_answer_is_lost(
    fake_google: Any, drive: GoogleDrive, folder_id: str
) -> None:
    doc = drive.write_document("Brief", HTML, parent_id=folder_id, properties=BRIEF)
    create = "drive.permissions.create"
    # Each create takes effect (Drive emails the person), then its answer is lost.
    fake_google.faults.add(Fault(status=500, after=True, method_id=create, times=2))
    fake_google.faults.add(Fault(reset=True, after=True, method_id=create, times=1))
    grants = [Grant(f"p{n}@agency.example", "reader") for n in range(3)]
    shares = {doc.id: grants, folder_id: [Grant("ada@agency.example", "writer")]}

    added = drive.share_files(shares, notify=True)

    assert added == shares
    emailed = [(e["fileId"], e["emailAddress"]) for e in fake_google.drive.share_emails]
    assert sorted(emailed) == sorted((f, g.email) for f, gs in shares.items() for g in gs)
    lost = [r for r in fake_google.requests if r.method_id == create and r.status != 200]
    assert len(lost) == 3  # the three lost answers happened, and were not sent again


def test_share_of_a_missing_file_raises_not_found(drive: GoogleDrive) -> None:
    with pytest.raises(NotFound):
        drive.share("nope", [Grant("a@agency.example", "reader")], notify=False)


def test_template_copy_fill_and_placeholders(
    fake_google: Any, drive: GoogleDrive, folder_id: str
) -> None:
    template = drive.write_document(
        "Brief template",
        "<p>Client: {{client}}</p><p>PM: {{pm}} ({{pm}})</p>",
        parent_id=folder_id,
        properties={"kind": "template"},
    )
    props = {"handoverId": "h-1", "kind": "brief_from_template"}
    copy = drive.copy_template(template.id, "Acme brief", folder_id, props)
    assert drive.copy_template(template.id, "Acme brief", folder_id, props).id == copy.id
    assert copy.id != template.id and copy.mime_type == DOC_MIME
    assert drive.template_placeholders(copy.id) == {"client", "pm"}
    drive.fill_placeholders(copy.id, {"client": "O'Brien & Co", "pm": "Pat Moss"})
    assert drive.template_placeholders(copy.id) == set()
    text = fake_google.docs.text(copy.id)
    assert "Client: O'Brien & Co" in text and "PM: Pat Moss (Pat Moss)" in text
    assert "{{client}}" in fake_google.docs.text(template.id)
    batch_updates = [r for r in fake_google.requests if r.path.endswith(":batchUpdate")]
    assert len(batch_updates) == 1


def test_placeholders_in_every_tab_of_a_template_are_seen_and_filled(
    fake_google: Any, drive: GoogleDrive, folder_id: str
) -> None:
    template = drive.write_document(
        "Brief template", "<p>Client: {{client}}</p>", parent_id=folder_id,
        properties={"kind": "template"},
    )
    # documents.get shows only the first tab unless includeTabsContent=true.
    fake_google.docs.add_tab(template.id, "Team", "Sponsor: {{sponsor}}")
    props = {"handoverId": "h-2", "kind": "brief_from_template"}
    copy = drive.copy_template(template.id, "Acme brief", folder_id, props)

    assert drive.template_placeholders(copy.id) == {"client", "sponsor"}
    drive.fill_placeholders(copy.id, {"client": "Acme", "sponsor": "Cleo"})
    assert drive.template_placeholders(copy.id) == set()
    assert fake_google.docs.more_tabs[copy.id] == [("Team", "Sponsor: Cleo\n")]


# --- doctor ------------------------------------------------------------------------------


def test_doctor_against_the_fake(fake_google: Any, drive: GoogleDrive, folder_id: str) -> None:
    from integrations.google.doctor import diagnose

    findings = diagnose(
        auth="anonymous", impersonate=None, endpoint=fake_google.url, clients_folder=folder_id
    )
    assert [(f.check, f.ok) for f in findings] == [
        ("credentials", True),
        ("impersonation", True),
        ("scopes", True),
        ("drive folder", True),
        ("gmail", True),
        ("calendar", True),
    ]
    missing = diagnose(
        auth="anonymous",
        impersonate=None,
        endpoint=fake_google.url,
        clients_folder="no-such-folder",
    )
    folder = next(f for f in missing if f.check == "drive folder")
    assert not folder.ok and "DRIVE_CLIENTS_FOLDER=no-such-folder" in folder.message


def test_doctor_refuses_anonymous_without_endpoint() -> None:
    from integrations.google.doctor import diagnose

    findings = diagnose(auth="anonymous", impersonate=None, endpoint=None, clients_folder=None)
    assert [(f.check, f.ok) for f in findings] == [("credentials", False)]
    assert "GOOGLE_API_ENDPOINT" in findings[0].message
