"""The interfaces the workflows call. Adapters in `local/` and `google/` implement them.

Ports take and return our own dataclasses, never Google's JSON. Every method that
creates something is idempotent: it looks for the artifact (by id, then by its
properties) before it makes one, so a retry or a crash never makes a second.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

FOLDER_MIME = "application/vnd.google-apps.folder"
DOC_MIME = "application/vnd.google-apps.document"
# The properties a draft uploaded through the service carries: who uploaded it (Drive's
# lastModifyingUser is then the service user), and the upload's key (one file per key).
UPLOADED_BY = "uploadedBy"
UPLOADED_BY_NAME = "uploadedByName"
UPLOAD_KEY = "uploadKey"


@dataclass(frozen=True)
class DriveFile:
    """A file or folder as the service knows it."""

    id: str
    name: str
    url: str
    mime_type: str
    parents: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Grant:
    """One person's access to a file: role is reader, commenter or writer."""

    email: str
    role: str


class Drive(Protocol):
    """Folders and documents in the agency's Drive."""

    def ensure_folder(
        self, name: str, *, parent_id: str | None, properties: Mapping[str, str]
    ) -> DriveFile:
        """Return the folder with these properties under parent, making it once."""
        ...

    def write_document(
        self,
        name: str,
        html: str,
        *,
        parent_id: str,
        properties: Mapping[str, str],
        existing_id: str | None = None,
    ) -> DriveFile:
        """Write a document from HTML: replace the content of the existing one, or make it once."""
        ...

    def find(self, properties: Mapping[str, str]) -> DriveFile | None:
        """Return the live file carrying all these properties, if any."""
        ...

    def share(self, file_id: str, grants: Sequence[Grant], *, notify: bool) -> list[Grant]:
        """Give each grant access to the file unless it has it already; return those added."""
        ...


@dataclass(frozen=True)
class Made:
    """A file a create call answered with; `new` is False when an earlier attempt made it."""

    file: DriveFile
    new: bool


@runtime_checkable
class DriveIds(Protocol):
    """A Drive that names files before they exist: the id is stored before the create, so a
    repeated create (a retry, a crash) is refused by Drive instead of making a second file."""

    def new_id(self) -> str:
        """Return an id reserved for a file not made yet."""
        ...

    def address(self, file_id: str, mime_type: str) -> str:
        """Return the address a person opens the file at, whether it exists yet or not."""
        ...

    def create_folder(
        self, name: str, *, file_id: str, parent_id: str | None, properties: Mapping[str, str]
    ) -> Made:
        """Make the folder with this reserved id, or return it if an earlier attempt did."""
        ...

    def create_document(
        self,
        name: str,
        html: str,
        *,
        file_id: str,
        parent_id: str,
        properties: Mapping[str, str],
    ) -> Made:
        """Make the document from HTML with this reserved id, or write into the one made."""
        ...


@runtime_checkable
class UploadsFiles(Protocol):
    """A Drive that stores a file's bytes as they are (a contract draft from the browser)."""

    def upload(
        self,
        name: str,
        data: bytes,
        *,
        mime_type: str,
        parent_id: str,
        properties: Mapping[str, str],
        file_id: str | None = None,
    ) -> DriveFile:
        """Store the file under parent, once per properties: a file already carrying them
        (an earlier attempt, a double submit) is returned as it is. `file_id`, reserved
        by DriveIds.new_id and stored first, makes two uploads at once make one file."""
        ...


@runtime_checkable
class SharesFiles(Protocol):
    """A Drive that shares several files side by side."""

    def share_files(
        self,
        shares: Mapping[str, Sequence[Grant]],
        *,
        notify: bool,
        new_files: Collection[str] = (),
    ) -> dict[str, list[Grant]]:
        """Share each file with its grants; return those added per file.

        `new_files` were just made by us and shared with nobody: their permissions are
        not listed first."""
        ...


@runtime_checkable
class TemplateDrive(Protocol):
    """A Drive that copies a template document and fills its `{{placeholders}}`."""

    def template_placeholders(self, doc_id: str) -> set[str]:
        """Return the names of the `{{name}}` placeholders in the document."""
        ...

    def copy_template(
        self,
        template_id: str,
        name: str,
        parent_id: str,
        properties: Mapping[str, str],
        *,
        file_id: str | None = None,
    ) -> DriveFile:
        """Return the copy of the template with these properties (or this id), making it once."""
        ...

    def fill_placeholders(self, doc_id: str, values: Mapping[str, str]) -> None:
        """Replace every `{{name}}` in the document by its value, in one call."""
        ...

    def trash(self, file_id: str) -> None:
        """Move the file to the trash; a missing file is fine."""
        ...


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Email:
    """One message; `key` makes sending it idempotent."""

    key: str
    to: tuple[str, ...]
    subject: str
    text: str
    html: str = ""
    cc: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()


class Mail(Protocol):
    """Email sent as the service user."""

    def send(self, email: Email) -> str:
        """Send the message once per key; return its message id."""
        ...


@dataclass(frozen=True)
class StoredDraft:
    """A message's Gmail draft as recorded before it is sent.

    `sent` once it was; `sent_id` is then the sent message's id, or None when the answer
    to the send was lost (Gmail gives the sent message a new id, unknown to us).
    """

    draft_id: str
    message_id: str
    sent: bool = False
    sent_id: str | None = None


class MailLedger(Protocol):
    """Where the Gmail adapter records each key's draft between creating and sending it.

    Keys are opaque strings of at most 64 characters (the adapter hashes the email's key).
    """

    def draft_of(self, key: str) -> StoredDraft | None:
        """Return the draft recorded for this key, if any."""
        ...

    def keep_draft(self, key: str, draft_id: str, message_id: str) -> StoredDraft:
        """Record the key's draft unless one is recorded already; return the one recorded."""
        ...

    def mark_sent(self, key: str, sent_id: str | None) -> None:
        """Record that the key's draft was sent (as the message `sent_id`, if known)."""
        ...


class RetryLater(Exception):  # noqa: N818 - it is an answer, not an error
    """Raised by a job that cannot do its work yet (another worker holds it).

    The database queue and the in-process queue run it again after `seconds`; the task
    endpoint queues a task for then and answers 200.
    """

    def __init__(self, reason: str, seconds: float) -> None:
        super().__init__(reason)
        self.seconds = seconds


class Tasks(Protocol):
    """A queue of jobs: plain functions run by name with a small payload."""

    def enqueue(
        self, job: str, payload: Mapping[str, str], *, key: str, delay_seconds: float = 0
    ) -> None:
        """Run `job(payload)` soon; a second enqueue with the same key while the first is
        waiting is dropped."""
        ...


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str = ""
    optional: bool = False


@dataclass(frozen=True)
class CalendarEvent:
    """A meeting to be put in calendars; `id` is deterministic base32hex."""

    id: str
    summary: str
    description: str
    start: datetime
    end: datetime
    timezone: str
    attendees: tuple[Attendee, ...]
    recurrence: tuple[str, ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)
    with_meet: bool = True
    # Who sends the invitation (None: the service user). On Google the event is made in
    # their calendar, locally they are the ORGANIZER.
    organizer: Attendee | None = None
    # The calendar that already holds this event ("" : none yet); it stays there.
    calendar: str = ""
    # A whole link of ours the invitation carries (the handover page of an internal
    # meeting); "" for an invitation a client receives: nothing internal reaches them.
    link: str = ""


@dataclass(frozen=True)
class EventRef:
    id: str
    url: str
    meet_url: str = ""
    calendar: str = ""  # whose calendar holds the event ("": the service user's)
    fallback: str = ""  # why it is not in its organiser's calendar, in words ("": it is)


@dataclass(frozen=True)
class EventState:
    """An event as it stands in the calendar now (people may have moved or cancelled it)."""

    id: str
    start: datetime
    end: datetime
    cancelled: bool = False


@dataclass(frozen=True)
class Busy:
    start: datetime
    end: datetime


class Calendar(Protocol):
    """Invitations in people's calendars."""

    def upsert_event(self, event: CalendarEvent) -> EventRef:
        """Make the event, or bring the existing one with that id to this state."""
        ...

    def cancel_event(self, event_id: str, *, calendar: str = "") -> None:
        """Cancel the event (in `calendar`, if it is known) and tell its attendees; a
        missing event is fine."""
        ...

    def busy(self, emails: Sequence[str], start: datetime, end: datetime) -> dict[str, list[Busy]]:
        """Return each person's busy intervals between start and end."""
        ...


@runtime_checkable
class ReadsEvents(Protocol):
    """A calendar that reads an event back as people left it (moved, cancelled)."""

    def read_event(self, event_id: str, *, calendar: str = "") -> EventState | None:
        """Return the event as it stands, or None when there is no such event."""
        ...


@dataclass(frozen=True)
class Change:
    """One entry of Drive's change feed: the file as it is now, or removed."""

    file_id: str
    removed: bool
    name: str = ""
    mime_type: str = ""
    parents: tuple[str, ...] = ()
    modified_time: datetime | None = None
    version: str = ""  # changes whenever the content changes (Drive: version / md5)
    trashed: bool = False
    web_url: str = ""
    can_start_approval: bool = False
    shared_with: tuple[str, ...] = ()  # emails (and domains) the file is shared with, if known
    # False when the feed could not say who it is shared with (Drive leaves permissions out
    # of files in shared drives): ask ChangeFeed.shared_with for those that matter.
    sharing_known: bool = True
    # True when the file's bytes are all there (Drive shows md5Checksum and size: an upload
    # is complete when Drive lists it): no settle window is needed before routing it.
    complete: bool = False
    drive_id: str = ""  # the shared drive the file is in ("" for My Drive)
    # Who last changed the file (Drive's lastModifyingUser; a draft uploaded in the
    # service: the person who uploaded it); "" when the feed cannot say.
    modified_by: str = ""
    modified_by_name: str = ""
    # The top-level folder the file lies under (the local backend's client folders); ""
    # when the feed does not say. A draft under a folder no account has waits for Operations.
    top_folder: str = ""


@dataclass(frozen=True)
class ChangePage:
    """A page of changes; `next_token` to read on, `new_start_token` once at the end."""

    changes: tuple[Change, ...]
    next_token: str | None
    new_start_token: str | None


@dataclass(frozen=True)
class Channel:
    """A push channel on the change feed."""

    id: str
    token: str
    resource_id: str
    expires_at: datetime


class ChannelUnconfirmed(Exception):  # noqa: N818 - a state, not a failure of ours
    """A watch call's answer was lost and its retry found the channel id taken: the channel
    was probably made, but what Drive said of it (its resource id) is unknown. Open another
    with a new id; the lost one is stopped when its first notification comes."""


class ChangeFeed(Protocol):
    """Drive's change feed, and push channels on it."""

    def start_token(self) -> str:
        """Return the token from which changes after now will be listed."""
        ...

    def changes(self, token: str) -> ChangePage:
        """Return one page of changes from the token (up to 1000)."""
        ...

    def watch(self, *, channel_id: str, token: str, address: str, start_token: str) -> Channel:
        """Open a push channel that posts to address when the feed changes; raise
        ChannelUnconfirmed when it cannot say whether the channel was made."""
        ...

    def stop(self, channel: Channel) -> None:
        """Close a push channel; an unknown one is fine."""
        ...

    def shared_with(self, file_id: str) -> tuple[str, ...] | None:
        """Return who the file is shared with now, as Change.shared_with says it; None
        when the service may not see it (unknown is never "shared with nobody")."""
        ...


@runtime_checkable
class SharedDriveFeeds(Protocol):
    """A change feed with shared drives: each shared drive keeps a change log of its own,
    read and watched apart from the user's (Drive: changes with `driveId`)."""

    def drive_of(self, folder_id: str) -> str | None:
        """Return the shared drive the folder is in, or None for My Drive."""
        ...

    def for_drive(self, drive_id: str) -> ChangeFeed:
        """Return the shared drive's own change feed."""
        ...


@dataclass(frozen=True)
class ApprovalRequest:
    file_id: str
    reviewer: str
    due: datetime
    message: str


class Approvals(Protocol):
    """Native Drive approvals, where the file's edition allows them."""

    def start(self, request: ApprovalRequest) -> str | None:
        """Start an approval; return its id, or None when Drive cannot approve this file."""
        ...


class Chat(Protocol):
    """Short notices to a team channel (Slack through an incoming webhook)."""

    def post(self, text: str, *, key: str) -> None:
        """Post the text once per key (where the channel lets the service tell)."""
        ...


@runtime_checkable
class DescribesOccurrences(Protocol):
    """A Calendar that changes what one occurrence of a series says, the rest unchanged."""

    def describe_occurrence(
        self, event_id: str, original_start: datetime | None, description: str, *,
        calendar: str = "",
    ) -> None:
        """Put `description` on top of the occurrence of series `event_id` whose rule time
        is original_start, above what the series says; with original_start None, event_id
        is a single event (a moved occurrence) and it goes above the event's own text. A
        second call replaces what the first put there (`above`). `calendar` is
        whose calendar holds the series ("": the service user's)."""
        ...


# Ends what `describe_occurrence` put above an event's own description.
OCCURRENCE_TEXT_END = "\n\n-- \n\n"


def above(text: str, description: str) -> str:
    """Return `text` above the event's own `description` (replacing any text put there
    before): what `describe_occurrence` writes."""
    own = (
        description.split(OCCURRENCE_TEXT_END, 1)[1]
        if OCCURRENCE_TEXT_END in description
        else description
    )
    return f"{text}{OCCURRENCE_TEXT_END}{own}" if own.strip() else text
