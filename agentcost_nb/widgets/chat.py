"""The playground: pick an agent by display name, send a message, see the reply and its cost.

The call runs as an asyncio task on the kernel's loop, so the kernel stays free
while the agent answers; Send is disabled and Cancel enabled while a call is in
flight.  A streamed answer shows as it arrives.  When the agent asks a question
(input-required) the next message answers it on the same task.  Every button
is also a method: ``await chat.send("hi")``, ``chat.cancel()``, ``chat.clear()``.

The agent key (a credential the agent's card asks for) is taken out of its
password field as soon as it is entered and held only in memory, so it is in
no widget state a notebook could save.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import ipywidgets as W

from ..billing import Caller
from ..client._auth import Secret
from ..client._cancel import CancelToken
from ..errors import AgentCostError
from ..keys import mask_key
from ..pricing import format_usd
from ..tracker import CallResult, Tracker
from ._util import agent_options, error_html, esc, schedule

__all__ = ["ChatWidget"]

# Placeholders stay short enough for their field; the detail is in the tooltip and help line.
_KEY_PLACEHOLDER = "optional; never stored"
_KEY_SET = "key set — type to replace"
_KEY_HELP = "The credential the agent's card asks for, if any: held in memory, never stored."
_CALLER_PLACEHOLDER = "optional; stored masked"
_CALLER_HELP = "Attributes spend to this key: events keep only its mask and hash."
_HELP = (
    '<div class="acnb-help" style="color:#666;font-size:85%">'
    "Agent key: the credential the agent asks for, if any — held in memory, never stored. "
    "API key, team, project, tags: optional, to attribute spend; the key is stored only "
    "masked.</div>"
)


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
        self.task_id: str | None = None  # set while the agent waits for our answer
        self.history: list[dict[str, str]] = []  # turns, for endpoints that keep none
        self._token: CancelToken | None = None
        self._agent_key: Secret | None = None
        self._caller_key: Secret | None = None
        self._live: W.HTML | None = None
        self._live_text = ""
        self.agent = W.Dropdown(description="Agent", layout=W.Layout(width="360px"))
        self.api_key = W.Password(
            description="API key",
            placeholder=_CALLER_PLACEHOLDER,
            tooltip=_CALLER_HELP,
            continuous_update=False,
        )
        self.agent_key = W.Password(
            description="Agent key",
            placeholder=_KEY_PLACEHOLDER,
            tooltip=_KEY_HELP,
            continuous_update=False,
        )
        self.team = W.Text(description="Team", placeholder="optional")
        self.project = W.Text(description="Project", placeholder="optional")
        self.tags = W.Text(description="Tags", placeholder="comma-separated, optional")
        self.message = W.Textarea(placeholder="Type a message…", layout=W.Layout(width="100%"))
        self.send_button = W.Button(description="Send", button_style="primary", icon="paper-plane")
        self.cancel_button = W.Button(description="Cancel", icon="stop", disabled=True)
        self.clear_button = W.Button(description="Clear", icon="eraser")
        self.transcript = W.VBox(layout=W.Layout(border="1px solid #ddd", padding="6px"))
        self.status = W.HTML()
        self.total = W.HTML()
        self.send_button.on_click(lambda _b: self.click_send())
        self.cancel_button.on_click(lambda _b: self.cancel())
        self.clear_button.on_click(lambda _b: self.clear())
        self.agent.observe(lambda _c: self._new_thread(), "value")
        _hold_secret(self.agent_key, self.set_agent_key)
        _hold_secret(self.api_key, self.set_api_key)
        self.refresh_agents()
        super().__init__(
            [
                W.HTML("<h3>Playground</h3>"),
                W.HBox([self.agent, self.agent_key]),
                W.HBox([self.api_key, self.team, self.project, self.tags]),
                W.HTML(_HELP),
                self.transcript,
                self.message,
                W.HBox([self.send_button, self.cancel_button, self.clear_button, self.status]),
                self.total,
            ]
        )
        self._show_total()

    # ---------------------------------------------------------------- agents

    def refresh_agents(self) -> None:
        """Re-read the registry (e.g. after the form saved an agent)."""
        current = self.agent.value
        options = agent_options(self.tracker.registry)  # "Echo Agent (echo)" where names clash
        self.agent.options = options
        names = [name for _label, name in options]
        if current in names:
            self.agent.value = current
        elif names:
            self.agent.value = names[0]

    def select(self, name_or_display_name: str) -> None:
        """Pick an agent by its Agent Name, its label, or a display name only it has."""
        wanted = name_or_display_name
        for label, name in self.agent.options:
            if wanted in (label, name):
                self.agent.value = name
                return
        sharing = [a.name for a in self.tracker.registry if a.display_name == wanted]
        sharing = [n for n in sharing if n in {name for _label, name in self.agent.options}]
        if len(sharing) == 1:
            self.agent.value = sharing[0]
            return
        if sharing:
            raise AgentCostError(
                f"{len(sharing)} agents are called {wanted!r}: pick one by its Agent Name "
                f"({', '.join(sharing)})"
            )
        raise AgentCostError(f"no agent {wanted!r} in the playground")

    # ------------------------------------------------------------- agent key

    def set_agent_key(self, key: str) -> None:
        """Use ``key`` as the credential for the agent (held in memory, never in a widget)."""
        self._agent_key = Secret(key) or None
        self.agent_key.placeholder = _KEY_SET if self._agent_key else _KEY_PLACEHOLDER

    def forget_agent_key(self) -> None:
        self.set_agent_key("")

    def set_api_key(self, key: str) -> None:
        """Attribute calls to ``key``: held in memory; events get only its mask and hash."""
        self._caller_key = Secret(key) or None
        self.api_key.placeholder = (
            f"{mask_key(key)} set — type to replace" if self._caller_key else _CALLER_PLACEHOLDER
        )

    # -------------------------------------------------------------- actions

    def click_send(self) -> Any:
        """What the Send button does: schedule the call and return the task."""
        text = self.message.value
        if self.send_button.disabled:
            return None
        if not text.strip():
            self.status.value = error_html("type a message first: nothing was sent")
            return None
        self.send_button.disabled = True  # at once, before the task first runs
        self.pending = schedule(self.send(text))
        return self.pending

    def cancel(self) -> bool:
        """What the Cancel button does: stop the call in flight; False if there is none."""
        if self._token is None:
            return False
        self._token.cancel()
        self.status.value = "canceling…"
        return True

    async def send(self, text: str) -> CallResult | None:
        """Send ``text`` to the selected agent; returns the result (also shown in the widget)."""
        if not self.agent.value:
            self.status.value = error_html("register an agent first")
            return None
        try:
            caller = Caller(
                api_key=self._caller_key.reveal() if self._caller_key else "",
                team=self.team.value.strip(),
                project=self.project.value.strip(),
                tags=tuple(t.strip() for t in self.tags.value.split(",") if t.strip()),
            )
        except AgentCostError as exc:  # nothing sent: the message stays in the box
            self.status.value = error_html(str(exc))
            return None
        self.send_button.disabled = True
        self.cancel_button.disabled = False
        self._token = token = CancelToken()
        self.status.value = "waiting for the agent…"
        mine = self._append("you", esc(text))
        self.message.value = ""
        self._live, self._live_text = None, ""
        try:
            result = await self.tracker.call(
                self.agent.value,
                text,
                caller=caller,
                context_id=self.context_id,
                task_id=self.task_id,
                timeout=self.timeout,
                on_text=self._on_text,
                on_status=self._on_status,
                cancel=token,
                agent_key=self._agent_key,
                history=tuple(self.history),
            )
        except asyncio.CancelledError:
            self.status.value = error_html("canceled")
            raise
        except AgentCostError as exc:  # refused before sending (a hard budget, an unknown agent)
            mine.value = _bubble("you", esc(text), refused=f"not sent: {exc}")
            self.status.value = error_html(f"not sent: {exc}")
            return None
        finally:
            self._token = None
            self.send_button.disabled = False
            self.cancel_button.disabled = True
            self._drop_live()
        self._show(result, text)
        if self.on_result:
            try:
                self.on_result(result)
            except Exception as exc:  # a broken listener must not break the chat
                self.status.value = error_html(f"after the call: {type(exc).__name__}: {exc}")
        return result

    def clear(self) -> None:
        """What the Clear button does: empty thread, session total and status line."""
        self.transcript.children = ()
        self.results.clear()
        self._new_thread()
        self.status.value = ""
        self._show_total()

    # ------------------------------------------------------------ rendering

    def _new_thread(self) -> None:
        self.context_id = None
        self.task_id = None
        self.history = []

    def _on_text(self, delta: str) -> None:
        """A piece of the answer arrived: show it at once."""
        self._live_text += delta
        body = esc(self._live_text).replace("\n", "<br>")
        html = f'<div class="acnb-live"><b>…</b>: {body}</div>'
        if self._live is None:
            self._live = W.HTML(html)
            self.transcript.children = (*self.transcript.children, self._live)
        else:
            self._live.value = html

    def _on_status(self, line: str) -> None:
        if line:
            self.status.value = f"agent: {esc(line)}"

    def _drop_live(self) -> None:
        if self._live is not None:
            self.transcript.children = tuple(
                c for c in self.transcript.children if c is not self._live
            )
            self._live = None

    def _show(self, result: CallResult, text: str) -> None:
        self.results.append(result)
        reply, event = result.reply, result.event
        if reply.context_id:
            self.context_id = reply.context_id
        # An agent waiting for our answer gets it on the same task; otherwise a new one.
        self.task_id = reply.task_id if reply.status == "input_required" else None
        who = esc(result.agent.display_name)
        if reply.status == "input_required":
            question = esc(reply.text or "the agent needs more input").replace("\n", "<br>")
            self._append(who, f'<i class="acnb-question">{question}</i>', cost=result.summary())
            self.status.value = "the agent asks a question: your next message answers it"
        elif event.status == "success":
            self._append(who, esc(reply.text).replace("\n", "<br>"), cost=result.summary())
            self.history += [
                {"role": "user", "content": text},
                {"role": "assistant", "content": reply.text},
            ]
            self.status.value = ""
        else:
            reason = f"{event.status}: {reply.error or 'no reason given'}"
            partial = esc(reply.text).replace("\n", "<br>") + "<br>" if reply.text else ""
            self._append(who, partial + error_html(reason), cost=result.summary())
            self.status.value = error_html(f"the call failed ({event.status}); it was recorded")
        if result.warnings:
            self.status.value = error_html("; ".join(result.warnings))
        if result.log_error:
            self.status.value = error_html(result.log_error)
        self._show_total()

    def _append(self, who: str, body_html: str, *, cost: str = "") -> W.HTML:
        bubble = W.HTML(_bubble(who, body_html, cost=cost))
        self.transcript.children = (*self.transcript.children, bubble)
        return bubble

    def _show_total(self) -> None:
        priced = [r.event.cost_usd for r in self.results if r.event.cost_usd is not None]
        unpriced = len(self.results) - len(priced)
        # An unpriced call is not a $0 one: say how many the total leaves out.
        total = format_usd(sum(priced, Decimal(0))) if priced or not unpriced else "unpriced"
        if priced and unpriced:
            total += f" + {unpriced} unpriced"
        self.total.value = f"Session: {len(self.results)} call(s), {esc(total)}"


def _bubble(who: str, body_html: str, *, cost: str = "", refused: str = "") -> str:
    """One turn of the thread; ``cost`` and ``refused`` are plain text (escaped here)."""
    meta = (
        f'<div style="color:#666;font-size:85%" class="acnb-cost">{esc(cost)}</div>' if cost else ""
    )
    if refused:
        meta += f'<div class="acnb-refused">{error_html(refused)}</div>'
    return f'<div class="acnb-msg"><b>{who}</b>: {body_html}{meta}</div>'


def _hold_secret(field: W.Password, keep: Callable[[str], None]) -> None:
    """What is typed into ``field`` goes to ``keep`` (memory) and leaves the field at once,
    so it is never in the widget state that is synced to the browser and saved."""

    def take(change: dict[str, Any]) -> None:
        if change["new"]:
            keep(change["new"])
            field.value = ""

    field.observe(take, "value")
