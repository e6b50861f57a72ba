"""A loopback Google for tests: `FakeGoogle` serves Drive v3, Docs v1, Gmail v1, Calendar v3.

    with FakeGoogle() as fake:                      # or fake.start() ... fake.stop()
        drive = build_client("drive", "v3", endpoint=fake.url, credentials=None)
        fake.faults.add(Fault(status=429, path=r"/drive/v3/files", method="POST", times=2))
        ...
        fake.requests, fake.drive.files, fake.docs.text(doc_id), fake.gmail.sent, ...

Requests are routed and validated against the discovery documents bundled with
googleapiclient (unknown methods 404, unknown query parameters and body fields 400, in
Google's error JSON shape). Module map: server (HTTP), dispatch (log, faults, uploads,
batch), validation (discovery), drive / drive_files / drive_query / drive_sharing /
drive_changes / drive_approvals, docs, gmail, calendar / calendar_time, faults, notify
(webhooks).
Any exception inside the fake answers 500 and is kept in `fake.crashes`.
"""

from tests.fakes.fake import FakeGoogle
from tests.fakes.faults import Fault

__all__ = ["FakeGoogle", "Fault"]
