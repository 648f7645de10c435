"""Agent Usage dashboard: filters, KPI cards, charts and the logs table.

Thin: numbers come from :mod:`agentcost_nb.analytics`, charts from
:mod:`agentcost_nb.charts`; this widget only lays them out and wires filters.
Charts are ``alt.JupyterChart`` widgets in offline mode, so they draw in Voila
and JupyterLab without internet, and clicking an agent's bar filters the rest.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ipywidgets as W
import pandas as pd

from ..eventlog import EventLog
from ..pricing import format_usd
from ._util import error_html, esc

__all__ = ["Dashboard"]

_PRESETS = [("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90), ("All time", 0)]
_OFFLINE_READY = False


def _jupyter_chart(chart: Any) -> Any:
    global _OFFLINE_READY
    import altair as alt

    if not _OFFLINE_READY:
        alt.JupyterChart.enable_offline()  # bundles vega from vl-convert: no CDN
        _OFFLINE_READY = True
    return alt.JupyterChart(chart)


class Dashboard(W.VBox):
    def __init__(self, log: EventLog, *, tz: str | None = None, page_size: int = 20) -> None:
        self.event_log = log
        self.tz = tz
        self.page_size = page_size
        self.picked_agents: tuple[str, ...] = ()  # set by clicking a bar
        self.range = W.Dropdown(options=_PRESETS, value=30, description="Range")
        self.agents = W.SelectMultiple(description="Agents", rows=4)
        self.refresh_button = W.Button(description="Refresh", icon="refresh")
        self.kpis = W.HTML()
        self.message = W.HTML()
        self.logs = W.HTML()
        self.range.observe(lambda _c: self.refresh(), "value")
        self.agents.observe(lambda _c: self.refresh(), "value")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.spend_chart: Any = None
        self.daily_chart: Any = None
        self.charts_box = W.VBox()
        super().__init__(
            [
                W.HBox([self.range, self.agents, self.refresh_button]),
                self.message,
                self.kpis,
                self.charts_box,
                W.HTML("<h4>Recent calls</h4>"),
                self.logs,
            ]
        )
        self.refresh()

    def filters(self) -> Any:
        from ..analytics import Filters

        days = self.range.value
        start = date.today() - timedelta(days=days - 1) if days else None
        agents = tuple(self.agents.value) or self.picked_agents
        return Filters(start=start, agents=agents, tz=self.tz)

    def refresh(self) -> None:
        """Re-read the log and redraw everything (called after each chat call)."""
        from .. import analytics, charts

        try:
            everything = analytics.spend_per_agent(self.event_log, analytics.Filters(tz=self.tz))
            self._set_agent_options(everything)
            f = self.filters()
            totals = analytics.totals(self.event_log, f)
            per_agent = analytics.spend_per_agent(self.event_log, f)
            daily = analytics.daily_spend(self.event_log, f)
            recent = analytics.recent_events(self.event_log, f, limit=self.page_size)
        except Exception as exc:  # show, never swallow: callbacks lose exceptions
            self.message.value = error_html(f"cannot read the event log: {exc}")
            return
        self.message.value = ""
        self.kpis.value = _kpi_html(totals)
        self._draw(charts.spend_per_agent_chart(per_agent), charts.daily_spend_chart(daily))
        self.logs.value = _logs_html(recent)

    def _set_agent_options(self, per_agent: Any) -> None:
        options = [
            (str(r.display_name or r.agent_name), str(r.agent_name)) for r in per_agent.itertuples()
        ]
        if list(self.agents.options) != options:
            keep = tuple(v for v in self.agents.value if v in {o[1] for o in options})
            with self.agents.hold_trait_notifications():
                self.agents.options = options
                self.agents.value = keep

    def _draw(self, spend_chart: Any, daily_chart: Any) -> None:
        if self.spend_chart is None:
            self.spend_chart = _jupyter_chart(spend_chart)
            self.daily_chart = _jupyter_chart(daily_chart)
            self.charts_box.children = (self.spend_chart, self.daily_chart)
        else:
            self.spend_chart.chart = spend_chart
            self.daily_chart.chart = daily_chart
        # JupyterChart makes a new ``selections`` object for every chart it is given,
        # so observe again after each redraw; a "no data" chart has no pick to observe.
        if "agent_pick" in self.spend_chart.selections.trait_names():
            self.spend_chart.selections.observe(self._on_pick, ["agent_pick"])

    def _on_pick(self, change: Any) -> None:
        value = getattr(change["new"], "value", None) or []
        picked = tuple(str(v["agent_name"]) for v in value if "agent_name" in v)
        if picked != self.picked_agents:
            self.picked_agents = picked
            self.refresh()

    def pick_agents(self, *names: str) -> None:
        """What clicking a bar does, callable from code."""
        self.picked_agents = tuple(names)
        self.refresh()


def _kpi_html(t: Any) -> str:
    def card(label: str, value: str) -> str:
        return (
            '<div class="acnb-kpi" style="display:inline-block;margin:4px 12px 4px 0;'
            'padding:6px 10px;border:1px solid #ddd;border-radius:6px">'
            f'<div style="color:#666;font-size:85%">{label}</div><b>{esc(value)}</b></div>'
        )

    rate = "—" if not t.requests else f"{t.success_rate:.0%}"
    return "".join(
        [
            card("Total spend", format_usd(t.spend)),
            card("Requests", f"{t.requests:,}"),
            card("Successful", f"{t.successful:,}"),
            card("Failed", f"{t.failed:,}"),
            card("Tokens", f"{t.total_tokens:,}"),
            card("Success rate", rate),
        ]
    )


def _logs_html(recent: Any) -> str:
    frame = getattr(recent, "frame", recent)
    if len(frame) == 0:
        return "<i>no data for this selection</i>"
    cols = {"time": "Time", "display_name": "Agent", "model": "Model", "status": "Status",
            "input_tokens": "In", "output_tokens": "Out", "latency_ms": "Latency (ms)",
            "api_key": "Key", "team": "Team", "cost_usd": "Cost"}  # fmt: skip
    head = "".join(f"<th>{label}</th>" for label in cols.values())
    rows = []
    for r in frame.to_dict("records"):
        cells = []
        for c in cols:
            v = r.get(c)
            missing = v is None or (not isinstance(v, str) and pd.isna(v))
            if c == "cost_usd":
                text = format_usd(None if missing else v)
            elif missing:
                text = ""
            elif c == "time":
                text = v.strftime("%Y-%m-%d %H:%M:%S")
            elif c == "latency_ms":
                text = f"{v:,.0f}"
            else:
                text = str(v)
            cells.append(f"<td>{esc(text)}</td>")
        rows.append(f'<tr data-agent="{esc(r.get("agent_name"))}">' + "".join(cells) + "</tr>")
    total = getattr(recent, "total", len(frame))
    caption = f"<caption>{len(frame)} most recent of {total:,} calls</caption>"
    return f'<table class="acnb-logs">{caption}<tr>{head}</tr>{"".join(rows)}</table>'
