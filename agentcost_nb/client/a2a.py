"""A2A client over JSON-RPC on httpx (async), speaking A2A 1.0 and 0.3.

``A2AClient.send`` fetches the agent card, picks the JSON-RPC URL, dialect,
streaming and credential from it, sends one message and turns whatever
happens into one ``AgentReply``: it never raises for a failed call (see
``agentcost_nb.errors``).  Along the way it

- streams (Server-Sent Events) when the card says the agent can, handing
  each new piece of text to ``on_text`` as it arrives;
- polls a task that is still working (GetTask / tasks/get) until it ends;
- continues an interrupted task when given its ``context_id`` / ``task_id``;
- sends the key where the card asks (Bearer, a named header, query parameter
  or cookie, HTTP Basic);
- takes a URL with no card as the JSON-RPC URL itself, trying 1.0 and then
  0.3 if the agent does not know the 1.0 method (nothing ran, so it is safe).

Deadline, retries and cancel are the envelope's (``_call.run_call``); the
wire format is ``_wire`` and ``_stream``, pure and tested without a network.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, cast

import httpx

from agentcost_nb.client._auth import (
    BEARER,
    AuthScheme,
    Credential,
    Secret,
    auth_failure,
    credential,
    key_problem,
    scheme_from_card,
)
from agentcost_nb.client._call import (
    MAX_REPLY_BYTES,
    HttpClientBase,
    Progress,
    read_capped,
    run_call,
)
from agentcost_nb.client._cancel import CancelToken
from agentcost_nb.client._cards import CardBook
from agentcost_nb.client._retry import RetryPolicy, is_retryable
from agentcost_nb.client._sse import aiter_sse
from agentcost_nb.client._stream import StreamFold, fold_stream
from agentcost_nb.client._wire import (
    DIALECTS,
    PROTOCOL,
    Dialect,
    Endpoint,
    endpoint_from_card,
    failure,
    is_json_media,
    is_unfinished,
    normalize_state,
    one_line,
    parse_response,
    partial_fields,
    safe_url,
    send_request,
    streaming_from_card,
    task_request,
)
from agentcost_nb.client.types import AgentReply, TextCallback
from agentcost_nb.errors import ValidationError
from agentcost_nb.text import clean_text

__all__ = [
    "MAX_REPLY_BYTES",
    "A2AClient",
    "Dialect",
    "Endpoint",
    "endpoint_from_card",
    "normalize_state",
    "parse_response",
    "send_request",
]

POLL_RETRIES = 2  # a task poll that did not get through is asked again at least this often

# JSON-RPC errors meaning "I do not speak this dialect": the request did nothing.
_WRONG_DIALECT_CODES = {-32601, -32600, -32009}


def _secret(key: str | Secret | None) -> Secret | None:
    if key is None or isinstance(key, Secret):
        return key or None
    return Secret(key) or None


@dataclass
class _Call:
    """One call's options, as ``send`` received them."""

    url: str
    text: str
    context_id: str | None
    task_id: str | None
    dialect: Dialect | None
    stream: bool | None
    return_immediately: bool
    on_text: TextCallback | None
    on_status: TextCallback | None
    key: Secret | None
    credential_hint: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # One id for the message however often it is sent: a retry is the same
    # message again, so an agent can tell it from a new one.
    message_id: str = field(default_factory=lambda: str(uuid.uuid4()))


class A2AClient(HttpClientBase):
    """Sends messages to A2A agents; one instance caches the cards it fetched.

    ``headers`` go on every request and never into an error message. Pass
    ``transport`` (e.g. ``httpx.MockTransport``) to test without a network;
    the client then leaves closing it to you. ``retry`` is the default retry
    policy (none); ``poll_interval`` the first wait between task polls.
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 60.0,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        poll_interval: float = 0.25,
        max_poll_interval: float = 2.0,
    ) -> None:
        super().__init__(transport=transport, timeout=timeout, headers=headers, retry=retry)
        if not 0 < poll_interval <= max_poll_interval:
            raise ValidationError({"poll_interval": "must be positive, at most max_poll_interval"})
        self._poll_interval = poll_interval
        self._max_poll_interval = max_poll_interval
        self._cards = CardBook()
        self._ids = itertools.count(1)

    # ------------------------------------------------------------- public API

    async def send(
        self,
        url: str,
        text: str,
        *,
        context_id: str | None = None,
        task_id: str | None = None,
        dialect: str | None = None,
        timeout: float | None = None,
        stream: bool | None = None,
        return_immediately: bool = False,
        on_text: TextCallback | None = None,
        on_status: TextCallback | None = None,
        cancel: CancelToken | None = None,
        retries: int | None = None,
        auth_key: str | Secret | None = None,
        credential_hint: str = "",
    ) -> AgentReply:
        """Send ``text`` to the agent at ``url`` (its base URL, where its card is).

        ``dialect`` ("1.0" or "0.3") forces the protocol. With no card at
        ``url``, ``url`` is taken as the JSON-RPC URL itself. ``stream``: None
        streams when the card says the agent can. ``return_immediately`` asks
        for a working task at once and polls it. ``timeout`` bounds the whole
        call; ``retries`` overrides the client's retry count. ``auth_key`` is
        sent as the card's security scheme asks (Bearer by default);
        ``credential_hint`` says where a missing key should come from.
        """
        policy = self._retry if retries is None else replace(self._retry, retries=retries)
        call = _Call(
            url=url,
            text=text,
            context_id=context_id,
            task_id=task_id,
            dialect=self._dialect(dialect),
            stream=stream,
            return_immediately=return_immediately,
            on_text=on_text,
            on_status=on_status,
            key=_secret(auth_key),
            credential_hint=credential_hint,
            retry=policy,
        )
        deadline = self._deadline(timeout)
        async with self._http(deadline) as http:
            return await run_call(
                lambda progress: self._attempt(http, call, progress),
                url=url,
                deadline=deadline,
                retry=policy,
                cancel=cancel,
                on_cancel=lambda progress: self._cancel_at_agent(http, call, progress),
                secrets=(call.key,),
            )

    async def get_task(
        self,
        url: str,
        task_id: str,
        *,
        dialect: str | None = None,
        timeout: float | None = None,
        auth_key: str | Secret | None = None,
    ) -> AgentReply:
        """Ask once how a task stands (GetTask / tasks/get); nothing is sent to it."""
        key = _secret(auth_key)
        call = _Call(url, "", None, task_id, self._dialect(dialect), False, False,
                     None, None, key, "")  # fmt: skip
        deadline = self._deadline(timeout)

        async def attempt(progress: Progress) -> AgentReply:
            refused = _refused_key(key, None)
            if refused is not None:
                return refused
            target = await self._cards.target(http, url, call.dialect, key, progress)
            if isinstance(target, AgentReply):
                return target
            scheme = scheme_from_card(target.card)
            refused = _refused_key(key, scheme or BEARER)
            if refused is not None:
                return refused
            cred = credential(scheme, key)
            body = task_request(
                "get", task_id, dialect=target.endpoint.dialect, request_id=next(self._ids)
            )
            return await self._post(http, target.endpoint, body, progress, cred)

        async with self._http(deadline) as http:
            return await run_call(
                attempt, url=url, deadline=deadline, retry=self._retry, secrets=(key,)
            )

    # ---------------------------------------------------------------- helpers

    @staticmethod
    def _dialect(dialect: str | None) -> Dialect | None:
        if dialect in (None, ""):
            return None
        if dialect not in DIALECTS:
            raise ValidationError({"dialect": f"must be '1.0' or '0.3', not {dialect!r}"})
        return cast(Dialect, dialect)

    def _next_id(self) -> int:
        return next(self._ids)

    # ------------------------------------------------------------ one attempt

    async def _attempt(
        self, http: httpx.AsyncClient, call: _Call, progress: Progress
    ) -> AgentReply:
        refused = _refused_key(call.key, None)  # before even the card: nothing may carry it
        if refused is not None:
            return refused
        target = await self._cards.target(http, call.url, call.dialect, call.key, progress)
        if isinstance(target, AgentReply):
            if target.error_type == "auth":
                return _auth_failure(target, None, call, card=True)
            return target
        scheme = scheme_from_card(target.card)
        refused = _refused_key(call.key, scheme or BEARER)
        if refused is not None:
            return refused
        cred = credential(scheme, call.key)
        if call.stream is None:
            stream = streaming_from_card(target.card)
        else:
            stream = call.stream and (target.card is None or streaming_from_card(target.card))
        endpoint = target.endpoint
        reply = await self._exchange(http, call, endpoint, progress, cred, stream)
        if target.guessed:
            if _wrong_dialect(reply):
                endpoint = Endpoint(endpoint.rpc_url, "0.3" if endpoint.dialect == "1.0" else "1.0")
                reply = await self._exchange(http, call, endpoint, progress, cred, stream)
            if _wrong_dialect(reply) or reply.http_status in (404, 405):
                return self._cards.no_agent(call.url, reply)
            if reply.http_status is not None and 200 <= reply.http_status < 300:
                self._cards.detected(call.url, endpoint.dialect)
        if is_unfinished(reply):
            reply = await self._poll(http, call, endpoint, reply, progress, cred)
        if reply.error_type == "auth":
            reply = _auth_failure(reply, scheme, call)
        return reply

    async def _exchange(
        self,
        http: httpx.AsyncClient,
        call: _Call,
        endpoint: Endpoint,
        progress: Progress,
        cred: Credential,
        stream: bool,
    ) -> AgentReply:
        progress.url = progress.rpc_url = endpoint.rpc_url
        progress.protocol = PROTOCOL[endpoint.dialect]
        progress.notes["endpoint"] = endpoint
        body = send_request(
            call.text,
            dialect=endpoint.dialect,
            request_id=self._next_id(),
            message_id=call.message_id,
            context_id=call.context_id,
            task_id=call.task_id,
            stream=stream,
            return_immediately=call.return_immediately,
        )
        if stream:
            return await self._stream(http, call, endpoint, body, progress, cred)
        reply = await self._post(http, endpoint, body, progress, cred)
        self._track(progress, reply)
        return reply

    def _track(self, progress: Progress, reply: AgentReply) -> None:
        if reply.task_id:
            progress.notes["task_id"] = reply.task_id
        progress.partial = lambda: partial_fields(reply)

    async def _post(
        self,
        http: httpx.AsyncClient,
        endpoint: Endpoint,
        body: dict[str, Any],
        progress: Progress,
        cred: Credential,
    ) -> AgentReply:
        """One blocking JSON-RPC request."""
        request_headers = {"Accept": "application/json", **_version(endpoint), **cred.headers}
        async with http.stream(
            "POST", _with_params(endpoint.rpc_url, cred), json=body, headers=request_headers
        ) as response:
            progress.saw(response)
            raw = await read_capped(response)
        return parse_response(
            status_code=response.status_code,
            content_type=response.headers.get("content-type"),
            body=raw,
            dialect=endpoint.dialect,
            rpc_url=endpoint.rpc_url,
        )

    async def _stream(
        self,
        http: httpx.AsyncClient,
        call: _Call,
        endpoint: Endpoint,
        body: dict[str, Any],
        progress: Progress,
        cred: Credential,
    ) -> AgentReply:
        """One streaming request: Server-Sent Events folded into one reply."""
        where = safe_url(endpoint.rpc_url)
        request_headers = {"Accept": "text/event-stream", **_version(endpoint), **cred.headers}
        fold = StreamFold()
        fields: dict[str, Any] = {"protocol": PROTOCOL[endpoint.dialect]}
        status_shown = ""

        def on_event(delta: str) -> None:
            nonlocal status_shown
            if fold.task_id:
                progress.notes["task_id"] = fold.task_id  # for a CancelTask
            if delta:
                _notify(call.on_text, delta, progress)
            if fold.status_text != status_shown:
                status_shown = fold.status_text
                _notify(call.on_status, status_shown, progress)

        async with http.stream(
            "POST", _with_params(endpoint.rpc_url, cred), json=body, headers=request_headers
        ) as response:
            progress.saw(response)
            fields["http_status"] = response.status_code
            content_type = response.headers.get("content-type")
            media = (content_type or "").split(";")[0].strip().lower()
            if not 200 <= response.status_code < 300 or is_json_media(content_type):
                # An error before the first event comes as a plain JSON reply.
                raw = await read_capped(response)
                return parse_response(
                    status_code=response.status_code,
                    content_type=content_type,
                    body=raw,
                    dialect=endpoint.dialect,
                    rpc_url=endpoint.rpc_url,
                )
            if media != "text/event-stream":
                got = f"content type {one_line(content_type, 80)!r}" if content_type else "none"
                return failure(
                    "invalid_response",
                    f"expected an event stream from {where}, got {got}",
                    rpc_url=endpoint.rpc_url,
                    **fields,
                )
            progress.partial = lambda: partial_fields(
                fold.reply(rpc_url=endpoint.rpc_url, where=where, **fields)
            )
            return await fold_stream(
                aiter_sse(response, max_bytes=MAX_REPLY_BYTES),
                fold,
                rpc_url=endpoint.rpc_url,
                where=where,
                fields=fields,
                on_event=on_event,
            )

    async def _poll(
        self,
        http: httpx.AsyncClient,
        call: _Call,
        endpoint: Endpoint,
        reply: AgentReply,
        progress: Progress,
        cred: Credential,
    ) -> AgentReply:
        """Ask how a working task stands until it ends (the call's deadline bounds this).

        The agent has the message now, so a failed poll never sends it again: a
        poll that did not get through (connect error, 502 / 503 / 504, a broken
        connection; asking is read-only) is asked again, ``POLL_RETRIES`` times
        in a row or ``retries`` if more.
        """
        progress.accepted = True
        first, task_id = reply, str(reply.task_id)
        limit = max(call.retry.retries, POLL_RETRIES)
        polls, blips, wait, shown = 0, 0, self._poll_interval, reply.text
        good = reply  # the latest answer: a failure or timeout keeps its text and ids

        def so_far(latest: AgentReply) -> dict[str, Any]:
            return {
                **partial_fields(latest),
                "text": latest.text or first.text,
                "streamed_chunks": first.streamed_chunks,
                "polls": polls,
                # Usage counted over a stream beats a task's last-call metadata.
                "usage": first.usage if first.streamed_chunks and first.usage else latest.usage,
            }

        progress.partial = lambda: so_far(good)
        while is_unfinished(reply):
            await asyncio.sleep(wait)
            wait = min(wait * 1.6, self._max_poll_interval)
            body = task_request(
                "get", task_id, dialect=endpoint.dialect, request_id=self._next_id()
            )
            polls += 1
            try:
                polled = await self._post(http, endpoint, body, progress, cred)
            except (httpx.NetworkError, httpx.RemoteProtocolError):
                if blips >= limit:
                    raise
                blips += 1
                continue
            if is_retryable(polled) and blips < limit:
                blips += 1
                continue
            if polled.task_id is None:  # the poll itself failed (task not found, HTTP error)
                error = f"polling task {task_id} failed: {polled.error}"
                return replace(polled, **{**so_far(good), "error": error})
            blips, reply = 0, polled
            good = reply
            if reply.text.startswith(shown) and len(reply.text) > len(shown):
                _notify(call.on_text, reply.text[len(shown) :], progress)
                shown = reply.text
        return replace(reply, **so_far(reply))

    async def _cancel_at_agent(
        self, http: httpx.AsyncClient, call: _Call, progress: Progress
    ) -> str:
        """After the user canceled: CancelTask if a task was started. Returns a note."""
        task_id = progress.notes.get("task_id")
        endpoint = progress.notes.get("endpoint")
        if not isinstance(task_id, str) or not isinstance(endpoint, Endpoint):
            return ""
        cred = credential(scheme_from_card(self._cards.card(call.url)), call.key)
        body = task_request("cancel", task_id, dialect=endpoint.dialect, request_id=self._next_id())
        reply = await self._post(http, endpoint, body, Progress(url=endpoint.rpc_url), cred)
        if reply.task_state == "canceled":
            progress.notes["task_state"] = "canceled"
            return "the agent canceled the task"
        if reply.task_state:
            progress.notes["task_state"] = reply.task_state
        return f"the agent did not cancel the task: {reply.error or reply.task_state}"


def _with_params(url: str, cred: Credential) -> httpx.URL | str:
    # Merged, not passed as params=: httpx would replace the URL's own query with them.
    return httpx.URL(url).copy_merge_params(cred.params) if cred.params else url


def _version(endpoint: Endpoint) -> dict[str, str]:
    return {"A2A-Version": "1.0"} if endpoint.dialect == "1.0" else {}


def _wrong_dialect(reply: AgentReply) -> bool:
    return reply.error_type == "jsonrpc" and reply.extra.get("jsonrpc_code") in _WRONG_DIALECT_CODES


def _refused_key(key: Secret | None, scheme: AuthScheme | None) -> AgentReply | None:
    """A failed reply if ``key`` cannot be sent as ``scheme`` asks (``None``: by any scheme)."""
    problem = key_problem(key, scheme)
    return failure("auth", problem) if problem else None


def _auth_failure(
    reply: AgentReply, scheme: AuthScheme | None, call: _Call, *, card: bool = False
) -> AgentReply:
    return auth_failure(
        reply, scheme, url=call.url, key_given=bool(call.key), hint=call.credential_hint, card=card
    )


def _notify(callback: TextCallback | None, text: str, progress: Progress) -> None:
    """Call a display callback; one that breaks must not break the call."""
    if callback is None:
        return
    try:
        callback(clean_text(text))  # shown as it comes: cleaned as the reply will be
    except Exception as exc:
        progress.notes.setdefault("callback_error", f"{type(exc).__name__}: {one_line(exc)}")
