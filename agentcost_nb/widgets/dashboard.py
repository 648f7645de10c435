"""Agent Usage dashboard: filters, KPI cards, five charts, the logs table and exports.

Thin: numbers come from :mod:`agentcost_nb.analytics`, charts from
:mod:`agentcost_nb.charts`, files from :mod:`agentcost_nb.report`; this widget
lays them out and wires them together.  Charts are ``alt.JupyterChart`` widgets
in offline mode, so they draw in Voila and JupyterLab without internet.

Clicking an agent's bar in *Spend per agent* (or an entry of the *Daily spend*
legend) picks that agent: the KPI cards, the other charts and the logs table
narrow to it, the two charts you pick from keep showing every agent with the
pick highlighted, and a "Filtered to … — clear" bar says so.  Every action is
also a method: :meth:`Dashboard.set_range`, :meth:`~Dashboard.select`,
:meth:`~Dashboard.pick_agents`, :meth:`~Dashboard.next_page`,
:meth:`~Dashboard.export`, :meth:`~Dashboard.save_charts`, ...
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import ipywidgets as W

from .. import analytics, charts, report
from ..eventlog import EventLog
from ._util import error_html, esc
from .filters import FilterBar
from .kpis import kpi_cards_html
from .logs_table import LogsTable

__all__ = ["CHARTS", "DOWNLOAD_LIMIT", "Dashboard", "export_html"]

# name -> title; the order they are laid out in.
CHARTS: dict[str, str] = {
    "daily_spend": "Daily spend",
    "spend_per_agent": "Spend per agent",
    "tokens_per_day": "Tokens per day",
    "model_usage": "Model usage",
    "activity": "Activity per agent",
}
# Exports up to this size are also offered as a download link (a data: URL in the
# page); larger ones only as the file in the data home's exports/ folder.
DOWNLOAD_LIMIT = 8_000_000
_OFFLINE_READY = False


def _jupyter_chart(chart: Any) -> Any:
    global _OFFLINE_READY
    import altair as alt

    if not _OFFLINE_READY:
        alt.JupyterChart.enable_offline()  # bundles vega from vl-convert: no CDN
        _OFFLINE_READY = True
    return alt.JupyterChart(chart)


def _size(n: int) -> str:
    if n < 1000:
        return f"{n:,} bytes"
    if n < 1_000_000:
        return f"{n / 1000:,.1f} KB"
    return f"{n / 1_000_000:,.1f} MB"


def export_html(done: report.Export, *, limit: int = DOWNLOAD_LIMIT) -> str:
    """Where the export was written and, when small enough, a link that downloads it."""
    size = done.size
    where = (
        f'<span class="acnb-export-path">Wrote {done.rows:,} event(s) as '
        f"{done.format.upper()} to <code>{esc(done.path)}</code> ({esc(_size(size))}).</span>"
    )
    if size > limit:
        return f"{where} <i>Too large to offer as a download here; open it from that folder.</i>"
    data = base64.b64encode(done.path.read_bytes()).decode("ascii")
    link = (
        f'<a class="acnb-download" download="{esc(done.path.name)}" '
        f'href="data:{done.media_type};base64,{data}">Download {done.format.upper()}</a>'
    )
    return f"{where} {link}"


class Dashboard(W.VBox):
    """The Agent Usage dashboard over one event log.

    ``tz`` is the reporting time zone (default the machine's), ``days`` the
    initial range preset (7, 30, 90 or 0 for all time), ``today`` pins "today"
    (for tests), ``export_dir`` where exports go (default ``<home>/exports``).
    """

    def __init__(
        self,
        log: EventLog,
        *,
        tz: str | None = None,
        page_size: int = 25,
        days: int = 30,
        today: date | None = None,
        export_dir: str | Path | None = None,
        download_limit: int = DOWNLOAD_LIMIT,
    ) -> None:
        self.event_log = log
        self.tz = tz
        if export_dir is None:  # beside the events folder; a log on object storage has none
            export_dir = "exports" if log.filesystem is not None else log.path.parent / "exports"
        self.export_dir = Path(export_dir)
        self.download_limit = download_limit
        self.picked_agents: tuple[str, ...] = ()  # set by clicking a bar or a legend entry
        self.last_export: report.Export | None = None
        self.charts: dict[str, charts.ChartLike] = {}  # the Altair charts on show
        self.chart_widgets: dict[str, Any] = {}  # their JupyterChart widgets
        self._specs: dict[str, dict[str, Any]] = {}
        self._legend: dict[str, tuple[str, ...]] = {}

        self.filter_bar = FilterBar(tz=tz, days=days, today=today, on_change=self._on_filters)
        self.refresh_button = W.Button(description="Refresh", icon="refresh")
        self.refresh_button.on_click(lambda _b: self.refresh())
        self.message = W.HTML().add_class("acnb-dashboard-message")
        self.pick_label = W.HTML().add_class("acnb-pick")
        self.clear_pick_button = W.Button(
            description="clear", icon="times", layout=W.Layout(width="auto")
        ).add_class("acnb-clear-pick")
        self.clear_pick_button.on_click(lambda _b: self._guard(self.clear_pick))
        self.pick_bar = W.HBox(
            [self.pick_label, self.clear_pick_button], layout=W.Layout(display="none")
        )
        self.kpis = W.HTML().add_class("acnb-kpi-box")
        self.csv_button = W.Button(description="Export CSV", icon="download").add_class(
            "acnb-export-csv"
        )
        self.parquet_button = W.Button(description="Export Parquet", icon="download").add_class(
            "acnb-export-parquet"
        )
        self.save_button = W.Button(description="Save charts", icon="image").add_class(
            "acnb-save-charts"
        )
        self.csv_button.on_click(lambda _b: self._export_clicked("csv"))
        self.parquet_button.on_click(lambda _b: self._export_clicked("parquet"))
        self.save_button.on_click(lambda _b: self._save_clicked())
        self.export_status = W.HTML().add_class("acnb-export-status")
        self.chart_slots = {
            name: W.Box(layout=W.Layout(flex="0 0 auto", margin="0 24px 12px 0")).add_class(
                f"acnb-chart-{name}"
            )
            for name in CHARTS
        }
        wrap = W.Layout(flex_flow="row wrap", align_items="flex-start")
        self.logs = LogsTable(log, page_size=page_size)
        # What the filters show: hidden while they cannot be applied, so an error
        # never sits above the numbers of a previous, different selection.
        self.body = W.VBox(
            [
                self.kpis,
                W.HBox([self.csv_button, self.parquet_button, self.save_button]),
                self.export_status,
                W.HBox(
                    [self.chart_slots["daily_spend"], self.chart_slots["spend_per_agent"]],
                    layout=wrap,
                ),
                W.HBox(
                    [self.chart_slots["tokens_per_day"], self.chart_slots["model_usage"]],
                    layout=wrap,
                ),
                self.chart_slots["activity"],
                self.logs,
            ]
        )
        super().__init__(
            [
                W.HBox([self.filter_bar, self.refresh_button]),
                self.pick_bar,
                self.message,
                self.body,
            ]
        )
        self.add_class("acnb-dashboard")
        self.refresh()

    # ------------------------------------------------------------------ filters

    def base_filters(self) -> analytics.Filters:
        """The filter bar's choices (what the two pick-charts show)."""
        return self.filter_bar.filters()

    def filters(self) -> analytics.Filters:
        """What the cards, the other charts, the logs and the exports show: bar + pick."""
        if self.picked_agents:
            return self.filter_bar.filters(agents=self.picked_agents)
        return self.filter_bar.filters()

    # ------------------------------------------------------------------ refresh

    def refresh(self, *, keep_page: bool = True) -> None:
        """Re-read the log and redraw everything (called after each chat call).

        Errors are shown in the dashboard, never raised: a callback's exception
        would otherwise be lost.
        """
        try:
            self._refresh(keep_page=keep_page)
        except Exception as exc:
            self.message.value = error_html(f"cannot show the dashboard: {exc}")
            self.body.layout.display = "none"
            return
        self.message.value = _skipped_html(self.event_log.skipped)
        self.body.layout.display = None

    def _refresh(self, *, keep_page: bool) -> None:
        log = self.event_log
        base = self.base_filters()
        dated = replace(base, agents=(), api_keys=(), teams=(), projects=())
        self.filter_bar.set_choices(analytics.filter_choices(log, dated))
        # One read per filter: the pick-charts show the bar's filter, the rest the pick too.
        everything = analytics.Snapshot(log, base)
        per_agent = everything.spend_per_agent()
        daily = everything.daily_spend()
        present = {str(a) for a in per_agent["agent_name"]}
        self.picked_agents = tuple(a for a in self.picked_agents if a in present)
        f = self.filters()
        shown = analytics.Snapshot(log, f) if self.picked_agents else everything
        kpis = analytics.kpis(log, f, today=self.filter_bar.today())
        self._legend = charts.daily_legend(daily)
        self._draw(
            {
                "daily_spend": charts.daily_spend_chart(
                    daily, picked=self.picked_agents, width=460, height=260
                ),
                "spend_per_agent": charts.spend_per_agent_chart(
                    per_agent, picked=self.picked_agents, width=260
                ),
                "tokens_per_day": charts.tokens_chart(
                    shown.tokens_over_time(), width=460, height=200
                ),
                "model_usage": charts.model_usage_chart(
                    shown.model_usage(), width=260, color_domain=list(self._legend)
                ),
                "activity": charts.activity_chart(shown.activity(), width=200),
            }
        )
        self.kpis.value = kpi_cards_html(kpis)
        self.logs.show(f, keep_page=keep_page)
        self._show_pick(per_agent)

    def _draw(self, made: dict[str, charts.ChartLike]) -> None:
        for name, chart in made.items():
            spec = chart.to_dict(validate=False)  # JupyterChart validates what it draws
            self.charts[name] = chart
            widget = self.chart_widgets.get(name)
            if widget is None:
                widget = self.chart_widgets[name] = _jupyter_chart(chart)
                self.chart_slots[name].children = (widget,)
            elif spec != self._specs.get(name):
                widget.chart = chart  # unchanged charts are left alone: no flicker
            else:
                continue
            self._specs[name] = spec
            # JupyterChart makes a new ``selections`` object for every chart it is
            # given, so observe again after each redraw; "no data" charts have none.
            for pick, react in (
                (charts.AGENT_PICK, self._on_agent_pick),
                (charts.LEGEND_PICK, self._on_legend_pick),
            ):
                if pick in widget.selections.trait_names():
                    widget.selections.observe(react, [pick])

    def _show_pick(self, per_agent: Any) -> None:
        if not self.picked_agents:
            self.pick_bar.layout.display = "none"
            self.pick_label.value = ""
            return
        names = charts.agent_labels(per_agent) if len(per_agent) else {}
        shown = ", ".join(f"<b>{esc(names.get(a, a))}</b>" for a in self.picked_agents)
        self.pick_label.value = f'<span class="acnb-pick-text">Filtered to {shown} —</span>'
        self.pick_bar.layout.display = "flex"

    # ------------------------------------------------------------- chart picks

    def _on_agent_pick(self, change: Any) -> None:
        value = getattr(change["new"], "value", None) or []
        picked = tuple(dict.fromkeys(str(v["agent_name"]) for v in value if "agent_name" in v))
        self._guard(lambda: self._set_pick(picked))

    def _on_legend_pick(self, change: Any) -> None:
        value = getattr(change["new"], "value", None) or []
        labels = [str(v["label"]) for v in value if "label" in v]
        picked = tuple(dict.fromkeys(a for label in labels for a in self._legend.get(label, ())))
        self._guard(lambda: self._set_pick(picked))

    def _set_pick(self, picked: tuple[str, ...]) -> None:
        if set(picked) != set(self.picked_agents):
            self.picked_agents = picked
            self.refresh(keep_page=False)

    # ------------------------------------------------------- actions from code

    def pick_agents(self, *names: str) -> None:
        """What clicking agents' bars does: narrow everything else to them."""
        self.picked_agents = tuple(dict.fromkeys(names))
        self.refresh(keep_page=False)

    def clear_pick(self) -> None:
        """The "clear" of the "Filtered to …" bar."""
        self.pick_agents()

    def set_range(
        self, start: date | None = None, end: date | None = None, *, days: int | None = None
    ) -> None:
        """``set_range(days=7)`` (7, 30, 90; 0 = all time) or ``set_range(start, end)``."""
        self.filter_bar.set_range(start, end, days=days)

    def select(
        self,
        *,
        agents: Sequence[str] | None = None,
        api_keys: Sequence[str] | None = None,
        teams: Sequence[str] | None = None,
        projects: Sequence[str] | None = None,
    ) -> None:
        """Set the multi-selects (``api_keys`` are key hashes); ``()`` means all."""
        self.filter_bar.select(agents=agents, api_keys=api_keys, teams=teams, projects=projects)

    def next_page(self) -> None:
        self.logs.next_page()

    def prev_page(self) -> None:
        self.logs.prev_page()

    def go_to_page(self, number: int) -> None:
        self.logs.go_to_page(number)

    def export(self, fmt: str = "csv") -> Path:
        """Write the current selection's events (CSV or Parquet) to ``export_dir``.

        The status line says where; a download link is offered when the file is
        at most ``download_limit`` bytes.  Returns the file's path.
        """
        done = report.export_events(self.event_log, self.filters(), fmt, self.export_dir)
        self.last_export = done
        self.export_status.value = export_html(done, limit=self.download_limit)
        return done.path

    def save_charts(
        self, folder: str | Path | None = None, *, formats: Sequence[str] = ("png", "svg")
    ) -> list[Path]:
        """Every chart on show as PNG and SVG (vl-convert), by default in ``exports/``."""
        if folder is None:
            stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
            folder = self.export_dir / f"charts_{stamp}"
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        files = [
            charts.save_chart(chart, out / f"{name}.{kind}")
            for name, chart in self.charts.items()
            for kind in formats
        ]
        self.export_status.value = (
            f'<span class="acnb-export-path">Saved {len(files)} chart file(s) to '
            f"<code>{esc(out)}</code>.</span>"
        )
        return files

    # -------------------------------------------------------------- callbacks

    def _on_filters(self) -> None:
        self.refresh(keep_page=False)

    def _guard(self, action: Callable[[], Any]) -> None:
        try:
            action()
        except Exception as exc:
            self.message.value = error_html(str(exc))

    def _export_clicked(self, fmt: str) -> None:
        try:
            self.export(fmt)
        except Exception as exc:
            self.export_status.value = error_html(f"export failed: {exc}")

    def _save_clicked(self) -> None:
        try:
            self.save_charts()
        except Exception as exc:
            self.export_status.value = error_html(f"saving the charts failed: {exc}")


def _skipped_html(skipped: dict[str, str]) -> str:
    """Unreadable files are left out of every number: say so where the numbers are."""
    if not skipped:
        return ""
    names = "; ".join(f"{path} ({why})" for path, why in sorted(skipped.items())[:3])
    more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
    return error_html(
        f"{len(skipped)} unreadable event file(s) left out of these numbers: {names}{more}"
    )
