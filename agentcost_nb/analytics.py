"""Spend and activity aggregates over the event log.  Pure: no widget, HTTP or chart code.

Every function takes an :class:`~agentcost_nb.eventlog.EventLog` and a :class:`Filters`
and returns a small pandas object.  The work is done in Arrow:

- only the needed columns are read, the UTC ``date=`` partitions outside the local
  date range are never opened, and the other filters are pushed into the scan;
- days are the calendar days of the *reporting* time zone, computed from the stored
  UTC instant at read time (so DST days have 23 or 25 hours, never a double day);
- money is summed on the ``decimal128`` column and comes out as exact ``Decimal``;
  a float ``spend_float`` sits beside it for charts only;
- an unpriced event (``cost_usd`` null) counts as a request but not as $0: a group
  whose events are all unpriced has ``spend = None``, and ``unpriced_requests`` says
  how many were left out.
"""

from __future__ import annotations

import decimal
import functools
import operator
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from .errors import ValidationError
from .eventlog import EventLog
from .events import EVENT_SCHEMA

__all__ = [
    "ACTIVITY_COLUMNS",
    "CHOICE_COLUMNS",
    "DAILY_SPEND_COLUMNS",
    "MODEL_USAGE_COLUMNS",
    "RECENT_COLUMNS",
    "SNAPSHOT_COLUMNS",
    "SPEND_BY_TAIL",
    "SPEND_PER_AGENT_COLUMNS",
    "TOKENS_COLUMNS",
    "DashboardData",
    "EventPage",
    "Filters",
    "Kpis",
    "Snapshot",
    "Totals",
    "activity",
    "daily_spend",
    "dashboard_data",
    "default_zone",
    "filter_choices",
    "filtered_events",
    "kpis",
    "model_usage",
    "recent_events",
    "spend_by",
    "spend_per_agent",
    "tokens_over_time",
    "totals",
]

_MONEY = decimal.Context(prec=80)
_CENT = Decimal("0.01")
_ONE_DAY = timedelta(days=1)

# Filters attribute -> event column it restricts.
_FILTER_COLUMNS: dict[str, str] = {
    "agents": "agent_name",
    "api_keys": "api_key_hash",
    "teams": "team",
    "projects": "project",
    "endpoints": "endpoint",
    "statuses": "status",
}


# --------------------------------------------------------------------------- zones


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def default_zone() -> str:
    """The machine's IANA time zone: ``$TZ``, else ``/etc/localtime``, else ``UTC``."""
    candidates: list[str] = []
    env = os.environ.get("TZ", "").strip().lstrip(":")
    if env:
        candidates.append(env)
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        candidates.append(target.split("zoneinfo/", 1)[1])
    try:
        candidates.append(Path("/etc/timezone").read_text().strip())
    except OSError:
        pass
    local = datetime.now().astimezone().tzinfo
    if local is not None:
        candidates.append(getattr(local, "key", None) or local.tzname(None) or "")
    for name in candidates:
        if name and _valid_zone(name):
            return name
    return "UTC"


# ------------------------------------------------------------------------- filters


# Days the date arithmetic (previous periods, local midnights) can always handle.
_FIRST_DAY, _LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)


def _as_day(value: object) -> date | None:
    """A date from a date, a date-time or ISO text; None if it is none of these."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class Filters:
    """What to include.  Empty tuples mean "all"; dates are inclusive, in ``tz``.

    ``tz`` is the reporting IANA time zone; ``None`` means the machine's own zone.
    Lists and single strings are accepted and stored as tuples; dates may be given
    as ``date``, ``datetime`` or ISO text, from 1900-01-01 to 9998-12-31.
    """

    start: date | None = None
    end: date | None = None
    agents: tuple[str, ...] = ()
    api_keys: tuple[str, ...] = ()  # api_key_hash values
    teams: tuple[str, ...] = ()
    projects: tuple[str, ...] = ()
    endpoints: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    tz: str | None = None
    since: datetime | None = None  # also at or after this instant (e.g. "the last 24 h")

    def __post_init__(self) -> None:
        problems: dict[str, str] = {}
        for name in _FILTER_COLUMNS:
            value: Any = getattr(self, name)
            if value is None:
                value = ()
            elif isinstance(value, str):
                value = (value,)
            try:
                value = tuple(value)
            except TypeError:
                value = (value,)
            if not all(isinstance(v, str) for v in value):
                problems[name] = "must be a list of texts"
            object.__setattr__(self, name, value)
        for name in ("start", "end"):
            value = getattr(self, name)
            day = _as_day(value)
            if value is not None and day is None:
                problems[name] = f"expected a date (YYYY-MM-DD), got {value!r}"[:120]
            elif day is not None and not _FIRST_DAY <= day <= _LAST_DAY:
                problems[name] = f"must be between {_FIRST_DAY} and {_LAST_DAY}"
            object.__setattr__(self, name, day)
        if self.since is not None and (
            not isinstance(self.since, datetime) or self.since.utcoffset() is None
        ):
            problems["since"] = "needs a date-time with a time zone (an instant)"
        if self.tz is not None and not isinstance(self.tz, str):
            problems["tz"] = "must be the name of an IANA time zone (e.g. 'Europe/Paris')"
        if problems:
            raise ValidationError(problems, where="filters")
        if self.start is not None and self.end is not None and self.start > self.end:
            raise ValidationError({"end": "is before the start date"}, where="filters")
        if self.tz is not None and not _valid_zone(self.tz):
            raise ValidationError(
                {"tz": f"{self.tz!r} is not a known IANA time zone (e.g. 'Europe/Paris')"},
                where="filters",
            )

    @property
    def zone(self) -> str:
        return self.tz or default_zone()

    @classmethod
    def last_days(
        cls, n: int, *, today: date | None = None, tz: str | None = None, **others: Any
    ) -> Filters:
        """The ``n`` days up to and including today (in ``tz``)."""
        if n < 1:
            raise ValidationError({"days": "must be at least 1"}, where="filters")
        zone = tz or default_zone()
        today = today or datetime.now(ZoneInfo(zone)).date()
        return cls(start=today - timedelta(days=n - 1), end=today, tz=tz, **others)

    def previous_period(self, *, today: date | None = None) -> Filters | None:
        """The same filters over the equally long period just before; ``None`` if unbounded."""
        if self.start is None:
            return None
        # A start after today (an open range picked in the future) is one day long.
        end = max(self.end or today or datetime.now(ZoneInfo(self.zone)).date(), self.start)
        length = (end - self.start).days + 1
        since = self.since - timedelta(days=length) if self.since is not None else None
        return replace(
            self, start=self.start - timedelta(days=length), end=self.start - _ONE_DAY, since=since
        )


# --------------------------------------------------------------------------- reading


def _local_midnights(day: date, zone: str) -> list[datetime]:
    """UTC instants at which ``day`` may start in ``zone`` (two if midnight repeats)."""
    tz = ZoneInfo(zone)
    return [
        datetime.combine(day, time(), tzinfo=tz).replace(fold=fold).astimezone(UTC)
        for fold in (0, 1)
    ]


def _scan_filter(f: Filters, zone: str) -> ds.Expression | None:
    parts: list[ds.Expression] = []
    for name, column in _FILTER_COLUMNS.items():
        values = getattr(f, name)
        if values:
            parts.append(ds.field(column).isin(list(values)))
    ts_type = pa.timestamp("us", tz="UTC")
    if f.since is not None:
        parts.append(ds.field("timestamp") >= pa.scalar(f.since.astimezone(UTC), ts_type))
    # A local day overlaps at most the UTC dates one either side (offsets are < 24 h).
    if f.start is not None:
        parts.append(ds.field("date") >= (f.start - _ONE_DAY).isoformat())
        lo = min(_local_midnights(f.start, zone))
        parts.append(ds.field("timestamp") >= pa.scalar(lo, ts_type))
    if f.end is not None:
        parts.append(ds.field("date") <= (f.end + _ONE_DAY).isoformat())
        hi = max(_local_midnights(f.end + _ONE_DAY, zone))
        parts.append(ds.field("timestamp") < pa.scalar(hi, ts_type))
    return functools.reduce(operator.and_, parts) if parts else None


def _local_days_zoneinfo(ts: pa.ChunkedArray, zone: str) -> pa.Array:
    """Fallback when Arrow has no time zone database (e.g. Windows without tzdata)."""
    micros = pc.cast(ts, pa.int64()).to_numpy()
    minutes = micros // 60_000_000
    uniq, inverse = np.unique(minutes, return_inverse=True)
    tz = ZoneInfo(zone)
    offsets = np.fromiter(
        (
            int(datetime.fromtimestamp(int(m) * 60, UTC).astimezone(tz).utcoffset().total_seconds())  # type: ignore[union-attr]
            for m in uniq
        ),
        dtype=np.int64,
        count=len(uniq),
    )
    local_seconds = micros // 1_000_000 + offsets[inverse]
    return pa.array((local_seconds // 86_400).astype(np.int32), pa.date32())


def _local_days(ts: pa.ChunkedArray, zone: str) -> pa.ChunkedArray | pa.Array:
    """Calendar day in ``zone`` of each UTC instant, as ``date32``."""
    if zone in ("UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu", "Universal"):
        days = pc.cast(ts, pa.int64()).to_numpy() // 86_400_000_000  # floor, also pre-1970
        return pa.array(days.astype(np.int32), pa.date32())
    try:
        return pc.local_timestamp(ts.cast(pa.timestamp("us", tz=zone))).cast(pa.date32())
    except pa.ArrowException:
        return _local_days_zoneinfo(ts, zone)


def _read(
    log: EventLog,
    f: Filters,
    columns: Iterable[str],
    *,
    with_day: bool = False,
    extra: ds.Expression | None = None,
    dictionary: bool = True,
) -> pa.Table:
    """Filtered rows with just ``columns`` (plus ``day`` in the reporting zone if asked).

    Low-cardinality strings (agent, model, status, ...) come as dictionary arrays
    unless ``dictionary=False``: faster to read and group, same values.  Callers
    that hand rows to users (pandas frames, exports) ask for plain strings.
    """
    zone = f.zone
    dated = f.start is not None or f.end is not None
    wanted = list(dict.fromkeys(columns))
    read_cols = wanted + (
        ["timestamp"] if (dated or with_day) and "timestamp" not in wanted else []
    )
    expr = _scan_filter(f, zone)
    if extra is not None:
        expr = extra if expr is None else expr & extra
    table = log.read(read_cols, filter=expr, dictionary=dictionary)
    if dated or with_day:
        day = _local_days(table["timestamp"], zone)
        if dated:
            keep = []
            if f.start is not None:
                keep.append(pc.greater_equal(day, pa.scalar(f.start, pa.date32())))
            if f.end is not None:
                keep.append(pc.less_equal(day, pa.scalar(f.end, pa.date32())))
            mask = functools.reduce(pc.and_, keep)
            # The instant bounds of the scan already cut all but repeated (DST) hours:
            # usually every row stays, and then the table is not copied.
            if not pc.all(mask).as_py():
                table, day = table.filter(mask), pc.filter(day, mask)
        if with_day:
            table = table.append_column("day", day)
    return table.select(wanted + (["day"] if with_day else []))


# ----------------------------------------------------------------------- aggregation


def _tidy(amount: Decimal | None) -> Decimal | None:
    """Same value, readable form: no trailing zeros beyond cents (``1.00``, ``0.05036``)."""
    if amount is None:
        return None
    n = amount.normalize(_MONEY)
    if n.as_tuple().exponent > -2:  # type: ignore[operator]
        return n.quantize(_CENT, context=_MONEY)
    return n


def _with_success(table: pa.Table) -> pa.Table:
    ok = pc.fill_null(pc.equal(table["status"], "success"), False)
    return table.append_column("_ok", pc.cast(ok, pa.int64()))


def _aggregate(
    table: pa.Table, keys: Sequence[str], measures: Sequence[str]
) -> list[dict[str, Any]]:
    """One dict per group with the standard measures, computed in Arrow.

    ``measures`` picks from: spend, success, tokens.  ``table`` is either events or
    a :func:`_rollup` of them (partial counts and sums, which add up exactly).
    """
    rolled = "_n" in table.column_names
    aggs: list[tuple[Any, str]] = [("_n", "sum") if rolled else ([], "count_all")]
    if "spend" in measures:
        aggs += [("cost_usd", "sum"), ("_priced", "sum") if rolled else ("cost_usd", "count")]
    if "success" in measures:
        if not rolled:
            table = _with_success(table)
        aggs.append(("_ok", "sum"))
    if "tokens" in measures:
        aggs += [("input_tokens", "sum"), ("output_tokens", "sum")]
    grouped = table.group_by(list(keys), use_threads=False).aggregate(aggs)
    count, priced = ("_n_sum", "_priced_sum") if rolled else ("count_all", "cost_usd_count")
    rows = []
    for g in grouped.to_pylist():
        requests = g[count] or 0  # a rollup of no events sums to null
        row: dict[str, Any] = {k: g[k] for k in keys}
        row["requests"] = requests
        if "spend" in measures:
            spend = _tidy(g["cost_usd_sum"])
            row["spend"] = spend
            row["spend_float"] = float(spend) if spend is not None else float("nan")
            row["unpriced_requests"] = requests - (g[priced] or 0)
        if "success" in measures:
            ok = g["_ok_sum"] or 0
            row["successful"] = ok
            row["failed"] = requests - ok
            row["success_rate"] = ok / requests if requests else None
        if "tokens" in measures:
            row["input_tokens"] = g["input_tokens_sum"] or 0
            row["output_tokens"] = g["output_tokens_sum"] or 0
            row["total_tokens"] = row["input_tokens"] + row["output_tokens"]
        rows.append(row)
    return rows


def _rollup(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """Events grouped by ``keys`` into partial measures that :func:`_aggregate` adds up.

    Columns: the keys, ``_n`` (events), ``_ok`` (successes), ``_priced`` (events with
    a cost), ``cost_usd``/``input_tokens``/``output_tokens`` (sums, null when no value)
    and ``timestamp`` (latest).  Exact: decimal sums of sums are the sums.
    """
    aggs: list[tuple[Any, str]] = [
        ([], "count_all"),
        ("_ok", "sum"),
        ("cost_usd", "count"),
        ("cost_usd", "sum"),
        ("input_tokens", "sum"),
        ("output_tokens", "sum"),
        ("timestamp", "max"),
    ]
    grouped = _with_success(table).group_by(list(keys), use_threads=False).aggregate(aggs)
    names = {
        "count_all": "_n",
        "_ok_sum": "_ok",
        "cost_usd_count": "_priced",
        "cost_usd_sum": "cost_usd",
        "input_tokens_sum": "input_tokens",
        "output_tokens_sum": "output_tokens",
        "timestamp_max": "timestamp",
    }
    return grouped.rename_columns([names.get(c, c) for c in grouped.column_names])


def _latest(table: pa.Table, key: str, value: str) -> dict[Any, Any]:
    """For each ``key``, the most recent non-null ``value`` (e.g. an agent's display name)."""
    last = table.group_by([key, value], use_threads=False).aggregate([("timestamp", "max")])
    result: dict[Any, Any] = {}
    for row in sorted(last.to_pylist(), key=lambda r: r["timestamp_max"]):
        if row[value] is not None:
            result[row[key]] = row[value]
    return result


def _by_spend(row: Mapping[str, Any]) -> tuple[bool, Decimal]:
    spend = row["spend"]
    return (spend is None, -(spend or Decimal(0)))


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    if not rows:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in columns})
    return pd.DataFrame(rows, columns=list(columns))


def _add_display_names(table: pa.Table, rows: list[dict[str, Any]]) -> None:
    names = _latest(table, "agent_name", "display_name")
    for row in rows:
        row["display_name"] = names.get(row["agent_name"]) or row["agent_name"]


# ------------------------------------------------------------------------ public API


@dataclass(frozen=True)
class Totals:
    """Headline numbers for one period.

    ``spend`` is the exact sum of the priced events; it is ``None`` when there were
    requests but none of them was priced (and ``Decimal("0.00")`` when there were none).
    """

    spend: Decimal | None
    requests: int
    successful: int
    failed: int
    unpriced_requests: int
    input_tokens: int
    output_tokens: int
    total_tokens: int
    success_rate: float | None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{f.name: getattr(self, f.name) for f in fields(self)}])


_TOTAL_COLUMNS = ("status", "cost_usd", "input_tokens", "output_tokens")


def totals(log: EventLog, filters: Filters | None = None) -> Totals:
    f = filters or Filters()
    return _totals_of(_read(log, f, _TOTAL_COLUMNS))


def _totals_of(table: pa.Table) -> Totals:
    (row,) = _aggregate(table, [], ("spend", "success", "tokens"))
    spend = row["spend"] if row["requests"] else Decimal("0.00")
    return Totals(
        spend=spend,
        requests=row["requests"],
        successful=row["successful"],
        failed=row["failed"],
        unpriced_requests=row["unpriced_requests"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        total_tokens=row["total_tokens"],
        success_rate=row["success_rate"],
    )


SPEND_PER_AGENT_COLUMNS = (
    "agent_name",
    "display_name",
    "spend",
    "spend_float",
    "requests",
    "unpriced_requests",
)


def spend_per_agent(log: EventLog, filters: Filters | None = None) -> pd.DataFrame:
    """One row per agent, most expensive first."""
    f = filters or Filters()
    return _spend_per_agent_of(
        _read(log, f, ("agent_name", "display_name", "timestamp", "cost_usd"))
    )


def _spend_per_agent_of(table: pa.Table) -> pd.DataFrame:
    rows = _aggregate(table, ["agent_name"], ("spend",))
    _add_display_names(table, rows)
    rows.sort(key=lambda r: (*_by_spend(r), r["agent_name"]))
    return _frame(rows, SPEND_PER_AGENT_COLUMNS)


DAILY_SPEND_COLUMNS = (
    "day",
    "agent_name",
    "display_name",
    "spend",
    "spend_float",
    "requests",
    "unpriced_requests",
)


def daily_spend(log: EventLog, filters: Filters | None = None) -> pd.DataFrame:
    """One row per (local day, agent) that had events, by day then agent."""
    f = filters or Filters()
    columns = ("agent_name", "display_name", "timestamp", "cost_usd")
    return _daily_spend_of(_read(log, f, columns, with_day=True))


def _daily_spend_of(table: pa.Table) -> pd.DataFrame:
    rows = _aggregate(table, ["day", "agent_name"], ("spend",))
    _add_display_names(table, rows)
    rows.sort(key=lambda r: (r["day"], r["agent_name"]))
    return _frame(rows, DAILY_SPEND_COLUMNS)


MODEL_USAGE_COLUMNS = (
    "agent_name",
    "display_name",
    "model",
    "requests",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "spend",
    "spend_float",
    "unpriced_requests",
)


def model_usage(log: EventLog, filters: Filters | None = None) -> pd.DataFrame:
    """One row per (agent, model); ``model`` is ``None`` when the agent reported none."""
    f = filters or Filters()
    columns = ("agent_name", "display_name", "timestamp", "model", "cost_usd")
    return _model_usage_of(_read(log, f, (*columns, "input_tokens", "output_tokens")))


def _model_usage_of(table: pa.Table) -> pd.DataFrame:
    rows = _aggregate(table, ["agent_name", "model"], ("spend", "tokens"))
    _add_display_names(table, rows)
    rows.sort(key=lambda r: (*_by_spend(r), r["agent_name"], r["model"] or ""))
    return _frame(rows, MODEL_USAGE_COLUMNS)


ACTIVITY_COLUMNS = (
    "agent_name",
    "display_name",
    "requests",
    "successful",
    "failed",
    "success_rate",
    "input_tokens",
    "output_tokens",
    "latency_p50_ms",
    "latency_p95_ms",
)


def _quantiles(
    keys: pa.ChunkedArray, values: pa.ChunkedArray, qs: Sequence[float]
) -> dict[Any, list[float]]:
    """Exact per-key quantiles (linear interpolation, numpy's default)."""
    # Integer codes per key, without copying the key strings (memory at 10M events).
    shared = (
        pa.types.is_dictionary(keys.type)
        and keys.num_chunks > 0
        and not keys.null_count
        and all(c.dictionary.equals(keys.chunk(0).dictionary) for c in keys.chunks)
    )
    if shared:
        # One dictionary for every chunk (as EventLog.read gives): its indices are
        # the codes; values absent from the rows get a count of 0 below.
        names = keys.chunk(0).dictionary
        codes = pa.chunked_array([c.indices for c in keys.chunks], keys.type.index_type)
        codes = codes.to_numpy()
    else:
        if pa.types.is_dictionary(keys.type):
            keys = keys.cast(keys.type.value_type)
        names = pc.unique(keys)
        codes = pc.index_in(keys, value_set=names).to_numpy(zero_copy_only=False)
    vals = pc.fill_null(pc.cast(values, pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    valid = ~np.isnan(vals)  # null or NaN latency: not measured
    if not valid.all():
        codes, vals = codes[valid], vals[valid]
    if len(vals) == 0:
        return {}
    codes = codes.astype(np.int16 if len(names) < 2**15 else np.int64)  # radix-sorts int16
    order = np.argsort(codes, kind="stable")  # groups contiguous
    vals = vals[order]
    counts = np.bincount(codes, minlength=len(names))
    ends = np.cumsum(counts)
    result: dict[Any, list[float]] = {}
    for i, name in enumerate(names.to_pylist()):
        if counts[i]:
            group = vals[ends[i] - counts[i] : ends[i]]
            result[name] = [float(v) for v in np.quantile(group, qs)]
    return result


def _latencies(events: pa.Table) -> dict[Any, list[float]]:
    """Per agent: exact p50 and p95 latency."""
    return _quantiles(events["agent_name"], events["latency_ms"], (0.5, 0.95))


def activity(log: EventLog, filters: Filters | None = None) -> pd.DataFrame:
    """Requests, outcomes, tokens and latency per agent, busiest first.

    Latency percentiles are exact and cover every call with a recorded latency,
    failed ones included (a timeout is time the caller waited).
    """
    f = filters or Filters()
    columns = ("agent_name", "display_name", "timestamp", "status", "latency_ms")
    return _activity_of(_read(log, f, (*columns, "input_tokens", "output_tokens")))


def _activity_of(table: pa.Table, latency: dict[Any, list[float]] | None = None) -> pd.DataFrame:
    """From events, or from a rollup plus the :func:`_latencies` of its events."""
    rows = _aggregate(table, ["agent_name"], ("success", "tokens"))
    _add_display_names(table, rows)
    if latency is None:
        latency = _latencies(table)
    for row in rows:
        p50, p95 = latency.get(row["agent_name"], [float("nan"), float("nan")])
        row["latency_p50_ms"], row["latency_p95_ms"] = p50, p95
    rows.sort(key=lambda r: (-r["requests"], r["agent_name"]))
    return _frame(rows, ACTIVITY_COLUMNS)


SpendBy = Literal["api_key", "team", "project"]
_SPEND_BY_KEY: dict[str, str] = {"api_key": "api_key_hash", "team": "team", "project": "project"}
SPEND_BY_TAIL = (
    "spend",
    "spend_float",
    "requests",
    "unpriced_requests",
    "input_tokens",
    "output_tokens",
    "total_tokens",
)


def spend_by(log: EventLog, by: SpendBy, filters: Filters | None = None) -> pd.DataFrame:
    """Spend per API key (``api_key_hash`` plus the masked ``api_key``), team or project.

    Events without a key, team or project form one group whose key is ``None``.
    """
    if by not in _SPEND_BY_KEY:
        raise ValueError(f"by must be one of {', '.join(_SPEND_BY_KEY)}, not {by!r}")
    f = filters or Filters()
    key = _SPEND_BY_KEY[by]
    columns = [key, "cost_usd", "input_tokens", "output_tokens"]
    if by == "api_key":
        columns += ["api_key", "timestamp"]
    table = _read(log, f, columns)
    rows = _aggregate(table, [key], ("spend", "tokens"))
    head = [key]
    if by == "api_key":
        masks = _latest(table, key, "api_key")
        for row in rows:
            row["api_key"] = masks.get(row[key])
        head.append("api_key")
    rows.sort(key=lambda r: (*_by_spend(r), r[key] is None, r[key] or ""))
    return _frame(rows, (*head, *SPEND_BY_TAIL))


TOKENS_COLUMNS = ("day", "input_tokens", "output_tokens", "total_tokens")


def tokens_over_time(log: EventLog, filters: Filters | None = None) -> pd.DataFrame:
    """Token totals per local day that had events."""
    f = filters or Filters()
    return _tokens_over_time_of(_read(log, f, ("input_tokens", "output_tokens"), with_day=True))


def _tokens_over_time_of(table: pa.Table) -> pd.DataFrame:
    rows = _aggregate(table, ["day"], ("tokens",))
    for row in rows:
        del row["requests"]
    rows.sort(key=lambda r: r["day"])
    return _frame(rows, TOKENS_COLUMNS)


_KPI_METRICS = (
    "spend",
    "requests",
    "successful",
    "failed",
    "unpriced_requests",
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "success_rate",
)


@dataclass(frozen=True)
class Kpis:
    """Totals for the period and for the equally long period before it (if bounded)."""

    current: Totals
    previous: Totals | None
    filters: Filters
    previous_filters: Filters | None

    def change(self, metric: str) -> Decimal | int | float | None:
        """Absolute change (success rate: in fraction points); ``None`` if unknown."""
        if self.previous is None:
            return None
        now, before = getattr(self.current, metric), getattr(self.previous, metric)
        if now is None or before is None:
            return None
        return now - before  # type: ignore[no-any-return]

    def change_pct(self, metric: str) -> float | None:
        """Relative change (0.25 = +25 %); ``None`` when the previous value is 0 or unknown."""
        delta = self.change(metric)
        before = getattr(self.previous, metric) if self.previous is not None else None
        if delta is None or not before:
            return None
        return float(Decimal(delta) / Decimal(before)) if metric == "spend" else delta / before

    def to_frame(self) -> pd.DataFrame:
        rows = [
            {
                "metric": m,
                "value": getattr(self.current, m),
                "previous": getattr(self.previous, m) if self.previous is not None else None,
                "change": self.change(m),
                "change_pct": self.change_pct(m),
            }
            for m in _KPI_METRICS
        ]
        return pd.DataFrame(rows, columns=["metric", "value", "previous", "change", "change_pct"])


def kpis(log: EventLog, filters: Filters | None = None, *, today: date | None = None) -> Kpis:
    """Totals plus the change against the previous period of the same length.

    With no start date there is no previous period (``previous`` is ``None``); with a
    start but no end, the period runs to ``today`` in the reporting zone.
    """
    f = filters or Filters()
    prev_f = f.previous_period(today=today)
    if f.start is not None and f.end is None:
        end = today or datetime.now(ZoneInfo(f.zone)).date()
        f = replace(f, end=max(end, f.start))
    return Kpis(
        current=totals(log, f),
        previous=totals(log, prev_f) if prev_f is not None else None,
        filters=f,
        previous_filters=prev_f,
    )


# --------------------------------------------------------------- one-read snapshot

# Every column the dashboard's aggregates need: read once per refresh.
SNAPSHOT_COLUMNS = (
    "timestamp",
    "agent_name",
    "display_name",
    "model",
    "status",
    "cost_usd",
    "input_tokens",
    "output_tokens",
    "latency_ms",
)


class Snapshot:
    """Every dashboard aggregate for one :class:`Filters`, from a single read of the log.

    The needed columns are read once (date partitions pruned, agent/key/team/...
    filters pushed into the scan) and grouped once into a small :attr:`rollup`
    that each method aggregates further; results equal the module functions
    of the same name.  ``recent_events`` reads the full rows of just its page.  A
    snapshot does not see events appended after it was taken: take a new one to
    refresh.
    """

    def __init__(self, log: EventLog, filters: Filters | None = None) -> None:
        self.log = log
        self.filters = filters or Filters()
        self.table = _read(log, self.filters, SNAPSHOT_COLUMNS, with_day=True)

    @functools.cached_property
    def rollup(self) -> pa.Table:
        """Partial measures per (day, agent, display name, model, status): a few
        thousand rows that every aggregate but the latency percentiles is taken from."""
        keys = ["day", "agent_name", "display_name", "model", "status"]
        return _rollup(self.table, keys)

    @functools.cached_property
    def latency(self) -> dict[Any, list[float]]:
        """Per agent: exact [p50, p95] latency in ms (needs every event, not the rollup)."""
        return _latencies(self.table)

    def __repr__(self) -> str:
        return f"Snapshot({self.log!r}, {self.filters!r}, rows={self.table.num_rows})"

    def totals(self) -> Totals:
        return _totals_of(self.rollup)

    def spend_per_agent(self) -> pd.DataFrame:
        return _spend_per_agent_of(self.rollup)

    def daily_spend(self) -> pd.DataFrame:
        return _daily_spend_of(self.rollup)

    def model_usage(self) -> pd.DataFrame:
        return _model_usage_of(self.rollup)

    def activity(self) -> pd.DataFrame:
        return _activity_of(self.rollup, self.latency)

    def tokens_over_time(self) -> pd.DataFrame:
        return _tokens_over_time_of(self.rollup)

    def recent_events(self, limit: int = 50, offset: int = 0) -> EventPage:
        return _recent_page(self.log, self.filters, self.table["timestamp"], limit, offset)


@dataclass(frozen=True)
class DashboardData:
    """What the dashboard shows for one view (see :func:`dashboard_data`)."""

    filters: Filters
    totals: Totals
    spend_per_agent: pd.DataFrame
    daily_spend: pd.DataFrame
    model_usage: pd.DataFrame
    activity: pd.DataFrame
    tokens_over_time: pd.DataFrame
    recent: EventPage


def dashboard_data(
    log: EventLog, filters: Filters | None = None, *, limit: int = 20, offset: int = 0
) -> DashboardData:
    """Totals, per-agent, daily, model, activity, token and recent-events views in one read.

    The same numbers as calling :func:`totals`, :func:`spend_per_agent`,
    :func:`daily_spend`, :func:`model_usage`, :func:`activity`,
    :func:`tokens_over_time` and :func:`recent_events` one by one, which read the log
    seven times.
    """
    snap = Snapshot(log, filters)
    # The two passes over every event run side by side (Arrow and numpy release the GIL).
    with ThreadPoolExecutor(max_workers=1) as pool:
        latency = pool.submit(lambda: snap.latency)
        snap.rollup  # noqa: B018  (computed and cached)
        latency.result()
    return DashboardData(
        filters=snap.filters,
        totals=snap.totals(),
        spend_per_agent=snap.spend_per_agent(),
        daily_spend=snap.daily_spend(),
        model_usage=snap.model_usage(),
        activity=snap.activity(),
        tokens_over_time=snap.tokens_over_time(),
        recent=snap.recent_events(limit, offset),
    )


RECENT_COLUMNS = (
    "time",
    "agent_name",
    "display_name",
    "status",
    "model",
    "api_key",
    "team",
    "project",
    "endpoint",
    "input_tokens",
    "output_tokens",
    "latency_ms",
    "cost_usd",
    "error_type",
    "error",
    "event_id",
)


@dataclass(frozen=True)
class EventPage:
    """One page of the logs table: ``frame`` holds ``limit`` rows at most, newest first."""

    frame: pd.DataFrame
    total: int
    offset: int
    limit: int

    @property
    def pages(self) -> int:
        return -(-self.total // self.limit) if self.limit else 0


def recent_events(
    log: EventLog, filters: Filters | None = None, limit: int = 50, offset: int = 0
) -> EventPage:
    """Events newest first for a paginated table; ``time`` is in the reporting zone.

    Two passes: the timestamps alone give the total and the cut-off instant, then only
    the rows at or after it are read in full.
    """
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must be ≥ 0")
    f = filters or Filters()
    return _recent_page(log, f, _read(log, f, ("timestamp",))["timestamp"], limit, offset)


def _recent_page(
    log: EventLog, f: Filters, stamps: pa.ChunkedArray, limit: int, offset: int
) -> EventPage:
    """The page of events newest first, given the timestamps of every event in view."""
    if limit < 0 or offset < 0:
        raise ValueError("limit and offset must be ≥ 0")
    total = len(stamps)
    wanted = offset + limit
    columns = [c for c in RECENT_COLUMNS if c != "time"] + ["timestamp"]
    if wanted == 0 or offset >= total:
        return EventPage(_frame([], RECENT_COLUMNS), total, offset, limit)
    extra = None
    if wanted < total:
        micros = pc.cast(stamps, pa.int64()).to_numpy()
        cut = int(np.partition(micros, total - wanted)[total - wanted])  # wanted-th newest
        cutoff = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=cut)
        # The date= partition is the UTC date of the timestamp: older days are skipped.
        extra = (ds.field("timestamp") >= pa.scalar(cut, pa.timestamp("us", tz="UTC"))) & (
            ds.field("date") >= cutoff.date().isoformat()
        )
    table = _read(log, f, columns, extra=extra, dictionary=False)
    table = table.sort_by([("timestamp", "descending"), ("event_id", "descending")])
    table = table.slice(offset, limit)
    zone = f.zone
    local = table["timestamp"].cast(pa.timestamp("us", tz=zone))
    table = table.drop_columns(["timestamp"]).add_column(0, "time", local)
    frame = table.to_pandas()
    frame["cost_usd"] = pd.Series([_tidy(c) for c in frame["cost_usd"]], dtype=object)
    frame["display_name"] = frame["display_name"].fillna(frame["agent_name"])
    return EventPage(frame[list(RECENT_COLUMNS)], total, offset, limit)


CHOICE_COLUMNS = ("dimension", "value", "label", "requests")
_CHOICE_DIMENSIONS: dict[str, tuple[str, str | None]] = {
    # dimension -> (column filtered on, column shown instead when set)
    "agent": ("agent_name", "display_name"),
    "api_key": ("api_key_hash", "api_key"),
    "team": ("team", None),
    "project": ("project", None),
}


def filter_choices(log: EventLog, filters: Filters | None = None) -> pd.DataFrame:
    """The values each filter can take within ``filters``, busiest first, in one read.

    ``dimension`` is ``agent``, ``api_key``, ``team`` or ``project``; ``value`` is
    what :class:`Filters` takes (an agent name, a key hash, a team, a project) and
    ``label`` what to show (the latest display name, the masked key).  Events
    without a key, team or project offer no choice.
    """
    f = filters or Filters()
    wanted = ["timestamp"]
    for column, shown in _CHOICE_DIMENSIONS.values():
        wanted += [column] + ([shown] if shown else [])
    table = _read(log, f, wanted)
    rows: list[dict[str, Any]] = []
    for dimension, (column, shown) in _CHOICE_DIMENSIONS.items():
        labels = _latest(table, column, shown) if shown else {}
        counted = table.group_by([column], use_threads=False).aggregate([([], "count_all")])
        found = [
            {
                "dimension": dimension,
                "value": g[column],
                "label": labels.get(g[column]) or g[column],
                "requests": g["count_all"],
            }
            for g in counted.to_pylist()
            if g[column]
        ]
        found.sort(key=lambda r: (-r["requests"], r["label"], r["value"]))
        rows += found
    return _frame(rows, CHOICE_COLUMNS)


def filtered_events(
    log: EventLog, filters: Filters | None = None, columns: Sequence[str] | None = None
) -> pa.Table:
    """The stored events matching ``filters`` (every column unless ``columns``), oldest first.

    Arrow out, so money stays ``decimal128`` for exports; the ``date`` partition
    column is left out (it is the folder name, not part of the event).
    """
    f = filters or Filters()
    wanted = list(columns) if columns else EVENT_SCHEMA.names
    table = _read(log, f, [*wanted, "timestamp", "event_id"], dictionary=False)
    table = table.sort_by([("timestamp", "ascending"), ("event_id", "ascending")])
    return table.select(wanted)
