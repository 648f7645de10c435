"""The playground: pick an agent by display name, send a message, see the reply and its cost.

The call runs as an asyncio task on the kernel's loop, so the kernel stays free
while the agent answers; Send is disabled while a call is in flight.
``await chat.send("hi")`` is what the Send button does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ipywidgets as W

from ..billing import Caller
from ..errors import AgentCostError
from ..pricing import format_usd
from ..tracker import CallResult, Tracker
from ._util import error_html, esc, schedule

__all__ = ["ChatWidget"]


class ChatWidget(W.VBox):
    def __init__(
        self,
        tracker: Tracker,
        *,
        on_result: Callable[[CallResult], None] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.tracker = tracker
        self.on_result = on_result
        self.timeout = timeout
        self.results: list[CallResult] = []
        self.pending: Any = None  # the in-flight asyncio task (or worker thread)
        self.context_id: str | None = None
        self.agent = W.Dropdown(description="Agent", layout=W.Layout(width="360px"))
        self.api_key = W.Password(description="API key", placeholder="optional, never stored")
        self.team = W.Text(description="Team", placeholder="optional")
        self.project = W.Text(description="Project", placeholder="optional")
        self.tags = W.Text(description="Tags", placeholder="comma-separated, optional")
        self.message = W.Textarea(placeholder="Type a message…", layout=W.Layout(width="100%"))
        self.send_button = W.Button(description="Send", button_style="primary", icon="paper-plane")
        self.clear_button = W.Button(description="Clear", icon="eraser")
        self.transcript = W.VBox(layout=W.Layout(border="1px solid #ddd", padding="6px"))
        self.status = W.HTML()
        self.total = W.HTML()
        self.send_button.on_click(lambda _b: self.click_send())
        self.clear_button.on_click(lambda _b: self.clear())
        self.agent.observe(lambda _c: self._new_thread(), "value")
        self.refresh_agents()
        super().__init__(
            [
                W.HTML("<h3>Playground</h3>"),
                W.HBox([self.agent]),
                W.HBox([self.api_key, self.team, self.project, self.tags]),
                self.transcript,
                self.message,
                W.HBox([self.send_button, self.clear_button, self.status]),
                self.total,
            ]
        )
        self._show_total()

    def refresh_agents(self) -> None:
        """Re-read the registry (e.g. after the form saved an agent)."""
        current = self.agent.value
        options = [(a.display_name, a.name) for a in self.tracker.registry]
        self.agent.options = options
        names = [name for _label, name in options]
        if current in names:
            self.agent.value = current
        elif names:
            self.agent.value = names[0]

    def select(self, name_or_display_name: str) -> None:
        for label, name in self.agent.options:
            if name_or_display_name in (label, name):
                self.agent.value = name
                return
        raise AgentCostError(f"no agent {name_or_display_name!r} in the playground")

    def click_send(self) -> Any:
        """What the Send button does: schedule the call and return the task."""
        text = self.message.value
        if not text.strip() or self.send_button.disabled:
            return None
        self.send_button.disabled = True  # at once, before the task first runs
        self.pending = schedule(self.send(text))
        return self.pending

    async def send(self, text: str) -> CallResult | None:
        """Send ``text`` to the selected agent; returns the result (also shown in the widget)."""
        if not self.agent.value:
            self.status.value = error_html("register an agent first")
            return None
        self.send_button.disabled = True
        self.status.value = "waiting for the agent…"
        self._append("you", esc(text))
        self.message.value = ""
        caller = Caller(
            api_key=self.api_key.value,
            team=self.team.value.strip(),
            project=self.project.value.strip(),
            tags=tuple(t.strip() for t in self.tags.value.split(",") if t.strip()),
        )
        try:
            result = await self.tracker.call(
                self.agent.value,
                text,
                caller=caller,
                context_id=self.context_id,
                timeout=self.timeout,
            )
        except asyncio.CancelledError:
            self.status.value = error_html("canceled")
            raise
        except AgentCostError as exc:
            self.status.value = error_html(str(exc))
            return None
        finally:
            self.send_button.disabled = False
        self._show(result)
        if self.on_result:
            try:
                self.on_result(result)
            except Exception as exc:  # a broken listener must not break the chat
                self.status.value = error_html(f"after the call: {type(exc).__name__}: {exc}")
        return result

    def clear(self) -> None:
        self.transcript.children = ()
        self.results.clear()
        self._new_thread()
        self._show_total()

    def _new_thread(self) -> None:
        self.context_id = None

    def _show(self, result: CallResult) -> None:
        self.results.append(result)
        reply, event = result.reply, result.event
        if reply.context_id:
            self.context_id = reply.context_id
        who = esc(result.agent.display_name)
        if event.status == "success":
            self._append(who, esc(reply.text).replace("\n", "<br>"), cost=result.summary())
            self.status.value = ""
        else:
            reason = f"{event.status}: {reply.error or 'no reason given'}"
            self._append(who, error_html(reason), cost=result.summary())
            self.status.value = error_html(f"the call failed ({event.status}); it was recorded")
        if result.warnings:
            self.status.value = error_html("; ".join(result.warnings))
        if result.log_error:
            self.status.value = error_html(result.log_error)
        self._show_total()

    def _append(self, who: str, body_html: str, *, cost: str = "") -> None:
        meta = (
            f'<div style="color:#666;font-size:85%" class="acnb-cost">{esc(cost)}</div>'
            if cost
            else ""
        )
        bubble = W.HTML(f'<div class="acnb-msg"><b>{who}</b>: {body_html}{meta}</div>')
        self.transcript.children = (*self.transcript.children, bubble)

    def _show_total(self) -> None:
        spent = sum((r.event.cost_usd or Decimal(0) for r in self.results), Decimal(0))
        self.total.value = f"Session: {len(self.results)} call(s), {esc(format_usd(spent))}"
