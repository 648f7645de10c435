"""A2A on the wire, both dialects: request bodies in, ``AgentReply`` out. Pure: no I/O.

Everything here decides; nothing here sends.  ``a2a.py`` does the I/O around it.

- ``endpoint_from_card``: which JSON-RPC URL and dialect a card advertises.
- ``send_request`` / ``task_request``: the JSON-RPC bodies (send, stream, get, cancel).
- ``parse_response``: HTTP status, content type and body of a blocking reply.
- ``reply_from_result``: a Message or Task (1.0 or 0.3 shape) as an ``AgentReply``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit, urlunsplit

from agentcost_nb.client.types import AgentReply, CallStatus, ErrorType
from agentcost_nb.text import one_line
from agentcost_nb.usage import model_from_metadata, usage_from_metadata

__all__ = [
    "DIALECTS",
    "FINISHED_STATES",
    "PROTOCOL",
    "RUNNING_STATES",
    "Dialect",
    "Endpoint",
    "endpoint_from_card",
    "event_error",
    "failure",
    "http_failure",
    "is_json_media",
    "json_reply_document",
    "is_unfinished",
    "join_path",
    "json_kind",
    "normalize_state",
    "one_line",
    "parse_response",
    "partial_fields",
    "parts_problem",
    "parts_text",
    "reply_from_result",
    "rpc_failure",
    "safe_url",
    "send_request",
    "streaming_from_card",
    "task_problem",
    "task_request",
    "unreadable",
]

Dialect = Literal["1.0", "0.3"]
DIALECTS: tuple[Dialect, ...] = ("1.0", "0.3")
PROTOCOL: dict[Dialect, str] = {"1.0": "a2a-1.0", "0.3": "a2a-0.3"}

_METHODS: dict[Dialect, dict[str, str]] = {
    "1.0": {"send": "SendMessage", "stream": "SendStreamingMessage",
            "get": "GetTask", "cancel": "CancelTask"},
    "0.3": {"send": "message/send", "stream": "message/stream",
            "get": "tasks/get", "cancel": "tasks/cancel"},
}  # fmt: skip

SUCCESS_STATES = frozenset({"completed"})
WAITING_STATES = frozenset({"input-required", "auth-required"})
RUNNING_STATES = frozenset({"submitted", "working"})
_FAILED_STATES: dict[str, tuple[CallStatus, ErrorType]] = {
    "failed": ("error", "task_failed"),
    "rejected": ("error", "task_rejected"),
    "canceled": ("canceled", "task_canceled"),
}
# After one of these the task waits or is over: nothing more will come.
FINISHED_STATES = SUCCESS_STATES | WAITING_STATES | frozenset(_FAILED_STATES)


@dataclass(frozen=True)
class Endpoint:
    """Where and how to send: the JSON-RPC URL and the dialect it speaks."""

    rpc_url: str
    dialect: Dialect


# ----------------------------------------------------------------------- text


def safe_url(url: str) -> str:
    """``url`` fit for an error message: no user:password, no query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    netloc = parts.netloc.rpartition("@")[2]
    query = "…" if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def join_path(url: str, suffix: str) -> str:
    """``url`` with ``suffix`` added to its path, before its query (a fragment is dropped)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + suffix, fragment=""))


def _keep_query(url: str, base: str) -> str:
    """``url`` with ``base``'s query when it has none and is on the same host.

    A query on the agent's URL (``?tenant=acme``) is how a gateway routes it:
    it goes on every request to that agent, not only on the card's.
    """
    target, origin = urlsplit(url), urlsplit(base)
    if target.query or not origin.query or target[:2] != origin[:2]:
        return url
    return urlunsplit(target._replace(query=origin.query))


def normalize_state(state: object) -> str | None:
    """``"TASK_STATE_INPUT_REQUIRED"`` / ``"input-required"`` -> ``"input-required"``."""
    if not isinstance(state, str) or not state.strip():
        return None
    name = state.strip()
    if name.upper().startswith("TASK_STATE_"):
        name = name[len("TASK_STATE_") :]
    name = name.lower().replace("_", "-")
    return "canceled" if name == "cancelled" else name


def is_json_media(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


# ----------------------------------------------------------------------- card


def _is_jsonrpc(binding: object) -> bool:
    return isinstance(binding, str) and binding.strip().upper() in ("JSONRPC", "JSON-RPC")


def _entries(value: object) -> list[Mapping[str, Any]]:
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [e for e in value if isinstance(e, Mapping)]
    return []


def endpoint_from_card(
    card: Mapping[str, Any], card_url: str, *, prefer: Dialect | None = None
) -> Endpoint | None:
    """Choose the JSON-RPC URL and dialect a card advertises; ``None`` if it has none.

    1.0 cards list ``supportedInterfaces``; 0.3 cards have ``url`` with
    ``preferredTransport`` (JSONRPC when absent) and ``additionalInterfaces``;
    0.2 cards have only ``url``. Without ``prefer``, 1.0 wins over 0.3. With
    ``prefer``, an interface of that dialect wins, else the first one is used
    in that dialect (the caller said so). Relative URLs resolve against the card;
    on the card's host, a URL without a query takes the card URL's.
    """
    found: list[Endpoint] = []

    def add(url: object, dialect: Dialect) -> None:
        if isinstance(url, str) and url.strip():
            resolved = urljoin(card_url, url.strip())
            found.append(Endpoint(_keep_query(resolved, card_url), dialect))

    for entry in _entries(card.get("supportedInterfaces")):
        if _is_jsonrpc(entry.get("protocolBinding", entry.get("transport"))):
            version = str(entry.get("protocolVersion") or "1.0").strip()
            add(entry.get("url"), "0.3" if version.startswith("0.") else "1.0")
    if _is_jsonrpc(card.get("preferredTransport") or "JSONRPC"):
        add(card.get("url"), "0.3")
    for entry in _entries(card.get("additionalInterfaces")):
        if _is_jsonrpc(entry.get("transport")):
            add(entry.get("url"), "0.3")

    if not found:
        return None
    for dialect in (prefer,) if prefer else DIALECTS:
        for endpoint in found:
            if endpoint.dialect == dialect:
                return endpoint
    return Endpoint(found[0].rpc_url, prefer or found[0].dialect)


def streaming_from_card(card: Mapping[str, Any] | None) -> bool:
    """Whether the card says the agent streams (``capabilities.streaming``)."""
    caps = card.get("capabilities") if isinstance(card, Mapping) else None
    return isinstance(caps, Mapping) and caps.get("streaming") is True


# ------------------------------------------------------------------- requests


def send_request(
    text: str,
    *,
    dialect: Dialect,
    request_id: int | str,
    message_id: str,
    context_id: str | None = None,
    task_id: str | None = None,
    stream: bool = False,
    return_immediately: bool = False,
) -> dict[str, Any]:
    """The JSON-RPC body that sends ``text`` as one user message.

    ``return_immediately`` asks for the task at once, still working, to be
    polled (1.0 ``configuration.returnImmediately``, 0.3 ``blocking: false``).
    """
    if dialect == "1.0":
        message: dict[str, Any] = {
            "role": "ROLE_USER",
            "parts": [{"text": text}],
            "messageId": message_id,
        }
    else:
        message = {
            "kind": "message",
            "role": "user",
            "parts": [{"kind": "text", "text": text}],
            "messageId": message_id,
        }
    if context_id:
        message["contextId"] = context_id
    if task_id:
        message["taskId"] = task_id
    params: dict[str, Any] = {"message": message}
    if return_immediately and not stream:
        params["configuration"] = (
            {"returnImmediately": True} if dialect == "1.0" else {"blocking": False}
        )
    method = _METHODS[dialect]["stream" if stream else "send"]
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def task_request(
    action: Literal["get", "cancel"], task_id: str, *, dialect: Dialect, request_id: int | str
) -> dict[str, Any]:
    """GetTask / CancelTask (1.0) or tasks/get / tasks/cancel (0.3) for ``task_id``."""
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": _METHODS[dialect][action],
        "params": {"id": task_id},
    }


# -------------------------------------------------------------------- replies


def parts_text(holder: object) -> str:
    """The text parts of a Message or Artifact, concatenated (1.0, 0.3 and 0.1 shapes).

    Concatenated, not joined with newlines: a streamed artifact's chunks are
    appended as separate parts (``"Hel"``, ``"lo"``), and a finished task
    shows them so.
    """
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
    return "".join(texts)


def json_kind(value: object) -> str:
    """What a JSON value is, in words, for an error message (never the value itself)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def parts_problem(holder: object) -> str | None:
    """Why a Message's or Artifact's parts cannot be read, else ``None``.

    Missing parts are no parts (protobuf JSON drops empty lists); parts that
    are not text (data, url, raw, file) are fine; a text that is not a string
    is not: taking it as "" would record a success with no answer.
    """
    parts = holder.get("parts") if isinstance(holder, Mapping) else None
    if parts is None:
        return None
    if not isinstance(parts, list):
        return f"its parts are {json_kind(parts)}, not a list"
    for number, part in enumerate(parts, 1):
        if not isinstance(part, Mapping):
            return f"part {number} is {json_kind(part)}, not an object"
        text = part.get("text")
        is_text = part.get("kind", part.get("type")) == "text"
        if (text is not None or is_text) and not isinstance(text, str):
            return f"the text of part {number} is {json_kind(text)}, not a string"
    return None


def unreadable(reply: AgentReply, where: str, problem: str) -> AgentReply:
    """``reply`` (an answer) turned into the invalid_response its broken parts make it."""
    if reply.status not in ("success", "input_required"):
        return reply  # already a failure: its own reason is the better one
    return replace(
        reply,
        status="error",
        error_type="invalid_response",
        error=f"the answer from {where} cannot be read: {problem}",
    )


def metadata_of(holder: object) -> Mapping[str, Any] | None:
    if isinstance(holder, Mapping):
        meta = holder.get("metadata")
        if isinstance(meta, Mapping):
            return meta
    return None


def str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _reported(sources: Sequence[object]) -> dict[str, Any]:
    """Usage and model from one object's metadata holders: a later one overrides, never sums."""
    usage = model = None
    for holder in sources:
        meta = metadata_of(holder)
        usage = usage_from_metadata(meta) or usage
        model = model_from_metadata(meta) or model
    return {"usage": usage, "model": model}


def classify(result: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """``("message" | "task" | "status" | "artifact", object)`` for one result or stream event."""
    for key, what in (("message", "message"), ("task", "task"),
                      ("statusUpdate", "status"), ("artifactUpdate", "artifact")):  # fmt: skip
        inner = result.get(key)
        if isinstance(inner, Mapping):  # 1.0: {"task": {...}} and so on
            return what, inner
    kind = result.get("kind")  # 0.3: a bare object tagged by kind
    tagged = {"message": "message", "task": "task",
              "status-update": "status", "artifact-update": "artifact"}  # fmt: skip
    if isinstance(kind, str) and kind in tagged:
        return tagged[kind], result
    if isinstance(result.get("status"), Mapping) and "id" in result:
        return "task", result  # untagged task (0.2)
    if "parts" in result and "role" in result:
        return "message", result
    return None


def failure(
    error_type: ErrorType, error: str, status: CallStatus = "error", **fields: Any
) -> AgentReply:
    return AgentReply(status=status, error=error, error_type=error_type, **fields)


def artifacts_of(task: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return _entries(task.get("artifacts"))


def task_problem(task: Mapping[str, Any]) -> str | None:
    """Why a Task's artifacts or status message cannot be read, else ``None``."""
    for number, artifact in enumerate(artifacts_of(task), 1):
        problem = parts_problem(artifact)
        if problem:
            return f"artifact {number}: {problem}"
    status = task.get("status")
    problem = parts_problem(status.get("message") if isinstance(status, Mapping) else None)
    return f"the status message: {problem}" if problem else None


def reply_from_task(
    obj: Mapping[str, Any], *, where: str, common: dict[str, Any], usage_sources: bool = True
) -> AgentReply:
    """A Task (any state) as an AgentReply; ``common`` holds fields set by the caller."""
    reply = _task_reply(obj, where=where, common=common, usage_sources=usage_sources)
    problem = task_problem(obj)
    return unreadable(reply, where, problem) if problem else reply


def _task_reply(
    obj: Mapping[str, Any], *, where: str, common: dict[str, Any], usage_sources: bool
) -> AgentReply:
    status = obj.get("status")
    status_message = status.get("message") if isinstance(status, Mapping) else None
    state = normalize_state(status.get("state") if isinstance(status, Mapping) else None)
    artifacts = artifacts_of(obj)
    artifact_text = "\n".join(t for t in map(parts_text, artifacts) if t)
    status_text = parts_text(status_message)
    fields = {
        "context_id": str_or_none(obj.get("contextId")),
        "task_id": str_or_none(obj.get("id")),
        "task_state": state,
        **(_reported([obj, status_message, *artifacts]) if usage_sources else {}),
        **common,
    }
    if state in SUCCESS_STATES:
        return AgentReply(status="success", text=artifact_text or status_text, **fields)
    if state in WAITING_STATES:
        return AgentReply(status="input_required", text=status_text or artifact_text, **fields)
    if state in _FAILED_STATES:
        status_, error_type = _FAILED_STATES[state]
        reason = one_line(status_text) if status_text else "no reason given"
        return failure(
            error_type,
            f"the task at {where} ended {state}: {reason}",
            status_,
            text=artifact_text or status_text,
            **fields,
        )
    shown = f"in state {state!r}" if state else "without a state"
    return failure(
        "invalid_response",
        f"the agent at {where} answered with a task {shown}, not a finished one",
        text=artifact_text or status_text,
        # Still running: a client polls it (see ``is_unfinished``).
        extra={"unfinished": True} if state in RUNNING_STATES else {},
        **fields,
    )


_PARTIAL_FIELDS = ("text", "usage", "model", "context_id", "task_id", "task_state",
                   "streamed_chunks", "polls")  # fmt: skip


def partial_fields(reply: AgentReply) -> dict[str, Any]:
    """The answer-so-far fields of ``reply``, to carry into a timeout or cancel reply."""
    return {name: getattr(reply, name) for name in _PARTIAL_FIELDS}


def is_unfinished(reply: AgentReply) -> bool:
    """A task still submitted / working, with an id to poll: not a failure yet."""
    return bool(reply.extra.get("unfinished")) and reply.task_id is not None


def reply_from_result(result: object, *, rpc_url: str, **fields: Any) -> AgentReply:
    """The ``result`` of a JSON-RPC reply (Message or Task, either dialect) as an AgentReply."""
    where = safe_url(rpc_url)
    kind = classify(result) if isinstance(result, Mapping) else None
    if kind is None or kind[0] not in ("message", "task"):
        return failure(
            "invalid_response",
            f"the result from {where} holds neither a message nor a task",
            rpc_url=rpc_url,
            **fields,
        )
    what, obj = kind
    common: dict[str, Any] = {"rpc_url": rpc_url, **fields}
    if what == "message":
        problem = parts_problem(obj)
        if problem is not None:
            return failure(
                "invalid_response",
                f"the message from {where} cannot be read: {problem}",
                context_id=str_or_none(obj.get("contextId")),
                task_id=str_or_none(obj.get("taskId")),
                **common,
            )
        return AgentReply(
            status="success",
            text=parts_text(obj),
            context_id=str_or_none(obj.get("contextId")),
            task_id=str_or_none(obj.get("taskId")),
            **_reported([obj]),
            **common,
        )
    return reply_from_task(obj, where=where, common=common)


def http_failure(status_code: int, where: str, *, what: str = "from") -> AgentReply:
    """A non-2xx HTTP status as a failed reply (``what``: "from" / "for the agent card at")."""
    try:
        reason = HTTPStatus(status_code).phrase
    except ValueError:
        reason = ""
    error = " ".join(f"HTTP {status_code} {reason} {what} {where}".split())
    if status_code in (401, 403):
        return failure("auth", f"{error}: check the agent's credentials", http_status=status_code)
    return failure("http_status", error, http_status=status_code)


def rpc_failure(rpc_error: object, where: str, **fields: Any) -> AgentReply:
    """A JSON-RPC ``error`` object (HTTP 200) as a failed reply, keeping its code."""
    code = rpc_error.get("code") if isinstance(rpc_error, Mapping) else None
    message = rpc_error.get("message") if isinstance(rpc_error, Mapping) else rpc_error
    has_code = isinstance(code, int) and not isinstance(code, bool)
    code_text = f" {code}" if has_code else ""
    return failure(
        "jsonrpc",
        f"JSON-RPC error{code_text} from {where}: {one_line(message or 'no message')}",
        extra={"jsonrpc_code": code} if has_code else {},
        **fields,
    )


def event_error(event: str, doc: Mapping[str, Any]) -> object | None:
    """The error a stream event carries, else ``None``.

    A JSON-RPC response's ``error``; or, in an ``event: error`` or an event
    with no result, a bare error object (``{"code": …, "message": …}``).
    """
    if doc.get("error") is not None:
        return doc["error"]
    if "result" in doc:
        return None
    if event == "error" or ("message" in doc and "code" in doc):
        return doc
    return None


def parse_document(body: bytes | str, where: str, **fields: Any) -> Mapping[str, Any] | AgentReply:
    """A JSON-RPC response object from ``body``, or the failed reply saying why not."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return failure("invalid_response", f"the reply from {where} is not valid JSON", **fields)
    if not isinstance(doc, Mapping):
        return failure(
            "invalid_response", f"the reply from {where} is not a JSON-RPC object", **fields
        )
    return doc


def json_reply_document(
    content_type: str | None, body: bytes, where: str, **fields: Any
) -> Mapping[str, Any] | AgentReply:
    """The JSON object of a 2xx reply, or the failed reply saying why there is none."""
    if not is_json_media(content_type):
        got = f"content type {one_line(content_type, 80)!r}" if content_type else "no content type"
        return failure("invalid_response", f"expected JSON from {where}, got {got}", **fields)
    return parse_document(body, where, **fields)


def parse_response(
    *,
    status_code: int,
    content_type: str | None,
    body: bytes,
    dialect: Dialect,
    rpc_url: str,
) -> AgentReply:
    """One HTTP reply to a JSON-RPC request, as an AgentReply. Never raises."""
    where = safe_url(rpc_url)
    fields: dict[str, Any] = {
        "protocol": PROTOCOL[dialect],
        "rpc_url": rpc_url,
        "http_status": status_code,
    }
    if not 200 <= status_code < 300:
        bad = http_failure(status_code, where)
        return failure(bad.error_type or "http_status", bad.error or "", **fields)
    doc = json_reply_document(content_type, body, where, **fields)
    if isinstance(doc, AgentReply):
        return doc
    if doc.get("error") is not None:
        return rpc_failure(doc["error"], where, **fields)
    if "result" not in doc:
        return failure(
            "invalid_response",
            f"the reply from {where} has neither a result nor an error",
            **fields,
        )
    return reply_from_result(doc["result"], **fields)
