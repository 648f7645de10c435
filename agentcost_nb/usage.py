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

Garbage (negative, fractional, bool, NaN, strings, a cached or reasoning count
larger than its total) gives ``None``, never an exception: a bad report must
not break a call. Whole floats are accepted because metadata travels as a
protobuf ``Struct``, which turns every number into a double (``10`` -> ``10.0``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from agentcost_nb.client.types import ReportedUsage

__all__ = ["model_from_metadata", "usage_from_metadata"]

_MODEL_KEYS = ("model", "model_name", "modelVersion", "model_version")
_MAX_MODEL_LABEL = 200


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
    if n < 0:
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


def model_from_metadata(metadata: Mapping[str, Any] | None) -> str | None:
    """The model label reported in metadata (``{"model": "..."}``), else ``None``."""
    if not isinstance(metadata, Mapping):
        return None
    for key in _MODEL_KEYS:
        value = metadata.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()[:_MAX_MODEL_LABEL]
    return None
