"""What-if: the dashboard's current selection re-priced at each agent's current prices.

Thin: the numbers come from :func:`agentcost_nb.repricing.reprice`; stored
events are never changed.  ``whatif.run()`` is what the button does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ipywidgets as W
import pandas as pd

from .. import analytics
from ..eventlog import EventLog
from ..pricing import format_usd
from ..registry import Registry
from ..repricing import reprice, reprice_summary
from ._util import error_html, fit, html_table

__all__ = ["WhatIf"]

_COLUMNS = ["event_id", "timestamp", "agent_name", "status", "input_tokens", "output_tokens",
            "cached_input_tokens", "reasoning_tokens", "cost_usd"]  # fmt: skip


class WhatIf(W.VBox):
    def __init__(
        self,
        event_log: EventLog,
        registry: Registry,
        filters: Callable[[], analytics.Filters] = analytics.Filters,
    ) -> None:
        self.event_log = event_log
        self.registry = registry
        self.current_filters = filters
        self.summary: pd.DataFrame | None = None
        self.button = fit(W.Button(description="Re-price at current prices", icon="calculator"))
        self.button.on_click(lambda _b: self.run())
        self.result = W.HTML()
        super().__init__(
            [
                W.HTML("<h4>What if?</h4><i>The selection above as billed, beside its cost at "
                       "each agent's current prices. Stored events are not changed.</i>"),
                self.button,
                self.result,
            ]
        )  # fmt: skip

    def run(self) -> pd.DataFrame | None:
        try:
            table = analytics.filtered_events(self.event_log, self.current_filters(), _COLUMNS)
            self.summary = reprice_summary(reprice(table.to_pandas(), self.registry))
        except Exception as exc:  # shown, never lost in a callback
            self.result.value = error_html(f"cannot re-price: {exc}")
            return None
        self.result.value = _table_html(self.summary)
        return self.summary


def _table_html(summary: pd.DataFrame) -> str:
    if len(summary) <= 1:
        return "<i>no data for this selection</i>"

    def money(value: Any) -> str:
        return format_usd(None if value is None or pd.isna(value) else value)

    headers = ("Agent", "Requests", "As billed", "Re-priced", "Difference", "Unpriced", "Left out")
    rows = (
        [
            r["agent_name"],
            f"{r['requests']:,}",
            money(r["as_billed_usd"]),
            money(r["repriced_usd"]),
            money(r["difference_usd"]),
            f"{r['unpriced']:,}",
            f"{r['left_out']:,}",
        ]
        for r in summary.to_dict("records")
    )
    table = html_table("acnb-whatif", headers, rows)
    left_out = int(summary["left_out"].iloc[-1])
    if not left_out:
        return table
    # A difference over calls priced only one way would compare unlike totals.
    return table + (
        f"<i>Difference: only calls priced both as billed and at current prices; "
        f"{left_out:,} call{'s' if left_out != 1 else ''} left out (unpriced one way or "
        "the other).</i>"
    )
