"""The one code path every front end uses: call an agent, price the reply, log the event.

Widgets, the CLI and scripts all go through :class:`Tracker`, so a click, a
command and a line of Python record exactly the same event.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import UTC, datetime

from .billing import Caller, price_reply
from .budgets import Budgets
from .client.a2a import A2AClient
from .client.types import AgentReply
from .errors import LogError
from .eventlog import EventLog
from .events import Event
from .home import DataHome
from .pricing import format_usd
from .registry import AgentConfig, Registry

__all__ = ["CallResult", "Tracker"]


@dataclass(frozen=True)
class CallResult:
    agent: AgentConfig
    reply: AgentReply
    event: Event
    log_error: str | None = None  # set when the event is held in memory for the next write
    warnings: tuple[str, ...] = ()  # budgets nearly or softly exceeded

    @property
    def ok(self) -> bool:
        return self.reply.ok

    def summary(self) -> str:
        """One line: cost, tokens and where they came from."""
        e = self.event
        return (
            f"{format_usd(e.cost_usd)} · {e.input_tokens} in / {e.output_tokens} out "
            f"tokens ({e.token_source}) · {e.latency_ms or 0:.0f} ms"
        )


class Tracker:
    """A data home's registry and event log, plus an agent client."""

    def __init__(
        self,
        home: DataHome | str | os.PathLike[str] | None = None,
        *,
        client: A2AClient | None = None,
        timeout: float = 60.0,
        tz: str | None = None,
    ) -> None:
        self.home = home if isinstance(home, DataHome) else DataHome.resolve(home)
        self.tz = tz  # reporting time zone for budget periods (None: the machine's)
        self.registry = Registry(self.home.registry_path)
        self.budgets = Budgets(self.home.path / "budgets.json")
        self.log = EventLog(self.home.events_path)
        self.client = client or A2AClient(timeout=timeout)
        self.pending: list[Event] = []  # events whose write failed; retried on the next write

    def __repr__(self) -> str:
        return f"Tracker(home={str(self.home.path)!r}, agents={len(self.registry)})"

    async def call(
        self,
        agent_name: str,
        text: str,
        *,
        caller: Caller | None = None,
        context_id: str | None = None,
        task_id: str | None = None,
        timeout: float | None = None,
    ) -> CallResult:
        """Send ``text`` to the agent and record one event.

        Raises only before anything is sent: an unknown agent (ConfigError) or a
        hard budget already reached (BudgetExceeded).
        """
        agent = self.registry.get(agent_name)
        caller = caller or Caller()
        warnings = Budgets.enforce(
            self.budgets.check(
                self.log,
                agent_name=agent.name,
                api_key=caller.api_key,
                team=caller.team,
                tz=self.tz,
            )
        )
        started = datetime.now(UTC)
        reply = await self.client.send(
            agent.url, text, context_id=context_id, task_id=task_id, timeout=timeout
        )
        event = price_reply(agent, reply, request_text=text, caller=caller, started_at=started)
        return CallResult(
            agent=agent,
            reply=reply,
            event=event,
            log_error=self.record(event),
            warnings=tuple(warnings),
        )

    def call_sync(self, agent_name: str, text: str, **kwargs: object) -> CallResult:
        """Blocking form of :meth:`call`, for scripts and the CLI (not inside a running loop)."""
        return asyncio.run(self.call(agent_name, text, **kwargs))  # type: ignore[arg-type]

    def record(self, event: Event) -> str | None:
        """Append the event (and any held back); on failure keep them and say why."""
        batch = [*self.pending, event]
        try:
            self.log.append(batch)
        except LogError as exc:
            self.pending = batch
            return f"{exc} — {len(batch)} event(s) kept in memory, retried on the next call"
        self.pending = []
        return None

    def flush(self) -> None:
        """Write events held back by an earlier failure; raises LogError if it fails again."""
        if self.pending:
            self.log.append(self.pending)
            self.pending = []
