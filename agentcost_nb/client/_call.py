"""The envelope around every agent call: one deadline, retries, cancel, errors to replies.

``run_call`` runs one protocol's ``attempt`` (A2A or chat completions) and
guarantees what the rest of the toolkit relies on:

- it returns an ``AgentReply`` whatever happens: httpx and decoding errors are
  converted here, at the one boundary, and never raised;
- one overall deadline (``asyncio.timeout``) covers card fetch, every try,
  backoff waits, stream reads and task polls — a drip-feeding agent cannot
  stretch it, since no single read has to be slow;
- connect errors and 502 / 503 / 504 are retried per ``RetryPolicy`` until the
  agent has accepted the message (``Progress.accepted``): after that a retry
  would send it again, so only the attempt's own requests (polls) may be
  asked again; the reply says how many sends were made (``attempts``);
- a ``CancelToken`` stops the call at once; ``on_cancel`` may then tell the
  agent (CancelTask); the reply has status ``canceled``;
- error text never contains a secret (``redact``) or a URL's password or query;
  nor do httpx's own log lines (a key sent in a query string is in the URL
  it logs): while a call runs, a filter on the ``httpx`` logger redacts them.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from typing import Any

import httpx

from agentcost_nb.client._auth import Secret, redact
from agentcost_nb.client._cancel import CancelToken
from agentcost_nb.client._retry import RetryPolicy, is_retryable, retry_after_seconds
from agentcost_nb.client._sse import SSETooLarge
from agentcost_nb.client._wire import failure, one_line, safe_url
from agentcost_nb.client.types import AgentReply, CallStatus, ErrorType
from agentcost_nb.errors import ValidationError

__all__ = [
    "MAX_REPLY_BYTES",
    "CANCEL_BUDGET",
    "HttpClientBase",
    "Progress",
    "TooLarge",
    "read_capped",
    "run_call",
]

MAX_REPLY_BYTES = 10 * 1024 * 1024
CANCEL_BUDGET = 3.0  # seconds allowed for telling the agent, after the user canceled


class TooLarge(Exception):
    pass


# The secrets of the call running in this task (a context variable: calls run
# side by side on one loop, and httpx logs from inside the task that sends).
_CALL_SECRETS: contextvars.ContextVar[tuple[Secret, ...]] = contextvars.ContextVar(
    "agentcost_nb_call_secrets", default=()
)


class _RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        secrets = _CALL_SECRETS.get()
        if secrets:
            message = record.getMessage()
            clean = redact(message, secrets)
            if clean != message:
                record.msg, record.args = clean, None
        return True


_httpx_logger = logging.getLogger("httpx")
if not any(isinstance(f, _RedactSecrets) for f in _httpx_logger.filters):
    _httpx_logger.addFilter(_RedactSecrets())


class HttpClientBase:
    """What every agent client holds: a transport, a default deadline, headers, retries.

    ``headers`` go on every request and never into an error message; pass
    ``transport`` (e.g. ``httpx.MockTransport``) to test without a network.
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 60.0,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._transport = transport
        self._timeout = self._deadline(timeout)
        self._headers = dict(headers or {})
        self._retry = retry or RetryPolicy()
        self._ssl: ssl.SSLContext | None = None

    def _deadline(self, timeout: float | None) -> float:
        deadline = self._timeout if timeout is None else float(timeout)
        if not deadline > 0:
            raise ValidationError({"timeout": "must be a positive number of seconds"})
        return deadline

    def _http(self, deadline: float) -> httpx.AsyncClient:
        # A fresh httpx client per call: its connection pool belongs to one
        # event loop, and callers use several (asyncio.run in scripts, a kernel).
        # The SSL context is the costly part (~30 ms), so it is built once.
        if self._transport is None and self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        return httpx.AsyncClient(
            transport=self._transport,
            verify=self._ssl or True,
            timeout=deadline,
            headers=self._headers,
        )


async def read_capped(response: httpx.Response, limit: int = MAX_REPLY_BYTES) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class Progress:
    """What a call had reached, for a reply when it fails, times out or is canceled."""

    url: str
    rpc_url: str = ""
    protocol: str = ""
    http_status: int | None = None
    retry_after: float | None = None
    # Fields of the answer so far (text, usage, ids, ...), from a stream or a poll.
    partial: Callable[[], dict[str, Any]] = field(default=dict)
    notes: dict[str, object] = field(default_factory=dict)
    secrets: Sequence[Secret | None] = ()  # taken out of library messages before they are cut
    accepted: bool = False  # the agent has the message (a task id came back): never re-send

    def saw(self, response: httpx.Response) -> None:
        self.http_status = response.status_code
        self.retry_after = retry_after_seconds(response.headers.get("retry-after"))

    def failure(
        self, error_type: ErrorType, error: str, *, status: CallStatus = "error"
    ) -> AgentReply:
        """A failed reply carrying where the call got to and the answer so far."""
        fields: dict[str, Any] = {
            "rpc_url": self.rpc_url,
            "protocol": self.protocol,
            "http_status": self.http_status,
        }
        fields.update(self.partial())
        return failure(error_type, error, status, **fields)


async def _guarded(
    attempt: Callable[[Progress], Awaitable[AgentReply]], progress: Progress, deadline: float
) -> AgentReply:
    """One try; library errors become replies here (timeouts and cancels pass through)."""
    try:
        return await attempt(progress)
    except Exception as exc:  # a failed call must come back as a reply, whatever broke
        return _reply_for(exc, progress, deadline)


def _reply_for(exc: Exception, progress: Progress, deadline: float) -> AgentReply:
    where = safe_url(progress.url)  # where the call had got to
    # A library's message may quote what was sent: redact it whole, before one_line cuts it.
    message = one_line(redact(str(exc), progress.secrets))
    if isinstance(exc, httpx.TimeoutException):
        error = f"no reply from {where} within {deadline:g} s"
        return progress.failure("timeout", error, status="timeout")
    if isinstance(exc, httpx.InvalidURL):
        return progress.failure("connect", f"invalid URL {where!r}: {message}")
    if isinstance(exc, httpx.ConnectError | httpx.UnsupportedProtocol | httpx.ProxyError):
        reason = message or type(exc).__name__
        return progress.failure("connect", f"could not connect to {where}: {reason}")
    if isinstance(exc, TooLarge | SSETooLarge):
        return progress.failure("invalid_response", f"reply larger than 10 MB from {where}")
    # Broken connections, protocol and decoding errors, or anything a custom
    # transport raises: the request may have reached the agent, so no retry.
    reason = f"{type(exc).__name__}: {message}".rstrip(": ")
    return progress.failure("invalid_response", f"broken reply from {where}: {reason}")


async def run_call(
    attempt: Callable[[Progress], Awaitable[AgentReply]],
    *,
    url: str,
    deadline: float,
    retry: RetryPolicy,
    cancel: CancelToken | None = None,
    on_cancel: Callable[[Progress], Awaitable[str]] | None = None,
    secrets: Sequence[Secret | None] = (),
) -> AgentReply:
    scope = _CALL_SECRETS.set(tuple(s for s in secrets if s))
    try:
        return await _run_call(attempt, url, deadline, retry, cancel, on_cancel, secrets)
    finally:
        _CALL_SECRETS.reset(scope)


async def _run_call(
    attempt: Callable[[Progress], Awaitable[AgentReply]],
    url: str,
    deadline: float,
    retry: RetryPolicy,
    cancel: CancelToken | None,
    on_cancel: Callable[[Progress], Awaitable[str]] | None,
    secrets: Sequence[Secret | None],
) -> AgentReply:
    started = time.perf_counter()
    progress = Progress(url=url, secrets=secrets)
    attempts = 0

    async def tries() -> AgentReply:
        nonlocal attempts
        while True:
            attempts += 1
            progress.http_status = progress.retry_after = None
            progress.partial = dict
            reply = await _guarded(attempt, progress, deadline)
            if attempts > retry.retries or progress.accepted or not is_retryable(reply):
                return reply
            await asyncio.sleep(retry.delay(attempts, progress.retry_after))

    reply: AgentReply | None = None
    with cancel.guard() if cancel is not None else nullcontext():
        try:
            if cancel is None or not cancel.requested:
                async with asyncio.timeout(deadline):
                    reply = await tries()
        except TimeoutError:
            where = safe_url(progress.url)
            if progress.partial().get("text"):
                error = f"the reply from {where} did not finish within {deadline:g} s"
            else:
                error = f"no reply from {where} within {deadline:g} s"
            reply = progress.failure("timeout", error, status="timeout")
        except asyncio.CancelledError:
            if cancel is None or not cancel.claim():
                raise
    if reply is None:  # canceled by the token
        note = ""
        if on_cancel is not None and attempts:
            try:
                async with asyncio.timeout(CANCEL_BUDGET):
                    note = await on_cancel(progress)
            except TimeoutError:
                note = "the agent did not confirm the cancel in time"
            except Exception as exc:  # telling the agent is best effort
                note = f"telling the agent failed: {type(exc).__name__}"
        reply = progress.failure(
            "canceled",
            "canceled by the user" + (f"; {note}" if note else ""),
            status="canceled",
        )
        if "task_state" in progress.notes:
            reply = replace(reply, task_state=str(progress.notes["task_state"]))
    extra = reply.extra
    if "callback_error" in progress.notes:  # a display callback broke; the call did not
        extra = {**extra, "callback_error": redact(str(progress.notes["callback_error"]), secrets)}
    return replace(
        reply,
        extra=extra,
        error=redact(reply.error, secrets) if reply.error else reply.error,
        rpc_url=redact(reply.rpc_url, secrets),  # recorded as the event's endpoint
        attempts=attempts,  # 0: canceled before anything was sent
        latency_ms=(time.perf_counter() - started) * 1000,
    )
