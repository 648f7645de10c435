"""Server-Sent Events, read line by line (the WHATWG event-stream rules we need).

``SSEDecoder`` is pure: feed it lines, get events.  ``aiter_sse`` drives it
from anything with ``aiter_lines()`` (an ``httpx.Response``).  Comment lines
(``:`` keep-alives) are skipped; ``data:`` lines of one event are joined with
newlines; a blank line ends the event; an event without data is dropped; a
UTF-8 byte order mark before the first line is dropped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

__all__ = ["SSEDecoder", "SSEEvent", "SSETooLarge", "aiter_sse"]


class SSETooLarge(Exception):
    """One event's data grew past the size limit."""


@dataclass(frozen=True)
class SSEEvent:
    data: str
    event: str = "message"
    id: str | None = None


class SSEDecoder:
    def __init__(self, *, max_bytes: int = 10 * 1024 * 1024) -> None:
        self._max = max_bytes
        self._data: list[str] = []
        self._size = 0
        self._event = ""
        self._id: str | None = None
        self._first = True

    def feed(self, line: str) -> SSEEvent | None:
        """One line (without its line break); returns the event a blank line completes."""
        if self._first:
            self._first = False
            line = line.removeprefix("\ufeff")
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._size += len(value) + 1
            if self._size > self._max:
                raise SSETooLarge
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        # "retry" and unknown fields: nothing to do for a single request.
        return None

    def close(self) -> SSEEvent | None:
        """End of stream: an event not yet ended by a blank line still counts."""
        return self._dispatch()

    def _dispatch(self) -> SSEEvent | None:
        data, event = self._data, self._event
        self._data, self._size, self._event = [], 0, ""
        if not data:
            return None
        return SSEEvent(data="\n".join(data), event=event or "message", id=self._id)


class _Lines(Protocol):
    def aiter_lines(self) -> AsyncIterator[str]: ...


async def aiter_sse(
    response: _Lines, *, max_bytes: int = 10 * 1024 * 1024
) -> AsyncIterator[SSEEvent]:
    decoder = SSEDecoder(max_bytes=max_bytes)
    total = 0  # the whole stream is capped, not only each event: many small deltas add up
    async for line in response.aiter_lines():
        total += len(line) + 1
        if total > max_bytes:
            raise SSETooLarge
        event = decoder.feed(line.rstrip("\r\n"))
        if event is not None:
            yield event
    last = decoder.close()
    if last is not None:
        yield last
