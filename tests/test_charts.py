"""Charts tested as data: encodings, sort, params and the values they carry."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import altair as alt
import pandas as pd
import pytest

from agentcost_nb import analytics as an
from agentcost_nb import charts
from agentcost_nb.eventlog import EventLog
from agentcost_nb.events import Event
from agentcost_nb.pricing import PriceSheet
from agentcost_nb.synthetic import SyntheticAgent, write_synthetic

END = datetime(2026, 6, 1, tzinfo=UTC)
UTC_ONLY = an.Filters(tz="UTC")
ODD_NAMES = [
    "agent.v2",
    "ns:agent",
    'say "hi"',
    "it's",
    "arr[0]",
    "a\\b",
    "🚀 rocket",
    "datum.x || true",
    "comma, inside",
]


# ------------------------------------------------------------------- helpers


def chart_rows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows a chart draws, following our inline CSV, fold, filter and lookups."""
    data = spec["data"]
    values = data["values"]
    if isinstance(values, list):
        return values
    assert data["format"]["type"] == "csv"
    rows: list[dict[str, Any]] = list(csv.DictReader(io.StringIO(values)))
    for step in spec.get("transform", []):
        if "fold" in step:
            key, value = step["as"]
            rows = [
                {**{k: v for k, v in r.items() if k not in step["fold"]}, key: f, value: r[f]}
                for r in rows
                for f in step["fold"]
            ]
        elif "filter" in step:
            assert step["filter"] == "datum.t != null && datum.t != ''"
            rows = [r for r in rows if r["t"]]
        elif "lookup" in step:
            source = step["from"]
            table = {x[source["key"]]: x for x in source["data"]["values"]}
            for r in rows:
                r.update({f: table[r[step["lookup"]]][f] for f in source["fields"]})
    return rows


def fields(spec: Any) -> Iterator[str]:
    """Every field name an encoding, sort or selection refers to."""
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key == "field" and isinstance(value, str):
                yield value
            elif key == "fields" and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            else:
                yield from fields(value)
    elif isinstance(spec, list):
        for item in spec:
            yield from fields(item)


def strict_json(chart: alt.TopLevelMixin) -> dict[str, Any]:
    def refuse(name: str) -> Any:
        raise AssertionError(f"non-JSON constant {name} in chart")

    return json.loads(chart.to_json(), parse_constant=refuse)  # type: ignore[no-any-return]


def ev(ts: str, agent: str, cost: str | None, **columns: Any) -> Event:
    return Event(
        agent_name=agent,
        status=columns.pop("status", "success"),
        timestamp=datetime.fromisoformat(ts),
        cost_usd=Decimal(cost) if cost is not None else None,
        **columns,
    )


def all_charts(log: EventLog, f: an.Filters = UTC_ONLY) -> dict[str, alt.TopLevelMixin]:
    return {
        "daily": charts.daily_spend_chart(an.daily_spend(log, f)),
        "per_agent": charts.spend_per_agent_chart(an.spend_per_agent(log, f)),
        "models": charts.model_usage_chart(an.model_usage(log, f)),
        "activity": charts.activity_chart(an.activity(log, f)),
        "tokens": charts.tokens_chart(an.tokens_over_time(log, f)),
    }


# ------------------------------------------------------------------ sizes


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> EventLog:
    agents = [
        SyntheticAgent(
            name=f"team-{i:02d}.agent[{i}]",
            display_name=f"Agent {i:02d}",
            sheet=PriceSheet(
                cost_per_query=Decimal("0.0013") if i % 2 else None,
                input_cost_per_token=Decimal("0.0000021"),
                output_cost_per_token=Decimal("0.00000937"),
            ),
            models=(f"model-{i % 3}",),
        )
        for i in range(20)
    ]
    log = EventLog(tmp_path_factory.mktemp("big") / "events")
    write_synthetic(log, 100_000, agents=agents, days=90, end=END, seed=5)
    return log


def test_chart_json_stays_small_for_100k_events(big_log: EventLog) -> None:
    made = all_charts(big_log)
    sizes = {name: len(chart.to_json()) for name, chart in made.items()}
    assert all(size < 50_000 for size in sizes.values()), sizes
    daily = made["daily"].to_dict()
    assert len(daily["encoding"]["x"]["scale"]["domain"]) == 90
    drawn = chart_rows(daily)
    assert len({r["agent_name"] for r in drawn}) == 20
    assert len(drawn) == 90 * 20


def test_daily_chart_carries_the_exact_daily_sums(big_log: EventLog) -> None:
    frame = an.daily_spend(big_log, UTC_ONLY)
    drawn = chart_rows(charts.daily_spend_chart(frame).to_dict())
    expected = {
        (d.isoformat(), a): s
        for d, a, s in zip(frame["day"], frame["agent_name"], frame["spend"], strict=True)
    }
    got = {(r["day"], r["agent_name"]): Decimal(re.sub(r"[$,]", "", r["t"])) for r in drawn}
    assert got == expected
    assert any(len(r["t"]) > 8 for r in drawn)  # full precision, not rounded to cents


# --------------------------------------------------------------- daily spend


def test_three_days_of_events_give_three_daily_points(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events")
    write_synthetic(log, 6_000, days=3, end=END)
    daily = charts.daily_spend_chart(an.daily_spend(log, UTC_ONLY)).to_dict()
    days = ["2026-05-29", "2026-05-30", "2026-05-31"]
    assert daily["encoding"]["x"]["scale"]["domain"] == days
    assert sorted({r["day"] for r in chart_rows(daily)}) == days
    tokens = charts.tokens_chart(an.tokens_over_time(log, UTC_ONLY)).to_dict()
    assert tokens["encoding"]["x"]["scale"]["domain"] == days
    assert [(r["day"], r["kind"]) for r in chart_rows(tokens)] == [
        (d, k) for d in days for k in ("input", "output")
    ]


def daily_frame(rows: list[tuple[date, str, str | None]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "day": d,
                "agent_name": a,
                "display_name": None,
                "spend": Decimal(s) if s is not None else None,
                "spend_float": float(s) if s is not None else float("nan"),
                "requests": 1,
                "unpriced_requests": 0 if s is not None else 1,
            }
            for d, a, s in rows
        ]
    )


def test_one_day_with_one_point_still_draws_a_bar() -> None:
    spec = charts.daily_spend_chart(daily_frame([(date(2026, 3, 8), "solo", "0.05036")])).to_dict()
    assert spec["mark"]["type"] == "bar"
    assert spec["encoding"]["x"]["scale"]["domain"] == ["2026-03-08"]
    assert spec["encoding"]["x"]["type"] == "ordinal"
    assert chart_rows(spec) == [
        {
            "day": "2026-03-08",
            "key": "c0",
            "t": "$0.05036",
            "rank": 0,
            "agent_name": "solo",
            "label": "solo",
        }
    ]


def test_daily_chart_encodings_and_gaps() -> None:
    frame = daily_frame(
        [
            (date(2026, 3, 8), "a", "1234.5"),
            (date(2026, 3, 8), "b", "0.10"),
            (date(2026, 3, 10), "a", "2"),
        ]
    )
    spec = charts.daily_spend_chart(frame).to_dict()
    enc = spec["encoding"]
    assert enc["x"]["scale"]["domain"] == ["2026-03-08", "2026-03-09", "2026-03-10"]
    assert (enc["y"]["field"], enc["y"]["type"], enc["y"]["stack"]) == (
        "spend",
        "quantitative",
        "zero",
    )
    assert enc["color"]["field"] == "label" and enc["color"]["sort"] == ["a", "b"]
    assert [t["field"] for t in enc["tooltip"]] == ["day", "label", "t"]
    assert {(r["day"], r["agent_name"], r["t"]) for r in chart_rows(spec)} == {
        ("2026-03-08", "a", "$1,234.50"),
        ("2026-03-08", "b", "$0.10"),
        ("2026-03-10", "a", "$2.00"),
    }
    # Bar lengths are parsed from that same exact text.
    assert spec["transform"][-1] == {
        "calculate": "toNumber(replace(datum.t, regexp('[$,]', 'g'), ''))",
        "as": "spend",
    }


def test_agents_beyond_the_limit_are_merged_exactly() -> None:
    frame = daily_frame(
        [
            (date(2026, 3, 8), "big", "5"),
            (date(2026, 3, 8), "small-1", "0.1"),
            (date(2026, 3, 8), "small-2", "0.2"),
            (date(2026, 3, 9), "small-2", "0.3"),
        ]
    )
    drawn = chart_rows(charts.daily_spend_chart(frame, max_agents=1).to_dict())
    assert {(r["day"], r["label"], r["t"]) for r in drawn} == {
        ("2026-03-08", "big", "$5.00"),
        ("2026-03-08", "Other (2)", "$0.30"),
        ("2026-03-09", "Other (2)", "$0.30"),
    }


def test_daily_legend_picks_agents_and_starts_from_the_pick() -> None:
    frame = daily_frame(
        [
            (date(2026, 3, 8), "big", "5"),
            (date(2026, 3, 8), "small-1", "0.1"),
            (date(2026, 3, 9), "small-2", "0.3"),
        ]
    ).assign(display_name=["Big", None, "Small two"])
    assert charts.daily_legend(frame, max_agents=1) == {
        "Big": ("big",),
        "Other (2)": ("small-2", "small-1"),
    }
    assert charts.daily_legend(frame.iloc[0:0]) == {}
    spec = charts.daily_spend_chart(frame, max_agents=1).to_dict()
    assert spec["params"] == [
        {"name": "legend_pick", "select": {"type": "point", "fields": ["label"]}, "bind": "legend"}
    ]
    assert spec["encoding"]["opacity"]["condition"] == {"param": "legend_pick", "value": 1.0}
    assert (
        "legend_pick" in alt.JupyterChart(charts.daily_spend_chart(frame)).selections.trait_names()
    )

    def start(picked: tuple[str, ...], max_agents: int = 1) -> Any:
        params = charts.daily_spend_chart(frame, max_agents=max_agents, picked=picked).to_dict()
        return params["params"][0].get("value")

    assert start(("big",)) == [{"label": "Big"}]
    assert start(("small-1", "small-2")) == [{"label": "Other (2)"}]
    assert start(("small-1",)) is None  # part of "Other": no legend entry stands for it
    assert start(("big", "small-1"), max_agents=3) == [{"label": "Big"}, {"label": "small-1"}]
    assert start(("gone",)) is None


def test_only_unpriced_days_say_so() -> None:
    spec = charts.daily_spend_chart(daily_frame([(date(2026, 3, 8), "x", None)])).to_dict()
    assert spec["data"]["values"] == [{"message": charts.ONLY_UNPRICED}]


# ------------------------------------------------------------ spend per agent


def per_agent_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "agent_name": ["b", "a", "c"],
            "display_name": ["Bee", "Ant", None],
            "spend": [Decimal("2.5"), Decimal("0.05036"), None],
            "spend_float": [2.5, 0.05036, float("nan")],
            "requests": [3, 7, 2],
            "unpriced_requests": [0, 1, 2],
        }
    )


def test_spend_per_agent_chart_sorted_bars_with_a_pick() -> None:
    chart = charts.spend_per_agent_chart(per_agent_frame())
    spec = strict_json(chart)
    enc = spec["encoding"]
    assert spec["mark"]["type"] == "bar"
    assert (enc["y"]["field"], enc["y"]["sort"]) == ("label", "-x")
    assert (enc["x"]["field"], enc["x"]["type"]) == ("spend", "quantitative")
    assert spec["params"] == [
        {"name": "agent_pick", "select": {"type": "point", "fields": ["agent_name"]}}
    ]
    assert enc["opacity"]["condition"]["param"] == "agent_pick"
    assert [
        (r["agent_name"], r["label"], r["spend"], r["spend_text"]) for r in chart_rows(spec)
    ] == [
        ("b", "Bee", 2.5, "$2.50"),
        ("a", "Ant", 0.05036, "$0.05036"),
        ("c", "c", 0.0, "unpriced"),
    ]
    again = alt.Chart.from_json(chart.to_json()).to_dict()  # a valid spec, round-tripped
    assert (again["encoding"], again["params"]) == (chart.to_dict()["encoding"], spec["params"])
    assert "agent_pick" in alt.JupyterChart(chart).selections.trait_names()


def test_spend_per_agent_chart_starts_with_the_picked_agents_selected() -> None:
    spec = charts.spend_per_agent_chart(per_agent_frame(), picked=("a", "not-drawn")).to_dict()
    assert spec["params"] == [
        {
            "name": "agent_pick",
            "select": {"type": "point", "fields": ["agent_name"]},
            "value": [{"agent_name": "a"}],
        }
    ]
    empty = charts.spend_per_agent_chart(per_agent_frame().iloc[0:0], picked=("a",)).to_dict()
    assert empty["params"] == [
        {"name": "agent_pick", "select": {"type": "point", "fields": ["agent_name"]}}
    ]


def test_agents_sharing_a_display_name_stay_apart() -> None:
    frame = per_agent_frame().assign(display_name=["Same", "Same", "Other"])
    labels = [r["label"] for r in chart_rows(charts.spend_per_agent_chart(frame).to_dict())]
    assert labels == ["Same (b)", "Same (a)", "Other"]


# ------------------------------------------------------------ models, activity


def test_model_usage_chart() -> None:
    frame = pd.DataFrame(
        {
            "agent_name": ["a", "a", "b"],
            "display_name": ["A", "A", "B"],
            "model": ["m1", None, "m1"],
            "requests": [4, 1, 2],
            "input_tokens": [10, 0, 5],
            "output_tokens": [1, 0, 5],
            "total_tokens": [11, 0, 10],
            "spend": [Decimal("0.4"), Decimal("0.01"), None],
            "spend_float": [0.4, 0.01, float("nan")],
            "unpriced_requests": [0, 0, 2],
        }
    )
    spec = charts.model_usage_chart(frame).to_dict()
    assert spec["encoding"]["x"] == {
        "aggregate": "sum",
        "field": "spend",
        "type": "quantitative",
        "title": "Spend (USD)",
        "axis": {"format": charts.MONEY_AXIS},
    }
    assert spec["encoding"]["y"]["field"] == "model"
    assert [(r["label"], r["model"], r["spend_text"]) for r in chart_rows(spec)] == [
        ("A", "m1", "$0.40"),
        ("A", "(not reported)", "$0.01"),
        ("B", "m1", "unpriced"),
    ]
    by_requests = charts.model_usage_chart(frame, measure="requests").to_dict()
    assert by_requests["encoding"]["x"]["field"] == "requests"


def test_model_usage_colours_follow_a_given_agent_order() -> None:
    frame = pd.DataFrame(
        {
            "agent_name": ["b"],
            "display_name": ["Bee"],
            "model": ["m"],
            "requests": [1],
            "input_tokens": [1],
            "output_tokens": [1],
            "total_tokens": [2],
            "spend": [Decimal("1")],
            "spend_float": [1.0],
            "unpriced_requests": [0],
        }
    )
    color = charts.model_usage_chart(frame, color_domain=["Ant", "Bee"]).to_dict()["encoding"][
        "color"
    ]
    assert color["scale"] == {"domain": ["Ant", "Bee"], "scheme": "tableau10"}
    assert color["legend"] == {"values": ["Bee"]}  # only what is drawn
    plain = charts.model_usage_chart(frame).to_dict()["encoding"]["color"]
    assert "domain" not in plain["scale"] and "legend" not in plain


def test_activity_chart_success_rate_and_latency() -> None:
    frame = pd.DataFrame(
        {
            "agent_name": ["quiet", "busy"],
            "display_name": ["Quiet", "Busy"],
            "requests": [2, 10],
            "successful": [1, 9],
            "failed": [1, 1],
            "success_rate": [0.5, 0.9],
            "input_tokens": [1, 2],
            "output_tokens": [1, 2],
            "latency_p50_ms": [float("nan"), 120.0],
            "latency_p95_ms": [float("nan"), 480.5],
        }
    )
    spec = strict_json(charts.activity_chart(frame))
    left, right = spec["hconcat"]
    assert left["encoding"]["x"]["field"] == "success_rate"
    assert left["encoding"]["x"]["scale"]["domain"] == [0, 1]
    assert left["encoding"]["y"]["sort"] == ["Busy", "Quiet"]
    assert [layer["mark"]["type"] for layer in right["layer"]] == ["bar", "tick"]
    assert [layer["encoding"]["x"]["field"] for layer in right["layer"]] == ["p95", "p50"]
    assert spec["data"]["values"][1] == {
        "agent_name": "busy",
        "label": "Busy",
        "requests": 10,
        "successful": 9,
        "failed": 1,
        "success_rate": 0.9,
        "p50": 120.0,
        "p95": 480.5,
    }
    assert spec["data"]["values"][0]["p50"] is None


# ------------------------------------------------- odd names, empty and one event


def test_odd_agent_names_round_trip_as_written(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events")
    log.append(
        [
            ev(
                f"2026-03-0{1 + i % 3}T12:00:00Z",
                name,
                f"0.{i + 1}",
                display_name=name,
                model=name,
                latency_ms=9.0,
            )
            for i, name in enumerate(ODD_NAMES)
        ]
    )
    made = all_charts(log)
    for key in ("daily", "per_agent", "models"):
        spec = strict_json(made[key])
        drawn = chart_rows(spec)
        assert {r["agent_name"] for r in drawn} == set(ODD_NAMES), key
        assert {r["label"] for r in drawn} == set(ODD_NAMES), key
        assert all(re.fullmatch(r"[a-z_0-9]+", f) for f in fields(spec)), set(fields(spec))
    assert {r["model"] for r in chart_rows(strict_json(made["models"]))} == set(ODD_NAMES)
    assert {r["label"] for r in strict_json(made["activity"])["data"]["values"]} == set(ODD_NAMES)


def test_zero_events_render_every_chart_with_a_message(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "nothing-here")
    for name, chart in all_charts(log).items():
        spec = strict_json(chart)
        assert spec["data"]["values"] == [{"message": charts.NO_DATA}], name
        assert spec["mark"]["type"] == "text"
    empty_pick = charts.spend_per_agent_chart(an.spend_per_agent(log)).to_dict()
    assert empty_pick["params"][0]["name"] == "agent_pick"


def test_one_event_renders_every_chart(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events")
    log.append(
        [ev("2026-03-08T12:00:00Z", "only", "0.05036", model="m", latency_ms=80.0, input_tokens=3)]
    )
    made = all_charts(log)
    for name, chart in made.items():
        assert "message" not in chart.to_json(), name
    assert [r["t"] for r in chart_rows(made["daily"].to_dict())] == ["$0.05036"]
    assert [r["spend_text"] for r in chart_rows(made["per_agent"].to_dict())] == ["$0.05036"]
    assert chart_rows(made["tokens"].to_dict()) == [
        {"day": "2026-03-08", "kind": "input", "tokens": "3"},
        {"day": "2026-03-08", "kind": "output", "tokens": "0"},
    ]


# ----------------------------------------------------------------------- save


def test_save_png_and_svg(tmp_path: Path) -> None:
    chart = charts.spend_per_agent_chart(per_agent_frame())
    png = charts.save_chart(chart, tmp_path / "spend.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = charts.save_chart(chart, tmp_path / "spend.SVG").read_text()
    assert svg.startswith("<svg") and "Bee" in svg and "$2" in svg
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        charts.save_chart(chart, tmp_path / "spend.pdf")


def test_save_without_vl_convert_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "vl_convert", None)
    with pytest.raises(ImportError, match="pip install vl-convert-python"):
        charts.save_chart(charts.spend_per_agent_chart(per_agent_frame()), tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()


XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
HOSTILE = "x\x1b[31m\x07\x00\ufffe\x0b"

_RENDER = """
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
import altair as alt
from agentcost_nb import analytics as an, charts
from agentcost_nb.eventlog import EventLog
from agentcost_nb.events import Event
out, bad = Path(sys.argv[1]), sys.argv[2].encode("latin-1", "backslashreplace").decode("unicode_escape")
log = EventLog(out / "events")
log.append([Event(agent_name="a" + bad, display_name="A" + bad, model="gpt" + bad,
                  status="success", timestamp=datetime(2026, 5, 30, tzinfo=UTC),
                  cost_usd=Decimal("0.1"), input_tokens=3, output_tokens=4)])
f = an.Filters(tz="UTC")
made = [charts.daily_spend_chart(an.daily_spend(log, f)),
        charts.spend_per_agent_chart(an.spend_per_agent(log, f), picked=["a" + bad]),
        charts.model_usage_chart(an.model_usage(log, f), color_domain=["A" + bad]),
        charts.activity_chart(an.activity(log, f)),
        charts.tokens_chart(an.tokens_over_time(log, f)),
        # built elsewhere: save_chart is the last guard
        alt.Chart(alt.Data(values=[{"m": bad + "\\ud800", "v": 1}]), title="t" + bad)
        .mark_bar().encode(y="m:N", x="v:Q")]
for i, chart in enumerate(made):
    for kind in ("png", "svg"):
        charts.save_chart(chart, out / f"{i}.{kind}")
print("saved", len(made))
"""


def test_labels_with_control_characters_render_instead_of_aborting(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events")
    log.append(
        [
            ev(
                "2026-05-30T10:00:00+00:00",
                "a" + HOSTILE,
                "0.1",
                display_name="A" + HOSTILE,
                model="gpt" + HOSTILE,
                input_tokens=3,
                output_tokens=4,
            )  # fmt: skip
        ]
    )
    for name, chart in all_charts(log).items():
        for text in re.findall(r'"(?:[^"\\]|\\.)*"', chart.to_json()):
            assert not XML_ILLEGAL.search(json.loads(text)), (name, text)
    cells = {"day": "2026-05-30", "agent_name": "a", "display_name": "\ud800", "spend": Decimal(1)}
    frame = pd.DataFrame({k: pd.Series([v], dtype=object) for k, v in cells.items()})
    assert charts.daily_legend(frame) == {"\ufffd": ("a",)}
    # vl-convert aborts the process on such text (a panic, not an exception): render elsewhere.
    done = subprocess.run(
        [sys.executable, "-c", _RENDER, str(tmp_path), HOSTILE.encode("unicode_escape").decode()],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0 and "saved 6" in done.stdout, done.stderr[-2000:]
    assert (tmp_path / "0.svg").read_text().startswith("<svg")
    assert (tmp_path / "5.png").read_bytes()[:4] == b"\x89PNG"
