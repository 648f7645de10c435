"""API keys: only a masked form and a stable hash ever leave memory.

``key_hash`` is an unsalted SHA-256 prefix, so the same key groups the same in
every log, home and budget file.  It hides a long random key, but not a short
or guessable one: a key of a few characters can be recovered from its hash by
trying them all.  Treat ``api_key_hash`` as sensitive for such keys.
"""

from __future__ import annotations

import hashlib

__all__ = ["key_hash", "mask_key"]

# How much of a key its mask shows: the fewer characters it has, the fewer it gives away.
_SHOW_SOME = 12  # shorter: nothing ("****")
_SHOW_PREFIX = 24  # shorter: only the last 4 ("…wxyz"); longer: "sk-…wxyz"


def mask_key(key: str | None) -> str:
    """A form safe to show and store: ``sk-…wxyz``, ``…wxyz`` or ``****`` by length.

    A key under 12 characters shows nothing, under 24 only its last 4 (for a
    16-character key, 7 shown would be nearly half of it).  Control and other
    unprintable characters are never part of a mask (they would reach the log,
    the dashboard and CSV exports).
    """
    if not key:
        return ""
    shown = "".join(ch for ch in key if ch.isprintable()).strip()
    if len(shown) < _SHOW_SOME:
        return "****"
    if len(shown) < _SHOW_PREFIX:
        return f"…{shown[-4:]}"
    return f"{shown[:3]}…{shown[-4:]}"


def key_hash(key: str | None) -> str:
    """Stable, one-way id for grouping spend per key (first 16 hex of SHA-256).

    Unsalted on purpose (see the module docstring): budgets.json, the event log
    and the dashboard's key filter all compare these values.
    """
    if not key:
        return ""
    return hashlib.sha256(key.strip().encode()).hexdigest()[:16]
