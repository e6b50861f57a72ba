"""An example handover, for `handover demo`, the README and the tests."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any


def example_handover(client: str = "Acme Corp", *, today: date | None = None) -> dict[str, Any]:
    """Return a complete, valid handover as the API takes it."""
    today = today or date.today()
    slug = "".join(ch for ch in client.lower() if ch.isalnum()) or "client"
    return {
        "client": {"name": client, "timezone": "America/New_York", "domain": f"{slug}.example"},
        "project": {
            "name": f"{client} Commerce Platform",
            "contract_signed_on": (today - timedelta(days=1)).isoformat(),
            "proposal_url": f"https://docs.example/proposals/{slug}",
            "sync_cadence": "fortnightly",
        },
        "account_manager": {"name": "Ada Lane", "email": "ada@agency.example"},
        "project_manager": {
            "name": "Pat Moss",
            "email": "pat@agency.example",
            "timezone": "Europe/London",
            "country": "GB",
        },
        "sales": [{"name": "Sam Reed", "email": "sam@agency.example"}],
        "delivery_team": [
            {
                "name": "Dev One",
                "email": "dev1@agency.example",
                "role": "Engineer",
                "timezone": "Europe/Berlin",
                "country": "DE",
            },
            {"name": "Dee Signer", "email": "dee@agency.example", "role": "Designer"},
        ],
        "client_contacts": [
            {
                "name": "Cleo Buyer",
                "email": f"cleo@{slug}.example",
                "roles": ["buyer", "executive_sponsor"],
            },
            {"name": "Chad Champion", "email": f"chad@{slug}.example", "roles": ["champion"]},
        ],
        "success": {
            "why_bought": "Their checkout converts poorly on mobile and their agency left.",
            "problem_and_goals": (
                "Replatform the storefront before peak season; lift mobile conversion by 15%."
            ),
            "success_definition": "Launch by March with no lost orders; the team can ship weekly.",
            "roadblocks": "A legacy ERP integration nobody documented.",
        },
        "influencers_notes": "Chad champions us; the CFO doubts the timeline.",
    }
