"""The Calendar port on Calendar v3, with Meet links through conferenceData.

Events are inserted with their deterministic id, so an insert repeated after a lost answer,
a crash or a second worker gets 409: the existing event is then read and patched to the
plan, only where it differs, and never made twice. Every time carries an IANA timeZone
(recurring events need one to expand their rules).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from integrations.google.auth import Clients
from integrations.google.calendar_body import (
    MAX_GENERATIONS,
    MEET_READS,
    SERVICE,
    changes,
    check_event_id,
    event_body,
    meet_status,
    next_meet_request,
    parse_instant,
    to_ref,
    utc_text,
)
from integrations.google.errors import (
    Conflict,
    GoogleError,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from integrations.google.execute import RetryPolicy, run, run_batch
from integrations.ports import Busy, CalendarEvent, EventRef, EventState, above

log = logging.getLogger("integrations.google")

FREEBUSY_MAX = 50  # calendars per freebusy.query (Google's calendarExpansionMax)
GONE = (404, 410)  # 410: deleted already
# Acting as the organiser was refused (delegation not allowed for them, no calendar).
REFUSED = (Unauthenticated, PermissionDenied, NotFound)


class GoogleCalendar:
    """Meetings in the service user's calendar, invitations sent by Google."""

    def __init__(
        self,
        clients: Clients,
        *,
        policy: RetryPolicy,
        calendar_id: str = "primary",
        send_updates: str = "all",
    ) -> None:
        self._clients = clients
        self._policy = policy
        self._calendar_id = calendar_id
        self._send_updates = send_updates

    # --- the port -------------------------------------------------------------------

    def upsert_event(self, event: CalendarEvent) -> EventRef:
        """Make the event, or bring the existing one with that id to this state.

        A new event is made in its organiser's calendar, acting as them (domain-wide
        delegation); if Google refuses that, in the service user's, and the ref says why.
        An event stays in the calendar that holds it (`event.calendar`): never a second.
        The Meet link is "" while Google is still creating it; a later upsert reads it.
        """
        plan = event_body(event)
        if event.calendar:
            # Held there already: read and patch it (no insert to be refused first).
            try:
                item = self._to_plan(plan, event.calendar)
            except GoogleError as error:
                if error.status not in GONE:
                    raise
                return self._upsert_in(event.calendar, plan)
            return to_ref(self._meet_ready(item, event.calendar), event.calendar)
        if event.organizer is None:
            return self._upsert_in(SERVICE, plan)
        organiser = event.organizer.email.lower()
        try:
            return self._upsert_in(organiser, plan)
        except REFUSED as refused:
            log.warning("acting as %s refused, the service user sends: %s", organiser, refused)
            why = (
                f"sent from the service's calendar: Google did not let the service act as "
                f"{organiser} (ask the Workspace admin to allow domain-wide delegation for them)"
            )
            ref = self._upsert_in(SERVICE, plan)
            return EventRef(ref.id, ref.url, ref.meet_url, calendar=SERVICE, fallback=why)

    def read_event(self, event_id: str, *, calendar: str = "") -> EventState | None:
        """Return the event as it stands in its calendar (moved or cancelled by a person)."""
        where = calendar or SERVICE
        request = self._events_of(where).get(calendarId=where, eventId=check_event_id(event_id))
        try:
            item = self._run(request)
        except GoogleError as error:
            if error.status in GONE:
                return None
            raise
        zone = item.get("start", {}).get("timeZone")
        tzinfo = ZoneInfo(zone) if zone else None
        start = parse_instant(item["start"]["dateTime"], tzinfo)
        end = parse_instant(item["end"]["dateTime"], tzinfo)
        return EventState(event_id, start, end, cancelled=item.get("status") == "cancelled")

    def upsert_events(self, events: Sequence[CalendarEvent]) -> list[EventRef]:
        """Upsert several events with one batch of inserts; answer their refs in order."""
        plans = [event_body(e) for e in events]
        requests = {str(i): self._insert(plan) for i, plan in enumerate(plans)}
        outcome = run_batch(self._client(), requests, policy=self._policy)
        items: dict[str, Mapping[str, Any]] = {}
        failure: GoogleError | None = None
        for i, plan in enumerate(plans):
            error = outcome.errors.get(str(i))
            if error is None:
                items[str(i)] = outcome.results[str(i)]
            elif isinstance(error, Conflict):
                items[str(i)] = self._reconcile_item(plan, SERVICE)
            else:
                failure = failure or error
        if failure is not None:
            raise failure  # the others are in place; a retry of the whole list is safe
        items = self._meets_ready(items, SERVICE)
        return [to_ref(items[str(i)]) for i in range(len(plans))]

    def cancel_event(self, event_id: str, *, calendar: str = "") -> None:
        """Cancel the event (in the calendar that holds it) and tell its attendees; a
        missing event is fine."""
        where = calendar or self._calendar_id
        request = self._events_of(where).delete(
            calendarId=where,
            eventId=check_event_id(event_id),
            sendUpdates=self._send_updates,
        )
        try:
            self._run(request)
        except GoogleError as error:
            if error.status not in GONE:
                raise

    def busy(self, emails: Sequence[str], start: datetime, end: datetime) -> dict[str, list[Busy]]:
        """Return each person's busy intervals between start and end, in UTC.

        A calendar Google cannot read (another domain, no such user) counts as free.
        """
        low, high = utc_text(start, "start"), utc_text(end, "end")
        # Addresses are case-insensitive: ask once per person, in lower case.
        wanted = list(dict.fromkeys(e.strip().lower() for e in emails))
        found: dict[str, list[Busy]] = {}
        for first in range(0, len(wanted), FREEBUSY_MAX):
            chunk = wanted[first : first + FREEBUSY_MAX]
            body = {"timeMin": low, "timeMax": high, "items": [{"id": e} for e in chunk]}
            answer = self._run(self._freebusy().query(body=body))
            calendars = {k.lower(): v for k, v in (answer.get("calendars") or {}).items()}
            for email in chunk:
                entry = calendars.get(email) or {}
                if entry.get("errors"):
                    log.warning("free/busy of %s unknown: %s", email, entry["errors"])
                found[email] = [
                    Busy(
                        parse_instant(b["start"]).astimezone(UTC),
                        parse_instant(b["end"]).astimezone(UTC),
                    )
                    for b in entry.get("busy") or []
                ]
        return {email: list(found[email.strip().lower()]) for email in emails}

    def describe_occurrence(
        self, event_id: str, original_start: datetime | None, description: str, *,
        calendar: str = "",
    ) -> None:
        """Put text on top of one occurrence's description, above what the series (or the
        single event) says: a series' instance is patched under Google's instance id
        `<series id>_<rule start, UTC, YYYYMMDDTHHMMSSZ>` (which makes it an exception of
        the series); a single event is patched itself. Nobody is notified."""
        target = check_event_id(event_id)
        where = calendar or self._calendar_id  # the organiser's calendar holds the series
        event = self._run(self._events_of(where).get(calendarId=where, eventId=target))
        said = str(event.get("description") or "")
        if original_start is not None:
            stamp = utc_text(original_start, "original_start").replace("-", "").replace(":", "")
            target = f"{target}_{stamp}"
        request = self._events_of(where).patch(
            calendarId=where,
            eventId=target,
            body={"description": above(description, said)},
            sendUpdates="none",
        )
        self._run(request)

    # --- internals ------------------------------------------------------------------

    def _client(self) -> Any:
        return self._clients.get("calendar", "v3")

    def _events(self) -> Any:
        return self._clients.collection("calendar", "v3", "events")

    def _events_of(self, calendar: str) -> Any:
        """Return the events collection acting as the owner of `calendar`."""
        if calendar in (SERVICE, self._calendar_id):
            return self._events()
        return self._clients.for_subject(calendar).collection("calendar", "v3", "events")

    def _upsert_in(self, calendar: str, plan: Mapping[str, Any]) -> EventRef:
        """Insert the event into `calendar` acting as its owner; on 409 bring it to the plan."""
        try:
            item = self._run(self._insert(plan, calendar))
        except Conflict:
            item = self._reconcile_item(plan, calendar)
        return to_ref(self._meet_ready(item, calendar), calendar)

    def _upsert_generation(
        self, plan: Mapping[str, Any], calendar: str, base: str, generation: int
    ) -> Mapping[str, Any]:
        """Upsert the plan under its id's next generation (`<id>g<n>`): the id it had was
        purged. Calendar keeps refusing a deleted event's id (409) after it stops showing
        the event (404/410): such an id is never reusable."""
        if generation > MAX_GENERATIONS:
            raise GoogleError(f"no usable event id for {plan['id']} after {MAX_GENERATIONS}")
        again = {**plan, "id": f"{base}g{generation}"}
        try:
            return self._run(self._insert(again, calendar))  # type: ignore[no-any-return]
        except Conflict:
            return self._reconcile_item(again, calendar, generation, base)

    def _reconcile_item(
        self, plan: Mapping[str, Any], calendar: str, generation: int = 0, base: str | None = None
    ) -> Mapping[str, Any]:
        """Bring the existing event with the plan's id to the plan (after a 409); an id
        Calendar refuses but no longer shows (a purged event) moves on to the next
        generation of the id."""
        try:
            return self._to_plan(plan, calendar)
        except GoogleError as error:
            if error.status not in (403, 404, 410):
                raise
            log.warning("event id %s was purged: using its next generation", plan["id"])
            return self._upsert_generation(plan, calendar, base or str(plan["id"]), generation + 1)

    def _meet_ready(self, item: Mapping[str, Any], calendar: str) -> Mapping[str, Any]:
        """Return the event once its Meet is no longer `pending` (see _meets_ready)."""
        return self._meets_ready({"0": item}, calendar)["0"]

    def _meets_ready(
        self, items: dict[str, Mapping[str, Any]], calendar: str
    ) -> dict[str, Mapping[str, Any]]:
        """Read again the events whose Meet is still `pending` (together, in one batch), and
        ask again with a new requestId after a `failure` (Calendar repeats a failure to the
        same requestId); give up after MEET_READS reads, leaving the link to a later upsert."""
        items = dict(items)
        for attempt in range(MEET_READS):
            waiting = {k: v for k, v in items.items() if meet_status(v) in ("pending", "failure")}
            if not waiting:
                break
            if attempt:
                self._policy.sleep(min(self._policy.cap, self._policy.base * 2 ** (attempt - 1)))
            requests = {k: self._meet_request(v, calendar) for k, v in waiting.items()}
            if len(requests) == 1:
                [(key, request)] = requests.items()
                items[key] = self._run(request)
                continue
            outcome = run_batch(self._client_of(calendar), requests, policy=self._policy)
            if outcome.errors:
                raise next(iter(outcome.errors.values()))
            items.update(outcome.results)
        return items

    def _meet_request(self, item: Mapping[str, Any], calendar: str) -> Any:
        where = calendar or self._calendar_id
        if meet_status(item) == "failure":
            return self._events_of(where).patch(
                calendarId=where,
                eventId=item["id"],
                body={"conferenceData": next_meet_request(item)},
                conferenceDataVersion=1,
                sendUpdates="none",  # a new Meet link only: nobody needs telling twice
            )
        return self._events_of(where).get(calendarId=where, eventId=item["id"])

    def _client_of(self, calendar: str) -> Any:
        """Return the Calendar client acting as the owner of `calendar`."""
        if calendar in (SERVICE, self._calendar_id):
            return self._client()
        return self._clients.for_subject(calendar).get("calendar", "v3")

    def _freebusy(self) -> Any:
        return self._clients.collection("calendar", "v3", "freebusy")

    def _run(self, request: Any) -> Any:
        return run(request, policy=self._policy)

    def _insert(self, plan: Mapping[str, Any], calendar: str = "") -> Any:
        where = calendar or self._calendar_id
        return self._events_of(where).insert(
            calendarId=where,
            body=dict(plan),
            conferenceDataVersion=1,
            sendUpdates=self._send_updates,
        )

    def _to_plan(self, plan: Mapping[str, Any], calendar: str = "") -> Mapping[str, Any]:
        """Patch the existing event with the plan's id to the plan, if anything differs."""
        where = calendar or self._calendar_id
        events = self._events_of(where)
        existing = self._run(events.get(calendarId=where, eventId=plan["id"]))
        patch = changes(existing, plan)
        if not patch:
            return existing  # type: ignore[no-any-return]
        request = events.patch(
            calendarId=where,
            eventId=plan["id"],
            body=patch,
            conferenceDataVersion=1,
            sendUpdates=self._send_updates,
        )
        return self._run(request)  # type: ignore[no-any-return]
