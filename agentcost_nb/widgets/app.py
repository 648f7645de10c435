"""The whole app in one widget: Playground, Agents and Dashboard tabs.

What ``make demo`` serves through Voila; equally at home in a JupyterLab cell.
"""

from __future__ import annotations

import os
from typing import Any

import ipywidgets as W

from ..demo_setup import agent_answers, register_demo_agents
from ..errors import AgentCostError, ConfigError
from ..eventlog import EventLog
from ..home import DataHome
from ..registry import AgentConfig
from ..tracker import CallResult, Tracker
from ._util import error_html, esc, html_table, price_text
from .agent_form import AgentForm, PriceEditor
from .chat import ChatWidget
from .dashboard import Dashboard
from .whatif import WhatIf

__all__ = ["App", "agents_table_html", "ensure_demo_agents"]

_DEMO_SERVER: Any = None  # kept alive for the kernel's lifetime


def ensure_demo_agents(tracker: Tracker) -> str | None:
    """Make the demo agents reachable; returns the demo base URL, or None if not wanted.

    ``make demo`` runs them in the launcher and says where in
    ``$AGENTCOST_NB_DEMO_URL``.  In a bare JupyterLab they start in this kernel on
    a free loopback port when the registry has none or its demo agents are down.
    """
    global _DEMO_SERVER
    from ..demo_agent import DEMO_AGENTS, DemoAgentServer

    url = os.environ.get("AGENTCOST_NB_DEMO_URL")
    if url and agent_answers(f"{url}/{DEMO_AGENTS[0].name}"):
        register_demo_agents(tracker.registry, url)
        return url
    demo = [tracker.registry.find(s.name) for s in DEMO_AGENTS]
    if len(tracker.registry) and not any(demo):
        return None  # a user's own registry: leave it alone
    if demo[0] is not None and agent_answers(demo[0].url):
        return demo[0].url.rsplit("/", 1)[0]
    if _DEMO_SERVER is None:
        _DEMO_SERVER = DemoAgentServer(port=0)
        _DEMO_SERVER.start()
    register_demo_agents(tracker.registry, _DEMO_SERVER.base_url)
    return str(_DEMO_SERVER.base_url)


def agents_table_html(agents: list[AgentConfig]) -> str:
    if not agents:
        return "<i>No agents yet: add one below.</i>"
    headers = ("Agent Name", "Display Name", "URL", "Model", "$/query", "$/input token",
               "$/output token")  # fmt: skip
    rows = (
        [a.name, a.display_name, a.url, a.model]
        + [
            price_text(v)
            for v in (
                a.current_prices.cost_per_query,
                a.current_prices.input_cost_per_token,
                a.current_prices.output_cost_per_token,
            )
        ]  # fmt: skip
        for a in agents
    )
    return html_table("acnb-agents", headers, rows)


class App(W.VBox):
    def __init__(
        self,
        home: DataHome | str | os.PathLike[str] | None = None,
        *,
        tracker: Tracker | None = None,
        demo: bool = True,
    ) -> None:
        self.problem = W.HTML()
        self.read_only: str | None = None  # why agents cannot be used (a broken config file)
        try:
            self.tracker = tracker or Tracker(home)
        except ConfigError as exc:
            self._start_read_only(home, exc)
            return
        if demo:
            try:
                ensure_demo_agents(self.tracker)
            except (AgentCostError, OSError) as exc:
                self.problem.value = error_html(f"demo agents unavailable: {exc}")
        self.dashboard = Dashboard(self.tracker.log)
        self.whatif = WhatIf(self.tracker.log, self.tracker.registry, self.dashboard.filters)
        self.chat = ChatWidget(self.tracker, on_result=self._after_call)
        self.agents_table = W.HTML()
        self.refresh_agents_button = W.Button(
            description="Refresh",
            icon="refresh",
            tooltip="re-read agents.json: agents added or changed by the CLI or another kernel",
        ).add_class("acnb-refresh-agents")
        self.refresh_agents_button.on_click(lambda _b: self.refresh_agents())
        self.agents_status = W.HTML()
        self.form = AgentForm(self.tracker.registry, on_saved=self._after_save)
        self.price_editor = PriceEditor(self.tracker.registry, on_saved=self._after_save)
        self.tabs = W.Tab(
            children=[
                self.chat,
                W.VBox(
                    [
                        W.HBox([self.refresh_agents_button, self.agents_status]),
                        self.agents_table,
                        self.form,
                        self.price_editor,
                    ]
                ),
                W.VBox([self.dashboard, self.whatif]),
            ]
        )
        for i, title in enumerate(("Playground", "Agents", "Dashboard")):
            self.tabs.set_title(i, title)
        self._show_agents()
        super().__init__([self.problem, self.tabs])

    def _start_read_only(
        self, home: DataHome | str | os.PathLike[str] | None, exc: ConfigError
    ) -> None:
        """A config file does not load: say what is wrong; the dashboard still shows the log.

        Nothing is written until the file is fixed (then run the cell again / reload).
        """
        where = home if isinstance(home, DataHome) else DataHome.resolve(home)
        self.read_only = str(exc)
        self.problem.value = error_html(
            f"{exc} — fix the file, then reload the app. Until then it is read-only: "
            "the dashboard works; agents cannot be called, added or changed."
        )
        self.dashboard = Dashboard(EventLog(where.events))
        notices = [W.HTML(error_html(f"unavailable until the file is fixed: {exc}")) for _ in "ab"]
        self.tabs = W.Tab(children=[*notices, self.dashboard])
        for i, title in enumerate(("Playground", "Agents", "Dashboard")):
            self.tabs.set_title(i, title)
        self.tabs.selected_index = 2
        super().__init__([self.problem, self.tabs])

    def _after_call(self, _result: CallResult) -> None:
        self.dashboard.refresh()

    def refresh_agents(self) -> bool:
        """What the Agents tab's Refresh does: re-read ``agents.json`` (agents added or
        changed by the CLI or another kernel) and update the agents table, the
        Playground's and the price editor's agent lists.  False (and why, beside the
        button) if the file does not load; the agents already loaded stay in use."""
        if self.read_only is not None:
            return False
        registry = self.tracker.registry
        try:
            registry.reload()
        except ConfigError:
            self.agents_status.value = error_html(
                f"cannot reload the agents: {registry.load_error}"
            )
            return False
        self._agents_changed()
        self.agents_status.value = f"{len(registry)} agent(s), as in {esc(registry.path.name)}"
        return True

    def _after_save(self, _agent: AgentConfig) -> None:
        self.agents_status.value = ""
        self._agents_changed()

    def _agents_changed(self) -> None:
        self.chat.refresh_agents()
        self.price_editor.refresh_agents()
        self._show_agents()
        self.dashboard.refresh()

    def _show_agents(self) -> None:
        self.agents_table.value = agents_table_html(list(self.tracker.registry))
