"""The dashboard widget without a browser: every action from code, real values after it."""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import re
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from agentcost_nb import analytics as an
from agentcost_nb.errors import ValidationError
from agentcost_nb.eventlog import EventLog
from agentcost_nb.events import Event
from agentcost_nb.keys import key_hash, mask_key
from agentcost_nb.pricing import PriceSheet
from agentcost_nb.synthetic import SyntheticAgent, write_synthetic
from agentcost_nb.widgets.dashboard import CHARTS, Dashboard
from agentcost_nb.widgets.filters import CUSTOM
from agentcost_nb.widgets.kpis import change_tone

KEY_A = "sk-live-aaaaaaaaaaaaaaaa1111"
KEY_B = "sk-live-bbbbbbbbbbbbbbbb2222"


def ev(ts: str, agent: str = "alpha", cost: str | None = "0.10", **columns: Any) -> Event:
    return Event(
        agent_name=agent,
        status=columns.pop("status", "success"),
        timestamp=datetime.fromisoformat(ts),
        cost_usd=Decimal(cost) if cost is not None else None,
        **columns,
    )


def keyed(ts: str, agent: str, key: str, **columns: Any) -> Event:
    return ev(ts, agent, api_key=mask_key(key), api_key_hash=key_hash(key), **columns)


def test_filter_choices_come_from_the_data_busiest_first(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events")
    log.append(
        [
            keyed("2026-03-01T10:00:00Z", "a", KEY_A, display_name="Old A", team="t1"),
            keyed("2026-03-02T10:00:00Z", "a", KEY_A, display_name="Ant", project="p"),
            keyed("2026-03-02T11:00:00Z", "b", KEY_B, team="t2"),
            keyed("2026-03-02T12:00:00Z", "b", KEY_B, team="t2"),
            ev("2026-03-02T13:00:00Z", "b"),
            ev("2026-01-01T13:00:00Z", "gone", team="old"),
        ]
    )
    got = an.filter_choices(log, an.Filters(start=datetime(2026, 3, 1), tz="UTC"))
    assert list(got.columns) == list(an.CHOICE_COLUMNS)
    assert [tuple(r) for r in got.itertuples(index=False)] == [
        ("agent", "b", "b", 3),
        ("agent", "a", "Ant", 2),
        ("api_key", key_hash(KEY_A), "sk-…1111", 2),
        ("api_key", key_hash(KEY_B), "sk-…2222", 2),
        ("team", "t2", "t2", 2),
        ("team", "t1", "t1", 1),
        ("project", "p", "p", 1),
    ]
    assert len(an.filter_choices(EventLog(tmp_path / "none"))) == 0


# ------------------------------------------------------------------ the widget

TODAY = date(2026, 3, 20)


def cards(dash: Dashboard) -> dict[str, tuple[str, str]]:
    """metric -> (value, change) as the KPI cards show them."""
    found = re.findall(
        r'data-metric="(\w+)".*?acnb-kpi-value[^>]*>(.*?)</div>.*?acnb-kpi-change[^>]*>(.*?)</div>',
        dash.kpis.value,
    )
    return {m: (html.unescape(v), html.unescape(c)) for m, v, c in found}


def log_agents(dash: Dashboard) -> list[str]:
    """The Agent column of the logs table, top to bottom (as displayed, unescaped)."""
    rows = re.findall(r"<tr data-agent[^>]*><td>[^<]*</td><td>(.*?)</td>", dash.logs.table.value)
    return [html.unescape(r) for r in rows]


def chart_rows(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The daily chart's rows: its inline CSV folded and looked up as Vega does."""
    rows = list(csv.DictReader(io.StringIO(spec["data"]["values"])))
    lookup = next(t for t in spec["transform"] if "lookup" in t)
    labels = {x["key"]: x for x in lookup["from"]["data"]["values"]}
    keys = [k for k in rows[0] if k != "day"] if rows else []
    return [
        {"day": r["day"], "t": r[k], "agent_name": labels[k]["agent_name"]}
        for r in rows
        for k in keys
        if r[k]
    ]


def drawn_agents(dash: Dashboard, name: str) -> set[str]:
    spec = dash.charts[name].to_dict()
    values = spec.get("data", {}).get("values")
    if isinstance(values, list):
        return {v["agent_name"] for v in values if "agent_name" in v}
    lookup = next(t for t in spec["transform"] if "lookup" in t)
    return {v["agent_name"] for v in lookup["from"]["data"]["values"] if v["agent_name"]}


@pytest.fixture
def usage_log(tmp_path: Path) -> EventLog:
    log = EventLog(tmp_path / "home" / "events")
    log.append(
        [
            # this week (14-20 March): Ant 3 × $0.25 + a failed $0 call, Bee 2 × $1
            keyed(
                "2026-03-20T09:00:00Z",
                "a",
                KEY_A,
                display_name="Ant",
                team="t1",
                project="p1",
                cost="0.25",
                input_tokens=100,
                output_tokens=10,
            ),
            keyed(
                "2026-03-19T09:00:00Z",
                "a",
                KEY_A,
                display_name="Ant",
                team="t1",
                project="p1",
                cost="0.25",
            ),
            keyed("2026-03-18T09:00:00Z", "a", KEY_A, display_name="Ant", team="t1", cost="0.25"),
            keyed(
                "2026-03-17T09:00:00Z",
                "a",
                KEY_A,
                display_name="Ant",
                team="t1",
                cost="0",
                status="error",
                error="boom",
            ),
            keyed("2026-03-16T09:00:00Z", "b", KEY_B, display_name="Bee", team="t2", cost="1"),
            keyed("2026-03-14T00:30:00Z", "b", KEY_B, display_name="Bee", team="t2", cost="1"),
            # the week before (7-13 March): Ant 2 × $0.25, Bee 1 × $1
            keyed("2026-03-13T09:00:00Z", "a", KEY_A, display_name="Ant", team="t1", cost="0.25"),
            keyed("2026-03-12T09:00:00Z", "a", KEY_A, display_name="Ant", team="t1", cost="0.25"),
            keyed("2026-03-07T09:00:00Z", "b", KEY_B, display_name="Bee", team="t2", cost="1"),
            # older
            ev("2026-03-01T09:00:00Z", "b", "5", display_name="Bee"),
        ]
    )
    return log


def make(log: EventLog, **kw: Any) -> Dashboard:
    kw.setdefault("tz", "UTC")
    kw.setdefault("today", TODAY)
    return Dashboard(log, **kw)


def test_kpi_cards_compare_with_the_previous_period(usage_log: EventLog) -> None:
    dash = make(usage_log, days=7)
    assert dash.message.value == ""
    f = dash.filters()
    assert (f.start, f.end) == (date(2026, 3, 14), TODAY)
    assert cards(dash) == {
        "spend": ("$2.75", "▲ +$1.25 (+83.3%)"),
        "requests": ("6", "▲ +3 (+100.0%)"),
        "successful": ("5", "▲ +2 (+66.7%)"),
        "failed": ("1", "▲ +1 (new)"),
        "total_tokens": ("110", "▲ +110 (new)"),
        "success_rate": ("83.3%", "▼ -16.7 pts"),
    }
    assert "previous 7 days (2026-03-07 to 2026-03-13)" in dash.kpis.value
    dash.set_range(days=0)  # all time: nothing before it
    assert cards(dash)["spend"] == ("$9.25", "no earlier period to compare")
    dash.set_range(date(2026, 3, 1), date(2026, 3, 1))
    assert cards(dash)["spend"] == ("$5.00", "▲ +$5.00 (new)")


def test_kpi_changes_are_coloured_by_what_they_mean_not_by_direction(
    usage_log: EventLog,
) -> None:
    dash = make(usage_log, days=7)
    cards_html = re.findall(
        r'<div class="acnb-kpi" [^>]*>.*?acnb-kpi-change[^>]*>', dash.kpis.value
    )
    shown = {
        re.search(r'data-metric="(\w+)"', c)[1]: (
            re.search(r'data-tone="(\w+)"', c)[1],
            re.search(r'acnb-kpi-change"[^>]*style="color:(#\w+)', c)[1],
        )
        for c in cards_html
    }
    red, green, grey = "#b71c1c", "#1b5e20", "#666"
    assert shown == {
        "spend": ("neutral", grey),  # ▲ more spend is not good news
        "requests": ("neutral", grey),
        "successful": ("good", green),  # ▲
        "failed": ("bad", red),  # ▲ more failures
        "total_tokens": ("neutral", grey),
        "success_rate": ("bad", red),  # ▼
    }
    assert cards(dash)["failed"][1] == "▲ +1 (new)"  # arrow and numbers kept
    assert (change_tone("failed", "down"), change_tone("success_rate", "up")) == ("good", "good")
    assert change_tone("spend", "down") == change_tone("failed", "same") == "neutral"
    assert change_tone("successful", "down") == "bad"


def test_range_presets_and_date_pickers(usage_log: EventLog) -> None:
    dash = make(usage_log)
    bar = dash.filter_bar
    assert [label for label, _ in bar.preset.options] == [
        "Last 7 days", "Last 30 days", "Last 90 days", "All time", "Custom",
    ]  # fmt: skip
    assert (bar.preset.value, bar.start.value, bar.end.value) == (30, date(2026, 2, 19), TODAY)
    assert dash.logs.page is not None and dash.logs.page.total == 10
    bar.preset.value = 7  # as a user would
    assert (bar.start.value, bar.end.value) == (date(2026, 3, 14), TODAY)
    assert dash.logs.page.total == 6
    bar.start.value = date(2026, 3, 7)  # editing a picker makes the range custom
    assert bar.preset.value == CUSTOM
    assert dash.logs.page.total == 9
    bar.end.value = date(2026, 3, 13)
    assert (dash.logs.page.total, cards(dash)["spend"][0]) == (3, "$1.50")
    bar.end.value = date(2026, 3, 1)  # before the start: said, not raised
    assert "is before the start date" in dash.message.value
    dash.set_range(days=90)
    assert dash.message.value == "" and dash.logs.page.total == 10
    bar.fixed_today = date(2026, 6, 1)  # a dashboard left open for weeks: presets roll on
    dash.refresh()
    assert (bar.start.value, bar.end.value) == (date(2026, 3, 4), date(2026, 6, 1))
    with pytest.raises(ValueError, match="7, 30, 90"):
        dash.set_range(days=14)
    with pytest.raises(ValidationError, match="before the start"):
        dash.set_range(date(2026, 3, 2), date(2026, 3, 1))


def test_agent_key_team_project_selectors_come_from_the_data(usage_log: EventLog) -> None:
    dash = make(usage_log, days=90)
    s = dash.filter_bar.selects
    assert list(s["agents"].options) == [("Ant", "a"), ("Bee", "b")]
    assert list(s["api_keys"].options) == [
        ("sk-…1111", key_hash(KEY_A)),
        ("sk-…2222", key_hash(KEY_B)),
    ]
    assert list(s["teams"].options) == [("t1", "t1"), ("t2", "t2")]
    assert list(s["projects"].options) == [("p1", "p1")]
    assert KEY_A not in repr(dash.filter_bar.selects["api_keys"].get_state())

    s["agents"].value = ("b",)  # as a user would
    assert set(log_agents(dash)) == {"Bee"} and cards(dash)["spend"][0] == "$8.00"
    s["agents"].value = ()
    dash.select(api_keys=[key_hash(KEY_A)])
    assert log_agents(dash) == ["Ant"] * 6
    dash.select(api_keys=(), teams=["t2"])
    assert cards(dash)["requests"][0] == "3"
    dash.select(teams=(), projects=["p1"])
    assert cards(dash)["requests"][0] == "2"
    dash.filter_bar.clear()
    assert cards(dash)["requests"][0] == "10"
    dash.set_range(days=7)  # options follow the range; a selected value stays listed
    dash.select(agents=["b"])
    dash.set_range(date(2026, 3, 1), date(2026, 3, 1))
    assert list(s["agents"].options) == [("Bee", "b")]
    dash.set_range(date(2026, 3, 12), date(2026, 3, 13))
    assert list(s["agents"].options) == [("Ant", "a"), ("Bee", "b")] and s["agents"].value == ("b",)
    assert dash.logs.page is not None and dash.logs.page.total == 0
    with pytest.raises(TypeError, match="unknown filter"):
        dash.filter_bar.select(colours=["red"])


def test_filter_options_keep_one_order_when_the_range_changes(tmp_path: Path) -> None:
    """Sorted by label ignoring case: which value is busiest changes with the range."""
    log = EventLog(tmp_path / "events")
    recent = [("z", "zeta bot", "ops"), ("b", "Beta", "Billing")] * 3 + [("a", "alpha", "ml")]
    older = [("a", "alpha", "ml"), ("b", "Beta", "Billing")] * 4
    log.append(
        [ev("2026-03-19T09:00:00Z", a, display_name=d, team=t) for a, d, t in recent]
        + [ev("2026-02-01T09:00:00Z", a, display_name=d, team=t) for a, d, t in older]
    )
    dash = make(log, days=7)
    s = dash.filter_bar.selects
    order = [("alpha", "a"), ("Beta", "b"), ("zeta bot", "z")]
    assert list(s["agents"].options) == order
    assert list(s["teams"].options) == [("Billing", "Billing"), ("ml", "ml"), ("ops", "ops")]
    s["agents"].value = ("z", "a")  # as a user would
    s["teams"].value = ("ml",)
    for days in (90, 0, 30, 7):
        dash.set_range(days=days)
        assert list(s["agents"].options) == order, days
        assert (s["agents"].value, s["teams"].value) == (("z", "a"), ("ml",)), days
    dash.set_range(date(2026, 2, 1), date(2026, 2, 1))  # zeta bot has no calls: still listed
    assert list(s["agents"].options) == order and s["agents"].value == ("z", "a")
    dash.select(teams=["Accounts"])  # a value set from code takes its sorted place
    assert [v for _, v in s["teams"].options] == ["Accounts", "Billing", "ml"]


def test_the_logs_tell_apart_agents_that_share_a_display_name(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events")
    log.append(
        [
            ev("2026-03-19T09:00:00Z", "echo", display_name="Echo Agent"),
            ev("2026-03-19T10:00:00Z", "echo2", display_name="Echo Agent"),
            ev("2026-03-19T11:00:00Z", "solo", display_name="Solo"),
        ]
    )
    dash = make(log, days=7)
    assert log_agents(dash) == ["Solo", "Echo Agent (echo2)", "Echo Agent (echo)"]
    assert sorted(dash.filter_bar.selects["agents"].options)[:2] == [
        ("Echo Agent (echo)", "echo"),
        ("Echo Agent (echo2)", "echo2"),
    ]  # the same labels as the filter


def test_a_pick_filters_the_rest_and_says_so(usage_log: EventLog) -> None:
    dash = make(usage_log, days=7)
    assert dash.pick_bar.layout.display == "none"
    dash.pick_agents("a")
    assert dash.pick_bar.layout.display == "flex"
    assert "Filtered to <b>Ant</b>" in dash.pick_label.value
    assert set(log_agents(dash)) == {"Ant"}
    assert cards(dash)["spend"] == ("$0.75", "▲ +$0.25 (+50.0%)")
    # the charts one picks from keep every agent, the pick highlighted
    assert drawn_agents(dash, "spend_per_agent") == {"a", "b"}
    assert drawn_agents(dash, "daily_spend") == {"a", "b"}
    assert dash.charts["spend_per_agent"].to_dict()["params"][0]["value"] == [{"agent_name": "a"}]
    assert dash.charts["daily_spend"].to_dict()["params"][0]["value"] == [{"label": "Ant"}]
    # the others narrow to it
    assert drawn_agents(dash, "model_usage") == {"a"}
    assert drawn_agents(dash, "activity") == {"a"}
    dash.export("csv")
    assert dash.last_export is not None and dash.last_export.rows == 4
    dash.clear_pick_button.click()
    assert dash.pick_bar.layout.display == "none" and dash.picked_agents == ()
    assert set(log_agents(dash)) == {"Ant", "Bee"}
    assert "value" not in dash.charts["spend_per_agent"].to_dict()["params"][0]


def test_clicks_on_a_bar_and_on_the_legend_arrive_as_picks(usage_log: EventLog) -> None:
    """The messages JupyterChart's front end sends when a bar or a legend entry is clicked."""
    dash = make(usage_log, days=7)
    bars = dash.chart_widgets["spend_per_agent"]
    bars._vl_selections = {
        "agent_pick": {"value": {"vlPoint": {"or": [{"agent_name": "b"}]}}, "store": []}
    }
    assert dash.picked_agents == ("b",) and set(log_agents(dash)) == {"Bee"}
    legend = dash.chart_widgets["daily_spend"]
    legend._vl_selections = {
        "legend_pick": {"value": {"vlPoint": {"or": [{"label": "Ant"}]}}, "store": []}
    }
    assert dash.picked_agents == ("a",) and set(log_agents(dash)) == {"Ant"}
    # a redrawn chart's selections are observed again: a second click still counts
    bars = dash.chart_widgets["spend_per_agent"]
    shown = {"vlPoint": {"or": [{"agent_name": "a"}]}}  # the redrawn chart reports its pick
    bars._vl_selections = {"agent_pick": {"value": shown, "store": []}}
    assert dash.picked_agents == ("a",)
    bars._vl_selections = {"agent_pick": {"value": None, "store": []}}  # click on nothing
    assert dash.picked_agents == () and set(log_agents(dash)) == {"Ant", "Bee"}


def test_logs_table_pages_newest_first_over_a_big_log(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events")
    log.append(
        [
            ev(f"2026-03-{1 + i // 10:02d}T{i % 10:02d}:00:00Z", f"agent-{i % 3}", "0.01")
            for i in range(60)
        ]
    )
    dash = make(log, days=0, page_size=25)
    logs = dash.logs
    assert logs.label.value.endswith("Page 1 of 3 · calls 1–25 of 60, newest first</span>")
    assert (logs.prev_button.disabled, logs.next_button.disabled) == (True, False)
    assert logs.page is not None and len(logs.page.frame) == 25
    first = logs.page.frame["time"].tolist()
    assert first == sorted(first, reverse=True)
    assert first[0].isoformat() == "2026-03-06T09:00:00+00:00"
    dash.next_page()
    dash.next_button_clicks = logs.next_button.click()  # the button does the same
    assert "Page 3 of 3 · calls 51–60 of 60" in logs.label.value
    assert len(logs.page.frame) == 10 and logs.next_button.disabled
    assert logs.page.frame["time"].iloc[-1].isoformat() == "2026-03-01T00:00:00+00:00"
    dash.next_page()  # past the end: stays on the last page
    assert "Page 3 of 3" in logs.label.value
    logs.prev_button.click()
    assert "Page 2 of 3 · calls 26–50" in logs.label.value
    dash.refresh()  # e.g. after a chat call: same page
    assert "Page 2 of 3" in logs.label.value
    dash.go_to_page(99)
    assert "Page 3 of 3" in logs.label.value
    dash.set_range(days=7)  # a new selection starts at page 1 (all of it is older: none)
    assert "Page 1 of 1 · no calls" in logs.label.value
    assert logs.prev_button.disabled and logs.next_button.disabled
    assert (logs.page.total, logs.page.limit) == (0, 25)


def test_export_writes_a_file_and_offers_a_download(usage_log: EventLog) -> None:
    dash = make(usage_log, days=7)
    dash.select(teams=["t1"])
    path = dash.export("csv")
    assert path.parent == usage_log.path.parent / "exports"
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["cost_usd"] for r in rows] == ["0.00", "0.25", "0.25", "0.25"]
    assert {r["team"] for r in rows} == {"t1"}
    status = dash.export_status.value
    assert html.escape(str(path)) in status and "Wrote 4 event(s) as CSV" in status
    href = re.search(
        r'class="acnb-download" download="([^"]+)" href="data:text/csv;base64,([^"]+)"', status
    )
    assert href is not None and href.group(1) == path.name
    assert base64.b64decode(href.group(2)) == path.read_bytes()

    dash.parquet_button.click()
    assert dash.last_export is not None and dash.last_export.format == "parquet"
    table = pq.read_table(dash.last_export.path)
    assert table.schema.field("cost_usd").type == pa.decimal128(38, 18)
    assert sum(table["cost_usd"].to_pylist()) == Decimal("0.75")
    assert "data:application/vnd.apache.parquet;base64," in dash.export_status.value

    small = make(usage_log, days=7, download_limit=10, export_dir=usage_log.path.parent / "out")
    small.export("csv")
    assert "acnb-download" not in small.export_status.value
    assert "Too large to offer as a download" in small.export_status.value
    assert small.last_export is not None and small.last_export.path.parent.name == "out"
    with pytest.raises(ValidationError, match="csv or parquet"):
        small.export("xlsx")
    small.csv_button.click()  # a failing click is shown, not lost
    (small.export_dir / small.last_export.path.name).unlink()


def test_save_charts_writes_png_and_svg(usage_log: EventLog, tmp_path: Path) -> None:
    dash = make(usage_log, days=7)
    files = dash.save_charts(tmp_path / "charts", formats=("svg",))
    assert sorted(p.name for p in files) == sorted(f"{n}.svg" for n in CHARTS)
    assert "Bee" in (tmp_path / "charts" / "spend_per_agent.svg").read_text()
    assert "Saved 5 chart file(s)" in dash.export_status.value


@pytest.mark.parametrize("count", [0, 1])
def test_zero_and_one_event_render_every_chart_and_card(tmp_path: Path, count: int) -> None:
    log = EventLog(tmp_path / "events")
    if count:
        log.append([ev("2026-03-20T08:00:00Z", "solo", "0.05036", latency_ms=80.0, input_tokens=3)])
    dash = make(log, days=7)
    assert dash.message.value == ""
    assert set(dash.chart_widgets) == set(CHARTS)
    for name in CHARTS:
        spec = json.dumps(dash.charts[name].to_dict())
        assert ("no data for this selection" in spec) == (count == 0), name
        assert dash.chart_widgets[name].spec is not None
    got = cards(dash)
    if count:
        assert got["spend"][0] == "$0.05036" and got["requests"] == ("1", "▲ +1 (new)")
        assert got["success_rate"] == ("100.0%", "no comparable value before")
        assert log_agents(dash) == ["solo"]
    else:
        assert got["spend"] == ("$0.00", "= no change")
        assert got["success_rate"] == ("—", "no comparable value before")
        assert "no data for this selection" in dash.logs.table.value
        assert "Page 1 of 1 · no calls" in dash.logs.label.value
    assert dash.export("csv").exists()
    dash.pick_agents("solo")
    assert dash.message.value == ""


def test_odd_agent_names_display_as_written_and_never_as_markup(tmp_path: Path) -> None:
    evil = '<script>alert("x")</script> 🚀'
    log = EventLog(tmp_path / "events")
    log.append(
        [
            ev(
                "2026-03-20T08:00:00Z",
                "ns:agent.v2",
                "1",
                display_name=evil,
                team="<b>t</b>",
                error="x",
            ),
            ev(
                "2026-03-20T09:00:00Z",
                'it\'s "q"',
                "2",
                status="error",
                error="<img src=x onerror=alert(1)>",
            ),
        ]
    )
    dash = make(log, days=7)
    assert ("<script>" not in dash.logs.table.value) and ("<img" not in dash.logs.table.value)
    assert set(log_agents(dash)) == {evil, 'it\'s "q"'}
    assert dict(dash.filter_bar.selects["agents"].options)[evil] == "ns:agent.v2"
    assert ("<b>t</b>", "<b>t</b>") in dash.filter_bar.selects["teams"].options  # option text
    dash.pick_agents("ns:agent.v2")
    assert "<script>" not in dash.pick_label.value and html.escape(evil) in dash.pick_label.value
    assert log_agents(dash) == [evil]


def test_refresh_picks_up_new_calls(usage_log: EventLog) -> None:
    dash = make(usage_log, days=7)
    usage_log.append([ev("2026-03-20T10:00:00Z", "c", "0.5", display_name="Cat")])
    assert cards(dash)["requests"][0] == "6"
    dash.refresh()
    assert cards(dash)["requests"][0] == "7"
    assert log_agents(dash)[0] == "Cat"
    assert ("Cat", "c") in dash.filter_bar.selects["agents"].options


def test_days_follow_the_reporting_zone_across_daylight_saving(tmp_path: Path) -> None:
    log = EventLog(tmp_path / "events")
    log.append(
        [
            ev("2026-03-09T03:30:00Z", "a", "1"),  # 23:30 on 8 March in New York
            ev("2026-03-09T04:30:00Z", "a", "2"),  # 00:30 on 9 March
            ev("2026-11-01T05:30:00Z", "a", "4"),  # 01:30 EDT on 1 November
            ev("2026-11-01T06:30:00Z", "a", "8"),  # 01:30 EST, the repeated hour
        ]
    )
    dash = Dashboard(log, tz="America/New_York", days=0, today=date(2026, 11, 30))
    drawn = chart_rows(dash.charts["daily_spend"].to_dict())
    assert [(r["day"], r["t"]) for r in drawn] == [
        ("2026-03-08", "$1.00"),
        ("2026-03-09", "$2.00"),
        ("2026-11-01", "$12.00"),
    ]
    assert [t.strftime("%Y-%m-%d %H:%M %Z") for t in dash.logs.page.frame["time"]] == [
        "2026-11-01 01:30 EST",
        "2026-11-01 01:30 EDT",
        "2026-03-09 00:30 EDT",
        "2026-03-08 23:30 EDT",
    ]
    dash.set_range(date(2026, 3, 9), date(2026, 3, 9))
    assert cards(dash)["spend"][0] == "$2.00"


@pytest.mark.slow
def test_widget_payloads_stay_small_for_100k_events(tmp_path: Path) -> None:
    agents = [
        SyntheticAgent(
            name=f"agent.{i:02d}",
            display_name=f"Agent {i:02d}",
            sheet=PriceSheet(
                cost_per_query=Decimal("0.0013"), output_cost_per_token=Decimal("0.00000937")
            ),
            models=(f"model-{i % 3}",),
        )
        for i in range(20)
    ]
    log = EventLog(tmp_path / "events")
    write_synthetic(
        log, 100_000, agents=agents, days=90, end=datetime(2026, 3, 21, tzinfo=UTC), seed=3
    )
    dash = make(log, days=90, page_size=50)
    sizes = {name: len(json.dumps(w.spec)) for name, w in dash.chart_widgets.items()}
    assert all(size < 50_000 for size in sizes.values()), sizes
    assert len(dash.charts["daily_spend"].to_dict()["encoding"]["x"]["scale"]["domain"]) == 90
    assert dash.logs.page is not None and dash.logs.page.total == 100_000
    assert len(dash.logs.table.value) < 60_000  # one page of 50 rows, not the log
    assert "Page 1 of 2,000 · calls 1–50 of 100,000" in dash.logs.label.value
    dash.pick_agents("agent.07")
    assert drawn_agents(dash, "model_usage") == {"agent.07"}
    picked = an.totals(log, an.Filters(agents=("agent.07",), tz="UTC")).requests
    assert 1_000 < picked < 10_000 and dash.logs.page.total == picked


def test_a_reversed_date_range_hides_the_old_numbers_and_says_why(tmp_path):
    from datetime import date

    from agentcost_nb.eventlog import EventLog
    from agentcost_nb.widgets.dashboard import Dashboard

    dash = Dashboard(EventLog(tmp_path / "events"))
    assert dash.body.layout.display is None
    dash.filter_bar.start.value = date(2026, 12, 5)  # as a user picks them, in this order
    dash.filter_bar.end.value = date(2026, 11, 1)
    assert "cannot show the dashboard" in dash.message.value
    assert dash.body.layout.display == "none"
    dash.set_range(days=7)
    assert dash.message.value == "" and dash.body.layout.display is None


def test_unreadable_event_files_are_named_above_the_numbers(tmp_path):
    import warnings

    from agentcost_nb.eventlog import EventLog
    from agentcost_nb.widgets.dashboard import Dashboard

    bad = tmp_path / "events" / "date=2026-12-01" / "part-broken.parquet"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"not parquet at all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dash = Dashboard(EventLog(tmp_path / "events"))
        dash.set_range(days=0)
    assert "1 unreadable event file(s) left out" in dash.message.value
    assert "part-broken.parquet" in dash.message.value
    assert dash.body.layout.display is None  # the rest still shows
