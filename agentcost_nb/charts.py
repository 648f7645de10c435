"""Altair charts built from the aggregated frames of :mod:`agentcost_nb.analytics`.

Charts never see raw events, so their JSON depends on days × agents, not on the
number of calls.  Rules that keep them honest:

- field names are fixed, safe identifiers; agent and model names only ever appear
  as *values*, so dots, brackets, quotes or emoji display as written;
- dollars in tooltips are exact text made from the ``Decimal`` (``"$0.05036"``);
  bar lengths come from that same text, parsed by Vega;
- days are ``YYYY-MM-DD`` strings already bucketed in the reporting zone, drawn on
  an ordinal axis that lists every day of the range (a browser in another zone
  cannot shift them, and a day with one point still gets its bar);
- an empty frame gives a chart saying "no data for this selection";
- every text a frame brings is made XML-safe first (``_xml_safe_input``: no C0
  control but tab and line breaks, no lone surrogate, no U+FFFE / U+FFFF): an
  old log's ``model='gpt\\x1b[31m'`` would make vl-convert abort the whole
  process (a Jupyter kernel) when the chart is saved as PNG or SVG.

The per-day charts carry their rows as one compact inline CSV string with
numeric references into small lookup tables: 90 days × 20 agents stay far below
50 KB.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, timedelta
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import Any, Literal, ParamSpec, TypeVar, cast

import altair as alt
import pandas as pd

from .pricing import format_usd
from .text import xml_safe

__all__ = [
    "AGENT_PICK",
    "LEGEND_PICK",
    "NO_DATA",
    "ChartLike",
    "activity_chart",
    "agent_labels",
    "daily_legend",
    "daily_spend_chart",
    "model_usage_chart",
    "save_chart",
    "spend_per_agent_chart",
    "tokens_chart",
]

NO_DATA = "no data for this selection"
ONLY_UNPRICED = "only unpriced calls in this selection"
AGENT_PICK = "agent_pick"
LEGEND_PICK = "legend_pick"
NO_MODEL = "(not reported)"
MONEY_AXIS = "$,.4~f"

ChartLike = alt.Chart | alt.LayerChart | alt.HConcatChart

_P = ParamSpec("_P")
_R = TypeVar("_R")


# ------------------------------------------------------------------------- helpers


def _safe(value: Any) -> Any:
    """``value`` with every text in it XML-safe (frames, lists, tuples, dicts, strings)."""
    if isinstance(value, str):
        return xml_safe(value)
    if isinstance(value, pd.DataFrame):
        return _safe_frame(value)
    if isinstance(value, list | tuple):
        return type(value)(_safe(v) for v in value)
    return value


def _safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    dirty = [
        column
        for column in frame.columns
        if any(isinstance(v, str) and xml_safe(v) != v for v in frame[column])
    ]
    if not dirty:
        return frame
    frame = frame.copy()
    for column in dirty:
        frame[column] = [xml_safe(v) if isinstance(v, str) else v for v in frame[column]]
    return frame


def _safe_spec(spec: Any) -> Any:
    if isinstance(spec, dict):
        return {_safe_spec(k): _safe_spec(v) for k, v in spec.items()}
    if isinstance(spec, list):
        return [_safe_spec(v) for v in spec]
    return xml_safe(spec) if isinstance(spec, str) else spec


def _xml_safe_input(build: Callable[_P, _R]) -> Callable[_P, _R]:
    """The one door from frames to chart data: every text argument is made XML-safe.

    Every chart builder (and ``daily_legend``, so that its labels match the
    chart's) goes through it; a builder never sees a raw frame.
    """

    @wraps(build)
    def safe_build(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        args = tuple(_safe(a) for a in args)  # type: ignore[assignment]
        kwargs = {k: _safe(v) for k, v in kwargs.items()}  # type: ignore[assignment]
        return build(*args, **kwargs)

    return safe_build


def _agent_pick(picked: Sequence[str] = ()) -> alt.Parameter:
    """Click a bar (shift-click for more) to pick agents; ``picked`` starts selected."""
    init = [{"agent_name": str(a)} for a in picked]
    if init:
        return alt.selection_point(fields=["agent_name"], name=AGENT_PICK, value=init)
    return alt.selection_point(fields=["agent_name"], name=AGENT_PICK)


def _message(text: str, *, width: int, height: int) -> alt.Chart:
    return (
        alt.Chart(alt.Data(values=[{"message": text}]))
        .mark_text(size=14, color="gray")
        .encode(text="message:N")
        .properties(width=width, height=height)
    )


def _is_empty(frame: pd.DataFrame | None) -> bool:
    return frame is None or len(frame) == 0


def _plain(value: Any) -> Any:
    """A JSON-safe Python scalar: numpy numbers unwrapped, NaN / NA as ``None``."""
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _text(value: Any) -> str | None:
    value = _plain(value)
    return value if isinstance(value, str) and value else None


def _money(value: Any) -> Decimal | None:
    return value if isinstance(value, Decimal) else None


def _usd(value: Any) -> str:
    """Exact display text; ``"unpriced"`` when there is no price."""
    return format_usd(_money(value))


def agent_labels(frame: pd.DataFrame) -> dict[str, str]:
    """Display name per agent; agents sharing a display name get theirs in brackets."""
    shown: dict[str, str] = {}
    for agent, display in zip(frame["agent_name"], frame["display_name"], strict=True):
        agent = str(agent)
        shown.setdefault(agent, _text(display) or agent)
    counts = Counter(shown.values())
    return {a: d if counts[d] == 1 else f"{d} ({a})" for a, d in shown.items()}


def _day(value: Any) -> date:
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _all_days(days: Iterable[date]) -> list[str]:
    days = sorted(set(days))
    span = (days[-1] - days[0]).days
    return [(days[0] + timedelta(days=i)).isoformat() for i in range(span + 1)]


def _day_axis(domain: Sequence[str]) -> alt.X:
    return alt.X(
        "day:O",
        title=None,
        scale=alt.Scale(domain=list(domain)),
        axis=alt.Axis(labelAngle=-45, labelOverlap=True),
    )


def _csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def _inline_csv(text: str, parse: Mapping[str, str | None]) -> alt.Data:
    return alt.Data(values=text, format=alt.DataFormat(type="csv", parse=dict(parse)))


def _color_scale(n: int) -> alt.Scale:
    return alt.Scale(scheme="tableau20" if n > 10 else "tableau10")


# Vega expression turning the exact text "$1,234.5" into a number for bar lengths.
_TEXT_TO_NUMBER = "toNumber(replace(datum.t, regexp('[$,]', 'g'), ''))"


# -------------------------------------------------------------------------- charts


@_xml_safe_input
def spend_per_agent_chart(
    frame: pd.DataFrame, *, width: int = 420, picked: Sequence[str] = ()
) -> alt.Chart:
    """Horizontal bars, most expensive agent on top, with a click selection.

    The point selection named ``"agent_pick"`` (on ``agent_name``) comes back to
    Python through ``alt.JupyterChart(chart).selections.agent_pick``; ``picked``
    agents start selected (the others drawn faded).
    """
    if _is_empty(frame):
        return _message(NO_DATA, width=width, height=60).add_params(_agent_pick())
    known = {str(a) for a in frame["agent_name"]}
    pick = _agent_pick([a for a in picked if a in known])
    labels = agent_labels(frame)
    rows = [
        {
            "agent_name": str(r["agent_name"]),
            "label": labels[str(r["agent_name"])],
            "spend": float(_money(r["spend"]) or 0),
            "spend_text": _usd(r["spend"]),
            "requests": _plain(r["requests"]),
            "unpriced_requests": _plain(r.get("unpriced_requests", 0)),
        }
        for r in frame.to_dict("records")
    ]
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            y=alt.Y("label:N", sort="-x", title=None),
            x=alt.X("spend:Q", title="Spend (USD)", axis=alt.Axis(format=MONEY_AXIS)),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
            tooltip=[
                alt.Tooltip("label:N", title="Agent"),
                alt.Tooltip("agent_name:N", title="Name"),
                alt.Tooltip("spend_text:N", title="Spend"),
                alt.Tooltip("requests:Q", title="Requests", format=","),
                alt.Tooltip("unpriced_requests:Q", title="Unpriced requests", format=","),
            ],
        )
        .add_params(pick)
        .properties(width=width, height=alt.Step(24), title="Spend per agent")
    )


def _daily_agents(
    frame: pd.DataFrame, max_agents: int
) -> tuple[pd.DataFrame, list[dict[str, Any]], dict[str, str], dict[str, tuple[str, ...]]]:
    """Priced rows, the agent series (key, rank, label), agent -> key, and label -> agents."""
    priced = frame[[isinstance(s, Decimal) for s in frame["spend"]]]
    labels = agent_labels(frame)
    per_agent: dict[str, Decimal] = {}
    for agent, spend in zip(priced["agent_name"], priced["spend"], strict=True):
        per_agent[str(agent)] = per_agent.get(str(agent), Decimal(0)) + spend
    ranked = sorted(per_agent, key=lambda a: (-per_agent[a], a))
    shown, rest = ranked[:max_agents], ranked[max_agents:]
    column = {a: f"c{i}" for i, a in enumerate(shown)}
    agents: list[dict[str, Any]] = [
        {"key": column[a], "rank": i, "agent_name": a, "label": labels[a]}
        for i, a in enumerate(shown)
    ]
    legend: dict[str, tuple[str, ...]] = {labels[a]: (a,) for a in shown}
    if rest:
        other = f"c{len(shown)}"
        column.update({a: other for a in rest})
        label = f"Other ({len(rest)})"
        agents.append({"key": other, "rank": len(shown), "agent_name": None, "label": label})
        legend[label] = tuple(rest)
    return priced, agents, column, legend


@_xml_safe_input
def daily_legend(frame: pd.DataFrame, *, max_agents: int = 20) -> dict[str, tuple[str, ...]]:
    """The agents behind each legend entry of :func:`daily_spend_chart` (``Other (n)``: n)."""
    if _is_empty(frame):
        return {}
    return _daily_agents(frame, max_agents)[3]


@_xml_safe_input
def daily_spend_chart(
    frame: pd.DataFrame,
    *,
    max_agents: int = 20,
    width: int = 640,
    height: int = 280,
    picked: Sequence[str] = (),
) -> alt.Chart:
    """Bars per local day, stacked by agent; agents beyond ``max_agents`` are merged.

    Clicking a legend entry (shift-click for more) is the point selection
    ``"legend_pick"`` on the ``label`` field; :func:`daily_legend` maps a label
    back to its agents.  Entries whose agents are all in ``picked`` start selected.
    """
    if _is_empty(frame):
        return _message(NO_DATA, width=width, height=height)
    priced, agents, column, legend = _daily_agents(frame, max_agents)
    if len(priced) == 0:
        return _message(ONLY_UNPRICED, width=width, height=height)
    chosen = set(picked)
    init = [label for label, names in legend.items() if chosen and set(names) <= chosen]
    if {a for label in init for a in legend[label]} != chosen:
        init = []  # the pick is not a set of legend entries: show none selected
    params: dict[str, Any] = {"fields": ["label"], "bind": "legend", "name": LEGEND_PICK}
    if init:
        params["value"] = [{"label": label} for label in init]
    legend_pick = alt.selection_point(**params)

    # One CSV row per day, one column per agent: c0..cN are safe field names.
    days = _all_days(_day(d) for d in priced["day"])
    cells: dict[str, dict[str, Decimal]] = {d: {} for d in days}
    for day, agent, spend in zip(priced["day"], priced["agent_name"], priced["spend"], strict=True):
        row = cells[_day(day).isoformat()]
        key = column[str(agent)]
        row[key] = row.get(key, Decimal(0)) + spend
    keys = [str(a["key"]) for a in agents]
    body = _csv(
        ("day", *keys),
        ((d, *(format_usd(row[k]) if k in row else "" for k in keys)) for d, row in cells.items()),
    )

    return (
        alt.Chart(_inline_csv(body, {"day": None, **dict.fromkeys(keys)}))
        .transform_fold(list[str | alt.FieldName](keys), as_=["key", "t"])
        .transform_filter("datum.t != null && datum.t != ''")
        .transform_lookup(
            lookup="key",
            from_=alt.LookupData(
                data=alt.Data(values=agents), key="key", fields=["rank", "agent_name", "label"]
            ),
        )
        .transform_calculate(spend=_TEXT_TO_NUMBER)
        .mark_bar()
        .encode(
            x=_day_axis(days),
            y=alt.Y("spend:Q", stack="zero", title="Spend (USD)", axis=alt.Axis(format=MONEY_AXIS)),
            color=alt.Color(
                "label:N",
                title="Agent",
                sort=[str(a["label"]) for a in agents],
                scale=_color_scale(len(agents)),
            ),
            order=alt.Order("rank:Q"),
            opacity=alt.condition(legend_pick, alt.value(1.0), alt.value(0.3)),
            tooltip=[
                alt.Tooltip("day:N", title="Day"),
                alt.Tooltip("label:N", title="Agent"),
                alt.Tooltip("t:N", title="Spend"),
            ],
        )
        .add_params(legend_pick)
        .properties(width=width, height=height, title="Daily spend")
    )


@_xml_safe_input
def model_usage_chart(
    frame: pd.DataFrame,
    *,
    measure: Literal["spend", "requests", "total_tokens"] = "spend",
    width: int = 420,
    color_domain: Sequence[str] = (),
) -> alt.Chart:
    """Bars per model, stacked by agent, measuring spend, requests or tokens.

    ``color_domain`` (agent labels in order, e.g. the daily chart's legend) gives
    each agent the colour it has there; the legend lists only the agents drawn.
    """
    if _is_empty(frame):
        return _message(NO_DATA, width=width, height=60)
    labels = agent_labels(frame)
    present = list(dict.fromkeys(labels.values()))
    if color_domain:
        domain = list(dict.fromkeys([*color_domain, *present]))
        scale = alt.Scale(domain=domain, scheme="tableau20" if len(domain) > 10 else "tableau10")
        color = alt.Color("label:N", title="Agent", scale=scale, legend=alt.Legend(values=present))
    else:
        color = alt.Color("label:N", title="Agent", scale=_color_scale(len(labels)))
    rows = [
        {
            "agent_name": str(r["agent_name"]),
            "label": labels[str(r["agent_name"])],
            "model": _text(r["model"]) or NO_MODEL,
            "spend": float(_money(r["spend"]) or 0),
            "spend_text": _usd(r["spend"]),
            "requests": _plain(r["requests"]),
            "input_tokens": _plain(r["input_tokens"]),
            "output_tokens": _plain(r["output_tokens"]),
            "total_tokens": _plain(r["input_tokens"]) + _plain(r["output_tokens"]),
        }
        for r in frame.to_dict("records")
    ]
    titles = {"spend": "Spend (USD)", "requests": "Requests", "total_tokens": "Tokens"}
    axis = alt.Axis(format=MONEY_AXIS if measure == "spend" else ",")
    return (
        alt.Chart(alt.Data(values=rows))
        .mark_bar()
        .encode(
            y=alt.Y("model:N", sort="-x", title=None),
            x=alt.X(f"sum({measure}):Q", title=titles[measure], axis=axis),
            color=color,
            tooltip=[
                alt.Tooltip("label:N", title="Agent"),
                alt.Tooltip("model:N", title="Model"),
                alt.Tooltip("spend_text:N", title="Spend"),
                alt.Tooltip("requests:Q", title="Requests", format=","),
                alt.Tooltip("input_tokens:Q", title="Input tokens", format=","),
                alt.Tooltip("output_tokens:Q", title="Output tokens", format=","),
            ],
        )
        .properties(width=width, height=alt.Step(24), title="Model usage")
    )


@_xml_safe_input
def activity_chart(frame: pd.DataFrame, *, width: int = 260) -> alt.HConcatChart | alt.Chart:
    """Success rate and latency (p50 tick on a p95 bar) per agent, busiest first."""
    if _is_empty(frame):
        return _message(NO_DATA, width=2 * width, height=60)
    labels = agent_labels(frame)
    rows = [
        {
            "agent_name": str(r["agent_name"]),
            "label": labels[str(r["agent_name"])],
            "requests": _plain(r["requests"]),
            "successful": _plain(r["successful"]),
            "failed": _plain(r["failed"]),
            "success_rate": _plain(r["success_rate"]),
            "p50": _plain(r["latency_p50_ms"]),
            "p95": _plain(r["latency_p95_ms"]),
        }
        for r in frame.to_dict("records")
    ]
    order = [row["label"] for row in sorted(rows, key=lambda r: -(r["requests"] or 0))]
    y = alt.Y("label:N", sort=order, title=None)
    tooltip = [
        alt.Tooltip("label:N", title="Agent"),
        alt.Tooltip("requests:Q", title="Requests", format=","),
        alt.Tooltip("successful:Q", title="Successful", format=","),
        alt.Tooltip("failed:Q", title="Failed", format=","),
        alt.Tooltip("success_rate:Q", title="Success rate", format=".1%"),
        alt.Tooltip("p50:Q", title="Latency p50 (ms)", format=",.0f"),
        alt.Tooltip("p95:Q", title="Latency p95 (ms)", format=",.0f"),
    ]
    base = alt.Chart().encode(y=y, tooltip=tooltip).properties(width=width, height=alt.Step(24))
    success = base.mark_bar().encode(
        x=alt.X(
            "success_rate:Q",
            title="Success rate",
            scale=alt.Scale(domain=[0, 1]),
            axis=alt.Axis(format="%"),
        )
    )
    p95 = base.mark_bar(opacity=0.45).encode(
        x=alt.X("p95:Q", title="Latency (ms): p50 tick, p95 bar")
    )
    p50 = base.mark_tick(thickness=3, color="black").encode(x="p50:Q")
    return alt.hconcat(
        success, alt.layer(p95, p50), data=alt.Data(values=rows), title="Activity per agent"
    )


@_xml_safe_input
def tokens_chart(frame: pd.DataFrame, *, width: int = 640, height: int = 220) -> alt.Chart:
    """Input and output tokens per local day, stacked."""
    if _is_empty(frame):
        return _message(NO_DATA, width=width, height=height)
    days = _all_days(_day(d) for d in frame["day"])
    records = frame.to_dict("records")
    body = _csv(
        ("day", "kind", "tokens"),
        (
            (_day(r["day"]).isoformat(), kind, _plain(r[f"{kind}_tokens"]) or 0)
            for r in records
            for kind in ("input", "output")
        ),
    )
    return (
        alt.Chart(_inline_csv(body, {"day": None, "kind": None, "tokens": "number"}))
        .mark_bar()
        .encode(
            x=_day_axis(days),
            y=alt.Y("tokens:Q", stack="zero", title="Tokens", axis=alt.Axis(format="~s")),
            color=alt.Color("kind:N", title="Tokens", scale=alt.Scale(domain=["input", "output"])),
            tooltip=[
                alt.Tooltip("day:N", title="Day"),
                alt.Tooltip("kind:N", title="Kind"),
                alt.Tooltip("tokens:Q", title="Tokens", format=","),
            ],
        )
        .properties(width=width, height=height, title="Tokens per day")
    )


# ---------------------------------------------------------------------------- save


def save_chart(
    chart: alt.TopLevelMixin, path: str | os.PathLike[str], *, scale: float = 2.0
) -> Path:
    """Write a PNG or SVG (chosen by the file extension) without a browser."""
    target = Path(path)
    kind = target.suffix.lower().lstrip(".")
    if kind not in ("png", "svg"):
        raise ValueError(
            f"save_chart writes .png or .svg files, not {target.suffix or target.name!r}"
        )
    try:
        import vl_convert  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            "saving charts as PNG or SVG needs the vl-convert-python package: "
            "pip install vl-convert-python"
        ) from exc
    spec = chart.to_dict()
    if (clean := _safe_spec(spec)) != spec:  # a chart built elsewhere: vl-convert would abort
        chart = cast(Any, type(chart)).from_dict(clean)  # Chart, LayerChart, HConcatChart…
    if kind == "png":
        chart.save(target, format="png", scale_factor=scale)
    else:
        chart.save(target, format="svg")
    return target
