"""The handover form over real HTTP: CSRF, errors at each field, double submits, the PM."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

import requests
from sqlalchemy import func, select

from service.demo import example_handover
from service.store.models import HandoverRow
from service.web.formdata import flatten
from tests.conftest import LiveServer, outbox_subjects, told
from tests.fakes.htmltext import html_to_text


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def form_fields(data: dict[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for key, value in flatten(data).items():
        if isinstance(value, list):
            pairs += [(key, v) for v in value]
        elif value is not None:
            pairs.append((key, str(value)))
    return pairs


def stored(server: LiveServer) -> int:
    with server.app.extensions["handover"].db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(HandoverRow)) or 0)


def open_form(server: LiveServer) -> tuple[requests.Session, str, str]:
    browser = requests.Session()
    page = browser.get(f"{server.url}/handovers/new", timeout=10)
    assert page.status_code == 200
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page.text)
    assert key
    return browser, csrf_of(page.text), key.group(1)


def test_the_form_stores_the_handover_and_shows_its_page(live_server: LiveServer) -> None:
    browser, token, key = open_form(live_server)
    fields = form_fields(example_handover()) + [("csrf_token", token), ("idempotency_key", key)]
    answer = browser.post(
        f"{live_server.url}/handovers", data=fields, timeout=10, allow_redirects=False
    )
    assert answer.status_code == 303
    page_url = live_server.url + answer.headers["Location"]
    live_server.app.extensions["handover"].tasks.wait_idle(timeout=30)
    page = browser.get(page_url, timeout=10)
    assert "Acme Corp: Acme Corp Commerce Platform" in page.text
    assert 'id="brief-link"' in page.text
    brief_url = re.search(r'id="brief-link" href="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    assert brief_url.startswith("/files/")  # a path on whatever address the page has
    brief = browser.get(urljoin(page_url, brief_url), timeout=10)  # as a browser resolves it
    assert brief.status_code == 200
    assert "1. Why did the client buy the product?" in brief.text  # the handbook's words

    # A double click (the same hidden key) lands on the same handover.
    again = browser.post(
        f"{live_server.url}/handovers", data=fields, timeout=10, allow_redirects=False
    )
    assert again.headers["Location"] == answer.headers["Location"]
    assert stored(live_server) == 1


def test_a_form_without_csrf_token_is_refused(live_server: LiveServer) -> None:
    browser, _token, key = open_form(live_server)
    answer = browser.post(
        f"{live_server.url}/handovers",
        data=form_fields(example_handover()) + [("idempotency_key", key)],
        timeout=10,
    )
    assert answer.status_code == 400
    assert "form expired or was forged" in answer.text
    assert stored(live_server) == 0


def test_a_forged_csrf_token_is_refused(live_server: LiveServer) -> None:
    browser, token, key = open_form(live_server)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    answer = browser.post(
        f"{live_server.url}/handovers",
        data=form_fields(example_handover()) + [("csrf_token", forged), ("idempotency_key", key)],
        timeout=10,
    )
    assert answer.status_code == 400
    assert stored(live_server) == 0


def test_a_csrf_token_from_another_session_is_refused(live_server: LiveServer) -> None:
    _other, token, key = open_form(live_server)
    stranger = requests.Session()
    answer = stranger.post(
        f"{live_server.url}/handovers",
        data=form_fields(example_handover()) + [("csrf_token", token), ("idempotency_key", key)],
        timeout=10,
    )
    assert answer.status_code == 400
    assert stored(live_server) == 0


def test_errors_show_at_each_field_and_keep_what_was_typed(live_server: LiveServer) -> None:
    browser, token, key = open_form(live_server)
    data = example_handover()
    data["client"]["timezone"] = "Moon/Base"
    data["delivery_team"][1]["email"] = "dee-at-agency"
    fields = form_fields(data) + [("csrf_token", token), ("idempotency_key", key)]
    answer = browser.post(f"{live_server.url}/handovers", data=fields, timeout=10)
    assert answer.status_code == 422
    assert re.search(
        r'id="client.timezone-error">Choose the client&#39;s time zone from the list: type a city',
        answer.text,
    )
    assert re.search(r'id="delivery_team.1.email-error">Enter an email address', answer.text)
    assert 'value="Moon/Base"' in answer.text
    assert 'value="Replatform' not in answer.text  # textareas keep text as content, not value
    assert "Replatform the storefront" in answer.text
    assert 'value="Dee Signer"' in answer.text
    assert stored(live_server) == 0


def summary_of(html: str) -> list[tuple[str, str]]:
    """Return (link target, text) for each entry of the page's error summary."""
    box = re.search(r'<div class="error-summary"(.*?)</div>', html, re.S)
    assert box, "the page has an error summary"
    return re.findall(r'<li><a href="#([^"]+)">([^<]+)</a></li>', box.group(1))


def test_the_error_summary_lists_every_error_in_words_with_a_link_to_its_field(
    live_server: LiveServer,
) -> None:
    browser, token, key = open_form(live_server)
    data = example_handover()
    data["client"]["timezone"] = "Moon/Base"
    data["client_contacts"][0]["roles"] = ["buyer"]  # no executive sponsor any more
    data["client_contacts"][1]["email"] = "not-an-address"
    data["delivery_team"][0]["country"] = "India"
    fields = form_fields(data) + [("csrf_token", token), ("idempotency_key", key)]
    answer = browser.post(f"{live_server.url}/handovers", data=fields, timeout=10)

    assert answer.status_code == 422
    assert "There are 4 problems" in answer.text
    entries = summary_of(answer.text)
    assert [target for target, _ in entries] == [
        "client.timezone",
        "delivery_team.0.country",
        "client_contacts",
        "client_contacts.1.email",
    ]
    texts = [text for _, text in entries]
    assert texts[1] == "Team member 1: country: Enter IN, the two-letter code of India."
    assert texts[2].startswith("Client contacts: Tick")
    assert texts[3].startswith("Client contact 2: email: Enter an email address")
    for target in ("client.timezone", "delivery_team.0.country", "client_contacts.1.email"):
        element = re.search(rf'<(?:input|select)[^>]*\bid="{re.escape(target)}"[^>]*>', answer.text)
        assert element, target
        assert 'aria-invalid="true"' in element.group(0), element.group(0)
        assert f'aria-describedby="{target}-error"' in element.group(0), element.group(0)
        assert f'id="{target}-error"' in answer.text
    assert re.search(r'<fieldset id="client_contacts"[^>]*aria-describedby="client_contacts-error"',
                     answer.text)
    for internal in ("client_contacts.1", "executive_sponsor", "IANA"):
        assert internal not in re.sub(r'(id|for|name|href|aria-describedby|value)="[^"]*"', "",
                                      answer.text), internal
    assert stored(live_server) == 0


def test_the_pickers_offer_every_zone_and_country_in_words(live_server: LiveServer) -> None:
    page = requests.get(f"{live_server.url}/handovers/new", timeout=10).text
    zones = re.findall(r'<option value="([^"]+)" label="([^"]+)">', page)
    assert len(zones) > 400
    assert ("Asia/Kolkata", "Kolkata (India, UTC+5:30)") in zones
    assert 'list="zones"' in page and 'id="client.timezone"' in page
    countries = re.findall(r'<option value="([A-Z]{2})" >([^<]+)</option>', page)
    assert ("IN", "India") in countries and ("DE", "Germany") in countries
    assert len(set(countries)) > 100
    assert '<input type="checkbox" name="client_contacts.0.roles" value="executive_sponsor"' in page
    assert "> Executive sponsor</label>" in page
    assert ">Fortnightly (every two weeks)</option>" in page
    # Without the page's script the row buttons (which need it) are not shown.
    assert 'data-add="sales" hidden' in page and 'data-remove="sales" hidden' in page


def test_operations_assigns_the_pm_and_the_brief_is_rewritten_in_place(
    live_server: LiveServer,
) -> None:
    browser, token, key = open_form(live_server)
    data = example_handover()
    data["project_manager"] = None
    fields = form_fields(data) + [("csrf_token", token), ("idempotency_key", key)]
    answer = browser.post(
        f"{live_server.url}/handovers", data=fields, timeout=10, allow_redirects=False
    )
    handover_id = answer.headers["Location"].rsplit("/", 1)[1]
    services = live_server.app.extensions["handover"]
    services.tasks.wait_idle(timeout=30)
    with services.db.transaction() as session:
        from service.store import handovers as repo

        brief = repo.artifact(session, handover_id, "brief")
        assert brief is not None
        brief_id = brief.external_id
    assert "to be assigned by Operations" in services.drive.path_of(brief_id).read_text()

    page = browser.get(f"{live_server.url}/handovers/{handover_id}", timeout=10)
    assign = browser.post(
        f"{live_server.url}/handovers/{handover_id}/project-manager",
        data={
            "csrf_token": csrf_of(page.text),
            "name": "Priya Shah",
            "email": "priya@agency.example",
            "timezone": "Asia/Kolkata",
            "country": "IN",
        },
        timeout=10,
        allow_redirects=False,
    )
    assert assign.status_code == 303
    services.tasks.wait_idle(timeout=30)
    with services.db.transaction() as session:
        from service.store import handovers as repo

        row = repo.get_handover(session, handover_id)
        assert row is not None
        assert {s.state for s in row.steps} == {"done"}
        assert repo.artifact(session, handover_id, "brief").external_id == brief_id  # type: ignore[union-attr]
    html = services.drive.path_of(brief_id).read_text()
    text = html_to_text(html)  # the people table's row: name, role, email, time zone
    assert "Priya Shah\nProject Manager\npriya@agency.example\nKolkata time\n" in text
    assert "to be assigned by Operations" not in text
    assert re.search(r"\nSales handover: \w{3} \d{1,2} \w{3} \d{4}, ", text)  # planned now
    briefs = list(services.settings.workspace_dir.rglob("Project Brief*"))
    assert len(briefs) == 1
    folder_id = next(a.external_id for a in row.artifacts if a.kind == "folder")
    grants = {g.email for g in services.drive.grants(folder_id)}
    assert "priya@agency.example" in grants
    # The new PM gets the handover email; the first one is not sent again.
    assert told(services).count("priya@agency.example") == 1
    assert len(told(services)) == len(set(told(services)))


def test_a_bad_pm_shows_the_error(live_server: LiveServer) -> None:
    browser, token, key = open_form(live_server)
    fields = form_fields(example_handover()) + [("csrf_token", token), ("idempotency_key", key)]
    answer = browser.post(
        f"{live_server.url}/handovers", data=fields, timeout=10, allow_redirects=False
    )
    handover_id = answer.headers["Location"].rsplit("/", 1)[1]
    page = browser.get(f"{live_server.url}/handovers/{handover_id}", timeout=10)
    bad = browser.post(
        f"{live_server.url}/handovers/{handover_id}/project-manager",
        data={"csrf_token": csrf_of(page.text), "name": "X", "email": "nope"},
        timeout=10,
    )
    assert bad.status_code == 422
    assert "Enter an email address such as ada@agency.example." in bad.text
    assert "should" not in bad.text  # no validator phrases


def test_the_handover_is_changed_and_cancelled_from_its_page(live_server: LiveServer) -> None:
    browser, token, key = open_form(live_server)
    fields = form_fields(example_handover()) + [("csrf_token", token), ("idempotency_key", key)]
    answer = browser.post(f"{live_server.url}/handovers", data=fields, timeout=10, allow_redirects=False)
    handover_id = answer.headers["Location"].rsplit("/", 1)[1]
    services = live_server.app.extensions["handover"]
    services.tasks.wait_idle(timeout=30)

    edit = browser.get(f"{live_server.url}/handovers/{handover_id}/edit", timeout=10)
    assert 'value="Acme Corp"' in edit.text and "Save the changes" in edit.text
    changed = example_handover()
    changed["delivery_team"].append({"name": "Nia Okafor", "email": "nia@agency.example", "role": "QA"})
    saved = browser.post(
        f"{live_server.url}/handovers/{handover_id}/edit",
        data=form_fields(changed) + [("csrf_token", csrf_of(edit.text))],
        timeout=10, allow_redirects=False,
    )
    assert saved.status_code == 303
    services.tasks.wait_idle(timeout=30)
    data = browser.get(f"{live_server.url}/api/handovers/{handover_id}", timeout=10).json()
    kickoff_event = next(e for e in data["artifacts"]["events"] if e["kind"] == "internal_kickoff")
    assert "nia@agency.example" in kickoff_event["attendees"]

    page = browser.get(f"{live_server.url}/handovers/{handover_id}", timeout=10)
    gone = browser.post(f"{live_server.url}/handovers/{handover_id}/cancel",
                        data={"csrf_token": csrf_of(page.text)}, timeout=10, allow_redirects=False)
    assert gone.status_code == 303
    services.tasks.wait_idle(timeout=30)
    assert browser.get(f"{live_server.url}/api/handovers/{handover_id}", timeout=10).json()["status"] == "cancelled"
    assert stored(live_server) == 1


def stored_payload(services: Any, handover_id: str) -> dict[str, Any]:
    """Return the handover's payload as stored."""
    from service.store import handovers as repo

    with services.db.transaction() as session:
        stored = repo.get_handover(session, handover_id)
        assert stored is not None
        return dict(stored.payload)


def test_the_edit_page_previews_the_change_without_saving_or_sending_it(
    live_server: LiveServer,
) -> None:
    browser, token, key = open_form(live_server)
    fields = form_fields(example_handover()) + [("csrf_token", token), ("idempotency_key", key)]
    answer = browser.post(
        f"{live_server.url}/handovers", data=fields, timeout=10, allow_redirects=False
    )
    handover_id = answer.headers["Location"].rsplit("/", 1)[1]
    services = live_server.app.extensions["handover"]
    services.tasks.wait_idle(timeout=30)
    stored_before = stored_payload(services, handover_id)
    emails_before = outbox_subjects(services)

    edit = browser.get(f"{live_server.url}/handovers/{handover_id}/edit", timeout=10)

    def preview(payload: dict[str, Any], *, signed: bool = True) -> Any:
        token = [("csrf_token", csrf_of(edit.text))] if signed else []
        return browser.post(f"{live_server.url}/handovers/{handover_id}/edit/preview",
                            data=form_fields(payload) + token, timeout=10)

    assert 'id="preview-edit"' in edit.text and "Preview the change" in edit.text
    changed = example_handover()
    changed["delivery_team"].append(
        {"name": "Nia Okafor", "email": "nia@agency.example", "role": "QA"}
    )
    gone = changed["delivery_team"].pop(0)
    changed["project"]["sync_cadence"] = "monthly"
    previewed = preview(changed)

    assert previewed.status_code == 200
    text = re.sub(r"\s+", " ", previewed.text)
    assert 'id="change-heading" tabindex="-1">What saving this change will do' in text
    assert "Delivery team: added Nia Okafor &lt;nia@agency.example&gt;" in text
    assert f"Delivery team: removed {gone['name']}" in text
    assert re.search(r"<li>[^<]*[Kk]ickoff[^<]* keeps its time; invited: Nia Okafor; "
                     rf"taken off the invitation: {gone['name']}\.</li>", text), text
    assert re.search(r"<li>[^<]*Sync[^<]* planned again to run every month", text)
    assert "Nia Okafor: that they now take part (a member of the delivery team)" in text
    assert f"{gone['name']}: that they no longer take part (a member of the delivery team)" in text
    assert "a summary of what changed" in text
    assert 'value="Nia Okafor"' in text  # the form keeps the change, to save it
    # Nothing was saved, sent or queued.
    services.tasks.wait_idle(timeout=30)
    assert stored_payload(services, handover_id) == stored_before
    assert outbox_subjects(services) == emails_before

    same = preview(example_handover())
    assert "Nothing changes: the handover is the same as it is stored." in same.text

    bad = example_handover()
    bad["client"]["domain"] = "other.example"
    refused = preview(bad)
    assert refused.status_code == 422
    assert 'href="#client.domain">Client: email domain: Keep the email domain acme' in refused.text

    forged = preview(changed, signed=False)
    assert forged.status_code == 400  # no CSRF token: refused like every form
