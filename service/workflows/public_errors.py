"""Failures as people may read them: the error's kind and reason, never a server path."""

from __future__ import annotations

import re

# An absolute path on this machine ('/srv/app/var/...'), not a URL's path (after a host).
_PATH = re.compile(r"(?<![\w:/.-])/(?:[^\s'\"/]+/)*[^\s'\"/]*")
# A quoted one, which may hold spaces ('/srv/var/drive/Acme Corp/Contracts').
_QUOTED_PATH = re.compile(r"(['\"])/[^'\"]*\1")


def public_error(exc: BaseException) -> str:
    """Return `Kind: reason` for a page or an API answer, with server paths left out."""
    if isinstance(exc, OSError) and exc.strerror:
        # errno's words only: the file name an OSError carries is a server path.
        return f"{type(exc).__name__}: {exc.strerror} (in the service's local workspace)"
    text = _QUOTED_PATH.sub("'…'", str(exc))
    return f"{type(exc).__name__}: {_PATH.sub('…', text)}"
