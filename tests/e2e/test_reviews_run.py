"""Contract reviews people can run (issue 13 item 11), over HTTP with Sign-in with Google:
due and overdue badges with counts, a decision confirmed and told to the AM and the
uploader exactly once, a draft uploaded from the browser (local backend and the loopback
Google), and drafts in an unknown client's folder listed for Operations on local."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

from service.domain import draft_upload
from service.jobs import run_job
from service.store.models import AccountRow
from service.store.review_models import ReviewRow
from service.web.review_upload import SLACK
from tests.conftest import Clock, on_the_fake
from tests.e2e.signin_support import (
    SALES,
    a_review,
    client_as,
    csrf_of,
    google_fixture,  # noqa: F401 - the google fixture
    kickoff,
    signin_app,
)
from tests.fakes import FakeGoogle
from tests.fakes.oidc import FakeGoogleSignIn

LONDON = ZoneInfo("Europe/London")  # the example PM's zone (country GB)
FRIDAY_4PM = datetime(2026, 11, 27, 16, 0, tzinfo=LONDON)  # deadline: Monday 16:00
PM, AM, OPS = "pat@agency.example", "ada@agency.example", "ola@agency.example"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SERVICE_USER = "handover@agency.example"


@pytest.fixture(name="app")
def local_app(tmp_path: Path, database_url: str, google: FakeGoogleSignIn) -> Iterator[Flask]:
    """The local backend with sign-in, Acme Corp handed over, the clock Friday 16:00."""
    with signin_app(tmp_path, database_url, google) as app:
        kickoff(app)
        app.extensions["handover"].clock = Clock(FRIDAY_4PM)
        yield app


def reviews_of(app: Flask) -> list[ReviewRow]:
    with app.extensions["handover"].db.transaction() as session:
        return list(session.scalars(select(ReviewRow).order_by(ReviewRow.created_at)))


def outbox(app: Flask, subject: str) -> list[EmailMessage]:
    services = app.extensions["handover"]
    services.tasks.wait_idle()
    found = [
        message_from_bytes(p.read_bytes(), policy=policy.default) for p in services.mail.messages()
    ]
    return [m for m in found if str(m["Subject"]).startswith(subject)]


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def decide(app: Flask, google: FakeGoogleSignIn, review_id: str, decision: str) -> Any:
    """Record the PM's decision from the review page's form; return the answer."""
    pm = client_as(app, google, PM)
    token = csrf_of(pm.get(f"/reviews/{review_id}").get_data(as_text=True))
    return pm.post(f"/reviews/{review_id}/decision",
                   data={"csrf_token": token, "decision": decision})


def confirmation(app: Flask, google: FakeGoogleSignIn, answer: Any) -> str:
    """Return the text of the page a decision's answer sends the PM to."""
    return text_of(client_as(app, google, PM).get(answer.headers["Location"]).get_data(
        as_text=True))


def sync_drive_again(app: Flask) -> None:
    """Run the Drive feed as the queue does and wait for what it queued."""
    services = app.extensions["handover"]
    run_job(services, "sync_drive", {})
    services.tasks.wait_idle()


def upload(client: Any, name: str, data: bytes, *, account: str = "acmecorp.example",
           key: str = "") -> Any:
    page = client.get("/reviews/upload").get_data(as_text=True)
    fields = {
        "csrf_token": csrf_of(page),
        "account_key": account,
        "upload_key": key or re.search(r'name="upload_key" value="(\w+)"', page).group(1),
    }
    body, content_type = multipart(fields, name, data)
    return client.post("/reviews/upload", data=body, content_type=content_type)


def multipart(fields: dict[str, str], name: str, data: bytes) -> tuple[bytes, str]:
    """Return a multipart/form-data body as a browser sends it (built here: the test
    client spools a large body to a temporary file it never closes)."""
    boundary = "----reviews-test-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = b"".join(parts) + head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


# --- badges -----------------------------------------------------------------------------


def test_badges_say_due_today_then_overdue_with_counts(app: Flask, google: FakeGoogleSignIn) -> None:
    review_id = a_review(app)
    clock = app.extensions["handover"].clock
    pm = client_as(app, google, PM)

    clock.now = datetime(2026, 11, 30, 10, 0, tzinfo=LONDON)  # Monday, due 16:00
    page = text_of(pm.get("/reviews").get_data(as_text=True))
    assert "1 to review, 0 overdue" in page
    assert "Due today" in page and "Overdue" not in page
    assert "Contract reviews 1 to review" in page  # the nav badge, in words for a reader

    clock.now = datetime(2026, 12, 2, 10, 0, tzinfo=LONDON)  # Wednesday: Tue and Wed late
    page = text_of(pm.get("/reviews").get_data(as_text=True))
    assert "1 to review, 1 overdue" in page
    assert "Overdue by 2 business days" in page
    assert "1 overdue" in text_of(pm.get(f"/reviews/{review_id}").get_data(as_text=True))

    # Another PM has nothing due; the AM decides nothing, so no count; Operations all.
    other = text_of(client_as(app, google, "pia@agency.example").get("/").get_data(as_text=True))
    assert "to review" not in other
    am = text_of(client_as(app, google, AM).get("/reviews").get_data(as_text=True))
    assert "to review" not in am and "Overdue by 2 business days" in am
    ops = text_of(client_as(app, google, OPS).get("/").get_data(as_text=True))
    assert "Contract reviews 1 to review 1 overdue" in ops

    decide(app, google, review_id, "approved")
    page = text_of(pm.get("/reviews").get_data(as_text=True))
    assert "Nothing to review" in page and "Overdue" not in page


# --- decisions ----------------------------------------------------------------------------


def test_a_decision_is_confirmed_and_told_once_however_often_it_is_sent(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    review_id = a_review(app)  # dropped on disk: nobody knows who put it there
    pm = client_as(app, google, PM)
    token = csrf_of(pm.get(f"/reviews/{review_id}").get_data(as_text=True))
    form = {"csrf_token": token, "decision": "changes_requested", "comment": "Fix clause 4."}

    first = pm.post(f"/reviews/{review_id}/decision", data=form)
    again = pm.post(f"/reviews/{review_id}/decision", data=form)  # a double click

    assert first.status_code == again.status_code == 303
    page = text_of(pm.get(first.headers["Location"]).get_data(as_text=True))
    assert "Recorded: changes requested. The AM Ada Lane was told." in page
    assert "Who uploaded the draft is not known, so no uploader was told." in page
    # Its history in words and in the reader's time, no audit keys or ISO stamps.
    assert "sent to the Project Manager" in page and "decision emailed" in page
    assert "review.routed" not in page and not re.search(r"\d{4}-\d\d-\d\dT\d\d", page)
    assert "Uploaded by not known (dropped into the folder)" in page
    [mail] = outbox(app, "Contract draft SOW - Acme Corp v1.docx")
    assert mail["To"] == AM
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert "changes requested" in body and "Fix clause 4." in body
    # A changed mind is a new decision: told again, once.
    form = {"csrf_token": token, "decision": "approved", "comment": ""}
    pm.post(f"/reviews/{review_id}/decision", data=form)
    pm.post(f"/reviews/{review_id}/decision", data=form)
    assert len(outbox(app, "Contract draft SOW - Acme Corp v1.docx")) == 2


# --- upload, local backend ----------------------------------------------------------------


def test_sales_uploads_a_draft_that_goes_to_the_pm_and_its_decision_comes_back(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    sales = client_as(app, google, SALES)
    account = sales.get("/accounts/acmecorp.example").get_data(as_text=True)
    assert 'href="/reviews/upload?account=acmecorp.example"' in account
    form = sales.get("/reviews/upload?account=acmecorp.example").get_data(as_text=True)
    assert '<option value="acmecorp.example" selected>Acme Corp</option>' in form
    key = re.search(r'name="upload_key" value="(\w+)"', form).group(1)

    answer = upload(sales, "SOW - Acme Corp v2.docx", b"PK draft", key=key)
    twice = upload(sales, "SOW - Acme Corp v2.docx", b"PK draft", key=key)  # double submit

    assert answer.status_code == twice.status_code == 303
    assert "uploaded=SOW" in answer.headers["Location"]  # Sales see no reviews: the form says
    assert "Uploaded SOW - Acme Corp v2.docx" in sales.get(answer.headers["Location"]).get_data(
        as_text=True
    )
    [review] = reviews_of(app)
    assert (review.uploaded_by, review.kind, review.account_key) == (
        SALES, "sow", "acmecorp.example"
    )
    services = app.extensions["handover"]
    path = services.drive.path_of(review.file_id)
    assert path.name == "SOW - Acme Corp v2.docx" and path.read_bytes() == b"PK draft"
    assert path.parent.name == "Contracts"
    sync_drive_again(app)  # the feed sees the file again: nothing new
    assert len(reviews_of(app)) == 1 and reviews_of(app)[0].state == "open"
    assert len(outbox(app, "Contract review:")) == 1

    page = confirmation(app, google, decide(app, google, review.id, "approved"))
    assert "Recorded: approved. The AM Ada Lane and the uploader Sam Reed were told." in page
    [mail] = outbox(app, "Contract draft SOW - Acme Corp v2.docx")
    assert sorted(a.strip() for a in str(mail["To"]).split(",")) == [AM, SALES]


def test_a_bad_upload_names_its_field_and_stores_nothing(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    pm = client_as(app, google, PM)
    services = app.extensions["handover"]
    contracts = Path(services.drive.path_of(_contracts_folder(app)))

    wrong_type = upload(pm, "SOW - Acme.exe", b"MZ")
    assert wrong_type.status_code == 422
    assert "The file must be a PDF, Word (.docx or .doc) or OpenDocument (.odt) file" in (
        wrong_type.get_data(as_text=True)
    )
    unnamed = upload(pm, "scan 0001.pdf", b"%PDF")
    assert unnamed.status_code == 422 and "needs a name that says what it is" in (
        unnamed.get_data(as_text=True)
    )
    empty = upload(pm, "MSA - Acme.pdf", b"")
    assert empty.status_code == 422 and "The file is empty" in empty.get_data(as_text=True)
    foreign = upload(pm, "MSA - Acme.pdf", b"%PDF", account="globex.example")
    assert foreign.status_code == 422 and "Account: pick one of your accounts" in (
        foreign.get_data(as_text=True)
    )
    huge = upload(pm, "MSA - Acme.pdf", b"%" * (draft_upload.MAX_BYTES + 1))
    assert huge.status_code == 422 and "The file is larger than 10 MB" in huge.get_data(
        as_text=True
    )
    huger = upload(pm, "MSA - Acme.pdf", b"%" * (draft_upload.MAX_BYTES + SLACK + 1))
    assert huger.status_code == 413 and "The file is larger than 10 MB" in huger.get_data(
        as_text=True
    )
    page = pm.get("/reviews/upload").get_data(as_text=True)
    forged = pm.post("/reviews/upload", content_type="multipart/form-data", data={
        "account_key": "acmecorp.example", "file": (BytesIO(b"%PDF"), "MSA - Acme.pdf"),
        "upload_key": "k1",
    })
    assert forged.status_code == 400 and "csrf_token" in page
    # A path in the name climbs nowhere: only the last part is kept, cleaned.
    climbing = upload(pm, "../../etc/SOW: Acme?.pdf", b"%PDF")
    assert climbing.status_code == 303

    assert sorted(p.name for p in contracts.iterdir()) == ["SOW Acme.pdf"]
    assert [r.name for r in reviews_of(app)] == ["SOW Acme.pdf"]


def test_someone_of_no_account_cannot_upload_to_it(app: Flask, google: FakeGoogleSignIn) -> None:
    stranger = client_as(app, google, "pia@agency.example")  # a PM of no account
    page = stranger.get("/reviews/upload").get_data(as_text=True)
    assert "None of your accounts has a Contracts folder yet" in page
    assert upload_without_form(stranger).status_code == 422
    assert reviews_of(app) == []


def upload_without_form(client: Any) -> Any:
    page = client.get("/reviews/upload").get_data(as_text=True)
    return client.post("/reviews/upload", content_type="multipart/form-data", data={
        "csrf_token": csrf_of(page), "account_key": "acmecorp.example", "upload_key": "k",
        "file": (BytesIO(b"%PDF"), "MSA - Acme.pdf"),
    })


def _contracts_folder(app: Flask) -> str:
    with app.extensions["handover"].db.transaction() as session:
        return str(session.scalar(select(AccountRow.contracts_folder_id)))


# --- drafts of unknown clients on the local backend --------------------------------------


def test_a_draft_in_an_unknown_clients_folder_waits_for_operations(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    services = app.extensions["handover"]
    folder = services.drive.root / "Initech" / "Contracts"
    folder.mkdir(parents=True)
    (folder / "MSA - Initech.pdf").write_bytes(b"%PDF msa")
    (folder / "notes.txt").write_text("not a draft")
    (services.drive.root / "Acme Corp" / "SOW - stray.pdf").write_bytes(b"%PDF")  # known client

    sync_drive_again(app)

    [review] = reviews_of(app)
    assert (review.name, review.state, review.account_key) == ("MSA - Initech.pdf", "unmatched",
                                                               None)
    ops = client_as(app, google, OPS)
    page = text_of(ops.get("/reviews/unmatched").get_data(as_text=True))
    assert "MSA - Initech.pdf" in page and "in a folder of a client the service does not know" in page
    run_job(services, "sync_drive", {})  # seen again: still one
    assert len(reviews_of(app)) == 1
    # Operations gives it to Acme Corp: it is routed to Acme's PM.
    token = csrf_of(ops.get(f"/reviews/{review.id}").get_data(as_text=True))
    ops.post(f"/reviews/{review.id}/account",
             data={"csrf_token": token, "account_key": "acmecorp.example"})
    services.tasks.wait_idle()
    assert reviews_of(app)[0].pm_email == PM and reviews_of(app)[0].state == "open"


# --- upload and uploader on the loopback Google --------------------------------------------


@pytest.fixture
def google_app(
    tmp_path: Path, database_url: str, google: FakeGoogleSignIn, fake_google: FakeGoogle
) -> Iterator[Flask]:
    """The Google backend (the loopback Google) with sign-in, Acme Corp handed over."""
    overrides = on_the_fake(fake_google, google_impersonate=SERVICE_USER, inline_workers=2)
    with signin_app(tmp_path, database_url, google, **overrides) as app:
        kickoff(app)
        app.extensions["handover"].clock = Clock(FRIDAY_4PM)
        yield app
    assert fake_google.crashes == []


def sent(fake: FakeGoogle, subject: str) -> list[Any]:
    return [r["message"] for r in fake.gmail.sent if str(r["message"]["Subject"]).startswith(
        subject)]


def test_an_upload_on_google_lands_in_drive_and_is_reviewed_once(
    google_app: Flask, google: FakeGoogleSignIn, fake_google: FakeGoogle
) -> None:
    am = client_as(google_app, google, AM)
    key = "a" * 32

    first = upload(am, "Amendment 1 - Acme Corp.pdf", b"%PDF-1.7 amendment", key=key)
    again = upload(am, "Amendment 1 - Acme Corp.pdf", b"%PDF-1.7 amendment", key=key)

    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    [review] = reviews_of(google_app)
    file = fake_google.drive.files[review.file_id]
    assert file["parents"] == [_contracts_folder(google_app)]
    assert file["mimeType"] == "application/pdf"  # stored as uploaded, not converted
    assert fake_google.drive.content[review.file_id] == b"%PDF-1.7 amendment"
    assert (review.kind, review.uploaded_by) == ("amendment", AM)
    sync_drive_again(google_app)
    assert len(reviews_of(google_app)) == 1 and reviews_of(google_app)[0].state == "open"
    assert len(sent(fake_google, "Contract review:")) == 1
    # Told of the decision: the AM, who is the uploader too, once.
    page = confirmation(google_app, google, decide(google_app, google, review.id, "approved"))
    assert "Recorded: approved. The AM and uploader Ada Lane was told." in page
    [mail] = sent(fake_google, "Contract draft Amendment 1 - Acme Corp.pdf")
    assert str(mail["To"]) == AM


def test_on_google_the_uploader_is_drives_last_modifying_user_and_a_client_is_never_told(
    google_app: Flask, google: FakeGoogleSignIn, fake_google: FakeGoogle
) -> None:
    folder = _contracts_folder(google_app)
    ours = fake_google.drive.add_file(
        "SOW - Acme Corp.docx", [folder], mime_type=DOCX, content=b"PK1", modified_by=SALES
    )
    theirs = fake_google.drive.add_file(
        "MSA - Acme Corp.pdf", [folder], content=b"%PDF", modified_by="cleo@acme.example"
    )
    own = fake_google.drive.add_file("Contract - Acme Corp.pdf", [folder], content=b"%PDF")
    sync_drive_again(google_app)
    by_file = {r.file_id: r for r in reviews_of(google_app)}
    assert by_file[ours["id"]].uploaded_by == SALES
    assert by_file[theirs["id"]].uploaded_by == "cleo@acme.example"
    assert by_file[own["id"]].uploaded_by is None  # the service user's own: nobody to tell

    done = decide(google_app, google, by_file[theirs["id"]].id, "approved")
    page = confirmation(google_app, google, done)
    assert "The uploader is outside the agency and was not told" in page
    [mail] = sent(fake_google, "Contract draft MSA - Acme Corp.pdf")
    assert str(mail["To"]) == AM and "acme.example" not in str(mail["To"])


def test_a_decision_whose_email_was_lost_is_told_by_the_sweep_once(app: Flask) -> None:
    from service import jobs
    from service.workflows import contracts

    review_id = a_review(app)
    services = app.extensions["handover"]
    # The decision committed, then the process died before its email went out.
    contracts.decide(review_id, "approved", "", actor=PM, actor_role="project_manager",
                     db=services.db, clock=services.clock)
    assert outbox(app, "Contract draft") == []

    jobs.sweep(services)
    services.tasks.wait_idle()
    jobs.sweep(services)  # told already: nothing more
    services.tasks.wait_idle()

    [mail] = outbox(app, "Contract draft SOW - Acme Corp v1.docx")
    assert mail["To"] == AM and "approved" in str(mail["Subject"])
    assert reviews_of(app)[0].decision_told_at is not None


def test_two_submits_at_once_on_google_make_one_file_and_one_review(
    google_app: Flask, google: FakeGoogleSignIn, fake_google: FakeGoogle
) -> None:
    import threading

    clients = [client_as(google_app, google, PM) for _ in range(2)]
    # Drive's search is eventually consistent: a new file shows in files.list a little
    # later, so looking it up by its properties first cannot stop the second upload.
    fake_google.drive.list_lag = 5.0
    answers: list[int] = []
    start = threading.Barrier(2)

    def send(client: Any) -> None:
        page = client.get("/reviews/upload").get_data(as_text=True)
        fields = {"csrf_token": csrf_of(page), "account_key": "acmecorp.example",
                  "upload_key": "same-form-twice"}
        body, content_type = multipart(fields, "SOW - Acme Corp v3.pdf", b"%PDF v3")
        start.wait()
        answers.append(client.post("/reviews/upload", data=body,
                                   content_type=content_type).status_code)

    threads = [threading.Thread(target=send, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert answers == [303, 303]
    named = [f for f in fake_google.drive.files.values() if f["name"] == "SOW - Acme Corp v3.pdf"]
    assert len(named) == 1
    assert len(reviews_of(google_app)) == 1
    google_app.extensions["handover"].tasks.wait_idle()
    assert len(sent(fake_google, "Contract review: SOW - Acme Corp v3.pdf")) == 1
    # The same form sent again with another file is another draft.
    again = upload(clients[0], "SOW - Acme Corp v4.pdf", b"%PDF v4", key="same-form-twice")
    assert again.status_code == 303 and len(reviews_of(google_app)) == 2
