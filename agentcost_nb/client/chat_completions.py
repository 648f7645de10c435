"""OpenAI-compatible chat completions (``POST …/v1/chat/completions``) as an agent endpoint.

For a local model server or a gateway (registry ``endpoint_type="openai-chat"``).
The reply's ``usage`` (``prompt_tokens``, ``completion_tokens``,
``prompt_tokens_details.cached_tokens``, ``completion_tokens_details.reasoning_tokens``)
is what gets priced.  Streaming asks for ``stream_options.include_usage`` so the
last chunk carries it.  Chat completions keep no thread: the caller passes the
earlier turns (``history``).

``completions_url``, ``chat_request``, ``parse_completion`` and ``ChunkFold``
are pure; ``ChatCompletionsClient.send`` does the I/O inside the same envelope
as A2A calls (one deadline, retries, cancel, errors as replies).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from agentcost_nb.client._auth import BEARER, Secret, auth_headers, key_problem
from agentcost_nb.client._call import (
    MAX_REPLY_BYTES,
    HttpClientBase,
    Progress,
    read_capped,
    run_call,
)
from agentcost_nb.client._cancel import CancelToken
from agentcost_nb.client._retry import RetryPolicy
from agentcost_nb.client._sse import aiter_sse
from agentcost_nb.client._wire import (
    event_error,
    failure,
    http_failure,
    is_json_media,
    join_path,
    json_kind,
    json_reply_document,
    one_line,
    parse_document,
    safe_url,
    str_or_none,
)
from agentcost_nb.client.types import AgentReply, TextCallback
from agentcost_nb.text import clean_text
from agentcost_nb.usage import total_usage

__all__ = [
    "PROTOCOL",
    "ChatCompletionsClient",
    "ChunkFold",
    "chat_request",
    "completions_url",
    "content_text",
    "parse_completion",
]

PROTOCOL = "openai-chat"
Message = Mapping[str, str]


def completions_url(url: str) -> str:
    """``…/chat/completions`` as given, else appended to a ``/v1`` base or to ``/v1``.

    The path is joined before the query (``?api-version=…`` stays on the request).
    """
    path = urlsplit(url).path.rstrip("/")
    if path.endswith("/chat/completions"):
        return join_path(url, "")
    return join_path(url, "/chat/completions" if path.endswith("/v1") else "/v1/chat/completions")


def chat_request(
    text: str, *, history: Sequence[Message] = (), model: str = "", stream: bool = False
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "messages": [*({"role": m["role"], "content": m["content"]} for m in history),
                     {"role": "user", "content": text}],
    }  # fmt: skip
    if model:
        body["model"] = model
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _error_message(doc: object) -> str:
    error = doc.get("error") if isinstance(doc, Mapping) else None
    if isinstance(error, Mapping):
        return one_line(error.get("message") or error.get("type") or "no message")
    return one_line(error) if error else ""


def content_text(content: object) -> str | None:
    """A message's or delta's ``content`` as text; ``None`` if it cannot be read.

    A string, null (a tool call: no text), or a list of parts
    (``[{"type": "text", "text": "…"}, {"type": "image_url", …}]``: the text ones).
    """
    if content is None or isinstance(content, str):
        return content or ""
    if not isinstance(content, list):
        return None
    texts = []
    for part in content:
        if not isinstance(part, Mapping):
            return None
        if part.get("type") in ("text", "output_text") or "text" in part:
            if not isinstance(part.get("text"), str):
                return None
            texts.append(part["text"])
    return "".join(texts)


def _unreadable_content(content: object, where: str, **fields: Any) -> AgentReply:
    error = f"the reply from {where} has {json_kind(content)} as its message content, not text"
    if isinstance(content, list):
        error = f"the reply from {where} has content parts that cannot be read as text"
    return failure("invalid_response", error, **fields)


def _finished(
    text: str, finish: str | None, doc: Mapping[str, Any], *, where: str, **fields: Any
) -> AgentReply:
    if finish == "length":  # still an answer, and charged: say it is cut short
        fields["extra"] = {
            **fields.get("extra", {}),
            "finish_reason": "length",
            "warning": "the answer was cut off at the length limit (finish_reason: length)",
        }
    usage_doc = doc.get("usage")
    fields.setdefault("usage", total_usage({"usage": usage_doc}) if usage_doc else None)
    fields.setdefault("model", str_or_none(doc.get("model")))
    if finish == "content_filter" and not text:
        return failure(
            "task_rejected",
            f"the reply from {where} was stopped by a content filter",
            text=text,
            **fields,
        )
    return AgentReply(status="success", text=text, **fields)


def parse_completion(
    *, status_code: int, content_type: str | None, body: bytes, url: str
) -> AgentReply:
    """One (non-streamed) chat completion reply as an AgentReply. Never raises."""
    where = safe_url(url)
    fields: dict[str, Any] = {"protocol": PROTOCOL, "rpc_url": url, "http_status": status_code}
    if not 200 <= status_code < 300:
        bad = http_failure(status_code, where)
        detail = ""
        if is_json_media(content_type):
            doc = parse_document(body, where)
            detail = "" if isinstance(doc, AgentReply) else _error_message(doc)
        error = f"{bad.error}: {detail}" if detail and bad.error_type != "auth" else bad.error
        return failure(bad.error_type or "http_status", error or "", **fields)
    doc = json_reply_document(content_type, body, where, **fields)
    if isinstance(doc, AgentReply):
        return doc
    if doc.get("error") is not None:
        return failure("invalid_response", f"error from {where}: {_error_message(doc)}", **fields)
    choices = doc.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, Mapping) else None
    if not isinstance(message, Mapping):
        return failure(
            "invalid_response", f"the reply from {where} holds no choices[0].message", **fields
        )
    content = message.get("content")
    text = content_text(content)
    if text is None:
        return _unreadable_content(content, where, **fields)
    finish = first.get("finish_reason") if isinstance(first, Mapping) else None
    return _finished(text, str_or_none(finish), doc, where=where, **fields)


class ChunkFold:
    """The chunks of one streamed completion, folded: content, finish, usage, model."""

    def __init__(self) -> None:
        self.events = 0
        self.done = False  # "[DONE]" arrived
        self.finish: str | None = None
        self.answered = False  # a choice came: without one, [DONE] ends an empty stream
        self.problem: object = None  # a delta content that cannot be read
        self._texts: list[str] = []
        self._last: Mapping[str, Any] = {}
        self._usage: Any = None
        self._model: str | None = None

    def feed(self, chunk: Mapping[str, Any]) -> str:
        self.events += 1
        self._model = str_or_none(chunk.get("model")) or self._model
        if isinstance(chunk.get("usage"), Mapping):
            self._usage = chunk["usage"]
        choices = chunk.get("choices")
        for choice in choices if isinstance(choices, list) else []:
            if not isinstance(choice, Mapping) or choice.get("index", 0) != 0:
                continue
            self.answered = True
            self.finish = str_or_none(choice.get("finish_reason")) or self.finish
            delta = choice.get("delta")
            content = delta.get("content") if isinstance(delta, Mapping) else None
            text = content_text(content)
            if text is None:
                self.problem = self.problem or content
            elif text:
                self._texts.append(text)
                return text
        return ""

    @property
    def text(self) -> str:
        return "".join(self._texts)

    def partial(self) -> dict[str, Any]:
        return {"text": self.text, "streamed_chunks": self.events}

    def reply(self, *, where: str, **fields: Any) -> AgentReply:
        fields = {**fields, "streamed_chunks": self.events}
        if not self.answered:
            return failure(
                "invalid_response",
                f"the stream from {where} ended before the agent answered",
                **fields,
            )
        if self.problem is not None:
            return _unreadable_content(self.problem, where, text=self.text, **fields)
        if not (self.done or self.finish):
            return failure(
                "invalid_response",
                f"the stream from {where} ended before the reply finished",
                text=self.text,
                **fields,
            )
        doc = {"usage": self._usage, "model": self._model}
        return _finished(self.text, self.finish, doc, where=where, **fields)


class ChatCompletionsClient(HttpClientBase):
    """Calls OpenAI-compatible chat completion endpoints; the key goes as a Bearer token."""

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 60.0,
        headers: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(transport=transport, timeout=timeout, headers=headers, retry=retry)

    async def send(
        self,
        url: str,
        text: str,
        *,
        history: Sequence[Message] = (),
        model: str = "",
        timeout: float | None = None,
        stream: bool | None = None,
        on_text: TextCallback | None = None,
        cancel: CancelToken | None = None,
        retries: int | None = None,
        auth_key: str | Secret | None = None,
        credential_hint: str = "",
    ) -> AgentReply:
        """Send ``text`` after ``history`` (earlier turns); ``stream`` None means stream."""
        deadline = self._deadline(timeout)
        key = auth_key if isinstance(auth_key, Secret) else Secret(auth_key or "")
        endpoint = completions_url(url)
        body = chat_request(text, history=history, model=model, stream=stream is not False)
        headers = auth_headers(None, key) if key else {}
        policy = self._retry if retries is None else replace(self._retry, retries=retries)

        async def attempt(progress: Progress) -> AgentReply:
            progress.url = progress.rpc_url = endpoint
            progress.protocol = PROTOCOL
            problem = key_problem(key, BEARER)
            if problem:  # refused before anything carries it
                return progress.failure("auth", problem)
            reply = await self._exchange(http, endpoint, body, progress, headers, on_text)
            if reply.error_type == "auth":
                where = safe_url(endpoint)
                status = f"HTTP {reply.http_status}"
                if key:
                    error = f"{status} from {where}: the endpoint refused the Bearer token sent"
                else:
                    hint = credential_hint or "pass auth_key="
                    error = f"{status} from {where}: the endpoint needs a Bearer token ({hint})"
                reply = replace(reply, error=error)
            return reply

        async with self._http(deadline) as http:
            return await run_call(
                attempt,
                url=endpoint,
                deadline=deadline,
                retry=policy,
                cancel=cancel,
                secrets=(key,),
            )

    async def _exchange(
        self,
        http: httpx.AsyncClient,
        endpoint: str,
        body: dict[str, Any],
        progress: Progress,
        headers: Mapping[str, str],
        on_text: TextCallback | None,
    ) -> AgentReply:
        where = safe_url(endpoint)
        accept = "text/event-stream" if body.get("stream") else "application/json"
        async with http.stream(
            "POST", endpoint, json=body, headers={"Accept": accept, **headers}
        ) as response:
            progress.saw(response)
            content_type = response.headers.get("content-type")
            media = (content_type or "").split(";")[0].strip().lower()
            if media != "text/event-stream" or not 200 <= response.status_code < 300:
                raw = await read_capped(response)
                return parse_completion(
                    status_code=response.status_code,
                    content_type=content_type,
                    body=raw,
                    url=endpoint,
                )
            fields: dict[str, Any] = {
                "protocol": PROTOCOL,
                "rpc_url": endpoint,
                "http_status": response.status_code,
            }
            fold = ChunkFold()
            progress.partial = fold.partial
            async for event in aiter_sse(response, max_bytes=MAX_REPLY_BYTES):
                if event.data.strip() == "[DONE]":
                    fold.done = True
                    break
                doc = parse_document(event.data, where)
                if isinstance(doc, AgentReply):
                    if event.event == "error":  # a reason in plain text
                        error = f"error from {where}: {one_line(event.data)}"
                        return failure("invalid_response", error, **fields, **fold.partial())
                    return replace(doc, **fields, **fold.partial())
                stream_error = event_error(event.event, doc)
                if stream_error is not None:
                    return failure(
                        "invalid_response",
                        f"error from {where}: {_error_message({'error': stream_error})}",
                        **fields,
                        **fold.partial(),
                    )
                delta = fold.feed(doc)
                if delta and on_text is not None:
                    try:
                        on_text(clean_text(delta))  # as the reply's text will be
                    except Exception as exc:  # a broken display must not break the call
                        progress.notes.setdefault("callback_error", f"{type(exc).__name__}: {exc}")
        return fold.reply(where=where, **fields)
