"""The demo server's raw HTTP parts, below the a2a-sdk routes (see ``demo_agent``).

- ``KeyGate``: JSON-RPC under ``/secure/`` needs the demo key (cards stay public);
- ``Only03``: JSON-RPC under ``/v03/`` knows 0.3 methods only, as a 0.3 server;
- ``Drip``: a POST holding ``#drip`` gets its real reply one byte every 0.5 s;
- ``chat_completions``: an OpenAI-compatible ``/v1/chat/completions`` endpoint
  answering ``echo: <last user message>`` with ``usage`` counted in words
  (earlier turns as cached prompt tokens, 2 reasoning tokens), streamed with
  ``stream_options.include_usage`` when asked; ``#error`` gives HTTP 500.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import re
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CHAT_MODEL",
    "CHUNK_SECONDS",
    "DEMO_SECRET",
    "Drip",
    "KeyGate",
    "Only03",
    "SLOW_SECONDS",
    "chat_completion_usage",
    "chat_completions",
    "chunks",
    "words",
]

DEMO_SECRET = "demo-secret"  # the key the /secure/ agents want (a demo, not a secret)
DRIP_SECONDS = 0.5  # between the bytes of a #drip reply
CHUNK_SECONDS = 0.02  # between streamed chunks
SLOW_SECONDS = 1.5
CHAT_MODEL = "demo-chat-1"
CHAT_REASONING_TOKENS = 2


def words(text: str) -> list[str]:
    return text.split()


def chunks(text: str, least: int = 3) -> list[str]:
    """``text`` cut into at least ``least`` pieces (words with their spaces) that join back."""
    pieces = re.findall(r"\S+\s*|\s+", text) or [text]
    while len(pieces) < least and max(map(len, pieces)) > 1:
        i = max(range(len(pieces)), key=lambda k: len(pieces[k]))
        half = len(pieces[i]) // 2
        pieces[i : i + 1] = [pieces[i][:half], pieces[i][half:]]
    return pieces


class KeyGate:
    """Requests under /secure/ need the demo key; the cards there stay public.

    ``…/key/`` wants it in ``X-API-Key``, everything else as a Bearer token.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if path.startswith("/secure/") and "/.well-known/" not in path:
            headers = {
                k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]
            }
            if path.rstrip("/").endswith("/key"):
                given, wanted, challenge = headers.get("x-api-key", ""), DEMO_SECRET, "X-API-Key"
            else:
                given, wanted = headers.get("authorization", ""), f"Bearer {DEMO_SECRET}"
                challenge = 'Bearer realm="demo"'
            if not hmac.compare_digest(given.encode(), wanted.encode()):
                refused = JSONResponse(
                    {"error": "missing or wrong credential"},
                    status_code=401,
                    headers={"WWW-Authenticate": challenge},
                )
                await refused(scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None if the client went away first."""
    body, more = b"", True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        body += message.get("body", b"")
        more = message.get("more_body", False)
    return body


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands ``body`` out again, then waits on the real one."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


_METHODS_0_3 = {"message/send", "message/stream", "tasks/get", "tasks/cancel", "tasks/resubscribe"}


class Only03:
    """JSON-RPC under /v03/ speaks 0.3 only, as a 0.3 server would: 1.0 methods are unknown."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not (path.startswith("/v03/") and scope.get("method") == "POST"):
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return
        try:
            doc = json.loads(body)
        except ValueError:
            doc = None
        method = doc.get("method") if isinstance(doc, dict) else None
        if method in _METHODS_0_3:
            await self.app(scope, _replay(body, receive), send)
            return
        error = {"code": -32601, "message": "Method not found"}
        request_id = doc.get("id") if isinstance(doc, dict) else None
        unknown = JSONResponse({"jsonrpc": "2.0", "id": request_id, "error": error})
        await unknown(scope, receive, send)


class Drip:
    """A POST whose body holds ``#drip`` gets its real reply one byte every 0.5 s.

    For deadline tests: every read brings a byte in time, only the whole is late.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return
        replay = _replay(body, receive)
        if b"#drip" not in body:
            await self.app(scope, replay, send)
            return
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, replay, hold)
        start = next(m for m in held if m["type"] == "http.response.start")
        payload = b"".join(m.get("body", b"") for m in held if m["type"] == "http.response.body")
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        await send({**start, "headers": headers})
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            for i in range(len(payload)):
                if gone.done():
                    return
                await send({"type": "http.response.body", "body": payload[i : i + 1],
                            "more_body": True})  # fmt: skip
                await asyncio.sleep(DRIP_SECONDS)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            gone.cancel()


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


# ------------------------------------------------------------ chat completions


def chat_completion_usage(messages: list[dict[str, str]], answer: str) -> dict[str, Any]:
    """The demo's usage: words, earlier turns counted as cached, 2 reasoning tokens."""
    prompt = sum(len(words(m["content"])) for m in messages)
    cached = sum(len(words(m["content"])) for m in messages[:-1])
    completion = len(words(answer)) + CHAT_REASONING_TOKENS
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": CHAT_REASONING_TOKENS},
    }


def _chat_error(message: str, status: int, kind: str = "invalid_request_error") -> JSONResponse:
    return JSONResponse({"error": {"message": message, "type": kind}}, status_code=status)


async def chat_completions(request: Request) -> Response:
    try:
        body = await request.json()
    except ValueError:
        return _chat_error("the body is not JSON", 400)
    raw = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(raw, list) or not raw:
        return _chat_error("messages must be a non-empty list", 400)
    messages = [
        {"role": str(m.get("role", "")), "content": str(m.get("content") or "")}
        for m in raw
        if isinstance(m, dict)
    ]
    text = messages[-1]["content"]
    if "#error" in text:
        return _chat_error("demo error (the message asked for #error)", 500, "server_error")
    if "#slow" in text:
        await asyncio.sleep(SLOW_SECONDS)
    answer = f"echo: {text}"
    usage = chat_completion_usage(messages, answer)
    created = int(time.time())
    head = {"id": "chatcmpl-demo", "created": created, "model": CHAT_MODEL}
    if not body.get("stream"):
        return JSONResponse(
            {
                **head,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": answer},
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
            }
        )
    options = body.get("stream_options")
    include_usage = isinstance(options, dict) and options.get("include_usage") is True

    async def events() -> AsyncIterator[str]:
        def chunk(choices: list[dict[str, Any]], **extra: Any) -> str:
            doc = {**head, "object": "chat.completion.chunk", "choices": choices, **extra}
            return f"data: {json.dumps(doc)}\n\n"

        yield chunk([{"index": 0, "delta": {"role": "assistant"}, "finish_reason": None}])
        for piece in chunks(answer):
            await asyncio.sleep(CHUNK_SECONDS)
            yield chunk([{"index": 0, "delta": {"content": piece}, "finish_reason": None}])
        yield chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}])
        if include_usage:
            yield chunk([], usage=usage)
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")
