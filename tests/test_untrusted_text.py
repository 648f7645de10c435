"""Untrusted text: agent replies, names and caller fields holding HTML/JS are shown as text.

Checked on the HTML every widget would render (chat transcript and status,
agents table, logs table, KPI cards, banners) and on the chart specs (labels
only ever as data, never in a Vega expression, a field name or a link).
"""

from __future__ import annotations

import asyncio
import csv
import html
import io
import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest

from agentcost_nb.client.a2a import A2AClient
from agentcost_nb.registry import AgentConfig
from agentcost_nb.tracker import Tracker

NAME = "<img src=x onerror=alert('name')>\"quoted\", comma"
MODEL = '<script>alert("model")</script>'
URL = "http://agent.test/a?x=\"><script>alert('url')</script>"
REPLY = '<script>alert("reply")</script><b onmouseover="alert(1)">bold?</b>'
ERROR = "<iframe src=\"javascript:alert('err')\"></iframe>"
TEAM = "<svg onload=alert('team')>"
PROJECT = "javascript:alert('project')"
TAG = "</td><script>tag</script>"
PAYLOADS = [NAME, MODEL, URL, REPLY, ERROR, TEAM, PROJECT, TAG]
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc", "poster"}
ACTIVE = {"script", "img", "svg", "iframe", "object", "embed", "a", "form", "input", "link", "meta"}


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs


def assert_inert(markup: str, where: str) -> None:
    """No active element, no event handler, no javascript: URL in ``markup``."""
    parsed = _Markup()
    parsed.feed(markup)
    parsed.close()
    assert not ACTIVE & set(parsed.tags), (where, ACTIVE & set(parsed.tags), markup[:500])
    bad = [
        (k, v)
        for k, v in parsed.attrs
        if k.startswith("on") or (k in URL_ATTRIBUTES and "javascript:" in (v or "").lower())
    ]
    assert not bad, (where, bad)


def _widgets(root: Any) -> list[Any]:
    seen, todo, out = set(), [root], []
    while todo:
        w = todo.pop()
        if id(w) in seen:
            continue
        seen.add(id(w))
        out.append(w)
        todo += list(getattr(w, "children", ()) or ())
    return out


def _rendered_html(root: Any) -> str:
    """Every bit of HTML the widgets under ``root`` hand the browser, each checked inert."""
    import ipywidgets as W

    shown = []
    for w in _widgets(root):
        if isinstance(w, W.HTML | W.HTMLMath):
            assert_inert(w.value, f"{type(w).__name__} value")
            shown.append(w.value)
        if getattr(w, "description_allow_html", False):
            assert_inert(w.description, f"{type(w).__name__} description")
            shown.append(w.description)
    return "\n".join(shown)


def _reply(request: httpx.Request) -> httpx.Response:
    if request.method == "GET":
        return httpx.Response(200, json={
            "name": NAME, "description": REPLY, "version": "1", "capabilities": {"streaming": False},
            "supportedInterfaces": [{"url": "http://agent.test/a/rpc", "protocolBinding": "JSONRPC",
                                     "protocolVersion": "1.0"}],
            "defaultInputModes": ["text"], "defaultOutputModes": ["text"], "skills": []})  # fmt: skip
    if b"fail" in request.content:
        doc = {"jsonrpc": "2.0", "id": 1, "error": {"code": -32000, "message": ERROR}}
    else:
        doc = {"jsonrpc": "2.0", "id": 1, "result": {"message": {
            "role": "ROLE_AGENT", "messageId": "m", "parts": [{"text": REPLY}],
            "metadata": {"model": MODEL}}}}  # fmt: skip
    return httpx.Response(200, json=doc)


@pytest.fixture
def tracker(tmp_path: Path) -> Tracker:
    transport = httpx.MockTransport(_reply)
    t = Tracker(tmp_path, client=A2AClient(transport=transport))
    t.registry.add(AgentConfig(name="xss", display_name=NAME, url=URL, model=MODEL))
    t.registry.add(AgentConfig(name="plain", display_name="Plain", url="http://agent.test/p"))
    return t


def _chat_session(tracker: Tracker) -> Any:
    from agentcost_nb.widgets import ChatWidget

    chat = ChatWidget(tracker)
    chat.select("xss")
    chat.team.value, chat.project.value, chat.tags.value = TEAM, PROJECT, TAG
    ok = asyncio.run(chat.send(f"hello {REPLY}"))
    failed = asyncio.run(chat.send("please fail"))
    assert ok.event.status == "success" and failed.event.status == "error"
    return chat


def test_the_chat_shows_replies_names_and_errors_as_text(tracker):
    chat = _chat_session(tracker)
    shown = _rendered_html(chat)
    assert html.escape(REPLY) in shown  # the reply is there, as text
    assert html.escape(NAME) in shown
    assert "alert(&#x27;err&#x27;)" in shown or html.escape(ERROR) in shown
    labels = [label for label, _ in chat.agent.options]
    assert NAME in labels  # a Dropdown label is plain text by construction


def test_agents_table_logs_table_and_the_whole_app_render_inert(tracker, tmp_path):
    from agentcost_nb.widgets import App, Dashboard
    from agentcost_nb.widgets.app import agents_table_html

    _chat_session(tracker)
    table = agents_table_html(list(tracker.registry))
    assert_inert(table, "agents table")
    for text in (NAME, URL, MODEL):
        assert html.escape(text) in table

    dashboard = Dashboard(tracker.log)
    dashboard.refresh()
    shown = _rendered_html(dashboard)
    for text in (NAME, TEAM):
        assert html.escape(text) in shown, text

    app = App(tracker=tracker, demo=False)
    _rendered_html(app)


def _walk(node: Any, path: str = "") -> list[tuple[str, Any]]:
    out = [(path, node)]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _walk(v, f"{path}[{i}]")
    return out


EXPRESSION_KEYS = {
    "expr",
    "calculate",
    "filter",
    "test",
    "signal",
    "update",
    "field",
    "as",
    "href",
    "url",
}


def test_charts_carry_untrusted_labels_only_as_data(tracker):
    from agentcost_nb.widgets import Dashboard

    _chat_session(tracker)
    dashboard = Dashboard(tracker.log)
    dashboard.refresh()
    assert dashboard.charts, "no charts drawn"
    fragments = ["<img", "<script", "<svg", "alert(", "javascript:"]
    labels_seen: set[str] = set()
    for name, chart in dashboard.charts.items():
        spec = chart.to_dict()
        json.loads(json.dumps(spec))  # plain JSON
        for path, value in _walk(spec):
            key = path.rsplit(".", 1)[-1].split("[")[0]
            if isinstance(value, str) and key in EXPRESSION_KEYS:
                assert not any(f in value for f in fragments), (name, path, value)
            if isinstance(value, dict) and "href" in value and path.endswith("encoding"):
                raise AssertionError(f"{name}: a link channel at {path}")
        for path, value in _walk(spec):
            if path.endswith(".values") and isinstance(value, str):  # inline CSV data
                for row in csv.DictReader(io.StringIO(value)):
                    labels_seen.update(v for v in row.values() if isinstance(v, str))
            elif path.endswith(".values") and isinstance(value, list):
                for row in value:
                    if isinstance(row, dict):
                        labels_seen.update(v for v in row.values() if isinstance(v, str))
    assert NAME in labels_seen  # the display name arrives whole, as a data value
    for widget in dashboard.chart_widgets.values():
        options = getattr(widget, "embed_options", None) or {}
        tooltip = options.get("tooltip") if isinstance(options, dict) else None
        assert not (isinstance(tooltip, dict) and tooltip.get("sanitize") is False)


def test_a_registry_error_quoting_a_hostile_name_is_shown_as_text(tmp_path):
    from agentcost_nb.widgets import App

    hostile = "<img src=x onerror=alert('reg')>"
    (tmp_path / "agents.json").write_text(json.dumps(
        {"version": 1, "agents": [{"name": hostile, "display_name": "x", "url": "http://x/y"}]}))  # fmt: skip
    app = App(tmp_path, demo=False)
    assert_inert(app.problem.value, "problem banner")
    assert html.escape(hostile) in app.problem.value


def test_the_agent_form_shows_a_hostile_display_name_as_text(tmp_path):
    from agentcost_nb.registry import Registry
    from agentcost_nb.widgets import AgentForm

    form = AgentForm(Registry(tmp_path / "agents.json"))
    form.fill(name="ok-name", display_name=NAME, url=URL)
    assert form.submit() is not None
    _rendered_html(form)
    assert html.escape(NAME) in form.status.value
