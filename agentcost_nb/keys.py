"""API keys: only a masked form and a stable hash ever leave memory."""

from __future__ import annotations

import hashlib

__all__ = ["key_hash", "mask_key"]


def mask_key(key: str | None) -> str:
    """A form safe to show and store: ``sk-…wxyz`` for long keys, ``****`` for short ones.

    Short keys reveal nothing: showing 4 of 8 characters would leak half the secret.
    """
    if not key:
        return ""
    key = key.strip()
    if len(key) < 16:
        return "****"
    return f"{key[:3]}…{key[-4:]}"


def key_hash(key: str | None) -> str:
    """Stable, one-way id for grouping spend per key (first 16 hex of SHA-256)."""
    if not key:
        return ""
    return hashlib.sha256(key.strip().encode()).hexdigest()[:16]
