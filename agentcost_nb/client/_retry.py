"""When to try a call again, and how long to wait first.  Pure: no I/O.

Only failures that happen before an agent could have acted are retried: the
connection could not be made, or a gateway answered 502 / 503 / 504.  A
reply that arrived (even a JSON-RPC error) is never retried: the agent may
have done the work, and the call must be charged once.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from agentcost_nb.client.types import AgentReply
from agentcost_nb.errors import ValidationError

__all__ = ["RETRY_STATUSES", "RetryPolicy", "is_retryable", "retry_after_seconds"]

RETRY_STATUSES = frozenset({502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """``retries`` extra tries after the first; waits ``backoff`` × 2ⁿ, at most ``max_backoff``.

    A ``Retry-After`` header wins when it asks for longer (up to ``max_backoff``).
    All of it runs inside the call's one deadline.
    """

    retries: int = 0
    backoff: float = 0.25
    max_backoff: float = 4.0

    def __post_init__(self) -> None:
        if isinstance(self.retries, bool) or not isinstance(self.retries, int):
            raise ValidationError({"retries": "must be a whole number"})
        if not 0 <= self.retries <= 10:
            raise ValidationError({"retries": "must be between 0 and 10"})
        if not (self.backoff >= 0 and self.max_backoff >= 0):
            raise ValidationError({"backoff": "must not be negative"})

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed try number ``attempt`` (1-based)."""
        wait = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        if retry_after is not None:
            wait = max(wait, min(retry_after, self.max_backoff))
        return wait


def is_retryable(reply: AgentReply) -> bool:
    if reply.error_type == "connect":
        return True
    return reply.error_type == "http_status" and reply.http_status in RETRY_STATUSES


def retry_after_seconds(value: str | None) -> float | None:
    """A ``Retry-After`` header (seconds or an HTTP date) as seconds, else ``None``."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        from datetime import UTC, datetime

        when = parsedate_to_datetime(value)
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None
