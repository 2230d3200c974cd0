"""Income by month as an SVG bar chart drawn on the server: per month three bars (due,
received, outstanding) of one currency, scaled to the largest; no script, no library."""

from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import Any

from markupsafe import Markup

COLOURS = {"due": "#4c78a8", "received": "#54a24b", "outstanding": "#e45756"}
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 760, 260, 70, 40, 20


def bars(months: list[dict[str, Any]], currency: str, labels: dict[str, str], money: Any) -> Markup:
    """``months``: the income answer's rows of one currency; ``money(amount, currency)`` writes an
    axis value; ``labels``: the legend's words."""
    rows = [m for m in months if (m.get("currency") or currency) == currency]
    top = max((Decimal(m[k]) for m in rows for k in COLOURS), default=Decimal(0)) or Decimal(1)
    plot_h = HEIGHT - BOTTOM - TOP
    slot = (WIDTH - LEFT - 10) / max(len(rows), 1)
    bar = max(min(slot / 4, 28), 3)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-label="{escape(currency)}">',
        f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - 5}" y2="{HEIGHT - BOTTOM}" stroke="#999"/>',
    ]
    for step in range(5):
        value = top * step / 4
        y = HEIGHT - BOTTOM - plot_h * step / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - 5}" y2="{y:.1f}" stroke="#eee"/>')
        parts.append(
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="10" text-anchor="end">'
            f"{escape(money(value.quantize(Decimal(1)), None))}</text>"
        )
    for i, m in enumerate(rows):
        x0 = LEFT + i * slot + (slot - 3 * bar) / 2
        for j, key in enumerate(COLOURS):
            value = Decimal(m[key])
            h = float(value / top) * plot_h
            parts.append(
                f'<rect x="{x0 + j * bar:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                f'fill="{COLOURS[key]}"><title>{escape(m["month"])} {escape(labels[key])}: '
                f"{escape(money(value, currency))}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + 1.5 * bar:.1f}" y="{HEIGHT - BOTTOM + 14}" font-size="10" text-anchor="middle">'
            f"{escape(m['month'][2:])}</text>"
        )
    for j, key in enumerate(COLOURS):
        x = LEFT + j * 150
        parts.append(f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" fill="{COLOURS[key]}"/>')
        parts.append(f'<text x="{x + 14}" y="{HEIGHT - 5}" font-size="11">{escape(labels[key])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
