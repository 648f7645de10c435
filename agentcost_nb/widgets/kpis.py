"""KPI cards: total spend, requests, successful, failed, tokens, success rate — each
with its change against the previous period of equal length.

Pure functions from :class:`~agentcost_nb.analytics.Kpis` to HTML text.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ..analytics import Kpis, Totals
from ..pricing import format_usd
from ._util import esc

__all__ = [
    "KPI_METRICS",
    "TONE_COLOURS",
    "change_text",
    "change_tone",
    "kpi_cards_html",
    "value_text",
]

KPI_METRICS: tuple[tuple[str, str], ...] = (
    ("spend", "Total spend"),
    ("requests", "Requests"),
    ("successful", "Successful"),
    ("failed", "Failed"),
    ("total_tokens", "Tokens"),
    ("success_rate", "Success rate"),
)
# Whether a rise is good news (+1), bad news (-1) or neither (0): more failures are
# bad, a higher success rate and more successful calls are good; spend, requests
# and tokens are just volume, so they stay grey whichever way they move.
_RISE_MEANS: dict[str, int] = {"successful": 1, "success_rate": 1, "failed": -1}
TONE_COLOURS: dict[str, str] = {"good": "#1b5e20", "bad": "#b71c1c", "neutral": "#666"}


def change_tone(metric: str, direction: str) -> str:
    """``good``, ``bad`` or ``neutral``: what a change in ``direction`` means for ``metric``."""
    sign = {"up": 1, "down": -1}.get(direction, 0) * _RISE_MEANS.get(metric, 0)
    return "good" if sign > 0 else "bad" if sign < 0 else "neutral"


def _signed_usd(amount: Decimal) -> str:
    sign = "+" if amount > 0 else "-" if amount < 0 else "±"
    return f"{sign}{format_usd(abs(amount))}"


def value_text(metric: str, totals: Totals) -> str:
    value = getattr(totals, metric)
    if metric == "spend":
        return format_usd(value)  # None: "unpriced"
    if metric == "success_rate":
        return "—" if value is None else f"{value:.1%}"
    return f"{value:,}"


def change_text(kpis: Kpis, metric: str) -> tuple[str, str]:
    """``(text, direction)``: e.g. ``("▲ +$0.25 (+12.5%)", "up")``.

    ``direction`` is ``up``, ``down``, ``same`` or ``none`` (nothing to compare:
    no earlier period, or an unpriced one).
    """
    if kpis.previous is None:
        return "no earlier period to compare", "none"
    delta = kpis.change(metric)
    if delta is None:
        return "no comparable value before", "none"
    if delta == 0:
        return "= no change", "same"
    arrow, direction = ("▲", "up") if delta > 0 else ("▼", "down")
    if metric == "success_rate":
        return f"{arrow} {float(delta) * 100:+.1f} pts", direction
    amount = _signed_usd(Decimal(delta)) if metric == "spend" else f"{int(delta):+,}"
    pct = kpis.change_pct(metric)
    relative = "new" if pct is None else f"{pct:+.1%}"
    return f"{arrow} {amount} ({relative})", direction


def _period(kpis: Kpis) -> str:
    prev = kpis.previous_filters
    if prev is None or prev.start is None or prev.end is None:
        return ""
    days = (prev.end - prev.start).days + 1
    return f"previous {days} day{'s' if days != 1 else ''} ({prev.start} to {prev.end})"


def kpi_cards_html(kpis: Kpis) -> str:
    """Six cards; each carries ``data-metric``, ``data-direction`` and ``data-tone``
    (good / bad / neutral: the change's colour) for styling and tests."""
    period = _period(kpis)
    cards = []
    for metric, label in KPI_METRICS:
        text, direction = change_text(kpis, metric)
        before: Any = value_text(metric, kpis.previous) if kpis.previous is not None else "—"
        title = f"{period}: {before}" if period else text
        tone = change_tone(metric, direction)
        extra = ""
        if metric == "spend" and kpis.current.unpriced_requests:
            extra = (
                f'<div class="acnb-kpi-note" style="color:#666;font-size:80%">'
                f"+ {kpis.current.unpriced_requests:,} unpriced call(s)</div>"
            )
        cards.append(
            f'<div class="acnb-kpi" data-metric="{metric}" data-direction="{direction}" '
            f'data-tone="{tone}" '
            'style="display:inline-block;vertical-align:top;min-width:130px;'
            'margin:4px 12px 4px 0;padding:6px 10px;border:1px solid #ddd;border-radius:6px">'
            f'<div class="acnb-kpi-label" style="color:#666;font-size:85%">{esc(label)}</div>'
            f'<div class="acnb-kpi-value" style="font-size:130%;font-weight:bold">'
            f"{esc(value_text(metric, kpis.current))}</div>"
            f'<div class="acnb-kpi-change" title="{esc(title)}" '
            f'style="color:{TONE_COLOURS[tone]};font-size:80%">{esc(text)}</div>{extra}</div>'
        )
    caption = (
        f'<div class="acnb-kpi-caption" style="color:#666;font-size:80%">'
        f"Changes against the {esc(period)}.</div>"
        if period
        else ""
    )
    return f'<div class="acnb-kpis">{"".join(cards)}{caption}</div>'
