"""Fold the events of one A2A stream (1.0 or 0.3) into one reply.  Pure: no I/O.

A stream is a Task snapshot, status updates and artifact updates, or a single
Message.  ``StreamFold.feed`` takes each event's ``result`` and returns the
new answer text it brought (for showing as it arrives); ``reply`` gives the
``AgentReply`` for everything seen so far, by the same rules as a blocking
reply.  Usage follows ``UsageTally``: per-call ADK counts add up over the
events, ``usage`` totals do not.  A Task snapshot's metadata may repeat an
earlier turn's usage, so it counts only when no event reported any.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Mapping
from dataclasses import replace
from typing import Any

from agentcost_nb.client._sse import SSEEvent
from agentcost_nb.client._wire import (
    FINISHED_STATES,
    artifacts_of,
    classify,
    event_error,
    failure,
    json_kind,
    metadata_of,
    normalize_state,
    one_line,
    parse_document,
    partial_fields,
    parts_text,
    reply_from_result,
    reply_from_task,
    rpc_failure,
    str_or_none,
    unreadable,
)
from agentcost_nb.client.types import AgentReply
from agentcost_nb.usage import UsageTally

__all__ = ["StreamFold", "fold_stream"]


class StreamFold:
    def __init__(self) -> None:
        self.events = 0
        self.task_id: str | None = None
        self.context_id: str | None = None
        self.state: str | None = None
        self.status_text = ""  # the agent's latest status line
        self.finished = False  # a Message, a 0.3 final flag or a finished task state
        self._status_message: Mapping[str, Any] | None = None
        self._artifacts: dict[str, dict[str, Any]] = {}
        self._message: dict[str, Any] | None = None
        self._tally = UsageTally()
        self._snapshot = UsageTally()
        self._shown = ""
        self.problem: str | None = None  # the first unreadable piece (parts not a list)

    # ----------------------------------------------------------------- input

    def feed(self, result: object) -> str:
        """Take one event's ``result``; return the answer text it added ("" if none)."""
        self.events += 1
        kind = classify(result) if isinstance(result, Mapping) else None
        if kind is None:
            return ""  # an event kind we do not know: later versions may add some
        what, obj = kind
        self.task_id = str_or_none(obj.get("taskId" if what != "task" else "id")) or self.task_id
        self.context_id = str_or_none(obj.get("contextId")) or self.context_id
        if what == "message":
            self._message = dict(obj)
            self._tally.event(metadata_of(obj))
            self.finished = True
        elif what == "task":
            self._status(obj.get("status"))
            snapshot = artifacts_of(obj)
            if snapshot:
                self._artifacts = {}
                for i, artifact in enumerate(snapshot):
                    self._artifact(artifact, append=False, index=i)
            self._snapshot.event(metadata_of(obj))
        elif what == "status":
            status = obj.get("status")
            self._status(status)
            message = status.get("message") if isinstance(status, Mapping) else None
            self._tally.event(metadata_of(obj), metadata_of(message))
            if obj.get("final") is True:
                self.finished = True
        else:  # artifact
            update = obj.get("artifact")
            if isinstance(update, Mapping):
                self._artifact(update, append=obj.get("append") is True)
                self._tally.event(metadata_of(obj), metadata_of(update))
        return self._delta()

    def _status(self, status: object) -> None:
        if not isinstance(status, Mapping):
            return
        state = normalize_state(status.get("state"))
        if state:
            self.state = state
        message = status.get("message")
        self._status_message = message if isinstance(message, Mapping) else None
        self.status_text = parts_text(message) or self.status_text
        if self.state in FINISHED_STATES:
            self.finished = True

    def _artifact(self, artifact: Mapping[str, Any], *, append: bool, index: int = -1) -> None:
        key = (
            str_or_none(artifact.get("artifactId"))
            or f"#{len(self._artifacts) if index < 0 else index}"
        )
        parts = artifact.get("parts")
        if parts is not None and not isinstance(parts, list):
            self.problem = self.problem or f"an artifact's parts are {json_kind(parts)}, not a list"
        new_parts = list(parts) if isinstance(parts, list) else []
        held = self._artifacts.get(key)
        if append and held is not None:
            held["parts"].extend(new_parts)
        else:
            self._artifacts[key] = {**artifact, "artifactId": key, "parts": new_parts}

    # ---------------------------------------------------------------- output

    @property
    def text(self) -> str:
        """The answer so far: the Message, else the artifacts' text."""
        if self._message is not None:
            return parts_text(self._message)
        return "\n".join(t for t in map(parts_text, self._artifacts.values()) if t)

    def _delta(self) -> str:
        text = self.text
        if text.startswith(self._shown):
            delta, self._shown = text[len(self._shown) :], text
            return delta
        # An artifact was replaced, not extended: nothing to append; the final
        # reply shows the whole text.
        self._shown = text
        return ""

    def reply(self, *, rpc_url: str, where: str, **fields: Any) -> AgentReply:
        """Everything seen so far as one reply (``fields``: protocol, http_status, ...)."""
        common: dict[str, Any] = {"rpc_url": rpc_url, "streamed_chunks": self.events, **fields}
        tally = self._tally if self._tally.reported else self._snapshot
        if self._message is not None:
            reply = reply_from_result({"message": self._message}, **common)
        elif self.state is not None or self._artifacts:
            task = {
                "id": self.task_id,
                "contextId": self.context_id,
                "status": {"state": self.state, "message": self._status_message},
                "artifacts": list(self._artifacts.values()),
            }
            reply = reply_from_task(task, where=where, common=common, usage_sources=False)
        else:
            return failure(
                "invalid_response",
                f"the stream from {where} ended before the agent answered",
                **common,
            )
        if self.problem:
            reply = unreadable(reply, where, self.problem)
        return replace(
            reply,
            usage=tally.usage,
            model=self._tally.model or self._snapshot.model or reply.model,
            context_id=reply.context_id or self.context_id,
            task_id=reply.task_id or self.task_id,
        )


async def fold_stream(
    events: AsyncIterable[SSEEvent],
    fold: StreamFold,
    *,
    rpc_url: str,
    where: str,
    fields: dict[str, Any],
    on_event: Callable[[str], None],
) -> AgentReply:
    """Read events into ``fold`` until it is finished or the stream ends; the one reply.

    ``on_event`` gets each event's new text ("" if none). An error event or
    an event that is not JSON-RPC ends the call as a failure that keeps the
    answer so far. A finished fold stops reading: nothing meaningful can
    follow, so the close (1.0 has no final flag) is not waited for.
    """

    def failed(reply: AgentReply) -> AgentReply:
        so_far = partial_fields(fold.reply(rpc_url=rpc_url, where=where, **fields))
        keep = ("text", "context_id", "task_id", "task_state", "streamed_chunks")
        return replace(reply, **{k: so_far[k] for k in keep})

    async for event in events:
        doc = parse_document(event.data, where, rpc_url=rpc_url, **fields)
        if isinstance(doc, AgentReply):
            if event.event == "error":  # a reason in plain text
                error = f"the stream from {where} ended with an error: {one_line(event.data)}"
                return failed(failure("invalid_response", error, rpc_url=rpc_url, **fields))
            return failed(doc)
        rpc_error = event_error(event.event, doc)
        if rpc_error is not None:
            return failed(rpc_failure(rpc_error, where, rpc_url=rpc_url, **fields))
        if "result" not in doc:
            error = f"an event from {where} has neither a result nor an error"
            return failed(failure("invalid_response", error, rpc_url=rpc_url, **fields))
        on_event(fold.feed(doc["result"]))
        if fold.finished:
            break
    return fold.reply(rpc_url=rpc_url, where=where, **fields)
