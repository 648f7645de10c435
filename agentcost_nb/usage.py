"""Read token usage and the model label an agent reported in A2A metadata.

Pure functions, no I/O. A2A has no usage field, so agents use conventions:

- ``adk_usage_metadata`` (Google ADK, Gemini semantics): ``promptTokenCount``
  includes ``cachedContentTokenCount``; ``thoughtsTokenCount`` is *not* part of
  ``candidatesTokenCount``, so output = candidates + thoughts.
  ``toolUsePromptTokenCount`` is input Gemini bills on top of the prompt.
- ``usage`` in the style of OpenAI (``prompt_tokens`` / ``completion_tokens``,
  ``*_tokens_details``; cached and reasoning are subsets) or of Anthropic
  (``input_tokens`` / ``output_tokens``; ``cache_read_input_tokens`` and
  ``cache_creation_input_tokens`` are billed *beside* ``input_tokens``, so they
  are added to it).

Over a stream (or a task's life) the two conventions add up differently:
``adk_usage_metadata`` describes *one model call* and is overwritten on the
next, so a task's total is the sum over the events that carry it; a ``usage``
object is a running or final total, so the last one wins.  ``UsageTally``
applies both rules; never sum totals, never keep only the last per-call count.

Garbage (negative, fractional, bool, NaN, strings, more than ``MAX_TOKENS``, a
cached or reasoning count larger than its total) gives ``None``, never an
exception: a bad report must not break a call. Whole floats are accepted because
metadata travels as a protobuf ``Struct``, which turns every number into a
double (``10`` -> ``10.0``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from agentcost_nb.client.types import ReportedUsage

__all__ = [
    "MAX_TOKENS",
    "UsageTally",
    "add_usage",
    "adk_usage",
    "model_from_metadata",
    "total_usage",
    "usage_from_metadata",
]

_MODEL_KEYS = ("model", "model_name", "modelVersion", "model_version")
_MAX_MODEL_LABEL = 200
# No call uses ten billion tokens: a larger count is garbage. The bound also keeps
# every cost (< $1e9 a token) inside the log's decimal128(38, 18) money columns.
MAX_TOKENS = 10**10


class _Garbage(Exception):
    """A count that is present but unusable."""


def _count(value: object) -> int:
    if isinstance(value, bool):
        raise _Garbage
    if isinstance(value, int):
        n = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        n = int(value)
    else:
        raise _Garbage
    if n < 0 or n > MAX_TOKENS:
        raise _Garbage
    return n


def _get(mapping: Mapping[str, Any], *keys: str) -> int | None:
    """The first of ``keys`` present in ``mapping`` (``None`` counts as absent)."""
    for key in keys:
        value = mapping.get(key)
        if value is not None:
            return _count(value)
    return None


def _sub(mapping: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = mapping.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _Garbage
    return value


def _checked(inp: int, out: int, cached: int, reasoning: int) -> ReportedUsage:
    if cached > inp or reasoning > out:
        raise _Garbage
    return ReportedUsage(
        input_tokens=inp, output_tokens=out, cached_input_tokens=cached, reasoning_tokens=reasoning
    )


def _from_adk(adk: Mapping[str, Any]) -> ReportedUsage | None:
    prompt = _get(adk, "promptTokenCount", "prompt_token_count")
    candidates = _get(adk, "candidatesTokenCount", "candidates_token_count")
    thoughts = _get(adk, "thoughtsTokenCount", "thoughts_token_count")
    if prompt is None and candidates is None and thoughts is None:
        return None
    cached = _get(adk, "cachedContentTokenCount", "cached_content_token_count") or 0
    tool_prompt = _get(adk, "toolUsePromptTokenCount", "tool_use_prompt_token_count") or 0
    thoughts = thoughts or 0
    return _checked((prompt or 0) + tool_prompt, (candidates or 0) + thoughts, cached, thoughts)


def _from_usage(usage: Mapping[str, Any]) -> ReportedUsage | None:
    inp = _get(usage, "input_tokens", "prompt_tokens")
    out = _get(usage, "output_tokens", "completion_tokens")
    if inp is None and out is None:
        return None
    inp, out = inp or 0, out or 0
    cache_read = _get(usage, "cache_read_input_tokens")
    cache_write = _get(usage, "cache_creation_input_tokens")
    if cache_read is not None or cache_write is not None:
        # Anthropic: input_tokens excludes the cache reads and writes.
        cached = cache_read or 0
        inp += cached + (cache_write or 0)
    else:
        cached = (
            _get(_sub(usage, "prompt_tokens_details"), "cached_tokens")
            or _get(_sub(usage, "input_tokens_details"), "cached_tokens")
            or 0
        )
    reasoning = (
        _get(_sub(usage, "completion_tokens_details"), "reasoning_tokens")
        or _get(_sub(usage, "output_tokens_details"), "reasoning_tokens")
        or 0
    )
    return _checked(inp, out, cached, reasoning)


def usage_from_metadata(metadata: Mapping[str, Any] | None) -> ReportedUsage | None:
    """Token usage reported in one metadata object, or ``None`` if none (or garbage)."""
    if not isinstance(metadata, Mapping):
        return None
    try:
        adk = metadata.get("adk_usage_metadata")
        if isinstance(adk, Mapping):
            found = _from_adk(adk)
            if found is not None:
                return found
        usage = metadata.get("usage")
        if isinstance(usage, Mapping):
            return _from_usage(usage)
    except _Garbage:
        return None
    return None


def adk_usage(metadata: Mapping[str, Any] | None) -> ReportedUsage | None:
    """The per-model-call ``adk_usage_metadata`` in ``metadata``, else ``None``."""
    if not isinstance(metadata, Mapping):
        return None
    adk = metadata.get("adk_usage_metadata")
    if not isinstance(adk, Mapping):
        return None
    try:
        return _from_adk(adk)
    except _Garbage:
        return None


def total_usage(metadata: Mapping[str, Any] | None) -> ReportedUsage | None:
    """The ``usage`` object (a running or final total) in ``metadata``, else ``None``."""
    if not isinstance(metadata, Mapping):
        return None
    usage = metadata.get("usage")
    if not isinstance(usage, Mapping):
        return None
    try:
        return _from_usage(usage)
    except _Garbage:
        return None


def add_usage(a: ReportedUsage, b: ReportedUsage) -> ReportedUsage:
    return ReportedUsage(
        input_tokens=a.input_tokens + b.input_tokens,
        output_tokens=a.output_tokens + b.output_tokens,
        cached_input_tokens=a.cached_input_tokens + b.cached_input_tokens,
        reasoning_tokens=a.reasoning_tokens + b.reasoning_tokens,
    )


class UsageTally:
    """Usage reported across the events of one call.

    Feed each event once with :meth:`event`, passing the metadata objects it
    carries (the event's own, its status message's, its artifact's).  Per-call
    ADK counts are added, one per event (an event repeating the same call's
    counts on its message or artifact is still one call); ``usage`` totals
    replace each other.  ADK counts, when there are any, give the result.
    """

    def __init__(self) -> None:
        self._adk: ReportedUsage | None = None
        self._total: ReportedUsage | None = None
        self.model: str | None = None

    def event(self, *metadata: Mapping[str, Any] | None) -> None:
        adk = next((u for u in map(adk_usage, metadata) if u is not None), None)
        if adk is not None:
            total = adk if self._adk is None else add_usage(self._adk, adk)
            if max(total.input_tokens, total.output_tokens) <= MAX_TOKENS:
                self._adk = total
        for meta in metadata:
            self._total = total_usage(meta) or self._total
            self.model = model_from_metadata(meta) or self.model

    @property
    def reported(self) -> bool:
        return self._adk is not None or self._total is not None

    @property
    def usage(self) -> ReportedUsage | None:
        return self._adk if self._adk is not None else self._total


def model_from_metadata(metadata: Mapping[str, Any] | None) -> str | None:
    """The model label reported in metadata (``{"model": "..."}``), else ``None``."""
    if not isinstance(metadata, Mapping):
        return None
    for key in _MODEL_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:_MAX_MODEL_LABEL]
    return None
