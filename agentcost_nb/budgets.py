"""Budgets per agent, per API key and per team, over a day or a month.

Periods are calendar days / months in the reporting time zone.  A hard budget
refuses a call once spend has reached it (the next call's cost is unknown until
it is made); any budget warns from ``warn_at`` (default 80 %) of its limit.
Stored in ``<home>/budgets.json``, written atomically like the registry.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pyarrow.compute as pc
import pyarrow.dataset as ds

from .errors import BudgetExceeded, ConfigError
from .eventlog import EventLog
from .keys import key_hash
from .pricing import format_usd, parse_price
from .text import unprintable

__all__ = ["Budget", "BudgetCheck", "Budgets", "period_start"]

Scope = Literal["agent", "api_key", "team"]
_COLUMN = {"agent": "agent_name", "api_key": "api_key_hash", "team": "team"}


_KEY_HASH = re.compile(r"[0-9a-f]{16}")  # what keys.key_hash gives


@dataclass(frozen=True)
class Budget:
    scope: Scope
    value: str  # agent name, key hash (see for_key) or team
    limit_usd: Decimal
    period: Literal["day", "month"] = "month"
    hard: bool = True
    warn_at: Decimal = Decimal("0.8")

    def __post_init__(self) -> None:
        if self.scope not in _COLUMN:
            raise ConfigError(f"budget scope must be one of {', '.join(_COLUMN)}")
        # An empty value would never match a call: a budget that can never apply.
        if not isinstance(self.value, str) or not self.value.strip():
            what = {"agent": "an Agent Name", "api_key": "a key", "team": "a team"}[self.scope]
            raise ConfigError(f"budget value: give {what}; an empty one never applies")
        if unprintable(self.value):
            raise ConfigError("budget value: must not contain control characters")
        if self.scope == "api_key" and not _KEY_HASH.fullmatch(self.value):
            # A raw key (Budget("api_key", "sk-…") or a hand-edited file): keep only its
            # hash, as events do, so it matches calls and is never stored or shown.
            object.__setattr__(self, "value", key_hash(self.value))
        if self.period not in ("day", "month"):
            raise ConfigError("budget period must be 'day' or 'month'")
        if not isinstance(self.hard, bool):
            raise ConfigError("budget hard: must be true or false")
        try:
            limit = parse_price(self.limit_usd)
            warn_at = parse_price(self.warn_at)
        except ValueError as exc:
            raise ConfigError(f"budget limit: {exc}") from None
        if limit is None:
            raise ConfigError("budget limit: required")
        if warn_at is None or not 0 < warn_at <= 1:
            raise ConfigError("budget warn_at: must be a fraction above 0, at most 1 (0.8 = 80 %)")
        object.__setattr__(self, "limit_usd", limit)
        object.__setattr__(self, "warn_at", warn_at)

    @property
    def key(self) -> tuple[str, str, str]:
        """What makes two budgets the same one (agent names ignore case, as in the registry)."""
        value = self.value.casefold() if self.scope == "agent" else self.value
        return (self.scope, value, self.period)

    def applies_to(self, agent_name: str, api_key_hash: str, team: str) -> bool:
        if self.scope == "agent":
            return self.value.casefold() == agent_name.casefold()
        return self.value == (api_key_hash if self.scope == "api_key" else team)

    @classmethod
    def for_key(cls, api_key: str, limit_usd: Decimal, **kw: object) -> Budget:
        """A budget for an API key, stored by its one-way hash (never the key)."""
        return cls("api_key", key_hash(api_key), limit_usd, **kw)  # type: ignore[arg-type]

    @property
    def label(self) -> str:
        who = {"agent": "agent", "api_key": "API key", "team": "team"}[self.scope]
        return f"{who} {self.value!r} {'daily' if self.period == 'day' else 'monthly'} budget"


@dataclass(frozen=True)
class BudgetCheck:
    budget: Budget
    spent: Decimal

    @property
    def over(self) -> bool:
        return self.spent >= self.budget.limit_usd

    @property
    def warn(self) -> bool:
        return self.spent >= self.budget.limit_usd * self.budget.warn_at

    def message(self) -> str:
        b = self.budget
        state = "reached" if self.over else "nearly reached"
        return f"{b.label} {state}: {format_usd(self.spent)} of {format_usd(b.limit_usd)} spent"


def period_start(now: datetime, period: str, tz: str | None) -> datetime:
    """Start of the current day or month in ``tz``, as a UTC instant."""
    try:
        zone = ZoneInfo(tz) if tz else datetime.now().astimezone().tzinfo
    except ZoneInfoNotFoundError:
        raise ConfigError(f"unknown time zone {tz!r}") from None
    local = now.astimezone(zone)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "month":
        start = start.replace(day=1)
    # Re-attach the zone so a DST change between then and now is honoured.
    return start.replace(tzinfo=None).replace(tzinfo=zone).astimezone(UTC)


class Budgets:
    """The budgets in one file, re-read when it changes (``budgets set`` from the CLI
    applies to a kernel that is already running)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._items: list[Budget] = []
        self._stamp = self._file_stamp()
        self._items = self._load()

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size)

    def _fresh(self) -> list[Budget]:
        stamp = self._file_stamp()
        if stamp != self._stamp:
            self._items, self._stamp = self._load(), stamp
        return self._items

    def _load(self) -> list[Budget]:
        items: list[Budget] = []
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return items
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise ConfigError(f"{self.path}: cannot read: {reason}") from None
        try:
            data = json.loads(text or "[]", parse_float=Decimal, parse_constant=Decimal)
        except (ValueError, RecursionError) as exc:
            raise ConfigError(
                f"{self.path}: not a valid budgets file ({_first_line(exc)})"
            ) from None
        if not isinstance(data, list) or not all(isinstance(b, dict) for b in data):
            raise ConfigError(f"{self.path}: not a valid budgets file (expected a list of objects)")
        for i, b in enumerate(data):
            try:
                items.append(Budget(**b))
            except (ConfigError, TypeError) as exc:
                raise ConfigError(f"{self.path}: budget {i + 1}: {exc}") from None
        if any(b.get("value") != item.value for b, item in zip(data, items, strict=True)):
            self._write(items)  # a raw key was written into the file: keep only its hash
        return items

    def __iter__(self) -> Iterator[Budget]:
        return iter(self._fresh())

    def add(self, budget: Budget) -> None:
        """Set ``budget``, replacing one for the same scope, value and period."""
        items = [b for b in self._fresh() if b.key != budget.key] + [budget]
        self._write(items)
        self._items, self._stamp = items, self._file_stamp()

    def _write(self, items: list[Budget]) -> None:
        data = [
            {"scope": b.scope, "value": b.value, "limit_usd": format(b.limit_usd, "f"),
             "period": b.period, "hard": b.hard, "warn_at": format(b.warn_at, "f")}
            for b in items
        ]  # fmt: skip
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".budgets.", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(json.dumps(data, indent=2) + "\n")
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot write: {exc.strerror or exc}") from None

    def applicable(self, agent_name: str, api_key: str, team: str) -> list[Budget]:
        hashed = key_hash(api_key)
        return [b for b in self._fresh() if b.applies_to(agent_name, hashed, team)]

    def check(
        self,
        log: EventLog,
        *,
        agent_name: str,
        api_key: str = "",
        team: str = "",
        now: datetime | None = None,
        tz: str | None = None,
    ) -> list[BudgetCheck]:
        now = now or datetime.now(UTC)
        return [
            BudgetCheck(b, _spent(log, b, period_start(now, b.period, tz)))
            for b in self.applicable(agent_name, api_key, team)
        ]

    def status(
        self, log: EventLog, *, now: datetime | None = None, tz: str | None = None
    ) -> list[BudgetCheck]:
        """Every budget with its spend so far in the current period."""
        now = now or datetime.now(UTC)
        return [
            BudgetCheck(b, _spent(log, b, period_start(now, b.period, tz))) for b in self._fresh()
        ]

    @staticmethod
    def enforce(checks: Sequence[BudgetCheck]) -> list[str]:
        """Raise for a hard budget reached; return warnings for the others."""
        for c in checks:
            if c.budget.hard and c.over:
                raise BudgetExceeded(f"call refused: {c.message()}")
        return [c.message() for c in checks if c.warn]


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


def _spent(log: EventLog, budget: Budget, since: datetime) -> Decimal:
    date_from = since.strftime("%Y-%m-%d")
    column = ds.field(_COLUMN[budget.scope])
    if budget.scope == "agent":  # Agent Names are ASCII, so lower() is the registry's casefold
        match = pc.utf8_lower(column) == budget.value.lower()
    else:
        match = column == budget.value
    flt = (ds.field("date") >= date_from) & (ds.field("timestamp") >= since) & match
    table = log.read(["cost_usd"], filter=flt)
    total = pc.sum(table.column("cost_usd")).as_py()
    return Decimal(total) if total is not None else Decimal(0)
