"""The Voila app in headless Chromium, served by the real ``agentcost-nb app`` launcher.

One flow, one server: register an agent in the form, chat with it in the
Playground and see the reply and its cost, then see the Dashboard draw and
filter its logs when an agent's bar is clicked.  Screenshots of every stage go
to ``test-artifacts/``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .helpers import CALL_TIMEOUT, drawn, load_app, open_tab, stage
from .helpers import expect as _expect

pytestmark = pytest.mark.browser

AGENT_NAME = "browser-bot"
DISPLAY_NAME = "Browser Bot"
DEMO_DISPLAY_NAME = "Echo Agent"  # registered by the launcher, $0.01 per query


def _form_input(panel: Any, label: str) -> Any:
    """The input on the form row whose label (a Label widget beside it) reads ``label``."""
    row = panel.locator(".widget-hbox").filter(
        has=panel.page.locator("div.widget-label", has_text=re.compile(rf"^{re.escape(label)}$"))
    )
    return row.locator("input")


def _demo_echo_url(app: Any) -> str:
    """The demo echo agent's URL, as the launcher registered it in ``<home>/agents.json``."""
    agents = json.loads((app.home / "agents.json").read_text())["agents"]
    url = next(a["url"] for a in agents if a["name"] == "echo")
    assert url == f"{app.demo_url}/echo", (url, app.demo_url)
    return str(url)


def _logs_agents(page: Any) -> list[str]:
    """The Agent (display name) column of the visible logs table, one entry per row."""
    return page.evaluate(
        """() => {
            const t = [...document.querySelectorAll('table.acnb-logs')]
                .find(e => e.offsetParent !== null);
            if (!t) return null;
            const rows = [...t.querySelectorAll('tr')];
            const head = [...rows[0].children].map(c => c.textContent.trim());
            const i = head.indexOf('Agent');
            return rows.slice(1).map(r => r.children[i].textContent.trim());
        }"""
    )


def _wait_logs(
    page: Any, ok: Callable[[list[str]], bool], what: str, timeout: float = 20
) -> list[str]:
    deadline = time.monotonic() + timeout
    rows: list[str] | None = None
    while time.monotonic() < deadline:
        rows = _logs_agents(page)
        if rows is not None and ok(rows):
            return rows
        page.wait_for_timeout(200)
    raise AssertionError(f"logs table never showed {what}; last rows: {rows}")


def _click_agent_bar(page: Any, chart: Any, display_name: str) -> None:
    """Click ``display_name``'s bar in the Spend per agent chart.

    JupyterChart draws SVG here, and Vega labels every mark (aria-label
    "Agent: Browser Bot; Name: browser-bot; Spend: $0.05; ..."), so the bar is
    found by its label and clicked at its centre (Vega's svg root, not the
    path, takes the events).
    """
    bar = chart.locator(
        f'svg.marks path[aria-roledescription="bar"][aria-label*="Agent: {display_name};"]'
    )
    _expect()(bar).to_have_count(1)
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box and box["width"] > 0 and box["height"] > 0, f"{display_name}'s bar: {box}"
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_register_chat_and_dashboard(
    voila_app: Any, page: Any, snap: Callable[[str], Path]
) -> None:
    expect = _expect()

    with stage(snap, "app-loaded", page):
        load_app(page, voila_app.url)
        expect(page.get_by_text("There was an error when executing cell")).to_have_count(0)
        expect(page.locator(".acnb-error:visible")).to_have_count(0)

    with stage(snap, "agent-saved", page):
        panel = open_tab(page, "Agents")
        expect(panel.get_by_text("Add New Agent")).to_be_visible()
        _form_input(panel, "Agent Name").fill(AGENT_NAME)
        _form_input(panel, "Display Name").fill(DISPLAY_NAME)
        _form_input(panel, "URL").fill(_demo_echo_url(voila_app))
        _form_input(panel, "Cost Per Query ($)").fill("0.05")
        panel.get_by_role("button", name="Save agent").click()
        expect(
            panel.get_by_text(re.compile(rf"saved\s+{DISPLAY_NAME}\s+\({AGENT_NAME}\)"))
        ).to_be_visible(timeout=CALL_TIMEOUT)
        expect(panel.locator("table.acnb-agents")).to_contain_text(DISPLAY_NAME)
        expect(panel.locator(".acnb-error:visible")).to_have_count(0)

    with stage(snap, "chat-reply", page):
        panel = open_tab(page, "Playground")
        agent = panel.get_by_label("Agent", exact=True)
        agent.select_option(label=DISPLAY_NAME)
        expect(agent).to_have_value(DISPLAY_NAME)  # ipywidgets uses the label as option value
        message = panel.get_by_placeholder("Type a message…")
        message.fill("hello from chromium")
        panel.get_by_role("button", name="Send").click()
        reply = panel.locator(".acnb-msg").filter(has_text="echo: hello from chromium")
        expect(reply).to_be_visible(timeout=CALL_TIMEOUT)
        expect(reply).to_contain_text(DISPLAY_NAME)
        expect(reply.locator(".acnb-cost")).to_have_text(re.compile(r"^\$0\.05(?!\d)"))
        expect(panel.get_by_text(re.compile(r"Session: 1 call\(s\), \$0\.05$"))).to_be_visible()
        expect(message).to_have_value("")

        # A second agent's call, so the dashboard has two bars and a filter to see.
        agent.select_option(label=DEMO_DISPLAY_NAME)
        message.fill("second call")
        panel.get_by_role("button", name="Send").click()
        reply = panel.locator(".acnb-msg").filter(has_text="echo: second call")
        expect(reply).to_be_visible(timeout=CALL_TIMEOUT)
        expect(reply.locator(".acnb-cost")).to_have_text(re.compile(r"^\$0\.01(?!\d)"))
        expect(panel.locator(".acnb-error:visible")).to_have_count(0)

    with stage(snap, "dashboard", page):
        panel = open_tab(page, "Dashboard")
        expect(panel.locator(".acnb-error:visible")).to_have_count(0)
        expect(panel.locator(".acnb-kpi").first).to_be_visible()
        expect(panel.locator(".acnb-kpi").filter(has_text="Total spend")).to_contain_text("$0.06")
        expect(panel.locator(".acnb-kpi").filter(has_text="Requests")).to_contain_text("2")
        charts = panel.locator(".vega-embed")
        expect(charts).to_have_count(5, timeout=CALL_TIMEOUT)
        for i in range(charts.count()):
            chart = charts.nth(i)
            chart.scroll_into_view_if_needed()
            expect(chart.locator("canvas, svg.marks").first).to_be_visible(timeout=CALL_TIMEOUT)
            deadline = time.monotonic() + 10
            while not drawn(chart) and time.monotonic() < deadline:
                page.wait_for_timeout(200)
            assert drawn(chart), f"chart {i} has an empty drawing area"
        rows = _wait_logs(
            page, lambda r: {DISPLAY_NAME, DEMO_DISPLAY_NAME} <= set(r), "both agents' calls"
        )
        assert len(rows) == 2, rows

    with stage(snap, "dashboard-filtered", page):
        spend_chart = panel.locator(".acnb-chart-spend_per_agent .vega-embed")
        _click_agent_bar(page, spend_chart, DISPLAY_NAME)
        rows = _wait_logs(
            page, lambda r: bool(r) and set(r) == {DISPLAY_NAME}, f"only {DISPLAY_NAME}"
        )
        assert rows == [DISPLAY_NAME]
        spend = panel.locator('.acnb-kpi[data-metric="spend"] .acnb-kpi-value')
        expect(spend).to_have_text("$0.05")
        expect(panel.locator(".acnb-pick-text")).to_have_text(f"Filtered to {DISPLAY_NAME} —")
        # the bars stay, the picked one highlighted: another agent can be clicked next
        _click_agent_bar(page, spend_chart, DEMO_DISPLAY_NAME)
        rows = _wait_logs(page, lambda r: set(r) == {DEMO_DISPLAY_NAME}, DEMO_DISPLAY_NAME)
        assert rows == [DEMO_DISPLAY_NAME]
        expect(spend).to_have_text("$0.01")
