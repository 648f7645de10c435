"""Budgets per agent, per API key and per team, over a day or a month.

Periods are calendar days / months in the reporting time zone.  A hard budget
refuses a call once spend has reached it (the next call's cost is unknown until
it is made); any budget warns from ``warn_at`` (default 80 %) of its limit.
Stored in ``<home>/budgets.json``, written atomically like the registry.
"""

from __future__ import annotations

import json
import os
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

__all__ = ["Budget", "BudgetCheck", "Budgets", "period_start"]

Scope = Literal["agent", "api_key", "team"]
_COLUMN = {"agent": "agent_name", "api_key": "api_key_hash", "team": "team"}


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
        if self.period not in ("day", "month"):
            raise ConfigError("budget period must be 'day' or 'month'")
        try:
            limit = parse_price(self.limit_usd)
        except ValueError as exc:
            raise ConfigError(f"budget limit: {exc}") from None
        if limit is None:
            raise ConfigError("budget limit: required")
        object.__setattr__(self, "limit_usd", limit)

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
    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._items: list[Budget] = []
        if self.path.exists():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8") or "[]")
                self._items = [
                    Budget(
                        **{
                            **b,
                            "limit_usd": Decimal(str(b["limit_usd"])),
                            "warn_at": Decimal(str(b.get("warn_at", "0.8"))),
                        }
                    )  # fmt: skip
                    for b in data
                ]
            except (ValueError, TypeError, KeyError) as exc:
                raise ConfigError(f"{self.path}: not a valid budgets file ({exc})") from None

    def __iter__(self) -> Iterator[Budget]:
        return iter(self._items)

    def add(self, budget: Budget) -> None:
        self._items = [b for b in self._items if (b.scope, b.value, b.period) !=
                       (budget.scope, budget.value, budget.period)] + [budget]  # fmt: skip
        data = [
            {"scope": b.scope, "value": b.value, "limit_usd": format(b.limit_usd, "f"),
             "period": b.period, "hard": b.hard, "warn_at": format(b.warn_at, "f")}
            for b in self._items
        ]  # fmt: skip
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".budgets.", suffix=".tmp", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=2) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def applicable(self, agent_name: str, api_key: str, team: str) -> list[Budget]:
        mine = {"agent": agent_name, "api_key": key_hash(api_key), "team": team}
        return [b for b in self._items if mine[b.scope] and b.value == mine[b.scope]]

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
            BudgetCheck(b, _spent(log, b, period_start(now, b.period, tz))) for b in self._items
        ]

    @staticmethod
    def enforce(checks: Sequence[BudgetCheck]) -> list[str]:
        """Raise for a hard budget reached; return warnings for the others."""
        for c in checks:
            if c.budget.hard and c.over:
                raise BudgetExceeded(f"call refused: {c.message()}")
        return [c.message() for c in checks if c.warn]


def _spent(log: EventLog, budget: Budget, since: datetime) -> Decimal:
    date_from = since.strftime("%Y-%m-%d")
    flt = (
        (ds.field("date") >= date_from)
        & (ds.field("timestamp") >= since)
        & (ds.field(_COLUMN[budget.scope]) == budget.value)
    )
    table = log.read(["cost_usd"], filter=flt)
    total = pc.sum(table.column("cost_usd")).as_py()
    return Decimal(total) if total is not None else Decimal(0)
