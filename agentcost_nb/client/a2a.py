"""A2A client over JSON-RPC on httpx (async), speaking A2A 1.0 and 0.3.

``A2AClient.send`` fetches the agent card, picks the JSON-RPC URL and dialect
from it, sends one message and turns whatever happens into an ``AgentReply``:
it never raises for a failed call (see ``agentcost_nb.errors``).

The deciding parts are pure and tested without a network:
``endpoint_from_card`` (card -> URL and dialect), ``build_request`` (the
JSON-RPC body) and ``parse_response`` (HTTP status, content type and body ->
``AgentReply``). ``send`` only does the I/O around them.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import json
import ssl
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast
from urllib.parse import urljoin, urlsplit, urlunsplit

import httpx

from agentcost_nb.client.types import AgentReply, CallStatus, ErrorType
from agentcost_nb.errors import ValidationError
from agentcost_nb.usage import model_from_metadata, usage_from_metadata

__all__ = [
    "MAX_REPLY_BYTES",
    "A2AClient",
    "Dialect",
    "Endpoint",
    "build_request",
    "endpoint_from_card",
    "normalize_state",
    "parse_response",
]

Dialect = Literal["1.0", "0.3"]
DIALECTS: tuple[Dialect, ...] = ("1.0", "0.3")
PROTOCOL: dict[Dialect, str] = {"1.0": "a2a-1.0", "0.3": "a2a-0.3"}

MAX_REPLY_BYTES = 10 * 1024 * 1024
CARD_PATHS = ("/.well-known/agent-card.json", "/.well-known/agent.json")
# A card missing at one path: try the next one.
_CARD_ABSENT = {404, 405, 410}

_SUCCESS_STATES = {"completed"}
_WAITING_STATES = {"input-required", "auth-required"}
_FAILED_STATES: dict[str, tuple[CallStatus, ErrorType]] = {
    "failed": ("error", "task_failed"),
    "rejected": ("error", "task_rejected"),
    "canceled": ("canceled", "task_canceled"),
}


@dataclass(frozen=True)
class Endpoint:
    """Where and how to send: the JSON-RPC URL and the dialect it speaks."""

    rpc_url: str
    dialect: Dialect


# ---------------------------------------------------------------- pure helpers


def safe_url(url: str) -> str:
    """``url`` fit for an error message: no user:password, no query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    netloc = parts.netloc.rpartition("@")[2]
    query = "…" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def _one_line(text: object, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def normalize_state(state: object) -> str | None:
    """``"TASK_STATE_INPUT_REQUIRED"`` / ``"input-required"`` -> ``"input-required"``."""
    if not isinstance(state, str) or not state.strip():
        return None
    name = state.strip()
    if name.upper().startswith("TASK_STATE_"):
        name = name[len("TASK_STATE_") :]
    name = name.lower().replace("_", "-")
    return "canceled" if name == "cancelled" else name


def _is_jsonrpc(binding: object) -> bool:
    return isinstance(binding, str) and binding.strip().upper() in ("JSONRPC", "JSON-RPC")


def endpoint_from_card(
    card: Mapping[str, Any], card_url: str, *, prefer: Dialect | None = None
) -> Endpoint | None:
    """Choose the JSON-RPC URL and dialect a card advertises; ``None`` if it has none.

    1.0 cards list ``supportedInterfaces``; 0.3 cards have ``url`` with
    ``preferredTransport`` (JSONRPC when absent) and ``additionalInterfaces``;
    0.2 cards have only ``url``. Without ``prefer``, 1.0 wins over 0.3. With
    ``prefer``, an interface of that dialect wins, else the first one is used
    in that dialect (the caller said so). Relative URLs resolve against the card.
    """
    found: list[Endpoint] = []

    def add(url: object, dialect: Dialect) -> None:
        if isinstance(url, str) and url.strip():
            found.append(Endpoint(urljoin(card_url, url.strip()), dialect))

    interfaces = card.get("supportedInterfaces")
    if isinstance(interfaces, Sequence) and not isinstance(interfaces, str):
        for entry in interfaces:
            if isinstance(entry, Mapping) and _is_jsonrpc(
                entry.get("protocolBinding", entry.get("transport"))
            ):
                version = str(entry.get("protocolVersion") or "1.0").strip()
                add(entry.get("url"), "0.3" if version.startswith("0.") else "1.0")
    if _is_jsonrpc(card.get("preferredTransport") or "JSONRPC"):
        add(card.get("url"), "0.3")
    extra = card.get("additionalInterfaces")
    if isinstance(extra, Sequence) and not isinstance(extra, str):
        for entry in extra:
            if isinstance(entry, Mapping) and _is_jsonrpc(entry.get("transport")):
                add(entry.get("url"), "0.3")

    if not found:
        return None
    for dialect in (prefer,) if prefer else DIALECTS:
        for endpoint in found:
            if endpoint.dialect == dialect:
                return endpoint
    return Endpoint(found[0].rpc_url, prefer or found[0].dialect)


def build_request(
    text: str,
    *,
    dialect: Dialect,
    request_id: int | str,
    message_id: str,
    context_id: str | None = None,
    task_id: str | None = None,
) -> dict[str, Any]:
    """The JSON-RPC body that sends ``text`` as one user message."""
    if dialect == "1.0":
        message: dict[str, Any] = {
            "role": "ROLE_USER",
            "parts": [{"text": text}],
            "messageId": message_id,
        }
        method = "SendMessage"
    else:
        message = {
            "kind": "message",
            "role": "user",
            "parts": [{"kind": "text", "text": text}],
            "messageId": message_id,
        }
        method = "message/send"
    if context_id:
        message["contextId"] = context_id
    if task_id:
        message["taskId"] = task_id
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": {"message": message}}


def _parts_text(holder: object) -> str:
    """Text parts of a Message or Artifact joined by newlines (1.0, 0.3 and 0.1 shapes)."""
    if not isinstance(holder, Mapping):
        return ""
    parts = holder.get("parts")
    if not isinstance(parts, Sequence) or isinstance(parts, str):
        return ""
    texts = []
    for part in parts:
        if not isinstance(part, Mapping):
            continue
        tag = part.get("kind", part.get("type", "text"))
        text = part.get("text")
        if tag == "text" and isinstance(text, str):
            texts.append(text)
    return "\n".join(texts)


def _metadata(holder: object) -> Mapping[str, Any] | None:
    if isinstance(holder, Mapping):
        meta = holder.get("metadata")
        if isinstance(meta, Mapping):
            return meta
    return None


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _reported(sources: Sequence[object]) -> dict[str, Any]:
    """Usage and model from several metadata holders: a later one overrides, never sums."""
    usage = model = None
    for holder in sources:
        meta = _metadata(holder)
        usage = usage_from_metadata(meta) or usage
        model = model_from_metadata(meta) or model
    return {"usage": usage, "model": model}


def _classify(result: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    for key in ("message", "task"):  # 1.0: {"message": {...}} or {"task": {...}}
        inner = result.get(key)
        if isinstance(inner, Mapping):
            return key, inner
    kind = result.get("kind")  # 0.3: a bare object tagged by kind
    if kind in ("message", "task"):
        return str(kind), result
    if isinstance(result.get("status"), Mapping) and "id" in result:
        return "task", result  # untagged task (0.2)
    if "parts" in result and "role" in result:
        return "message", result
    return None


def _failure(
    error_type: ErrorType, error: str, status: CallStatus = "error", **fields: Any
) -> AgentReply:
    return AgentReply(status=status, error=error, error_type=error_type, **fields)


def reply_from_result(result: object, *, rpc_url: str, **fields: Any) -> AgentReply:
    """The ``result`` of a JSON-RPC reply (Message or Task, either dialect) as an AgentReply."""
    where = safe_url(rpc_url)
    kind = _classify(result) if isinstance(result, Mapping) else None
    if kind is None:
        return _failure(
            "invalid_response",
            f"the result from {where} holds neither a message nor a task",
            rpc_url=rpc_url,
            **fields,
        )
    what, obj = kind
    common: dict[str, Any] = {
        "rpc_url": rpc_url,
        "context_id": _str_or_none(obj.get("contextId")),
        **fields,
    }
    if what == "message":
        return AgentReply(
            status="success",
            text=_parts_text(obj),
            task_id=_str_or_none(obj.get("taskId")),
            **_reported([obj]),
            **common,
        )

    status = obj.get("status")
    status_message = status.get("message") if isinstance(status, Mapping) else None
    state = normalize_state(status.get("state") if isinstance(status, Mapping) else None)
    raw_artifacts = obj.get("artifacts")
    artifacts = (
        list(raw_artifacts)
        if isinstance(raw_artifacts, Sequence) and not isinstance(raw_artifacts, str)
        else []
    )
    artifact_text = "\n".join(t for t in map(_parts_text, artifacts) if t)
    status_text = _parts_text(status_message)
    common.update(
        task_id=_str_or_none(obj.get("id")),
        task_state=state,
        **_reported([obj, status_message, *artifacts]),
    )
    if state in _SUCCESS_STATES:
        return AgentReply(status="success", text=artifact_text or status_text, **common)
    if state in _WAITING_STATES:
        return AgentReply(status="input_required", text=status_text or artifact_text, **common)
    if state in _FAILED_STATES:
        status_, error_type = _FAILED_STATES[state]
        reason = _one_line(status_text) if status_text else "no reason given"
        return _failure(
            error_type,
            f"the task at {where} ended {state}: {reason}",
            status_,
            text=artifact_text or status_text,
            **common,
        )
    shown = f"in state {state!r}" if state else "without a state"
    return _failure(
        "invalid_response",
        f"the agent at {where} answered with a task {shown}, not a finished one",
        text=artifact_text or status_text,
        **common,
    )


def _is_json_media(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def parse_response(
    *,
    status_code: int,
    content_type: str | None,
    body: bytes,
    dialect: Dialect,
    rpc_url: str,
) -> AgentReply:
    """One HTTP reply to a JSON-RPC send, as an AgentReply. Pure: no I/O, never raises."""
    where = safe_url(rpc_url)
    fields: dict[str, Any] = {
        "protocol": PROTOCOL[dialect],
        "rpc_url": rpc_url,
        "http_status": status_code,
    }
    if not 200 <= status_code < 300:
        reason = httpx.codes.get_reason_phrase(status_code)
        error = f"HTTP {status_code} {reason} from {where}".replace("  ", " ")
        if status_code in (401, 403):
            return _failure("auth", f"{error}: check the agent's credentials", **fields)
        return _failure("http_status", error, **fields)
    if not _is_json_media(content_type):
        got = f"content type {_one_line(content_type, 80)!r}" if content_type else "no content type"
        return _failure("invalid_response", f"expected JSON from {where}, got {got}", **fields)
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return _failure("invalid_response", f"the reply from {where} is not valid JSON", **fields)
    if not isinstance(doc, Mapping):
        return _failure(
            "invalid_response", f"the reply from {where} is not a JSON-RPC object", **fields
        )
    rpc_error = doc.get("error")
    if rpc_error is not None:
        code = rpc_error.get("code") if isinstance(rpc_error, Mapping) else None
        message = rpc_error.get("message") if isinstance(rpc_error, Mapping) else rpc_error
        code_text = f" {code}" if isinstance(code, int) and not isinstance(code, bool) else ""
        return _failure(
            "jsonrpc",
            f"JSON-RPC error{code_text} from {where}: {_one_line(message or 'no message')}",
            extra={"jsonrpc_code": code} if code_text else {},
            **fields,
        )
    if "result" not in doc:
        return _failure(
            "invalid_response",
            f"the reply from {where} has neither a result nor an error",
            **fields,
        )
    return reply_from_result(doc["result"], **fields)


# ------------------------------------------------------------------------- I/O


class _TooLarge(Exception):
    pass


async def _read_capped(response: httpx.Response, limit: int = MAX_REPLY_BYTES) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass
class _Progress:
    """What a call had reached when it failed, for the error reply."""

    url: str
    rpc_url: str = ""
    protocol: str = ""
    http_status: int | None = None


class A2AClient:
    """Sends messages to A2A agents; one instance caches the cards it fetched.

    ``headers`` (for example credentials) go on every request and never into
    an error message. Pass ``transport`` (e.g. ``httpx.MockTransport``) to
    test without a network; the client then leaves closing it to you.
    """

    def __init__(
        self,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 60.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not timeout > 0:
            raise ValidationError({"timeout": "must be a positive number of seconds"})
        self._transport = transport
        self._timeout = float(timeout)
        self._headers = dict(headers or {})
        self._cards: dict[str, tuple[str, dict[str, Any]]] = {}
        self._cardless: set[str] = set()  # URLs known to serve no card
        self._ids = itertools.count(1)
        self._ssl: ssl.SSLContext | None = None

    async def send(
        self,
        url: str,
        text: str,
        *,
        context_id: str | None = None,
        task_id: str | None = None,
        dialect: str | None = None,
        timeout: float | None = None,
    ) -> AgentReply:
        """Send ``text`` to the agent at ``url`` (its base URL, where its card is).

        ``dialect`` ("1.0" or "0.3") forces the protocol; then, if there is no
        card, ``url`` is taken as the JSON-RPC URL itself. ``timeout`` bounds
        the whole call, card fetch included.
        """
        if dialect is not None and dialect not in DIALECTS:
            raise ValidationError({"dialect": f"must be '1.0' or '0.3', not {dialect!r}"})
        deadline = self._timeout if timeout is None else float(timeout)
        if not deadline > 0:
            raise ValidationError({"timeout": "must be a positive number of seconds"})
        progress = _Progress(url=url)
        started = time.perf_counter()
        try:
            async with asyncio.timeout(deadline):
                reply = await self._send(
                    url,
                    text,
                    progress,
                    context_id,
                    task_id,
                    cast(Dialect | None, dialect),
                    deadline,
                )
        except (TimeoutError, httpx.TimeoutException):
            reply = self._error(
                progress,
                "timeout",
                f"no reply from {safe_url(progress.url)} within {deadline:g} s",
                status="timeout",
            )
        except httpx.InvalidURL as exc:
            reply = self._error(progress, "connect", f"invalid URL {safe_url(url)!r}: {exc}")
        except (httpx.NetworkError, httpx.UnsupportedProtocol, httpx.ProxyError) as exc:
            where = safe_url(progress.url)
            reason = _one_line(exc) or type(exc).__name__
            reply = self._error(progress, "connect", f"could not connect to {where}: {reason}")
        except _TooLarge:
            where = safe_url(progress.url)
            reply = self._error(
                progress, "invalid_response", f"reply larger than 10 MB from {where}"
            )
        except Exception as exc:  # a failed call must come back as a reply, whatever broke
            # httpx protocol/decoding errors, or anything a custom transport raises.
            where = safe_url(progress.url)
            reason = f"{type(exc).__name__}: {_one_line(exc)}".rstrip(": ")
            reply = self._error(
                progress, "invalid_response", f"broken reply from {where}: {reason}"
            )
        latency_ms = (time.perf_counter() - started) * 1000
        return dataclasses.replace(reply, latency_ms=latency_ms)

    @staticmethod
    def _error(
        progress: _Progress, error_type: ErrorType, error: str, *, status: CallStatus = "error"
    ) -> AgentReply:
        return _failure(
            error_type,
            error,
            status,
            rpc_url=progress.rpc_url,
            protocol=progress.protocol,
            http_status=progress.http_status,
        )

    async def _send(
        self,
        url: str,
        text: str,
        progress: _Progress,
        context_id: str | None,
        task_id: str | None,
        dialect: Dialect | None,
        deadline: float,
    ) -> AgentReply:
        # A fresh httpx client per call: its connection pool belongs to one
        # event loop, and callers use several (asyncio.run in scripts, a kernel).
        # The SSL context is the costly part (~30 ms), so it is built once.
        if self._transport is None and self._ssl is None:
            self._ssl = httpx.create_ssl_context()
        http = httpx.AsyncClient(
            transport=self._transport,
            verify=self._ssl or True,
            timeout=deadline,
            headers=self._headers,
        )
        try:
            found = await self._endpoint(http, url, dialect, progress)
            if isinstance(found, AgentReply):
                return found
            progress.url = progress.rpc_url = found.rpc_url
            progress.protocol = PROTOCOL[found.dialect]
            progress.http_status = None
            body = build_request(
                text,
                dialect=found.dialect,
                request_id=next(self._ids),
                message_id=str(uuid.uuid4()),
                context_id=context_id,
                task_id=task_id,
            )
            headers = {"Accept": "application/json"}
            if found.dialect == "1.0":
                headers["A2A-Version"] = "1.0"
            async with http.stream("POST", found.rpc_url, json=body, headers=headers) as response:
                progress.http_status = response.status_code
                raw = await _read_capped(response)
            return parse_response(
                status_code=response.status_code,
                content_type=response.headers.get("content-type"),
                body=raw,
                dialect=found.dialect,
                rpc_url=found.rpc_url,
            )
        finally:
            if self._transport is None:
                await http.aclose()

    async def _endpoint(
        self,
        http: httpx.AsyncClient,
        url: str,
        dialect: Dialect | None,
        progress: _Progress,
    ) -> Endpoint | AgentReply:
        """Where to send, from the (cached) card; or the reply explaining why not."""
        if dialect is not None and url in self._cardless:
            return Endpoint(url, dialect)
        cached = self._cards.get(url)
        if cached is None:
            fetched = await self._fetch_card(http, url, progress)
            if isinstance(fetched, AgentReply):
                if fetched.error_type == "no_agent_card":
                    self._cardless.add(url)
                if dialect is not None:  # no usable card, but the caller named the dialect
                    return Endpoint(url, dialect)
                return fetched
            self._cards[url] = cached = fetched
        card_url, card = cached
        endpoint = endpoint_from_card(card, card_url, prefer=dialect)
        if endpoint is not None:
            return endpoint
        if dialect is not None:
            return Endpoint(url, dialect)
        return self._error(
            progress,
            "invalid_response",
            f"the agent card at {safe_url(card_url)} lists no JSON-RPC interface",
        )

    async def _fetch_card(
        self, http: httpx.AsyncClient, url: str, progress: _Progress
    ) -> tuple[str, dict[str, Any]] | AgentReply:
        if "/.well-known/" in url:
            candidates = [url]  # the caller gave the card's own URL
        else:
            candidates = [url.rstrip("/") + path for path in CARD_PATHS]
        for card_url in candidates:
            progress.url = card_url
            async with http.stream("GET", card_url, headers={"Accept": "application/json"}) as resp:
                status = progress.http_status = resp.status_code
                if status in _CARD_ABSENT:
                    continue
                raw = await _read_capped(resp)
                content_type = resp.headers.get("content-type")
            where = safe_url(card_url)
            if not 200 <= status < 300:
                reason = httpx.codes.get_reason_phrase(status)
                error_type: ErrorType = "auth" if status in (401, 403) else "http_status"
                return self._error(
                    progress, error_type, f"HTTP {status} {reason} for the agent card at {where}"
                )
            try:
                card = json.loads(raw) if _is_json_media(content_type) else None
            except (ValueError, RecursionError):
                card = None
            if not isinstance(card, dict):
                return self._error(
                    progress, "invalid_response", f"the agent card at {where} is not a JSON object"
                )
            return card_url, card
        tried = " or ".join(safe_url(c) for c in candidates)
        return self._error(
            progress,
            "no_agent_card",
            f"no agent card at {tried}; pass dialect= to use {safe_url(url)} as the JSON-RPC URL",
        )
