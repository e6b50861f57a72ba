"""Calendar v3: events (insert/get/list/patch/update/delete) and freebusy.query.

Calendar id "primary" and the service user's email are the same calendar, keyed "primary"
in `events`. Conference data is dropped unless conferenceDataVersion=1; a hangoutsMeet
createRequest answers `pending` for `meet_pending_reads` responses (the insert counts),
then `success` with a Meet video entry point. Recurring events are expanded with
dateutil for freebusy and singleEvents=true.
"""

from __future__ import annotations

import copy
import re
import secrets
import string
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from dateutil import rrule

from tests.fakes.calendar_time import (
    aware,
    bound,
    format_time,
    instance,
    merged,
    occurrences,
    start_of,
    when,
)
from tests.fakes.core import ApiError, Call, Clock, Reply, State, bad_request, not_found, rfc3339

EVENT_ID = re.compile(r"[a-v0-9]{5,1024}")
INSTANCE_ID = re.compile(r"([a-v0-9]{5,1024})_(\d{8}T\d{6}Z)")
KEEP = ("id", "created", "iCalUID", "kind", "htmlLink", "creator", "organizer")


class CalendarState(State):
    """Events of the service user's calendars and attendees' busy times."""

    def __init__(self, lock: threading.RLock, clock: Clock, user_email: str) -> None:
        super().__init__(lock, clock)
        self.user_email = user_email
        self.reset()

    def reset(self) -> None:
        self.events: dict[tuple[str, str], dict[str, Any]] = {}
        self.busy: dict[str, list[tuple[datetime, datetime]]] = {}
        self.invitations: list[dict[str, Any]] = []  # sendUpdates other than "none"
        self.meet_pending_reads = 1
        # Calendars the caller may not write (Google: 403 requiredAccessLevel), as when the
        # service may not act as that user.
        self.unwritable: set[str] = set()
        # createRequests that end in `failure` after pending (the next ones, in order);
        # Calendar keeps answering that failure to the same requestId.
        self.meet_failures = 0
        # Ids of deleted events Calendar has purged: no longer shown (get answers 404),
        # yet refused to a new event (insert answers 409), as Calendar does.
        self.purged: set[tuple[str, str]] = set()
        self._pending_reads: dict[tuple[str, str], int] = {}
        self._sequence = 0
        self._updated: dict[tuple[str, str], int] = {}

    def handlers(self) -> dict[str, Callable[[Call], Reply]]:
        return {
            "calendar.events.insert": self.events_insert,
            "calendar.events.get": self.events_get,
            "calendar.events.list": self.events_list,
            "calendar.events.patch": self.events_patch,
            "calendar.events.update": self.events_update,
            "calendar.events.delete": self.events_delete,
            "calendar.events.instances": self.events_instances,
            "calendar.freebusy.query": self.freebusy_query,
        }

    def calendar_key(self, calendar_id: str) -> str:
        key = calendar_id.lower()  # calendar ids are email addresses: case does not matter
        return "primary" if key in ("primary", self.user_email.lower()) else key

    def event(self, event_id: str, calendar_id: str = "primary") -> dict[str, Any]:
        """The stored event (KeyError when absent)."""
        return self.events[(self.calendar_key(calendar_id), event_id)]

    def move_event(
        self, event_id: str, calendar_id: str, start: datetime, end: datetime
    ) -> None:
        """Move an event as a person does in Calendar's own page (attendees are told)."""
        with self.lock:
            key = (self.calendar_key(calendar_id), event_id)
            event = copy.deepcopy(self.events[key])
            zone = event["start"].get("timeZone") or "UTC"
            tzinfo = ZoneInfo(zone)
            event["start"] = {"dateTime": start.astimezone(tzinfo).isoformat(), "timeZone": zone}
            event["end"] = {"dateTime": end.astimezone(tzinfo).isoformat(), "timeZone": zone}
            event["sequence"] = event.get("sequence", 0) + 1
            self._store(key, event)

    def cancel_by_person(self, event_id: str, calendar_id: str) -> None:
        """Cancel an event as its organiser does in Calendar's own page."""
        with self.lock:
            key = (self.calendar_key(calendar_id), event_id)
            event = copy.deepcopy(self.events[key])
            event["status"] = "cancelled"
            self._store(key, event)

    def _writable(self, calendar: str) -> None:
        if calendar in {c.lower() for c in self.unwritable}:
            raise ApiError(
                403, "You need to have writer access to this calendar.", "requiredAccessLevel"
            )

    def add_busy(self, email: str, start: datetime | str, end: datetime | str) -> None:
        """Mark someone busy (as their own calendar would) for freebusy.query."""
        with self.lock:
            begin, finish = (aware(v) for v in (start, end))
            self.busy.setdefault(self.calendar_key(email), []).append((begin, finish))

    # --- validation ---------------------------------------------------------------------

    def _validate(self, event: dict[str, Any]) -> None:
        recurrence = event.get("recurrence") or []
        for line in recurrence:
            if not re.match(r"(RRULE|EXRULE|RDATE|EXDATE)[:;]", line):
                raise bad_request("Invalid recurrence rule.", "invalid")
        start, _ = when(event.get("start"), "start", bool(recurrence))
        end, _ = when(event.get("end"), "end", bool(recurrence))
        if recurrence:
            try:
                rrule.rrulestr("\n".join(recurrence), dtstart=start, forceset=True)
            except (ValueError, TypeError):
                raise bad_request("Invalid recurrence rule.", "invalid") from None
        if end < start:
            raise bad_request("The specified time range is empty.", "timeRangeEmpty")
        for attendee in event.get("attendees") or []:
            if not attendee.get("email"):
                raise bad_request("Missing attendee email.", "required")
            attendee.setdefault("responseStatus", "needsAction")

    def _conference(
        self,
        key: tuple[str, str],
        event: dict[str, Any],
        incoming: Any,
        version: int,
        previous: dict[str, Any] | None,
    ) -> None:
        old = (previous or {}).get("conferenceData")
        if version != 1 or incoming is ...:
            event.pop("conferenceData", None)
            if old is not None:
                event["conferenceData"] = old
            return
        if incoming is None:
            event.pop("conferenceData", None)
            return
        request = incoming.get("createRequest")
        if request is None:
            event["conferenceData"] = incoming
            return
        kind = (request.get("conferenceSolutionKey") or {}).get("type")
        if kind != "hangoutsMeet" or not request.get("requestId"):
            raise bad_request("Invalid conference type value.", "invalid")
        if old and (old.get("createRequest") or {}).get("requestId") == request["requestId"]:
            event["conferenceData"] = old
            return
        event["conferenceData"] = {
            "createRequest": {
                "requestId": request["requestId"],
                "conferenceSolutionKey": {"type": kind},
                "status": {"statusCode": "pending"},
            }
        }
        self._pending_reads[key] = self.meet_pending_reads

    def _render(self, key: tuple[str, str]) -> dict[str, Any]:
        """The event as a response shows it; each rendering counts as one read."""
        event = self.events[key]
        conference = event.get("conferenceData")
        if conference and key in self._pending_reads:
            if self._pending_reads[key] > 0:
                self._pending_reads[key] -= 1
            elif self.meet_failures > 0:
                self.meet_failures -= 1
                del self._pending_reads[key]
                conference["createRequest"]["status"] = {"statusCode": "failure"}
            else:
                del self._pending_reads[key]
                code = "-".join(
                    "".join(secrets.choice(string.ascii_lowercase) for _ in range(n))
                    for n in (3, 4, 3)
                )
                conference["createRequest"]["status"] = {"statusCode": "success"}
                conference["entryPoints"] = [
                    {
                        "entryPointType": "video",
                        "uri": f"https://meet.google.com/{code}",
                        "label": f"meet.google.com/{code}",
                    }
                ]
                conference["conferenceSolution"] = {
                    "key": {"type": "hangoutsMeet"},
                    "name": "Google Meet",
                    "iconUri": "https://fonts.gstatic.com/s/i/productlogos/meet_2020q4/v6/"
                    "web-512dp/logo_meet_2020q4_color_2x_web_512dp.png",
                }
                conference["conferenceId"] = code
                event["hangoutLink"] = f"https://meet.google.com/{code}"
        return copy.deepcopy(event)

    def _store(self, key: tuple[str, str], event: dict[str, Any]) -> None:
        self._sequence += 1
        self._updated[key] = self._sequence
        event["updated"] = self.clock.stamp()
        event["etag"] = f'"{3000000000000000 + self._sequence}"'
        self.events[key] = event

    def _invite(self, call: Call, event: dict[str, Any], action: str) -> None:
        mode = call.param("sendUpdates") or ("all" if call.param("sendNotifications") else "none")
        if mode != "none":
            self.invitations.append(
                {
                    "action": action,
                    "eventId": event["id"],
                    "mode": mode,
                    "attendees": [a["email"] for a in event.get("attendees") or []],
                }
            )

    def purge_deleted(self) -> list[str]:
        """Purge the cancelled events, as Calendar does a while after a delete; return
        their ids. Their ids stay taken."""
        with self.lock:
            gone = [key for key, event in self.events.items() if event.get("status") == "cancelled"]
            for key in gone:
                del self.events[key]
                self.purged.add(key)
            return [key[1] for key in gone]

    def _existing(self, call: Call) -> tuple[tuple[str, str], dict[str, Any]]:
        key = (self.calendar_key(call.params["calendarId"]), call.params["eventId"])
        if key not in self.events:
            made = self._instance(key)
            if made is None:
                raise not_found("Not Found")
            self._store(key, made)
        return key, self.events[key]

    def _instance(self, key: tuple[str, str]) -> dict[str, Any] | None:
        """Return a series' instance addressed by its id, as Google does: instance ids are
        `<series id>_<original start, UTC, YYYYMMDDTHHMMSSZ>`; writing one makes it an
        exception, kept under that id and shown in place of the rule's occurrence (reading
        one does not)."""
        match = INSTANCE_ID.fullmatch(key[1])
        series = self.events.get((key[0], match.group(1))) if match else None
        if match is None or series is None or not series.get("recurrence"):
            return None
        if series.get("status") == "cancelled":
            return None
        original = datetime.strptime(match.group(2), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        for start, end in occurrences(series, original, original + timedelta(seconds=1)):
            if start.astimezone(UTC) == original:
                made = instance(series, start, end)
                made.pop("etag", None)
                return made
        return None

    # --- handlers -----------------------------------------------------------------------

    def events_insert(self, call: Call) -> Reply:
        body = copy.deepcopy(call.body or {})
        calendar = self.calendar_key(call.params["calendarId"])
        event_id = body.get("id") or "".join(
            secrets.choice("abcdefghijklmnopqrstuv0123456789") for _ in range(26)
        )
        if not EVENT_ID.fullmatch(event_id):
            raise bad_request("Invalid resource id value.", "invalid")
        self._writable(calendar)
        key = (calendar, event_id)
        if key in self.events or key in self.purged:
            raise ApiError(409, "The requested identifier already exists.", "duplicate")
        self._validate(body)
        incoming = body.pop("conferenceData", ...)
        stamp = self.clock.stamp()
        organizer = {"email": self.user_email if calendar == "primary" else calendar, "self": True}
        event = {
            "kind": "calendar#event",
            **body,
            "id": event_id,
            "status": body.get("status") or "confirmed",
            "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
            "created": stamp,
            "creator": {"email": self.user_email, "self": True},
            "organizer": organizer,
            "iCalUID": body.get("iCalUID") or f"{event_id}@google.com",
            "sequence": body.get("sequence", 0),
            "eventType": "default",
            "reminders": body.get("reminders") or {"useDefault": True},
        }
        self._conference(key, event, incoming, call.param("conferenceDataVersion", 0), None)
        self._store(key, event)
        self._invite(call, event, "insert")
        return Reply(json=self._render(key))

    def events_get(self, call: Call) -> Reply:
        key = (self.calendar_key(call.params["calendarId"]), call.params["eventId"])
        if key not in self.events:
            made = self._instance(key)
            if made is not None:
                return Reply(json=made)  # an instance only read stays part of its series
        key, _ = self._existing(call)
        return Reply(json=self._render(key))

    def _replace(self, call: Call, merged: dict[str, Any], incoming: Any) -> Reply:
        key, previous = self._existing(call)
        self._validate(merged)
        for name in KEEP:
            if name in previous:
                merged[name] = previous[name]
        significant = ("start", "end", "recurrence", "location", "attendees", "summary")
        if any(merged.get(k) != previous.get(k) for k in significant):
            merged["sequence"] = previous.get("sequence", 0) + 1
        self._conference(key, merged, incoming, call.param("conferenceDataVersion", 0), previous)
        self._store(key, merged)
        self._invite(call, merged, "update")
        return Reply(json=self._render(key))

    def events_patch(self, call: Call) -> Reply:
        _, previous = self._existing(call)
        body = copy.deepcopy(call.body or {})
        incoming = body.pop("conferenceData", ...)
        merged = _merge(copy.deepcopy(previous), body)
        merged.pop("conferenceData", None)
        return self._replace(call, merged, incoming)

    def events_update(self, call: Call) -> Reply:
        body = copy.deepcopy(call.body or {})
        incoming = body.pop("conferenceData", ...)
        body.setdefault("status", "confirmed")
        body.setdefault("reminders", {"useDefault": True})
        return self._replace(
            call, {"kind": "calendar#event", "eventType": "default", **body}, incoming
        )

    def events_delete(self, call: Call) -> Reply:
        key, event = self._existing(call)
        if event.get("status") == "cancelled":
            raise ApiError(410, "Resource has been deleted", "deleted")
        event["status"] = "cancelled"
        self._store(key, event)
        self._invite(call, event, "delete")
        return Reply(status=204)

    def events_list(self, call: Call) -> Reply:
        calendar = self.calendar_key(call.params["calendarId"])
        sync = call.param("syncToken")
        window_min = bound(call.param("timeMin"), "timeMin")
        window_max = bound(call.param("timeMax"), "timeMax")
        single = call.param("singleEvents", False)
        if call.param("orderBy") == "startTime" and not single:
            raise bad_request(
                "The requested ordering is not available for the particular query.", "badRequest"
            )
        since = 0
        if sync is not None:
            if not sync.startswith("sync_") or not sync[5:].isdigit():
                raise ApiError(
                    410,
                    "Sync token is no longer valid, a full sync is required.",
                    "fullSyncRequired",
                )
            since = int(sync[5:])
        private = [_pair(v) for v in call.param("privateExtendedProperty") or []]
        shared = [_pair(v) for v in call.param("sharedExtendedProperty") or []]
        text = (call.param("q") or "").lower()
        items: list[dict[str, Any]] = []
        for key, event in self.events.items():
            if key[0] != calendar or self._updated.get(key, 0) <= since:
                continue
            if event.get("status") == "cancelled" and not (call.param("showDeleted") or sync):
                continue
            props = event.get("extendedProperties") or {}
            if any((props.get("private") or {}).get(k) != v for k, v in private):
                continue
            if any((props.get("shared") or {}).get(k) != v for k, v in shared):
                continue
            if call.param("iCalUID") and event.get("iCalUID") != call.param("iCalUID"):
                continue
            if (
                text
                and text
                not in repr([event.get(k) for k in ("summary", "description", "location")]).lower()
            ):
                continue
            windowed = window_min is not None or window_max is not None
            spans = list(occurrences(event, window_min, window_max)) if windowed or single else []
            if windowed and not spans:
                continue
            if single and event.get("recurrence"):
                made = (instance(self._render(key), s, e) for s, e in spans)
                # An instance written as an exception is listed as itself, not twice.
                items.extend(i for i in made if (calendar, i["id"]) not in self.events)
            else:
                items.append(self._render(key))
        if call.param("orderBy") == "startTime":
            items.sort(key=lambda e: start_of(e))
        elif call.param("orderBy") == "updated":
            items.sort(key=lambda e: e.get("updated", ""))
        token = call.param("pageToken") or "0"
        if not token.isdigit():
            raise bad_request("Invalid page token.", "invalid", "pageToken")
        offset = int(token)
        size = call.param("maxResults", 250)
        page = items[offset : offset + size]
        result: dict[str, Any] = {
            "kind": "calendar#events",
            "summary": calendar,
            "updated": self.clock.stamp(),
            "timeZone": "UTC",
            "accessRole": "owner",
            "defaultReminders": [],
            "items": page,
        }
        if offset + size < len(items):
            result["nextPageToken"] = str(offset + size)
        else:
            result["nextSyncToken"] = f"sync_{self._sequence}"
        return Reply(json=result)

    def events_instances(self, call: Call) -> Reply:
        key, series = self._existing(call)
        if not series.get("recurrence"):
            raise bad_request("The event is not a recurring event.", "badRequest")
        low = bound(call.param("timeMin"), "timeMin")
        high = bound(call.param("timeMax"), "timeMax")
        items = []
        for start, end in occurrences(series, low, high):
            made = instance(self._render(key), start, end)
            own = (key[0], made["id"])
            items.append(self._render(own) if own in self.events else made)
        size = call.param("maxResults", 250)
        token = call.param("pageToken") or "0"
        if not token.isdigit():
            raise bad_request("Invalid page token.", "invalid", "pageToken")
        offset = int(token)
        result: dict[str, Any] = {
            "kind": "calendar#events",
            "summary": key[0],
            "updated": self.clock.stamp(),
            "items": items[offset : offset + size],
        }
        if offset + size < len(items):
            result["nextPageToken"] = str(offset + size)
        return Reply(json=result)

    def freebusy_query(self, call: Call) -> Reply:
        body = call.body or {}
        low = bound(body.get("timeMin"), "timeMin")
        high = bound(body.get("timeMax"), "timeMax")
        if low is None or high is None:
            raise bad_request("Missing timeMin or timeMax.", "required")
        if high < low:
            raise bad_request("The specified time range is empty.", "timeRangeEmpty")
        zone = ZoneInfo(body["timeZone"]) if body.get("timeZone") else UTC
        calendars = {}
        for item in body.get("items") or []:
            who = self.calendar_key(item.get("id", ""))
            intervals = list(self.busy.get(who, []))
            for (calendar, _), event in self.events.items():
                if event.get("status") == "cancelled" or event.get("transparency") == "transparent":
                    continue
                attending = any(
                    self.calendar_key(a.get("email", "")) == who
                    and a.get("responseStatus") != "declined"
                    for a in event.get("attendees") or []
                )
                if calendar == who or attending:
                    intervals.extend(occurrences(event, low, high))
            busy = []
            for start, end in merged(intervals, low, high):
                busy.append({"start": format_time(start, zone), "end": format_time(end, zone)})
            calendars[item.get("id", "")] = {"busy": busy}
        return Reply(
            json={
                "kind": "calendar#freeBusy",
                "timeMin": rfc3339(low),
                "timeMax": rfc3339(high),
                "calendars": calendars,
            }
        )


def _merge(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            _merge(target[key], value)
        elif value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return target


def _pair(value: str) -> tuple[str, str]:
    key, sep, wanted = value.partition("=")
    if not sep:
        raise bad_request("Invalid extended property value.", "invalid")
    return key, wanted
