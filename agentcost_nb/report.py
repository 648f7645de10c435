"""Files made from the log: chart images, CSV summaries and exact event exports.

Pure of widgets: the ``report`` command and the dashboard's export buttons both
call these functions.

- :func:`write_report` writes every chart as PNG and SVG (through vl-convert, no
  browser) and the CSV summary tables: totals, spend per agent, daily spend,
  model usage, activity, tokens per day.
- :func:`export_events` writes the events of a selection as CSV or Parquet.
  Money stays exact: ``decimal128`` in Parquet, plain decimal text in CSV
  (``0.05036``, never a float, never ``1E-18``).
- :func:`report_filters` reads ``--since`` as ``30d`` (the last 30 local days,
  today included), ``24h`` (since that instant) or an ISO date / date-time.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import analytics, charts
from .errors import LogError, ValidationError
from .eventlog import EventLog
from .events import EVENT_SCHEMA

__all__ = [
    "CHART_NAMES",
    "EXPORT_FORMATS",
    "SUMMARY_NAMES",
    "Export",
    "Report",
    "build_charts",
    "export_events",
    "export_name",
    "report_filters",
    "summary_tables",
    "write_csv",
    "write_report",
]

ExportFormat = Literal["csv", "parquet"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("csv", "parquet")
CHART_NAMES = ("daily_spend", "spend_per_agent", "model_usage", "activity", "tokens_per_day")
SUMMARY_NAMES = (
    "totals",
    "spend_per_agent",
    "daily_spend",
    "model_usage",
    "activity",
    "tokens_per_day",
)

_SINCE = re.compile(r"\s*(\d+)\s*([dh])\s*", re.IGNORECASE | re.ASCII)  # fullmatch
_EARLIEST, _LATEST = date(1900, 1, 1), date(9998, 12, 31)


# ----------------------------------------------------------------------- filters


def _zone(tz: str | None) -> str:
    return analytics.Filters(tz=tz).zone  # validates the name


def report_filters(
    since: str,
    *,
    tz: str | None = None,
    until: str | None = None,
    now: datetime | None = None,
    **others: Any,
) -> analytics.Filters:
    """Filters for ``--since`` (``30d``, ``24h``, ``2026-03-01``, ``2026-03-01T09:00``).

    ``Nd`` is the last N calendar days in the reporting zone, today included
    (``1d`` is today); ``Nh`` the N hours up to ``now``; an ISO date starts at that
    local day, an ISO date-time at that instant (local time when it has no offset).
    ``until`` is an optional last day (ISO date, inclusive).  ``others`` go to
    :class:`~agentcost_nb.analytics.Filters` (``agents``, ``teams``, ...).
    """
    zone = _zone(tz)
    now = (now or datetime.now(UTC)).astimezone(ZoneInfo(zone))
    end: date | None = None
    if until:
        try:
            end = date.fromisoformat(until.strip())
        except ValueError:
            raise ValidationError(
                {"until": f"{until!r} is not an ISO date like 2026-03-31"}, where="report"
            ) from None
    text = since.strip()
    found = _SINCE.fullmatch(text)
    start: date | None
    instant: datetime | None = None
    if found:
        digits, unit = found.group(1), found.group(2).lower()
        n = int(digits) if len(digits) <= 12 else 10**12  # int() refuses > 4300 digits
        if n < 1:
            raise ValidationError({"since": "must be at least 1d or 1h"}, where="report")
        try:
            if unit == "d":
                start = now.date() - timedelta(days=n - 1)
            else:
                instant = now - timedelta(hours=n)
                start = instant.date()
        except OverflowError:  # before year 1
            start = date.min
    else:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise ValidationError(
                {"since": f"{since!r} is not 30d, 24h or an ISO date like 2026-03-01"},
                where="report",
            ) from None
        if len(text) <= 10:  # a plain date
            start = parsed.date()
        else:
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=ZoneInfo(zone))
            instant = parsed
            try:
                start = parsed.astimezone(ZoneInfo(zone)).date()
            except OverflowError:
                start = date.min
    # Day boundaries are turned into UTC instants a day either side: keep clear of year 1 / 9999.
    if start < _EARLIEST:
        raise ValidationError(
            {"since": f"{since!r} reaches back before {_EARLIEST}; give a later start"},
            where="report",
        )
    if end is not None and not _EARLIEST <= end <= _LATEST:
        raise ValidationError(
            {"until": f"{until!r} must be between {_EARLIEST} and {_LATEST}"}, where="report"
        )
    if start > _LATEST:
        raise ValidationError({"since": f"{since!r} is after {_LATEST}"}, where="report")
    if end is None and instant is None:
        end = max(now.date(), start)
    return analytics.Filters(start=start, end=end, since=instant, tz=zone, **others)


def describe(f: analytics.Filters) -> str:
    """One line saying what a selection covers, for captions and command output."""
    if f.since is not None:
        local = f.since.astimezone(ZoneInfo(f.zone))
        period = f"since {local.isoformat(sep=' ', timespec='minutes')}"
    elif f.start is None and f.end is None:
        period = "all time"
    else:
        period = f"{f.start or '…'} to {f.end or 'today'}"
    parts = [f"{period} ({f.zone})"]
    for name, label in (("agents", "agents"), ("teams", "teams"), ("projects", "projects")):
        values = getattr(f, name)
        if values:
            parts.append(f"{label}: {', '.join(values)}")
    if f.api_keys:
        parts.append(f"{len(f.api_keys)} API key(s)")
    return "; ".join(parts)


# ------------------------------------------------------------------------ tables


def _exact(value: Any) -> Any:
    """Decimals as plain exact text (never exponent form); other values as they are."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float) and value != value:  # NaN: an empty cell
        return None
    if isinstance(value, date):
        return value.isoformat()
    return value


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` as CSV with exact decimal text; ``spend_float`` (chart-only) left out."""
    columns = [c for c in frame.columns if c != "spend_float"]
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(columns)
        for row in frame[columns].itertuples(index=False, name=None):
            writer.writerow(["" if v is None else _inert(_exact(v), v) for v in row])
    return path


# A spreadsheet runs a cell that starts with one of these as a formula: text from
# callers or agents (a team named "=HYPERLINK(…)") must stay text.
_FORMULA_START = r"^[=+\-@\t\r]"


def _inert(text: object, original: object) -> object:
    """``text`` with a leading ``'`` when it came from a string a spreadsheet would run."""
    if isinstance(original, str) and re.match(_FORMULA_START, original):
        return "'" + original
    return text


def summary_tables(log: EventLog, filters: analytics.Filters) -> dict[str, pd.DataFrame]:
    """The numbers behind the charts, one frame per :data:`SUMMARY_NAMES` entry."""
    totals = analytics.totals(log, filters).to_frame()
    totals.insert(0, "time_zone", filters.zone)
    totals.insert(0, "since", filters.since.isoformat() if filters.since else None)
    totals.insert(0, "end", filters.end)
    totals.insert(0, "start", filters.start)
    return {
        "totals": totals,
        "spend_per_agent": analytics.spend_per_agent(log, filters),
        "daily_spend": analytics.daily_spend(log, filters),
        "model_usage": analytics.model_usage(log, filters),
        "activity": analytics.activity(log, filters),
        "tokens_per_day": analytics.tokens_over_time(log, filters),
    }


def build_charts(
    tables: Mapping[str, pd.DataFrame],
) -> dict[str, charts.ChartLike]:
    """Every chart, from :func:`summary_tables` frames (never raw events)."""
    return {
        "daily_spend": charts.daily_spend_chart(tables["daily_spend"]),
        "spend_per_agent": charts.spend_per_agent_chart(tables["spend_per_agent"]),
        "model_usage": charts.model_usage_chart(tables["model_usage"]),
        "activity": charts.activity_chart(tables["activity"]),
        "tokens_per_day": charts.tokens_chart(tables["tokens_per_day"]),
    }


@dataclass(frozen=True)
class Report:
    """What :func:`write_report` wrote."""

    folder: Path
    filters: analytics.Filters
    totals: analytics.Totals
    files: list[Path] = field(default_factory=list)

    def summary(self) -> str:
        t = self.totals
        spend = "unpriced" if t.spend is None else f"${format(t.spend, 'f')}"
        return (
            f"{describe(self.filters)}: {t.requests:,} calls, {spend}"
            f" ({t.successful:,} ok, {t.failed:,} failed)\n"
            f"wrote {len(self.files)} files to {self.folder}: "
            + ", ".join(p.name for p in self.files)
        )


def write_report(
    log: EventLog,
    filters: analytics.Filters,
    folder: str | Path,
    *,
    formats: Sequence[str] = ("png", "svg"),
) -> Report:
    """Every chart in each of ``formats`` and one CSV per summary table, into ``folder``."""
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise LogError(f"cannot create the report folder {out}: {exc.strerror or exc}") from exc
    tables = summary_tables(log, filters)
    files: list[Path] = []
    try:
        for name in SUMMARY_NAMES:
            files.append(write_csv(tables[name], out / f"{name}.csv"))
        for name, chart in build_charts(tables).items():
            for kind in formats:
                files.append(charts.save_chart(chart, out / f"{name}.{kind}"))
    except OSError as exc:
        raise LogError(f"cannot write the report to {out}: {exc.strerror or exc}") from exc
    return Report(out, filters, analytics.totals(log, filters), files)


# ----------------------------------------------------------------------- exports


@dataclass(frozen=True)
class Export:
    """An export file: where it is, how many events it holds, in which format."""

    path: Path
    rows: int
    format: ExportFormat

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def media_type(self) -> str:
        return "text/csv" if self.format == "csv" else "application/vnd.apache.parquet"


def export_name(f: analytics.Filters, fmt: str, *, now: datetime | None = None) -> str:
    """``agentcost-events_<first day>_<last day>[_filtered]_<local time>.<fmt>``."""
    zone = ZoneInfo(f.zone)
    stamp = (now or datetime.now(UTC)).astimezone(zone).strftime("%Y%m%d-%H%M%S")
    span = "all" if f.start is None and f.end is None else f"{f.start or 'start'}_{f.end or 'now'}"
    narrowed = any(getattr(f, n) for n in ("agents", "api_keys", "teams", "projects", "statuses"))
    return f"agentcost-events_{span}{'_filtered' if narrowed else ''}_{stamp}.{fmt}"


# At least two places, no trailing zeros beyond that: "0.050000…" -> "0.05", "1.000…" -> "1.00".
_TRAILING_ZEROS = (r"^(-?\d+\.\d\d\d*?)0+$", r"\1")


def _decimal_text(col: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Exact plain decimal text.  Arrow writes tiny values as ``5E-7``: those via Python."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()
    text = pc.cast(col, pa.string())
    odd = pc.fill_null(pc.match_substring(text, "E"), False)
    if pc.any(odd).as_py():
        fixed = [format(d, "f") for d in pc.filter(col, odd).to_pylist()]
        text = pc.replace_with_mask(text, odd, pa.array(fixed, pa.string()))
    return pc.replace_substring_regex(text, _TRAILING_ZEROS[0], _TRAILING_ZEROS[1])


def _csv_table(table: pa.Table) -> pa.Table:
    """Text the CSV writer can take, exact: decimals as plain decimal text, tags as JSON."""
    columns = []
    for name in table.column_names:
        col = table[name]
        if pa.types.is_decimal(col.type):
            col = _decimal_text(col)
        elif pa.types.is_list(col.type):
            col = pa.array(
                [None if v is None else json.dumps(v, ensure_ascii=False) for v in col.to_pylist()],
                pa.string(),
            )
        elif pa.types.is_timestamp(col.type):
            col = pc.strftime(col, format="%Y-%m-%dT%H:%M:%SZ")  # %S has the microseconds
        elif pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            runs = pc.fill_null(pc.match_substring_regex(col, _FORMULA_START), False)
            col = pc.if_else(runs, pc.binary_join_element_wise("'", col, ""), col)
        columns.append(col)
    return pa.table(columns, names=table.column_names)


def _write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(tmp)
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise LogError(f"cannot write {path}: {exc.strerror or exc}") from exc


def export_events(
    log: EventLog,
    filters: analytics.Filters,
    fmt: str,
    folder: str | Path,
    *,
    name: str | None = None,
    now: datetime | None = None,
) -> Export:
    """Write the selection's events (every stored column, oldest first) as CSV or Parquet.

    Parquet keeps the event schema (``decimal128(38, 18)`` money, UTC timestamps);
    CSV has money as exact decimal text, times as ISO 8601 UTC (``…Z``) and tags
    as a JSON list.  The file appears whole (written aside, then renamed).
    """
    kind = fmt.lower().lstrip(".")
    if kind not in EXPORT_FORMATS:
        raise ValidationError({"format": f"must be csv or parquet, not {fmt!r}"}, where="export")
    table = analytics.filtered_events(log, filters).cast(EVENT_SCHEMA)
    path = Path(folder) / (name or export_name(filters, kind, now=now))
    if kind == "parquet":
        _write_atomically(path, lambda p: pq.write_table(table, p, compression="zstd"))
    else:
        text = _csv_table(table)
        _write_atomically(path, lambda p: pacsv.write_csv(text, p))
    return Export(path, table.num_rows, kind)  # type: ignore[arg-type]
