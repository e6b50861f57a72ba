"""Run the fake by hand: python -m tests.fakes --port 8089 [--latency 0.05] [--fault-rate 0.1]."""

from __future__ import annotations

import argparse
import threading

from tests.fakes import FakeGoogle, Fault


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.fakes", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument(
        "--fault-rate", type=float, default=0.0, help="fraction of requests answered 503 (seeded)"
    )
    parser.add_argument("--seed", type=int, default=1, help="seed for --fault-rate")
    parser.add_argument("--user", default=None, help="the service user's email")
    args = parser.parse_args(argv)
    fake = FakeGoogle(port=args.port, **({"user_email": args.user} if args.user else {}))
    fake.latency = args.latency
    if args.fault_rate:
        fake.faults.add(Fault(status=503, rate=args.fault_rate, seed=args.seed))
    fake.start()
    print(fake.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()


if __name__ == "__main__":
    main()
