"""Lays out the account's health answers as an SVG chart: one line per handbook question
(yes at the top, no at the bottom) and the overall score, one column per internal sync."""

from __future__ import annotations

from typing import Any

from service.domain.account_rhythm import HEALTH_ANSWERS, HEALTH_QUESTIONS

WIDTH, HEIGHT, LEFT, TOP, BOTTOM = 640, 220, 60, 20, 40
COLOURS = ("#1a5fb4", "#1f7a3a", "#a15c00", "#8b3fa8")
SHORT = {
    "on_track": "On track (budget, scope)",
    "resourcing_met": "Resourcing met",
    "client_happy": "Client happy",
    "would_recommend": "Would recommend us",
}


def chart(health: list[dict[str, Any]]) -> dict[str, Any]:
    """Return the lines, columns and legend for the template to draw."""
    if not health:
        return {"lines": [], "columns": [], "width": WIDTH, "height": HEIGHT}
    usable_w, usable_h = WIDTH - LEFT - 20, HEIGHT - TOP - BOTTOM
    step = usable_w / max(len(health) - 1, 1)

    def y(value: float) -> float:
        return round(TOP + usable_h * (1 - value / 2), 1)

    columns = [
        {"x": round(LEFT + i * step, 1), "label": h["sync_on"][5:], "title": h["sync_on"]}
        for i, h in enumerate(health)
    ]
    lines = []
    for (key, question), colour in zip(HEALTH_QUESTIONS.items(), COLOURS, strict=True):
        points = [
            (c["x"], y(HEALTH_ANSWERS[h["answers"][key]]), h["answers"][key])
            for c, h in zip(columns, health, strict=True)
        ]
        lines.append(
            {"key": key, "label": SHORT[key], "question": question, "colour": colour,
             "points": " ".join(f"{px},{py}" for px, py, _ in points),
             "dots": [{"x": px, "y": py, "answer": a} for px, py, a in points]}
        )  # fmt: skip
    return {
        "lines": lines,
        "columns": columns,
        "width": WIDTH,
        "height": HEIGHT,
        "rows": [{"y": y(v), "label": word} for word, v in HEALTH_ANSWERS.items()],
        "bottom": HEIGHT - BOTTOM + 16,
    }
