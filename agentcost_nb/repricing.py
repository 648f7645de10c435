"""What-if: the cost of past events at other prices, beside what was billed.

Pure: DataFrames in, DataFrames out; stored events are never changed.  Token
counts and statuses are taken as recorded; only the prices differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pandas as pd

from .billing import BILLED_STATUSES
from .pricing import PriceSheet, TokenUsage, compute_cost
from .registry import AgentConfig, Registry

__all__ = ["reprice", "reprice_summary"]

PriceSource = Registry | Mapping[str, PriceSheet | AgentConfig] | PriceSheet


def _sheet_for(
    prices: PriceSource, agent_name: str
) -> tuple[PriceSheet | None, AgentConfig | None]:
    if isinstance(prices, PriceSheet):
        return prices, None
    if isinstance(prices, Registry):
        agent = prices.find(agent_name)
        return (agent.current_prices, agent) if agent else (None, None)
    found = prices.get(agent_name)
    if isinstance(found, AgentConfig):
        return found.current_prices, found
    return found, None


def _int(value: Any) -> int:
    return 0 if value is None or pd.isna(value) else int(value)


def reprice(events: pd.DataFrame, prices: PriceSource) -> pd.DataFrame:
    """Per event: ``as_billed_usd`` (stored) beside ``repriced_usd`` at ``prices``.

    ``prices`` is a registry (its *current* prices), a mapping of agent name to
    a price sheet or agent, or one sheet for every agent.  An agent with no
    price in ``prices`` re-prices to null (unknown), never to $0.  Failed calls
    are charged as the agent's failure policy says (nothing by default).
    """
    rows = []
    for e in events.to_dict("records"):
        sheet, agent = _sheet_for(prices, e["agent_name"])
        repriced: Decimal | None = None
        if sheet is not None:
            usage = TokenUsage(
                input_tokens=_int(e.get("input_tokens")),
                output_tokens=_int(e.get("output_tokens")),
                cached_input_tokens=_int(e.get("cached_input_tokens")),
                reasoning_tokens=_int(e.get("reasoning_tokens")),
            )
            billed = e["status"] in BILLED_STATUSES
            cost = compute_cost(
                sheet,
                usage,
                charge_query=billed or bool(agent and agent.charge_query_on_failure),
                charge_input=billed or bool(agent and agent.charge_input_on_failure),
                charge_output=billed,
            )
            repriced = None if cost is None else cost.total
        as_billed = e.get("cost_usd")
        as_billed = None if as_billed is None or pd.isna(as_billed) else Decimal(as_billed)
        rows.append(
            {
                "event_id": e.get("event_id"),
                "timestamp": e.get("timestamp"),
                "agent_name": e["agent_name"],
                "status": e["status"],
                "input_tokens": _int(e.get("input_tokens")),
                "output_tokens": _int(e.get("output_tokens")),
                "as_billed_usd": as_billed,
                "repriced_usd": repriced,
                "difference_usd": None
                if as_billed is None or repriced is None
                else repriced - as_billed,
            }
        )
    columns = ["event_id", "timestamp", "agent_name", "status", "input_tokens", "output_tokens",
               "as_billed_usd", "repriced_usd", "difference_usd"]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)


def reprice_summary(repriced: pd.DataFrame) -> pd.DataFrame:
    """Per agent and in total: requests, as billed, re-priced, difference (exact Decimals).

    ``as_billed_usd`` and ``repriced_usd`` add up what is known of each;
    ``difference_usd`` compares like with like: only events priced both ways
    (``compared``). ``unpriced`` counts events with no price at the new prices,
    ``left_out`` those missing from the difference (unpriced either way).
    """

    def total(values: Any) -> Decimal | None:
        known = [v for v in values if v is not None and not pd.isna(v)]
        return sum(known, Decimal(0)) if known else None

    def known(series: pd.Series) -> pd.Series:
        return series.map(lambda v: v is not None and not pd.isna(v)).astype(bool)

    frame = repriced.assign(
        _both=known(repriced["as_billed_usd"]) & known(repriced["repriced_usd"])
    )

    def row(group: pd.DataFrame) -> dict[str, Any]:
        both = group[group["_both"]]
        return {
            "requests": len(group),
            "as_billed_usd": total(group["as_billed_usd"]),
            "repriced_usd": total(group["repriced_usd"]),
            "unpriced": int((~known(group["repriced_usd"])).sum()),
            "difference_usd": total(both["repriced_usd"] - both["as_billed_usd"])
            if len(both)
            else None,
            "compared": len(both),
            "left_out": len(group) - len(both),
        }

    rows = {name: row(group) for name, group in frame.groupby("agent_name", sort=True)}
    rows["(total)"] = row(frame)
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "agent_name"
    return out.reset_index()
