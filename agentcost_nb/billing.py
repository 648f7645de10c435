"""Turn one agent reply into one priced event.  Pure: no I/O.

Token counts come from what the agent reported, else a tokenizer, else an
estimate (``token_source`` says which).  The price applied is the version in
effect when the call started.  Failed calls follow the agent's failure policy:
by default they cost nothing but keep their token counts and reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from .client._wire import safe_url
from .client.types import AgentReply
from .errors import ValidationError
from .events import Event
from .keys import key_hash, mask_key
from .pricing import TokenUsage, compute_cost
from .registry import AgentConfig
from .text import unprintable, valid
from .tokens import TokenSource, count_tokens

__all__ = ["BILLED_STATUSES", "Caller", "price_reply", "resolve_usage"]

_UNPRINTABLE = (
    "contains control characters or invisible ones (newline, tab, escape, bidi, zero-width…)"
)

# An agent that answers with a question (input-required) did the work: bill it.
BILLED_STATUSES = frozenset({"success", "input_required"})


@dataclass(frozen=True)
class Caller:
    """Who is calling.  The key is held in memory only; events get its mask and hash."""

    api_key: str = field(default="", repr=False)
    team: str = ""
    project: str = ""
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Unprintable characters would end up in the log and every table and CSV
        # showing it, and a team no budget can name; the CLI and budgets refuse
        # the same ones.  Refused by name, never echoing the key itself.
        problems = {}
        for name in ("api_key", "team", "project"):
            value = getattr(self, name)
            if not isinstance(value, str):
                problems[name] = f"must be text, not {type(value).__name__}"
            elif unprintable(value):
                problems[name] = _UNPRINTABLE
        if isinstance(self.tags, str) or not all(isinstance(t, str) for t in self.tags):
            problems["tags"] = "must be a list of texts"
        elif any(unprintable(t) for t in self.tags):
            problems["tags"] = f"a tag {_UNPRINTABLE}"
        if problems:
            raise ValidationError(problems, where="caller")
        object.__setattr__(self, "tags", tuple(self.tags))

    def __repr__(self) -> str:
        return (
            f"Caller(api_key={mask_key(self.api_key)!r}, team={self.team!r}, "
            f"project={self.project!r}, tags={self.tags!r})"
        )


def resolve_usage(reply: AgentReply, request_text: str) -> tuple[TokenUsage, TokenSource]:
    """Reported counts win; a side the agent left out (or reported as 0 for a
    non-empty text) is counted from the text instead, never recorded as 0.

    ``token_source`` is ``reported`` when both sides came from the agent, the
    counting source when neither did, and ``reported+counted`` /
    ``reported+estimated`` when the agent reported only one side.
    """
    u = reply.usage
    inp, out, cached, reasoning = 0, 0, 0, 0
    sources: list[str] = []
    if u is not None and (u.input_tokens > 0 or not request_text):
        inp, cached = u.input_tokens, min(u.cached_input_tokens, u.input_tokens)
        sources.append("reported")
    else:
        inp, src = count_tokens(valid(request_text))  # a lone surrogate breaks a tokenizer
        sources.append(src)
    if u is not None and (u.output_tokens > 0 or not reply.text):
        out, reasoning = u.output_tokens, min(u.reasoning_tokens, u.output_tokens)
        sources.append("reported")
    else:
        out, src = count_tokens(reply.text)
        sources.append(src)
    usage = TokenUsage(
        input_tokens=inp, output_tokens=out, cached_input_tokens=cached, reasoning_tokens=reasoning
    )
    counted = "estimated" if "estimated" in sources else "counted"
    if sources == ["reported", "reported"]:
        return usage, "reported"
    if "reported" in sources:
        return usage, cast(TokenSource, f"reported+{counted}")
    return usage, cast(TokenSource, counted)


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
        endpoint=safe_url(reply.rpc_url or agent.url),  # no user:password, no query values
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
