"""What one agent call returns: plain data, no I/O.

The client never raises for a failed call; it returns an ``AgentReply`` with
``status != "success"`` and a reason, so the caller can record it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

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

    @property
    def ok(self) -> bool:
        return self.status == "success"
