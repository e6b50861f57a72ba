"""The service's links: stored as a path on its own site, made whole when shown or sent.

The local backend stores `/files/<id>` for a document and `/handovers/<id>` for a meeting,
never the address the service ran at then, so a service started on another port (or moved)
mends every old link: pages, the API, emails and invitations build the link from today's
`PUBLIC_BASE_URL`. Google's own addresses (docs.google.com, a Calendar event) are whole and
stay as they are.
"""

from __future__ import annotations

import re

# A whole address an earlier version stored for one of its own paths, on the base it ran
# with then (any host and port): shown on today's base. Google's addresses never have
# these paths (`/files/loc…` is the local drive's id form).
_OLD_OWN = re.compile(r"^https?://[^/?#\s]+(?=/(?:files/loc[0-9a-f]+|handovers/[\w-]+)/?$)")


def absolute(url: str, base: str) -> str:
    """Return the link to show or send for a stored address (`""` stays `""`): a path of
    ours on `base` ("" keeps it a path, which a page of ours opens as is)."""
    if url.startswith("/") and not url.startswith("//"):
        return base.rstrip("/") + url
    old = _OLD_OWN.match(url)
    if old:
        return base.rstrip("/") + url[old.end() :]
    return url
