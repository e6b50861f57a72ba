"""What the drafts route costs per email: Gmail calls and wall time at 100 ms per request.

Starts FakeGoogle in-process with `--latency` seconds added to every request and sends
`--emails` messages (a kickoff-sized email: text, HTML and a calendar invitation) three
ways, one after another:

* one call: `messages.send` alone (what the service did before: it could not be made
  exactly once, as Gmail may replace every Message-ID);
* drafts: the service's GoogleMail, `drafts.create`, the row in `mail_drafts` (SQLite in a
  temporary directory), then `drafts.send`;
* repeat: the same keys sent again (a step run twice): the ledger answers, no Gmail call.

    .venv/bin/python bench/gmail_send.py [--latency 0.1] [--emails 20]
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from integrations.google.auth import Clients  # noqa: E402
from integrations.google.discovery import build_client  # noqa: E402
from integrations.google.execute import RetryPolicy  # noqa: E402
from integrations.google.mail import GoogleMail, build_mime  # noqa: E402
from integrations.ports import Attachment, Email  # noqa: E402
from service.store.db import Database, make_engine, migrate  # noqa: E402
from service.store.mail_drafts import DatabaseMailLedger  # noqa: E402
from tests.fakes import FakeGoogle  # noqa: E402

INVITE = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def email(n: int) -> Email:
    return Email(
        key=f"bench:{n}",
        to=("pat@agency.example", "ada@agency.example", "sam@agency.example"),
        subject=f"Handover: Acme – project {n}",
        text="The brief is ready.\n" * 20,
        html="<p>The brief is <b>ready</b>.</p>" * 20,
        attachments=(Attachment("kickoff.ics", "text/calendar; method=REQUEST", INVITE),),
    )


def timed(label: str, send: list[float], calls: int, emails: int) -> str:
    mean = statistics.mean(send) * 1000
    p95 = sorted(send)[max(0, int(len(send) * 0.95) - 1)] * 1000
    return (
        f"  {label:<10} {calls / emails:5.1f} calls/email  {mean:7.1f} ms mean  {p95:7.1f} ms p95"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1, help="seconds added per request")
    parser.add_argument("--emails", type=int, default=20)
    args = parser.parse_args()
    policy = RetryPolicy()
    with FakeGoogle() as fake, tempfile.TemporaryDirectory(prefix="bench-gmail-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'handover.db'}")
        migrate(engine)
        ledger = DatabaseMailLedger(Database(engine))
        clients = Clients(credentials=None, endpoint=fake.url)
        mail = GoogleMail(clients, policy=policy, ledger=ledger)
        raw_client = build_client("gmail", "v1", endpoint=fake.url, credentials=None)
        messages = raw_client.users().messages()
        mail.send(email(-1))  # warm: clients made, templates of the MIME code loaded
        fake.latency = args.latency
        lines = [f"FakeGoogle, {args.latency * 1000:.0f} ms added per request"]
        for label, run in (
            (
                "one call",
                lambda n: messages.send(
                    userId="me",
                    body={
                        "raw": base64.urlsafe_b64encode(build_mime(email(n)).as_bytes()).decode()
                    },
                ).execute(),
            ),
            ("drafts", lambda n: mail.send(email(1000 + n))),
            ("repeat", lambda n: mail.send(email(1000 + n))),
        ):
            before, spent = len(fake.requests), []
            for n in range(args.emails):
                start = time.perf_counter()
                run(n)
                spent.append(time.perf_counter() - start)
            lines.append(timed(label, spent, len(fake.requests) - before, args.emails))
        raw_client.close()
        clients.close()
        engine.dispose()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
