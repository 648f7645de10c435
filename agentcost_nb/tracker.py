"""The one code path every front end uses: call an agent, price the reply, log the event.

Widgets, the CLI and scripts all go through :class:`Tracker`, so a click, a
command and a line of Python record exactly the same event: one per query,
however many stream chunks, retries or task polls it took, and also when it
fails, times out or is canceled.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from .billing import Caller, price_reply
from .budgets import Budgets
from .client._auth import Secret
from .client._cancel import CancelToken
from .client.a2a import A2AClient
from .client.chat_completions import ChatCompletionsClient
from .client.types import AgentReply, TextCallback
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
    warnings: tuple[str, ...] = ()  # budgets nearly or softly exceeded; an answer cut off

    @property
    def ok(self) -> bool:
        return self.reply.ok

    def summary(self) -> str:
        """One line: cost, tokens and where they came from."""
        e = self.event
        tries = f" · {e.attempts} tries" if e.attempts > 1 else ""
        return (
            f"{format_usd(e.cost_usd)} · {e.input_tokens} in / {e.output_tokens} out "
            f"tokens ({e.token_source}) · {e.latency_ms or 0:.0f} ms{tries}"
        )


def credential_hint(agent: AgentConfig) -> str:
    """Where a missing key for ``agent`` should come from (names a variable, never a value)."""
    if agent.auth_env:
        return f"set ${agent.auth_env}, or give the key (chat: Agent key; CLI: --auth-env VAR)"
    return (
        "give the key (chat: Agent key field; CLI: --auth-env VAR; Python: agent_key=…), "
        "or name an environment variable in the agent's auth_env"
    )


class Tracker:
    """A data home's registry and event log, plus the agent clients."""

    def __init__(
        self,
        home: DataHome | str | os.PathLike[str] | None = None,
        *,
        client: A2AClient | None = None,
        chat_client: ChatCompletionsClient | None = None,
        timeout: float = 60.0,
        tz: str | None = None,
        batch_events: int = 1,
        batch_age: float = 5.0,
    ) -> None:
        self.home = home if isinstance(home, DataHome) else DataHome.resolve(home)
        self.tz = tz  # reporting time zone for budget periods (None: the machine's)
        self.registry = Registry(self.home.registry_path)
        self.budgets = Budgets(self.home.path / "budgets.json")
        self.log = EventLog(self.home.events)
        self.client = client or A2AClient(timeout=timeout)
        self.chat_client = chat_client or ChatCompletionsClient(timeout=timeout)
        # By default one event per write (a chat call is durable when it returns);
        # batch_events > 1 trades that for throughput: a call only enqueues, and the
        # batch is written when full, batch_age seconds on, on flush() and at exit.
        # A failed write is kept, retried by the next call or the timer.
        self.writer = self.log.buffered(max_events=batch_events, max_age=batch_age)

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
        stream: bool | None = None,
        on_text: TextCallback | None = None,
        on_status: TextCallback | None = None,
        cancel: CancelToken | None = None,
        agent_key: str | Secret | None = None,
        retries: int | None = None,
        history: Sequence[Mapping[str, str]] = (),
        return_immediately: bool = False,
    ) -> CallResult:
        """Send ``text`` to the agent and record one event.

        ``context_id`` / ``task_id`` continue a conversation or answer an
        agent's question (input-required); ``history`` holds the earlier turns
        for a chat completions endpoint, which keeps none itself. ``stream``,
        ``retries``: None takes the agent's settings. ``on_text`` gets the
        answer as it arrives. ``cancel.cancel()`` stops the call (status
        canceled). ``agent_key`` is the credential the agent asks for, else
        the environment variable named by the agent's ``auth_env``.

        Raises only before anything is sent: an unknown agent (ConfigError) or a
        hard budget already reached (BudgetExceeded). If the task running the
        call is cancelled from outside, the event is recorded, then the
        cancellation goes on.
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
        key = self._credential(agent, agent_key)
        want_stream = stream if stream is not None else (None if agent.stream else False)
        tries = agent.retries if retries is None else retries
        prompt = "\n".join([*(m["content"] for m in history), text])
        try:
            if agent.endpoint_type == "openai-chat":
                reply = await self.chat_client.send(
                    agent.url,
                    text,
                    history=history,
                    model=agent.model,
                    timeout=timeout,
                    stream=want_stream is not False,
                    on_text=on_text,
                    cancel=cancel,
                    retries=tries,
                    auth_key=key,
                    credential_hint=credential_hint(agent),
                )
            else:
                prompt = text  # the agent keeps the thread; we only send (and count) this turn
                reply = await self.client.send(
                    agent.url,
                    text,
                    context_id=context_id,
                    task_id=task_id,
                    dialect=agent.dialect or None,
                    timeout=timeout,
                    stream=want_stream,
                    return_immediately=return_immediately,
                    on_text=on_text,
                    on_status=on_status,
                    cancel=cancel,
                    retries=tries,
                    auth_key=key,
                    credential_hint=credential_hint(agent),
                )
        except asyncio.CancelledError:
            # Interrupted from outside (a kernel interrupt, task.cancel()): the
            # query happened, so it is still one event.
            interrupted = AgentReply(
                status="canceled",
                error_type="canceled",
                error="the call was interrupted before the agent answered",
                context_id=context_id,
                task_id=task_id,
            )
            event = price_reply(
                agent, interrupted, request_text=prompt, caller=caller, started_at=started
            )
            self.record(event)
            raise
        event = price_reply(agent, reply, request_text=prompt, caller=caller, started_at=started)
        return CallResult(
            agent=agent,
            reply=reply,
            event=event,
            log_error=self.record(event),
            # Budget warnings, and what the agent's answer itself warns of (cut off…).
            warnings=(*warnings, *_reply_warnings(reply)),
        )

    async def get_task(
        self,
        agent_name: str,
        task_id: str,
        *,
        agent_key: str | Secret | None = None,
        timeout: float | None = None,
    ) -> AgentReply:
        """How an A2A task stands now. Records nothing: looking costs nothing."""
        agent = self.registry.get(agent_name)
        return await self.client.get_task(
            agent.url,
            task_id,
            dialect=agent.dialect or None,
            timeout=timeout,
            auth_key=self._credential(agent, agent_key),
        )

    @staticmethod
    def _credential(agent: AgentConfig, given: str | Secret | None) -> Secret | None:
        if given:
            return given if isinstance(given, Secret) else Secret(given)
        if agent.auth_env:
            return Secret(os.environ.get(agent.auth_env, "")) or None
        return None

    def call_sync(self, agent_name: str, text: str, **kwargs: object) -> CallResult:
        """Blocking form of :meth:`call`, for scripts and the CLI (not inside a running loop)."""
        return asyncio.run(self.call(agent_name, text, **kwargs))  # type: ignore[arg-type]

    def record(self, event: Event) -> str | None:
        """Append the event (and any held back); on failure keep them and say why."""
        self.writer.append(event)  # batch_events=1: written (or kept) before this returns
        if self.writer.last_error is None:
            return None
        n = len(self.writer.pending)
        return f"{self.writer.last_error} — {n} event(s) kept in memory, retried on the next call"

    @property
    def pending(self) -> list[Event]:
        """Events whose write failed, waiting for the next try."""
        return self.writer.pending

    def flush(self) -> None:
        """Write every event not yet written (batched, or held back by a failure).

        Raises LogError if that fails again; the events stay pending.
        """
        if not self.writer.flush():
            raise LogError(
                f"{len(self.pending)} event(s) still not written: {self.writer.last_error}"
            )


def _reply_warnings(reply: AgentReply) -> tuple[str, ...]:
    warning = reply.extra.get("warning")
    return (warning,) if isinstance(warning, str) and warning else ()
