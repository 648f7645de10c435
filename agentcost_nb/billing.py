"""Turn one agent reply into one priced event.  Pure: no I/O.

Token counts come from what the agent reported, else a tokenizer, else an
estimate (``token_source`` says which).  The price applied is the version in
effect when the call started.  Failed calls follow the agent's failure policy:
by default they cost nothing but keep their token counts and reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from .client.types import AgentReply
from .events import Event
from .keys import key_hash, mask_key
from .pricing import TokenUsage, compute_cost
from .registry import AgentConfig
from .tokens import TokenSource, count_tokens

__all__ = ["BILLED_STATUSES", "Caller", "price_reply", "resolve_usage"]

# An agent that answers with a question (input-required) did the work: bill it.
BILLED_STATUSES = frozenset({"success", "input_required"})


@dataclass(frozen=True)
class Caller:
    """Who is calling.  The key is held in memory only; events get its mask and hash."""

    api_key: str = field(default="", repr=False)
    team: str = ""
    project: str = ""
    tags: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return (
            f"Caller(api_key={mask_key(self.api_key)!r}, team={self.team!r}, "
            f"project={self.project!r}, tags={self.tags!r})"
        )


def resolve_usage(reply: AgentReply, request_text: str) -> tuple[TokenUsage, TokenSource]:
    """Reported counts win; otherwise count request and reply text ourselves."""
    if reply.usage is not None:
        u = reply.usage
        return (
            TokenUsage(
                input_tokens=u.input_tokens,
                output_tokens=u.output_tokens,
                cached_input_tokens=min(u.cached_input_tokens, u.input_tokens),
                reasoning_tokens=min(u.reasoning_tokens, u.output_tokens),
            ),
            "reported",
        )
    n_in, src_in = count_tokens(request_text)
    n_out, src_out = count_tokens(reply.text)
    source: TokenSource = "estimated" if "estimated" in (src_in, src_out) else "counted"
    return TokenUsage(input_tokens=n_in, output_tokens=n_out), source


def price_reply(
    agent: AgentConfig,
    reply: AgentReply,
    *,
    request_text: str,
    caller: Caller,
    started_at: datetime,
) -> Event:
    usage, source = resolve_usage(reply, request_text)
    sheet = agent.price_at(started_at)
    billed = reply.status in BILLED_STATUSES
    cost = compute_cost(
        sheet,
        usage,
        charge_query=billed or agent.charge_query_on_failure,
        charge_input=billed or agent.charge_input_on_failure,
        charge_output=billed,
    )
    succeeded = reply.status in BILLED_STATUSES
    return Event.priced(
        sheet=sheet if sheet.is_priced else None,
        usage=usage,
        cost=cost,
        timestamp=started_at,
        agent_name=agent.name,
        display_name=agent.display_name,
        endpoint=reply.rpc_url or agent.url,
        protocol=reply.protocol or None,
        model=reply.model or agent.model or None,
        api_key=mask_key(caller.api_key) or None,
        api_key_hash=key_hash(caller.api_key) or None,
        team=caller.team or None,
        project=caller.project or None,
        tags=tuple(caller.tags),
        status="success" if succeeded else reply.status,
        error_type=None if succeeded else reply.error_type,
        error=None if succeeded else reply.error,
        http_status=reply.http_status,
        attempts=reply.attempts,
        token_source=source,
        latency_ms=reply.latency_ms,
        context_id=reply.context_id,
        task_id=reply.task_id,
        task_state=reply.task_state,
    )
