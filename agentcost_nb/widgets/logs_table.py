"""The logs table: recent calls newest first, one page at a time, over any log size.

Each page is read with :func:`~agentcost_nb.analytics.recent_events` (``limit`` rows
from ``offset``), so the table never holds more than one page.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as W
import pandas as pd

from ..analytics import EventPage, Filters, recent_events
from ..charts import agent_labels
from ..eventlog import EventLog
from ..pricing import format_usd
from ._util import esc

__all__ = ["LOG_COLUMNS", "LogsTable", "logs_html", "page_text"]

LOG_COLUMNS: dict[str, str] = {
    "time": "Time",
    "display_name": "Agent",
    "status": "Status",
    "model": "Model",
    "api_key": "Key",
    "team": "Team",
    "project": "Project",
    "input_tokens": "In",
    "output_tokens": "Out",
    "latency_ms": "Latency (ms)",
    "cost_usd": "Cost",
}
_STYLE = (
    ".acnb-logs th{text-align:left;border-bottom:2px solid #ccc;padding:2px 8px}"
    ".acnb-logs td{border-bottom:1px solid #eee;padding:2px 8px;white-space:nowrap}"
)
_STATUS_COLOURS = {"success": "#1b5e20", "error": "#b71c1c", "timeout": "#e65100"}


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _cell(column: str, value: Any) -> str:
    if column == "cost_usd":
        return format_usd(None if _missing(value) else value)
    if _missing(value):
        return ""
    if column == "time":
        return str(value.strftime("%Y-%m-%d %H:%M:%S"))
    if column == "latency_ms":
        return f"{value:,.0f}"
    if column in ("input_tokens", "output_tokens"):
        return f"{int(value):,}"
    return str(value)


def page_text(page: EventPage) -> str:
    """``Page 2 of 5 · calls 26–50 of 113, newest first``."""
    if page.total == 0:
        return "Page 1 of 1 · no calls"
    number = page.offset // page.limit + 1 if page.limit else 1
    last = min(page.offset + len(page.frame), page.total)
    return (
        f"Page {number:,} of {max(page.pages, 1):,} · calls {page.offset + 1:,}–{last:,} "
        f"of {page.total:,}, newest first"
    )


def logs_html(page: EventPage) -> str:
    """The page as an HTML table; every value escaped (names and errors are untrusted)."""
    frame = page.frame
    if len(frame) == 0:
        return '<div class="acnb-logs-empty"><i>no data for this selection</i></div>'
    head = "".join(f"<th>{esc(label)}</th>" for label in LOG_COLUMNS.values())
    # As the charts name them: two agents sharing a display name get their Agent Names.
    names = agent_labels(frame) if {"agent_name", "display_name"} <= set(frame) else {}
    rows = []
    for r in frame.to_dict("records"):
        cells = []
        for column in LOG_COLUMNS:
            value = r.get(column)
            if column == "display_name":
                value = names.get(str(r.get("agent_name")), value)
            text = esc(_cell(column, value))
            if column == "status":
                colour = _STATUS_COLOURS.get(str(r.get("status")), "#333")
                why = r.get("error")
                title = f' title="{esc(why)}"' if not _missing(why) and why else ""
                cells.append(f'<td style="color:{colour}"{title}>{text}</td>')
            elif column in ("cost_usd", "input_tokens", "output_tokens", "latency_ms"):
                cells.append(f'<td style="text-align:right">{text}</td>')
            else:
                cells.append(f"<td>{text}</td>")
        rows.append(
            f'<tr data-agent="{esc(r.get("agent_name"))}" data-event="{esc(r.get("event_id"))}">'
            + "".join(cells)
            + "</tr>"
        )
    return (
        f"<style>{_STYLE}</style>"
        '<table class="acnb-logs" style="border-collapse:collapse;font-size:90%">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


class LogsTable(W.VBox):
    """The table, Prev / Next and "Page N of M"; :meth:`show` picks the selection."""

    def __init__(self, log: EventLog, *, page_size: int = 25) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.event_log = log
        self.page_size = page_size
        self.page_number = 1  # 1-based
        self.page: EventPage | None = None
        self._filters = Filters()
        self.table = W.HTML().add_class("acnb-logs-box")
        self.prev_button = W.Button(description="Prev", icon="chevron-left").add_class("acnb-prev")
        self.next_button = W.Button(description="Next", icon="chevron-right").add_class("acnb-next")
        self.label = W.HTML().add_class("acnb-page")
        self.prev_button.on_click(lambda _b: self.prev_page())
        self.next_button.on_click(lambda _b: self.next_page())
        super().__init__(
            [
                W.HTML("<h4>Recent calls</h4>"),
                W.HBox([self.prev_button, self.next_button, self.label]),
                self.table,
            ]
        )

    @property
    def pages(self) -> int:
        return max(self.page.pages, 1) if self.page is not None else 1

    def show(self, filters: Filters, *, keep_page: bool = False) -> None:
        """Read the selection's page (the first one unless ``keep_page``)."""
        self._filters = filters
        self._load(self.page_number if keep_page else 1)

    def go_to_page(self, number: int) -> None:
        """Page ``number`` (1-based), clamped to the pages there are."""
        self._load(number)

    def next_page(self) -> None:
        self._load(self.page_number + 1)

    def prev_page(self) -> None:
        self._load(self.page_number - 1)

    def _load(self, number: int) -> None:
        number = max(number, 1)
        page = recent_events(
            self.event_log, self._filters, self.page_size, (number - 1) * self.page_size
        )
        if number > 1 and page.offset >= page.total:  # past the end (the log shrank, or a typo)
            number = max(page.pages, 1)
            page = recent_events(
                self.event_log, self._filters, self.page_size, (number - 1) * self.page_size
            )
        self.page, self.page_number = page, number
        self.table.value = logs_html(page)
        self.label.value = f'<span class="acnb-page-text">{esc(page_text(page))}</span>'
        self.prev_button.disabled = number <= 1
        self.next_button.disabled = number >= max(page.pages, 1)
