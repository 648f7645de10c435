"""What one agent call returns: plain data, no I/O.

The client never raises for a failed call; it returns an ``AgentReply`` with
``status != "success"`` and a reason, so the caller can record it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Literal

from agentcost_nb.text import clean_label, clean_text, one_line

__all__ = ["AgentReply", "CallStatus", "ErrorType", "ReportedUsage", "TextCallback"]

# Coarse outcome used by success rates; ``error_type`` says more.
CallStatus = Literal["success", "error", "timeout", "canceled", "input_required"]

ErrorType = Literal[
    "connect",  # could not reach the agent (DNS, refused, TLS)
    "timeout",  # the overall deadline passed
    "http_status",  # non-2xx HTTP status
    "auth",  # 401 / 403
    "jsonrpc",  # HTTP 200 with a JSON-RPC error object
    "task_failed",  # a Task in state failed
    "task_rejected",  # a Task in state rejected
    "task_canceled",  # a Task in state canceled
    "invalid_response",  # not JSON, wrong content type, neither result nor error, unknown shape
    "no_agent_card",  # no card at either well-known path and no JSON-RPC URL given
    "canceled",  # the user canceled the call
]

# Called with each new piece of the answer as it streams in.
TextCallback = Callable[[str], None]


@dataclass(frozen=True)
class ReportedUsage:
    """Token counts an agent reported about itself (never guessed).

    ``cached_input_tokens`` is a subset of ``input_tokens``;
    ``reasoning_tokens`` is a subset of ``output_tokens``.
    """

    input_tokens: int
    output_tokens: int
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True)
class AgentReply:
    status: CallStatus
    text: str = ""  # the agent's answer ("" when it gave none)
    error: str | None = None  # one line a user can act on; never contains a secret
    error_type: ErrorType | None = None
    usage: ReportedUsage | None = None  # what the agent reported, else None
    model: str | None = None  # model label the agent reported, else None
    protocol: str = ""  # "a2a-1.0" | "a2a-0.3" | "openai-chat"
    rpc_url: str = ""  # the URL the request was POSTed to
    http_status: int | None = None
    attempts: int = 1  # tries made (retries on connect errors / 502 / 503 / 504)
    latency_ms: float = 0.0  # wall time of the whole call, card fetch included
    context_id: str | None = None
    task_id: str | None = None
    task_state: str | None = None  # normalised lower-case: "completed", "failed", ...
    streamed_chunks: int = 0  # stream events received (0: not streamed)
    polls: int = 0  # GetTask requests made while the task was working
    extra: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The one boundary every reply crosses: what the agent sent is made
        # storable (no lone surrogates) and printable (no escapes, no bidi)
        # before anything logs, prices or shows it.
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str) and f.name in _CLEAN:
                object.__setattr__(self, f.name, _CLEAN[f.name](value))
        if any(_needs_cleaning(v) for v in self.extra.values()):
            object.__setattr__(self, "extra", {k: _clean_extra(v) for k, v in self.extra.items()})

    @property
    def ok(self) -> bool:
        return self.status == "success"


def _clean_error(text: str) -> str:
    # Long enough never to cut a message, only to put it on one line.
    return one_line(clean_text(text), limit=len(text) + 1)


_CLEAN: dict[str, Callable[[str], str]] = {
    "text": clean_text,
    "error": _clean_error,
    **dict.fromkeys(
        ("model", "protocol", "rpc_url", "context_id", "task_id", "task_state"), clean_label
    ),
}


def _needs_cleaning(value: object) -> bool:
    if isinstance(value, str):
        return clean_text(value) != value
    if isinstance(value, dict):
        return any(_needs_cleaning(k) or _needs_cleaning(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_needs_cleaning(v) for v in value)
    return False


def _clean_extra(value: object) -> object:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {_clean_extra(k): _clean_extra(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        cleaned = [_clean_extra(v) for v in value]
        return tuple(cleaned) if isinstance(value, tuple) else cleaned
    return value
