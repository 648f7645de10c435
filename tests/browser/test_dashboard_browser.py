"""The Dashboard tab in headless Chromium, over a seeded log with known numbers.

Seeded (days before today, UTC; the launcher moves the newest to today):

- ``ns:weird.agent`` (a display name with markup, quotes and an emoji), key K1,
  team ``finance``: 5 calls a day on days 0–5 at $0.10 (30 calls, $3.00);
- ``helper`` ("Helper Bot"), key K2, team ``research``: this week (days 0–6)
  10 calls at $0.25, 2 of them failed at $0 ($2.00); the week before
  (days 7–13) 8 calls at $0.20 ($1.60), two on day 10; days 20–24 one call
  a day at $1.00.

Filters, pagination, the KPI change, every chart, the legend click, the
export download and the odd name are checked against those numbers.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from agentcost_nb.events import Event
from agentcost_nb.keys import key_hash, mask_key

from .helpers import expect as _expect
from .helpers import load_app, open_tab, stage

pytestmark = pytest.mark.browser

WEIRD = "ns:weird.agent"
WEIRD_LABEL = '<script>window.__acnb_xss = 1</script> "Quoted" 🚀 v1.2'
HELPER = "Helper Bot"
K1 = "sk-test-0000000000000000-1111"
K2 = "sk-test-0000000000000000-2222"
# The newest seeded event's day; the launcher shifts it to today.
BASE = date(2026, 1, 31)


def _at(days_ago: int, hour: int) -> datetime:
    return datetime.combine(BASE - timedelta(days=days_ago), datetime.min.time(), UTC).replace(
        hour=hour
    )


def _event(
    agent: str, label: str, key: str, team: str, when: datetime, cost: str, **kw: Any
) -> Event:
    return Event(
        agent_name=agent,
        display_name=label,
        status=kw.pop("status", "success"),
        timestamp=when,
        api_key=mask_key(key),
        api_key_hash=key_hash(key),
        team=team,
        model=kw.pop("model", f"{agent}-model"),
        input_tokens=10,
        output_tokens=5,
        latency_ms=kw.pop("latency_ms", 120.0),
        cost_usd=Decimal(cost),
        **kw,
    )


def sample_events() -> list[Event]:
    events = [
        _event(WEIRD, WEIRD_LABEL, K1, "finance", _at(day, 8 + i), "0.10", project="q4")
        for day in range(6)
        for i in range(5)
    ]
    for day in range(7):  # this week: 10 calls, 2 failed
        for i in range(2 if day < 3 else 1):
            failed = day == 1
            events.append(
                _event(
                    "helper", HELPER, K2, "research", _at(day, 14 + i), "0" if failed else "0.25",
                    status="error" if failed else "success", error="boom" if failed else None,
                )
            )  # fmt: skip
    for day in range(7, 14):  # the week before: 8 calls, 2 on day 10
        for i in range(2 if day == 10 else 1):
            events.append(_event("helper", HELPER, K2, "research", _at(day, 9 + i), "0.20"))
    for day in range(20, 25):
        events.append(_event("helper", HELPER, K2, "research", _at(day, 9), "1.00"))
    return events


def _today() -> date:
    return datetime.now(UTC).date()


# ------------------------------------------------------------------ page helpers


def _dashboard(page: Any) -> Any:
    return page.locator(".acnb-dashboard")


def _card(dash: Any, metric: str) -> tuple[str, str]:
    card = dash.locator(f'.acnb-kpi[data-metric="{metric}"]')
    return (
        card.locator(".acnb-kpi-value").inner_text().strip(),
        card.locator(".acnb-kpi-change").inner_text().strip(),
    )


def _wait_card(dash: Any, metric: str, value: str, timeout: float = 20) -> tuple[str, str]:
    deadline = time.monotonic() + timeout
    got: tuple[str, str] = ("", "")
    while time.monotonic() < deadline:
        got = _card(dash, metric)
        if got[0] == value:
            return got
        dash.page.wait_for_timeout(150)
    raise AssertionError(f"KPI {metric} never showed {value!r}; last {got}")


def _page_text(dash: Any) -> str:
    return str(dash.locator(".acnb-page-text").inner_text()).strip()


def _wait_page_text(dash: Any, pattern: str, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = _page_text(dash)
        if re.search(pattern, text):
            return text
        dash.page.wait_for_timeout(150)
    raise AssertionError(f"page label never matched {pattern!r}; last {text!r}")


def _log_rows(dash: Any) -> list[dict[str, str]]:
    return dash.page.evaluate(
        """() => {
            const t = document.querySelector('.acnb-dashboard table.acnb-logs');
            if (!t) return [];
            const head = [...t.querySelectorAll('thead th')].map(c => c.textContent.trim());
            return [...t.querySelectorAll('tbody tr')].map(r =>
                Object.fromEntries([...r.children].map((c, i) => [head[i], c.textContent])));
        }"""
    )


def _wait_rows(
    dash: Any, ok: Callable[[list[dict[str, str]]], bool], what: str, timeout: float = 20
) -> list[dict[str, str]]:
    deadline = time.monotonic() + timeout
    rows: list[dict[str, str]] = []
    while time.monotonic() < deadline:
        rows = _log_rows(dash)
        if ok(rows):
            return rows
        dash.page.wait_for_timeout(150)
    raise AssertionError(f"logs never showed {what}; last agents {[r.get('Agent') for r in rows]}")


def _drawn_size(chart: Any) -> tuple[float, float]:
    box = chart.locator("canvas, svg.marks").first.bounding_box()
    return (box["width"], box["height"]) if box else (0.0, 0.0)


def _options(dash: Any, css: str) -> list[str]:
    """A select's option texts (ipywidgets writes spaces as no-break spaces)."""
    texts = dash.locator(f"{css} select option").all_inner_texts()
    return [t.replace("\xa0", " ") for t in texts]


def _select(dash: Any, css: str, labels: list[str]) -> None:
    dash.locator(f"{css} select").select_option(label=[x.replace(" ", "\xa0") for x in labels])


# ------------------------------------------------------------------------- test


def test_dashboard_filters_pages_compares_exports_and_picks(
    voila_app: Any, page: Any, snap: Callable[[str], Path]
) -> None:
    expect = _expect()
    today = _today()

    with stage(snap, "loaded", page):
        load_app(page, voila_app.url)
        open_tab(page, "Dashboard")
        dash = _dashboard(page)
        expect(dash).to_be_visible()
        expect(dash.locator(".acnb-error:visible")).to_have_count(0)

    with stage(snap, "every-chart", page):
        # Last 30 days: every seeded call (53), $3.00 + $2.00 + $1.60 + $5.00.
        assert _wait_card(dash, "spend", "$11.60")[0] == "$11.60"
        assert _card(dash, "requests")[0] == "53"
        for name in ("daily_spend", "spend_per_agent", "model_usage", "activity", "tokens_per_day"):
            chart = dash.locator(f".acnb-chart-{name} .vega-embed")
            chart.scroll_into_view_if_needed()
            expect(chart.locator("canvas, svg.marks").first).to_be_visible(timeout=30_000)
            deadline = time.monotonic() + 10
            while min(_drawn_size(chart)) <= 0 and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            w, h = _drawn_size(chart)
            assert w > 0 and h > 0, f"{name} drawn {w}×{h}"
        # the odd name is text everywhere, never markup
        assert page.evaluate("() => window.__acnb_xss") is None
        rows = _wait_rows(dash, lambda r: len(r) == 25, "a first page of 25")
        assert WEIRD_LABEL in {r["Agent"] for r in rows}
        assert _options(dash, ".acnb-filter-agents") == [WEIRD_LABEL, HELPER]
        assert _options(dash, ".acnb-filter-api-keys") == ["sk-…1111", "sk-…2222"]
        assert _options(dash, ".acnb-filter-teams") == ["finance", "research"]

    with stage(snap, "paged", page):
        assert _wait_page_text(dash, r"^Page 1 of 3 · calls 1–25 of 53, newest first$")
        _select(dash, ".acnb-filter-agents", [WEIRD_LABEL])
        _wait_page_text(dash, r"^Page 1 of 2 · calls 1–25 of 30")
        expect(dash.locator(".acnb-prev")).to_be_disabled()
        dash.locator(".acnb-next").click()
        _wait_page_text(dash, r"^Page 2 of 2 · calls 26–30 of 30, newest first$")
        rows = _wait_rows(dash, lambda r: len(r) == 5, "the last 5 calls")
        assert {r["Agent"] for r in rows} == {WEIRD_LABEL}
        assert {r["Cost"] for r in rows} == {"$0.10"} and {r["Key"] for r in rows} == {"sk-…1111"}
        expect(dash.locator(".acnb-next")).to_be_disabled()
        dash.locator(".acnb-prev").click()
        _wait_page_text(dash, r"^Page 1 of 2")
        _select(dash, ".acnb-filter-agents", [])

    with stage(snap, "team-and-7-days", page):
        _select(dash, ".acnb-filter-teams", ["research"])
        _wait_card(dash, "requests", "23")
        dash.locator(".acnb-range select").select_option(label="Last 7 days")
        # this week 10 calls $2.00 (8 ok), the week before 8 calls $1.60 (all ok)
        assert _wait_card(dash, "requests", "10") == ("10", "▲ +2 (+25.0%)")
        assert _card(dash, "spend") == ("$2.00", "▲ +$0.40 (+25.0%)")
        assert _card(dash, "failed") == ("2", "▲ +2 (new)")
        assert _card(dash, "success_rate") == ("80.0%", "▼ -20.0 pts")
        rows = _wait_rows(dash, lambda r: len(r) == 10, "this week's 10 research calls")
        assert {r["Agent"] for r in rows} == {HELPER}
        assert rows[0]["Time"] > rows[-1]["Time"]  # newest first
        start = dash.locator(".acnb-start input")
        assert start.input_value() == (today - timedelta(days=6)).isoformat()

    with stage(snap, "exported", page):
        dash.locator(".acnb-export-csv").click()
        link = dash.locator("a.acnb-download")
        expect(link).to_be_visible(timeout=20_000)
        expect(dash.locator(".acnb-export-path")).to_contain_text(str(voila_app.home / "exports"))
        with page.expect_download() as got:
            link.click()
        download = got.value
        assert re.fullmatch(
            r"agentcost-events_[-0-9]{10}_[-0-9]{10}_filtered_\d{8}-\d{6}\.csv",
            download.suggested_filename,
        ), download.suggested_filename
        text = Path(download.path()).read_text(encoding="utf-8")
        exported = list(csv.DictReader(io.StringIO(text)))
        assert len(exported) == 10
        assert sorted(r["cost_usd"] for r in exported) == ["0.00"] * 2 + ["0.25"] * 8
        assert {r["team"] for r in exported} == {"research"}
        on_disk = voila_app.home / "exports" / download.suggested_filename
        assert on_disk.read_text(encoding="utf-8") == text

    with stage(snap, "custom-dates", page):
        day10 = (today - timedelta(days=10)).isoformat()
        dash.locator(".acnb-start input").fill(day10)
        dash.locator(".acnb-end input").fill(day10)
        _wait_card(dash, "requests", "2")
        expect(dash.locator(".acnb-range select")).to_have_value(re.compile(".+"))
        assert dash.locator(".acnb-range select option:checked").inner_text() == "Custom"
        assert _card(dash, "spend")[0] == "$0.40"
        dash.locator(".acnb-range select").select_option(label="Last 30 days")
        _select(dash, ".acnb-filter-teams", [])
        _wait_card(dash, "requests", "53")

    with stage(snap, "legend-picked", page):
        legend = dash.locator(".acnb-chart-daily_spend svg g.role-legend-symbol path, "
                              ".acnb-chart-daily_spend svg g.role-legend-label text")  # fmt: skip
        entry = dash.locator(
            ".acnb-chart-daily_spend svg g.role-legend-label text", has_text=HELPER
        ).first
        entry.scroll_into_view_if_needed()
        box = entry.bounding_box()
        assert box and legend.count() > 0
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        _wait_card(dash, "requests", "23")
        expect(dash.locator(".acnb-pick-text")).to_have_text(f"Filtered to {HELPER} —")
        rows = _wait_rows(dash, lambda r: bool(r) and {x["Agent"] for x in r} == {HELPER}, HELPER)
        assert len(rows) == 23 or _page_text(dash).endswith("of 23, newest first")

    with stage(snap, "pick-cleared", page):
        dash.locator(".acnb-clear-pick").click()
        _wait_card(dash, "requests", "53")
        expect(dash.locator(".acnb-pick-text")).to_have_count(0)
        _wait_rows(dash, lambda r: {x["Agent"] for x in r} == {HELPER, WEIRD_LABEL}, "both")
    assert not page.page_errors, page.page_errors
