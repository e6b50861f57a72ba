"""The loopback Google driven through the real google-api-python-client (no mocks)."""

from __future__ import annotations

import base64
import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import pytest
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaInMemoryUpload
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.google.discovery import build_client
from tests.fakes import FakeGoogle, Fault

pytest_plugins = ["tests.fakes.pytest_plugin"]

FOLDER = "application/vnd.google-apps.folder"
DOC = "application/vnd.google-apps.document"


@pytest.fixture
def google(fake_google: FakeGoogle) -> Iterator[SimpleNamespace]:
    """Real clients for the four APIs, pointed at the fake, closed afterwards."""
    clients = {
        "drive": build_client("drive", "v3", endpoint=fake_google.url, credentials=None),
        "docs": build_client("docs", "v1", endpoint=fake_google.url, credentials=None),
        "gmail": build_client("gmail", "v1", endpoint=fake_google.url, credentials=None),
        "calendar": build_client("calendar", "v3", endpoint=fake_google.url, credentials=None),
    }
    yield SimpleNamespace(fake=fake_google, **clients)
    for client in clients.values():
        client.close()


def error_of(excinfo: pytest.ExceptionInfo[HttpError]) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads(excinfo.value.content)["error"]
    return payload


def folder(g: SimpleNamespace, name: str, parent: str | None = None) -> str:
    body: dict[str, Any] = {"name": name, "mimeType": FOLDER}
    if parent:
        body["parents"] = [parent]
    return str(g.drive.files().create(body=body, fields="id").execute()["id"])


def quoted(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


# --- Drive ---------------------------------------------------------------------------------


def test_html_upload_becomes_a_google_doc_readable_through_docs(google: SimpleNamespace) -> None:
    parent = folder(google, "Acme")
    html = (
        b"<html><head><title>skip</title><style>p{}</style></head><body><h1>Project Brief</h1>"
        b"<p>Acme wants a <b>faster</b>\n checkout.</p><ul><li>Scope</li><li>Budget</li></ul>"
        b"</body></html>"
    )
    created = (
        google.drive.files()
        .create(
            body={"name": "Brief", "mimeType": DOC, "parents": [parent]},
            media_body=MediaInMemoryUpload(html, mimetype="text/html"),
            fields="id,mimeType,parents,webViewLink",
        )
        .execute()
    )
    assert created["mimeType"] == DOC
    assert created["parents"] == [parent]
    assert created["webViewLink"].startswith("https://docs.google.com/document/d/")
    expected = "Project Brief\nAcme wants a faster checkout.\nScope\nBudget\n"
    assert google.fake.docs.text(created["id"]) == expected
    document = google.docs.documents().get(documentId=created["id"]).execute()
    runs = [
        element["textRun"]["content"]
        for item in document["body"]["content"]
        if "paragraph" in item
        for element in item["paragraph"]["elements"]
    ]
    assert "".join(runs) == expected
    assert document["title"] == "Brief"
    upload = [r for r in google.fake.requests if r.path == "/upload/drive/v3/files"]
    assert upload[0].query["uploadType"] == "multipart"
    assert upload[0].body == {"name": "Brief", "mimeType": DOC, "parents": [parent]}


def test_media_update_replaces_doc_text_and_binary_content(google: SimpleNamespace) -> None:
    doc = google.drive.files().create(body={"name": "D", "mimeType": DOC}).execute()
    google.drive.files().update(
        fileId=doc["id"], media_body=MediaInMemoryUpload(b"<p>v2</p>", mimetype="text/html")
    ).execute()
    assert google.fake.docs.text(doc["id"]) == "v2\n"
    blob = (
        google.drive.files()
        .create(
            body={"name": "a.pdf"}, media_body=MediaInMemoryUpload(b"%PDF-1", "application/pdf")
        )
        .execute()
    )
    google.drive.files().update(
        fileId=blob["id"], media_body=MediaInMemoryUpload(b"%PDF-22", "application/pdf")
    ).execute()
    got = google.drive.files().get(fileId=blob["id"], fields="size,md5Checksum").execute()
    assert got["size"] == "7"
    assert google.drive.files().get_media(fileId=blob["id"]).execute() == b"%PDF-22"


def test_resumable_upload(google: SimpleNamespace) -> None:
    media = MediaInMemoryUpload(b"<p>big</p>", mimetype="text/html", resumable=True)
    created = (
        google.drive.files().create(body={"name": "R", "mimeType": DOC}, media_body=media).execute()
    )
    assert google.fake.docs.text(created["id"]) == "big\n"


def test_generated_id_create_twice_gives_409_and_one_file(google: SimpleNamespace) -> None:
    ids = google.drive.files().generateIds(count=2).execute()["ids"]
    assert len(ids) == 2 and all(len(i) == 33 for i in ids)
    body = {"id": ids[0], "name": "Once", "mimeType": FOLDER}
    google.drive.files().create(body=body).execute()
    with pytest.raises(HttpError) as excinfo:
        google.drive.files().create(body=body).execute()
    assert excinfo.value.status_code == 409
    assert error_of(excinfo)["message"] == "A file already exists with the provided ID."
    assert [f["name"] for f in google.fake.drive.files.values()] == ["Once"]
    with pytest.raises(HttpError) as made_up:
        google.drive.files().create(body={"id": "1" + "x" * 32, "name": "N"}).execute()
    assert made_up.value.status_code == 400


def test_get_unknown_file_is_404_not_found(google: SimpleNamespace) -> None:
    with pytest.raises(HttpError) as excinfo:
        google.drive.files().get(fileId="nope").execute()
    assert excinfo.value.status_code == 404
    assert error_of(excinfo)["errors"][0]["reason"] == "notFound"


def test_query_literals_with_quotes_cannot_break_out(google: SimpleNamespace) -> None:
    parent = folder(google, "Clients")
    tricky = ["O'Brien & Sons", "x' or name contains '", "back\\slash", "Plain"]
    for name in tricky:
        folder(google, name, parent)
    for name in tricky:
        q = f"name = {quoted(name)} and {quoted(parent)} in parents and trashed = false"
        found = google.drive.files().list(q=q, fields="files(id,name)").execute()["files"]
        assert [f["name"] for f in found] == [name]
    # Without escaping, the same name rewrites the query and matches every folder.
    unescaped = f"name = '{tricky[1]}' and trashed = false"
    assert len(google.drive.files().list(q=unescaped).execute()["files"]) == 5
    with pytest.raises(HttpError) as excinfo:
        google.drive.files().list(q="name = 'O'Brien'").execute()
    assert excinfo.value.status_code == 400
    assert error_of(excinfo)["errors"][0]["location"] == "q"


@pytest.fixture(scope="module")
def shared_fake() -> Iterator[FakeGoogle]:
    with FakeGoogle() as fake:
        yield fake


@settings(max_examples=40, deadline=None)
@given(name=st.text(alphabet=st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20))
def test_any_name_round_trips_through_an_escaped_query(shared_fake: FakeGoogle, name: str) -> None:
    shared_fake.reset()
    shared_fake.drive.add_file(name="decoy", mime_type=FOLDER)
    target = shared_fake.drive.add_file(name=name, mime_type=FOLDER)
    drive = build_client("drive", "v3", endpoint=shared_fake.url, credentials=None)
    try:
        found = drive.files().list(q=f"name = {quoted(name)}").execute()["files"]
    finally:
        drive.close()
    assert [f["id"] for f in found] == [target["id"]]


def test_app_properties_query_with_paging(google: SimpleNamespace) -> None:
    parent = folder(google, "H")
    for index in range(5):
        google.drive.files().create(
            body={
                "name": f"f{index}",
                "parents": [parent],
                "appProperties": {"handoverId": "h-1" if index % 2 == 0 else "h-2"},
            },
        ).execute()
    q = f"appProperties has {{ key='handoverId' and value='h-1' }} and {quoted(parent)} in parents"
    names, token = [], None
    while True:
        page = (
            google.drive.files()
            .list(
                q=q, pageSize=2, pageToken=token, fields="nextPageToken,files(name,appProperties)"
            )
            .execute()
        )
        names += [f["name"] for f in page["files"]]
        token = page.get("nextPageToken")
        if not token:
            break
    assert names == ["f0", "f2", "f4"]
    fields_default = google.drive.files().list(q=q).execute()["files"][0]
    assert set(fields_default) == {"kind", "id", "name", "mimeType"}


def test_unknown_body_field_is_400_in_googles_shape(google: SimpleNamespace) -> None:
    with pytest.raises(HttpError) as excinfo:
        google.drive.files().create(body={"name": "x", "colour": "red"}).execute()
    assert excinfo.value.status_code == 400
    error = error_of(excinfo)
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    assert error["errors"][0]["reason"] in ("badRequest", "invalid")
    assert error["errors"][0]["domain"] == "global"
    assert '"colour"' in error["message"]
    with pytest.raises(HttpError) as nested:
        google.calendar.events().insert(
            calendarId="primary",
            body={
                "start": {"dateTime": "2030-01-01T10:00:00Z", "timezone": "UTC"},
                "end": {"dateTime": "2030-01-01T11:00:00Z"},
            },
        ).execute()
    assert nested.value.status_code == 400 and "timezone" in error_of(nested)["message"]
    assert google.fake.drive.files == {}


def test_unknown_query_parameter_is_400(google: SimpleNamespace) -> None:
    request = google.drive.files().list(q="trashed = false")
    request.uri += "&sendNotificationEmails=false"
    with pytest.raises(HttpError) as excinfo:
        request.execute()
    assert excinfo.value.status_code == 400
    assert "sendNotificationEmails" in error_of(excinfo)["message"]


def test_invalid_fields_selection_and_update_rules(google: SimpleNamespace) -> None:
    file_id = folder(google, "F")
    with pytest.raises(HttpError) as bad_fields:
        google.drive.files().get(fileId=file_id, fields="id,nmae").execute()
    assert bad_fields.value.status_code == 400
    with pytest.raises(HttpError) as parents:
        google.drive.files().update(fileId=file_id, body={"parents": ["x"]}).execute()
    assert parents.value.status_code == 403
    assert error_of(parents)["errors"][0]["reason"] == "fieldNotWritable"
    google.drive.files().update(
        fileId=file_id, body={"appProperties": {"a": "1", "b": "2"}}
    ).execute()
    google.drive.files().update(fileId=file_id, body={"appProperties": {"a": None}}).execute()
    assert google.fake.drive.files[file_id]["appProperties"] == {"b": "2"}


def test_move_and_trash(google: SimpleNamespace) -> None:
    first, second = folder(google, "A"), folder(google, "B")
    child = google.fake.drive.add_file(name="scan.pdf", parents=[first], content=b"%PDF")
    google.drive.files().update(
        fileId=child["id"], addParents=second, removeParents=first
    ).execute()
    assert google.fake.drive.files[child["id"]]["parents"] == [second]
    google.drive.files().update(fileId=second, body={"trashed": True}).execute()
    assert google.fake.drive.files[child["id"]]["trashed"] is True
    q = f"{quoted(second)} in parents and trashed = false"
    assert google.drive.files().list(q=q).execute()["files"] == []


def test_batch_of_three_permission_creates(google: SimpleNamespace) -> None:
    files = [folder(google, f"F{i}") for i in range(3)]
    answers: dict[str, Any] = {}

    def collect(request_id: str, response: Any, exception: Exception | None) -> None:
        answers[request_id] = exception or response

    batch = google.drive.new_batch_http_request(callback=collect)
    for index, file_id in enumerate(files):
        body = {"type": "user", "role": "writer", "emailAddress": f"p{index}@client.example"}
        batch.add(
            google.drive.permissions().create(
                fileId=file_id, body=body, sendNotificationEmail=False
            ),
            request_id=str(index),
        )
    batch.execute()
    assert sorted(answers) == ["0", "1", "2"]
    assert all(answer["role"] == "writer" for answer in answers.values())
    for index, file_id in enumerate(files):
        emails = [p.get("emailAddress") for p in google.fake.drive.permissions[file_id]]
        assert f"p{index}@client.example" in emails
    parts = [r for r in google.fake.requests if r.in_batch]
    assert [r.method_id for r in parts] == ["drive.permissions.create"] * 3
    assert google.fake.drive.share_emails == []


def test_concurrent_permission_creates_on_one_file_keep_only_the_last(
    google: SimpleNamespace,
) -> None:
    file_id = folder(google, "Shared")
    batch = google.drive.new_batch_http_request()
    for index in range(3):
        body = {"type": "user", "role": "reader", "emailAddress": f"b{index}@client.example"}
        batch.add(google.drive.permissions().create(fileId=file_id, body=body))
    batch.execute()
    emails = [p.get("emailAddress") for p in google.fake.drive.permissions[file_id]]
    assert emails == [google.fake.user_email, "b2@client.example"]
    # Two plain requests in flight at the same time: the same rule.
    google.fake.drive.permission_window = 0.3
    errors: list[BaseException] = []

    def share(email: str) -> None:
        client = build_client("drive", "v3", endpoint=google.fake.url, credentials=None)
        try:
            body = {"type": "user", "role": "reader", "emailAddress": email}
            client.permissions().create(fileId=file_id, body=body).execute()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            client.close()

    threads = [threading.Thread(target=share, args=(f"t{i}@client.example",)) for i in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    assert errors == []
    emails = [p.get("emailAddress") for p in google.fake.drive.permissions[file_id]]
    assert emails == [google.fake.user_email, "b2@client.example", "t1@client.example"]
    # One after the other: both apply.
    google.fake.drive.permission_window = 0.0
    share("s1@client.example")
    share("s2@client.example")
    listed = google.drive.permissions().list(fileId=file_id).execute()["permissions"]
    assert {"s1@client.example", "s2@client.example"} <= {p.get("emailAddress") for p in listed}


def test_permissions_are_inherited_and_notifications_recorded(google: SimpleNamespace) -> None:
    parent = folder(google, "P")
    child = folder(google, "C", parent)
    google.drive.permissions().create(
        fileId=parent,
        body={"type": "user", "role": "commenter", "emailAddress": "c@x.example"},
        emailMessage="Welcome",
    ).execute()
    listed = google.drive.permissions().list(fileId=child).execute()["permissions"]
    assert {p.get("emailAddress"): p["role"] for p in listed}["c@x.example"] == "commenter"
    assert google.fake.drive.share_emails == [
        {"fileId": parent, "emailAddress": "c@x.example", "role": "commenter", "message": "Welcome"}
    ]


def test_a_user_sharing_or_renaming_shows_in_the_feed_with_permissions_when_asked(
    google: SimpleNamespace,
) -> None:
    parent = folder(google, "Client")
    google.fake.drive.permission_window = 0.0
    google.drive.permissions().create(
        fileId=parent, body={"type": "user", "role": "writer", "emailAddress": "pm@a.example"}
    ).execute()
    draft = google.fake.drive.add_file("notes.txt", [parent], mime_type="text/plain")
    start = google.drive.changes().getStartPageToken().execute()["startPageToken"]
    google.fake.drive.rename_file(draft["id"], "MSA draft.pdf")
    google.fake.drive.share_file(draft["id"], email="someone@gmail.com")
    google.fake.drive.share_file(draft["id"], domain="client.example", role="commenter")
    google.fake.drive.share_file(draft["id"], anyone=True)

    plain = google.drive.files().get(fileId=draft["id"], fields="*").execute()
    listed = (
        google.drive.changes()
        .list(
            pageToken=start,
            fields="changes(fileId,file(name,permissions(type,role,emailAddress,domain)))",
        )
        .execute()["changes"]
    )
    bare = google.drive.changes().list(pageToken=start).execute()["changes"]

    assert [c["fileId"] for c in listed] == [draft["id"]]
    assert listed[0]["file"]["name"] == "MSA draft.pdf"
    assert sorted(
        (p["type"], p["role"], p.get("emailAddress") or p.get("domain", ""))
        for p in listed[0]["file"]["permissions"]
    ) == [
        ("anyone", "reader", ""),
        ("domain", "commenter", "client.example"),
        ("user", "owner", "handover@agency.example"),
        ("user", "reader", "someone@gmail.com"),
        ("user", "writer", "pm@a.example"),  # inherited from the folder
    ]
    assert len(plain["permissionIds"]) == 5 and plain["shared"] is True
    assert "permissions" not in bare[0]["file"]
    with pytest.raises(ValueError):
        google.fake.drive.share_file(draft["id"], email="a@b.example", anyone=True)


def test_comments_require_fields(google: SimpleNamespace) -> None:
    doc = google.drive.files().create(body={"name": "D", "mimeType": DOC}).execute()
    with pytest.raises(HttpError) as excinfo:
        google.drive.comments().create(fileId=doc["id"], body={"content": "hi"}).execute()
    assert excinfo.value.status_code == 400
    made = (
        google.drive.comments()
        .create(fileId=doc["id"], body={"content": "hi"}, fields="id,content")
        .execute()
    )
    assert set(made) == {"id", "content"}
    assert google.fake.drive.comments[doc["id"]][0]["content"] == "hi"


def test_changes_list_pages_and_keeps_the_latest_change_per_file(google: SimpleNamespace) -> None:
    start = google.drive.changes().getStartPageToken().execute()["startPageToken"]
    ids = [folder(google, f"c{i}") for i in range(5)]
    google.drive.files().update(fileId=ids[0], body={"name": "c0 renamed"}).execute()
    google.fake.drive.move_file(
        ids[1], add_parents=[ids[2]], remove_parents=[google.fake.drive.root_id]
    )
    seen: list[str] = []
    token, pages, new_start = start, 0, None
    while token:
        page = google.drive.changes().list(pageToken=token, pageSize=2, fields="*").execute()
        pages += 1
        seen += [c["fileId"] for c in page["changes"]]
        assert ("nextPageToken" in page) != ("newStartPageToken" in page)
        token = page.get("nextPageToken")
        new_start = page.get("newStartPageToken")
    assert pages == 3
    assert seen == [ids[2], ids[3], ids[4], ids[0], ids[1]]
    assert google.drive.changes().list(pageToken=new_start).execute()["changes"] == []
    google.fake.drive.add_file(name="upload.pdf", parents=[ids[3]])
    later = google.drive.changes().list(pageToken=new_start, fields="*").execute()["changes"]
    assert [c["file"]["name"] for c in later] == ["upload.pdf"]


class _Receiver:
    """A tiny local webhook receiver recording notification headers."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.event = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.received.append({k.lower(): v for k, v in self.headers.items()})
                outer.event.set()
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, str]]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return list(self.received)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def receiver() -> Iterator[_Receiver]:
    hook = _Receiver()
    yield hook
    hook.close()


def test_watch_notifications_arrive(google: SimpleNamespace, receiver: _Receiver) -> None:
    token = google.drive.changes().getStartPageToken().execute()["startPageToken"]
    channel = (
        google.drive.changes()
        .watch(
            pageToken=token,
            body={"id": "chan-1", "type": "web_hook", "address": receiver.url, "token": "secret"},
        )
        .execute()
    )
    assert channel["id"] == "chan-1" and channel["resourceId"]
    week = time.time() * 1000 + 7 * 24 * 3600 * 1000
    assert abs(int(channel["expiration"]) - week) < 60_000
    google.fake.drive.add_file(name="dropped-in.pdf")
    got = receiver.wait_for(2)
    assert [h["x-goog-resource-state"] for h in got] == ["sync", "change"]
    assert [h["x-goog-message-number"] for h in got] == ["1", "2"]
    assert all(h["x-goog-channel-id"] == "chan-1" for h in got)
    assert all(h["x-goog-channel-token"] == "secret" for h in got)
    assert all(h["x-goog-resource-id"] == channel["resourceId"] for h in got)
    google.drive.channels().stop(
        body={"id": "chan-1", "resourceId": channel["resourceId"]}
    ).execute()
    google.fake.drive.add_file(name="after-stop.pdf")
    time.sleep(0.1)
    assert len(receiver.received) == 2


def test_notifications_can_be_dropped_and_duplicated(
    google: SimpleNamespace, receiver: _Receiver
) -> None:
    drive = google.fake.drive
    drive.notify_seed, drive.notify_duplicate_rate = 5, 1.0
    google.drive.changes().watch(
        pageToken="1", body={"id": "c", "type": "web_hook", "address": receiver.url}
    ).execute()
    drive.add_file(name="one.pdf")
    assert [h["x-goog-message-number"] for h in receiver.wait_for(3)] == ["1", "2", "2"]
    drive.notify_duplicate_rate, drive.notify_drop_rate = 0.0, 1.0
    drive.add_file(name="two.pdf")
    time.sleep(0.1)
    assert len(receiver.received) == 3


# --- Docs ----------------------------------------------------------------------------------


def test_docs_batch_update_replaces_and_inserts(google: SimpleNamespace) -> None:
    doc = google.fake.drive.add_file(name="T", mime_type=DOC, text="Hello {{NAME}}\nBye {{name}}\n")
    requests = [
        {
            "replaceAllText": {
                "containsText": {"text": "{{NAME}}", "matchCase": True},
                "replaceText": "Acme",
            }
        },
        {"replaceAllText": {"containsText": {"text": "{{missing}}"}, "replaceText": "x"}},
        {"replaceAllText": {"containsText": {"text": "{{name}}"}, "replaceText": "Zed"}},
        {"insertText": {"location": {"index": 1}, "text": ">> "}},
        {"insertText": {"endOfSegmentLocation": {}, "text": "\nEnd"}},
    ]
    answer = (
        google.docs.documents()
        .batchUpdate(documentId=doc["id"], body={"requests": requests})
        .execute()
    )
    assert answer["replies"][:3] == [
        {"replaceAllText": {"occurrencesChanged": 1}},
        {"replaceAllText": {}},
        {"replaceAllText": {"occurrencesChanged": 1}},
    ]
    assert google.fake.docs.text(doc["id"]) == ">> Hello Acme\nBye Zed\nEnd\n"
    with pytest.raises(HttpError) as excinfo:
        google.docs.documents().batchUpdate(
            documentId=doc["id"],
            body={"requests": [{"insertText": {"location": {"index": 999}, "text": "x"}}]},
        ).execute()
    assert excinfo.value.status_code == 400
    assert google.fake.docs.text(doc["id"]) == ">> Hello Acme\nBye Zed\nEnd\n"


# --- Gmail ---------------------------------------------------------------------------------


def _email(message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "handover@agency.example"
    message["To"] = "client@acme.example"
    message["Subject"] = "Welcome to the handover"
    message["Message-ID"] = message_id
    message.set_content("Hello Acme")
    return message


def test_gmail_send_replaces_every_message_id_and_finds_by_gmails_own(
    google: SimpleNamespace,
) -> None:
    users = google.gmail.users()
    # On the sender's own domain too: Google documents no id it keeps (gauteh/lieer#198).
    first = _email("<h-1.brief@agency.example>")
    raw = base64.urlsafe_b64encode(first.as_bytes()).decode()
    sent = users.messages().send(userId="me", body={"raw": raw}).execute()
    second = _email("<h-1.minutes@agency.example>")
    users.messages().send(
        userId="me",
        body={},
        media_body=MediaInMemoryUpload(second.as_bytes(), mimetype="message/rfc822"),
    ).execute()
    assert [m["message"]["Subject"] for m in google.fake.gmail.sent] == [
        "Welcome to the handover"
    ] * 2
    kept = google.fake.gmail.sent[0]["message"]
    assert kept["X-Google-Original-Message-ID"] == "<h-1.brief@agency.example>"
    gmails_id = str(kept["Message-ID"])
    assert gmails_id.endswith("@mail.gmail.com>")
    ours = users.messages().list(userId="me", q="rfc822msgid:<h-1.brief@agency.example>")
    assert "messages" not in ours.execute()
    found = users.messages().list(userId="me", q=f"rfc822msgid:{gmails_id}").execute()
    assert found["messages"] == [{"id": sent["id"], "threadId": sent["threadId"]}]
    none = users.messages().list(userId="me", q="rfc822msgid:nobody@agency.example").execute()
    assert "messages" not in none and none["resultSizeEstimate"] == 0
    with pytest.raises(HttpError) as excinfo:
        nobody = EmailMessage()
        nobody["Subject"] = "x"
        nobody.set_content("x")
        users.messages().send(
            userId="me", body={"raw": base64.urlsafe_b64encode(nobody.as_bytes()).decode()}
        ).execute()
    assert error_of(excinfo)["message"] == "Recipient address required"


def test_gmail_drafts_send_deletes_the_draft_and_makes_a_new_message(
    google: SimpleNamespace,
) -> None:
    drafts = google.gmail.users().drafts()
    message = _email("<h-1.brief@agency.example>")
    message["X-Handover-Key"] = "abc123"
    raw = base64.urlsafe_b64encode(message.as_bytes()).decode()
    draft = drafts.create(userId="me", body={"message": {"raw": raw}}).execute()
    assert set(draft) == {"id", "message"}
    assert draft["message"]["labelIds"] == ["DRAFT"] and draft["message"]["threadId"]
    got = drafts.get(userId="me", id=draft["id"], format="metadata").execute()
    headers = {h["name"]: h["value"] for h in got["message"]["payload"]["headers"]}
    assert headers["X-Handover-Key"] == "abc123"
    listed = drafts.list(userId="me").execute()
    assert listed["drafts"] == [
        {
            "id": draft["id"],
            "message": {"id": draft["message"]["id"], "threadId": draft["message"]["threadId"]},
        }
    ]
    with pytest.raises(HttpError) as excinfo:
        drafts.send(userId="me", body={"id": draft["id"], "raw": raw}).execute()
    assert excinfo.value.status_code == 400  # not a field of Draft: checked like any call
    sent = drafts.send(userId="me", body={"id": draft["id"]}).execute()
    assert sent["labelIds"] == ["SENT"] and sent["id"] != draft["message"]["id"]
    assert sent["threadId"] == draft["message"]["threadId"]
    record = google.fake.gmail.sent[0]
    assert record["id"] == sent["id"] and record["message"]["X-Handover-Key"] == "abc123"
    assert google.fake.gmail.drafts == {}
    for gone in (
        drafts.get(userId="me", id=draft["id"]),
        drafts.send(userId="me", body={"id": draft["id"]}),
        drafts.delete(userId="me", id=draft["id"]),
    ):
        with pytest.raises(HttpError) as excinfo:
            gone.execute()
        assert excinfo.value.status_code == 404
    assert len(google.fake.gmail.sent) == 1


# --- Calendar ------------------------------------------------------------------------------

START = {"dateTime": "2030-03-04T10:00:00+01:00", "timeZone": "Europe/Berlin"}
END = {"dateTime": "2030-03-04T11:00:00+01:00", "timeZone": "Europe/Berlin"}


def test_calendar_event_ids_and_duplicates(google: SimpleNamespace) -> None:
    events = google.calendar.events()
    with pytest.raises(HttpError) as bad:
        events.insert(
            calendarId="primary", body={"id": "Kickoff-1", "start": START, "end": END}
        ).execute()
    assert bad.value.status_code == 400
    body = {
        "id": "kickoff0h1",
        "summary": "Kickoff",
        "start": START,
        "end": END,
        "attendees": [{"email": "client@acme.example"}],
        "extendedProperties": {"private": {"handoverId": "h-1"}},
    }
    events.insert(calendarId="primary", body=body, sendUpdates="all").execute()
    with pytest.raises(HttpError) as duplicate:
        events.insert(calendarId="primary", body=body).execute()
    assert duplicate.value.status_code == 409
    assert error_of(duplicate)["errors"][0]["reason"] == "duplicate"
    listed = events.list(
        calendarId="primary",
        privateExtendedProperty="handoverId=h-1",
        timeMin="2030-03-01T00:00:00Z",
    ).execute()["items"]
    assert [e["id"] for e in listed] == ["kickoff0h1"]
    assert google.fake.calendar.events[("primary", "kickoff0h1")]["summary"] == "Kickoff"
    events.patch(calendarId="primary", eventId="kickoff0h1", body={"summary": "Kick-off"}).execute()
    assert google.fake.calendar.event("kickoff0h1")["sequence"] == 1
    events.delete(calendarId="primary", eventId="kickoff0h1").execute()
    with pytest.raises(HttpError) as gone:
        events.delete(calendarId="primary", eventId="kickoff0h1").execute()
    assert gone.value.status_code == 410
    assert events.list(calendarId="primary").execute()["items"] == []


def test_recurring_event_without_time_zone_is_400(google: SimpleNamespace) -> None:
    body = {
        "summary": "Weekly",
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4"],
        "start": {"dateTime": "2030-03-04T10:00:00+01:00"},
        "end": {"dateTime": "2030-03-04T11:00:00+01:00"},
    }
    with pytest.raises(HttpError) as excinfo:
        google.calendar.events().insert(calendarId="primary", body=body).execute()
    assert excinfo.value.status_code == 400
    assert "time zone" in error_of(excinfo)["message"]
    body.update(start=START, end=END)
    google.calendar.events().insert(calendarId="primary", body=body).execute()
    busy = (
        google.calendar.freebusy()
        .query(
            body={
                "timeMin": "2030-03-01T00:00:00Z",
                "timeMax": "2030-04-01T00:00:00Z",
                "items": [{"id": "primary"}],
            }
        )
        .execute()["calendars"]["primary"]["busy"]
    )
    assert [b["start"] for b in busy] == [f"2030-03-{d:02d}T09:00:00Z" for d in (4, 11, 18, 25)]


def test_conference_data_needs_version_1_and_turns_success(google: SimpleNamespace) -> None:
    events = google.calendar.events()
    conference = {
        "createRequest": {"requestId": "req-1", "conferenceSolutionKey": {"type": "hangoutsMeet"}}
    }
    dropped = events.insert(
        calendarId="primary", body={"start": START, "end": END, "conferenceData": conference}
    ).execute()
    assert "conferenceData" not in dropped
    kept = events.insert(
        calendarId="primary",
        conferenceDataVersion=1,
        body={"start": START, "end": END, "conferenceData": conference},
    ).execute()
    assert kept["conferenceData"]["createRequest"]["status"]["statusCode"] == "pending"
    later = events.get(calendarId="primary", eventId=kept["id"]).execute()
    assert later["conferenceData"]["createRequest"]["status"]["statusCode"] == "success"
    entry = later["conferenceData"]["entryPoints"][0]
    assert entry["entryPointType"] == "video"
    assert entry["uri"].startswith("https://meet.google.com/")


def test_freebusy_includes_added_busy_and_attendee_events(google: SimpleNamespace) -> None:
    google.fake.calendar.add_busy(
        "pm@client.example", "2030-03-04T08:00:00Z", "2030-03-04T09:30:00Z"
    )
    google.calendar.events().insert(
        calendarId="primary",
        body={"start": START, "end": END, "attendees": [{"email": "pm@client.example"}]},
    ).execute()
    answer = (
        google.calendar.freebusy()
        .query(
            body={
                "timeMin": "2030-03-04T00:00:00Z",
                "timeMax": "2030-03-05T00:00:00Z",
                "items": [{"id": "pm@client.example"}],
            }
        )
        .execute()
    )
    assert answer["calendars"]["pm@client.example"]["busy"] == [
        {"start": "2030-03-04T08:00:00Z", "end": "2030-03-04T10:00:00Z"}
    ]


# --- Faults, latency, log ------------------------------------------------------------------


def test_429_fault_then_success_with_retries(google: SimpleNamespace) -> None:
    google.fake.faults.add(Fault(status=429, path=r"^/drive/v3/files$", method="POST", times=2))
    request = google.drive.files().create(body={"name": "Retried", "mimeType": FOLDER})
    request._sleep = lambda seconds: None  # the client's back-off, not the fake, waits
    created = request.execute(num_retries=2)
    assert google.fake.drive.files[created["id"]]["name"] == "Retried"
    attempts = [r.status for r in google.fake.requests if r.method_id == "drive.files.create"]
    assert attempts == [429, 429, 200]


def test_quota_403_is_not_retried_by_the_client(google: SimpleNamespace) -> None:
    google.fake.faults.add(Fault(status=403, reason="quotaExceeded", times=1))
    with pytest.raises(HttpError) as excinfo:
        google.drive.files().list().execute(num_retries=3)
    assert error_of(excinfo)["errors"][0]["reason"] == "quotaExceeded"


def test_connection_reset_is_an_exception(google: SimpleNamespace) -> None:
    google.fake.faults.add(Fault(reset=True, path="/drive/v3/files", times=1))
    with pytest.raises(ConnectionError):
        google.drive.files().list().execute()
    assert google.drive.files().list().execute()["files"] == []
    assert [r.status for r in google.fake.requests] == [0, 200]


def test_fault_after_the_fact_loses_the_answer_of_a_create_that_happened(
    google: SimpleNamespace,
) -> None:
    google.fake.faults.add(Fault(reset=True, after=True, method_id="drive.files.create", times=1))
    file_id = google.drive.files().generateIds(count=1).execute()["ids"][0]
    request = google.drive.files().create(body={"id": file_id, "name": "Once", "mimeType": FOLDER})
    request._sleep = lambda seconds: None
    with pytest.raises(HttpError) as excinfo:
        request.execute(num_retries=1)  # the retry meets the file the lost answer made
    assert excinfo.value.status_code == 409
    assert list(google.fake.drive.files) == [file_id]


def test_seeded_fault_rates_are_deterministic() -> None:
    def pattern() -> list[int]:
        with FakeGoogle() as fake:
            fake.faults.add(Fault(status=503, rate=0.3, seed=7))
            drive = build_client("drive", "v3", endpoint=fake.url, credentials=None)
            try:
                for _ in range(20):
                    with contextlib.suppress(HttpError):
                        drive.files().list().execute()
            finally:
                drive.close()
            return [r.status for r in fake.requests]

    first = pattern()
    assert first == pattern()
    assert 503 in first and 200 in first


def test_faults_apply_to_batch_parts(google: SimpleNamespace) -> None:
    files = [folder(google, f"F{i}") for i in range(3)]
    google.fake.faults.add(
        Fault(status=403, reason="userRateLimitExceeded", path="/permissions", times=1)
    )
    outcomes: list[Any] = []
    batch = google.drive.new_batch_http_request(callback=lambda i, r, e: outcomes.append(e))
    for file_id in files:
        batch.add(
            google.drive.permissions().create(
                fileId=file_id, body={"type": "anyone", "role": "reader"}
            )
        )
    batch.execute()
    assert [type(e).__name__ if e else None for e in outcomes] == ["HttpError", None, None]
    assert sum(1 for f in files if len(google.fake.drive.permissions[f]) == 2) == 2


def test_latency_and_reset(google: SimpleNamespace) -> None:
    google.fake.latency = 0.05
    began = time.perf_counter()
    google.drive.files().list().execute()
    assert time.perf_counter() - began >= 0.05
    google.fake.drive.add_file(name="x.pdf")
    google.fake.reset()
    assert google.fake.latency == 0 and google.fake.drive.files == {} and google.fake.requests == []


def test_requests_are_fast(google: SimpleNamespace) -> None:
    files = google.drive.files()
    files.list().execute()
    began = time.perf_counter()
    for _ in range(50):
        files.list(pageSize=1).execute()
    assert (time.perf_counter() - began) / 50 < 0.02


def test_module_runs_by_hand() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes", "--port", "0", "--latency", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        drive = build_client("drive", "v3", endpoint=url, credentials=None)
        try:
            assert drive.files().list().execute()["files"] == []
        finally:
            drive.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
        assert process.stdout is not None
        process.stdout.close()
