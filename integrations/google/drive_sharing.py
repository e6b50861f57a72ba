"""Sharing Drive files: one permission call per file at a time, several files side by side.

Drive keeps only the last of concurrent permission changes on one file, so each file's
calls go one after another (a chain); the chains of different files advance together,
one round at a time, their calls of a round sent in one batch request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from integrations.google.drive_files import ALL_DRIVES
from integrations.ports import Grant

# Stronger roles include the weaker ones: a writer asked to be a reader is left alone.
ROLE_RANK = {
    "reader": 1,
    "commenter": 2,
    "writer": 3,
    "fileOrganizer": 4,
    "organizer": 5,
    "owner": 6,
}
LIST_FIELDS = (
    "nextPageToken,permissions(id,type,role,emailAddress,domain,permissionDetails(inherited))"
)


def list_request(api: Any, file_id: str, token: str | None = None) -> Any:
    """Return the permissions.list call for one page of the file's permissions (inherited
    ones included: in a shared drive, its members)."""
    return api.list(fileId=file_id, pageToken=token, pageSize=100, fields=LIST_FIELDS, **ALL_DRIVES)


def all_permissions(api: Any, file_id: str, run_call: Callable[[Any], Any]) -> Iterator[Any]:
    """Yield every permission of the file, page by page, each page run by run_call."""
    token = None
    while True:
        answer = run_call(list_request(api, file_id, token))
        yield from answer.get("permissions") or ()
        token = answer.get("nextPageToken")
        if not token:
            return


def rank(role: str) -> int:
    """Return how strong a role is (0 for an unknown one)."""
    return ROLE_RANK.get(role, 0)


def strongest(grants: Sequence[Grant]) -> dict[str, Grant]:
    """Return one grant per person (by lower-cased email), the strongest role asked for."""
    wanted: dict[str, Grant] = {}
    for grant in grants:
        key = grant.email.lower()
        if key not in wanted or rank(grant.role) > rank(wanted[key].role):
            wanted[key] = grant
    return wanted


class Chain:
    """The permission calls one file needs: list what it has (unless new), then add."""

    def __init__(self, file_id: str, grants: Sequence[Grant], *, notify: bool, new: bool) -> None:
        self.file_id = file_id
        self.notify = notify
        self.wanted = strongest(grants)
        self.have: dict[str, Mapping[str, Any]] = {}
        self.own: set[str] = set()  # people with a permission on the file itself
        self.listing = not new  # a file we just made has no one's permission to find
        self.token: str | None = None
        self.todo: list[Grant] = [] if self.listing else list(self.wanted.values())
        self.added: list[Grant] = []

    def next_request(self, api: Any) -> Any | None:
        """Return the file's next call on the permissions collection, or None when done."""
        if self.listing:
            return list_request(api, self.file_id, self.token)
        if not self.todo:
            return None
        grant = self.todo[0]
        current = self.have.get(grant.email.lower())
        if current is not None and grant.email.lower() in self.own:
            return api.update(
                fileId=self.file_id,
                permissionId=current["id"],
                body={"role": grant.role},
                **ALL_DRIVES,
            )
        # A role inherited from a folder is raised by a permission on the file itself:
        # Drive refuses to update an inherited permission on a child.
        return api.create(
            fileId=self.file_id,
            body={"type": "user", "role": grant.role, "emailAddress": grant.email},
            sendNotificationEmail=self.notify,
            fields="id,role,emailAddress",
            **ALL_DRIVES,
        )

    def notifying_grant(self) -> Grant | None:
        """The grant whose create comes next if that create emails the person, else None.

        Drive sends its share email on every create that asks for one, so such a create is
        never repeated blindly: the caller looks for the permission before a retry.
        """
        if self.listing or not self.todo or not self.notify:
            return None
        grant = self.todo[0]
        return None if grant.email.lower() in self.own else grant

    def took(self, answer: Mapping[str, Any]) -> None:
        """Take the answer to the call `next_request` returned."""
        if not self.listing:
            self.added.append(self.todo.pop(0))
            return
        for permission in answer.get("permissions", []):
            if permission.get("type") in ("user", "group"):
                key = str(permission.get("emailAddress", "")).lower()
                self.have[key] = permission
                if not inherited_only(permission):
                    self.own.add(key)
        self.token = answer.get("nextPageToken")
        if not self.token:
            self.listing = False
            self.todo = [g for key, g in self.wanted.items() if self._lacks(key, g)]

    def _lacks(self, key: str, grant: Grant) -> bool:
        return not holds(self.have.get(key), grant)


def inherited_only(permission: Mapping[str, Any]) -> bool:
    """True when the person's access comes only from a folder above (no permission of
    the file's own): such a permission cannot be updated on the file."""
    details = permission.get("permissionDetails") or ()
    return bool(details) and all(d.get("inherited") for d in details)


def holds(permission: Mapping[str, Any] | None, grant: Grant) -> bool:
    """True when the permission gives the grant's person at least the grant's role."""
    return permission is not None and rank(str(permission.get("role", ""))) >= rank(grant.role)
