"""Each meeting on the handover page links to its event: Google Calendar's own page and
Meet on Google; on the local backend, the reader's subscribable feed that holds it."""

from __future__ import annotations

import re

from flask import Flask

from tests.e2e.signin_support import (  # noqa: F401 - fixtures
    app_fixture,
    client_as,
    google_fixture,
    kickoff,
)
from tests.e2e.test_google_backend import (
    google_app_fixture,  # noqa: F401 - the google_app fixture
    run_handover,
)
from tests.fakes import FakeGoogle
from tests.fakes.oidc import FakeGoogleSignIn


def meeting_links(html: str) -> dict[str, list[tuple[str, str]]]:
    """Return each meeting row's links as (text, href), by meeting kind."""
    rows = re.findall(r'<tr data-meeting="(\w+)"[^>]*>(.*?)</tr>', html, re.S)
    return {
        kind: [(text, href.replace("&amp;", "&"))
               for href, text in re.findall(r'<a href="([^"]+)">([^<]+)</a>', body)]
        for kind, body in rows
    }  # fmt: skip


def test_on_google_each_meeting_links_its_calendar_event_and_meet(
    google_app: Flask, fake_google: FakeGoogle
) -> None:
    data = run_handover(google_app)
    html = google_app.test_client().get(f"/handovers/{data['id']}").get_data(as_text=True)
    links = meeting_links(html)
    stored = {eid: ev for (_cal, eid), ev in fake_google.calendar.events.items()}
    events = {e["kind"]: e for e in data["artifacts"]["events"]}
    assert sorted(links) == sorted(events)
    for kind, ref in events.items():
        event = stored[ref["id"]]
        meet = next(p["uri"] for p in event["conferenceData"]["entryPoints"]
                    if p["entryPointType"] == "video")  # fmt: skip
        assert links[kind] == [
            ("Open in Google Calendar", event["htmlLink"]),
            ("Join on Google Meet", meet),
        ], kind


def test_on_the_local_backend_each_meeting_links_its_invitation_and_the_readers_own_feed(
    app: Flask, google: FakeGoogleSignIn
) -> None:
    handover_id = kickoff(app)
    pm = client_as(app, google, "pat@agency.example")
    links = meeting_links(pm.get(f"/handovers/{handover_id}").get_data(as_text=True))
    sent = [kind for kind, found in links.items() if found]
    assert sent == ["sales_handover", "internal_kickoff", "internal_account_sync"]
    feeds = set()
    for kind in sent:
        [(download, file_url), (add, feed)] = links[kind]
        assert (download, add) == ("Download the invitation", "Add your calendar feed")
        assert file_url == f"/handovers/{handover_id}/meetings/{kind}.ics"
        feeds.add(feed)
    [feed] = feeds  # one feed: the reader's own, whatever the meeting
    answer = app.test_client().get(feed.removeprefix("http://localhost"))
    assert answer.status_code == 200 and answer.mimetype == "text/calendar"
    assert b"Sales handover: Acme Corp Commerce Platform" in answer.data
    invitation = pm.get(f"/handovers/{handover_id}/meetings/sales_handover.ics")
    assert invitation.status_code == 200 and invitation.mimetype == "text/calendar"
    assert b"BEGIN:VEVENT" in invitation.data and b"Sales handover: Acme Corp" in invitation.data
    assert "attachment" in invitation.headers["Content-Disposition"]
    # A proposed meeting has no invitation yet; an unknown meeting is no file either.
    assert pm.get(f"/handovers/{handover_id}/meetings/client_kickoff.ics").status_code == 404
    assert pm.get(f"/handovers/{handover_id}/meetings/..%2Fx.ics").status_code == 404
    # Someone not invited gets the invitations, not a feed link for them.
    ops = client_as(app, google, "ola@agency.example")
    for kind, found in meeting_links(
        ops.get(f"/handovers/{handover_id}").get_data(as_text=True)
    ).items():
        assert [text for text, _ in found] == (["Download the invitation"] if kind in sent else [])
    # Who may not see the handover may not download its invitations.
    stranger = client_as(app, google, "pia@agency.example")
    assert stranger.get(f"/handovers/{handover_id}/meetings/sales_handover.ics").status_code == 403
