"""The priced event: one row per agent call, and its fixed Arrow schema.

Pure: no file or network I/O.  The schema is the documented interface of the
Parquet log (see README "Event schema"); change it only by adding nullable
columns and bumping ``SCHEMA_VERSION``.
"""

from __future__ import annotations

import operator
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from .pricing import MONEY_PLACES, PRICE_FIELDS, CostBreakdown, PriceSheet, TokenUsage

__all__ = [
    "COST_PART_FIELDS",
    "EVENT_SCHEMA",
    "MONEY_TYPE",
    "SCHEMA_VERSION",
    "Event",
    "events_to_table",
    "new_event_id",
]

SCHEMA_VERSION = 1
MONEY_TYPE = pa.decimal128(38, MONEY_PLACES)

COST_PART_FIELDS: tuple[str, ...] = (
    "cost_query_usd",
    "cost_input_usd",
    "cost_cached_input_usd",
    "cost_output_usd",
    "cost_reasoning_usd",
)

EVENT_SCHEMA = pa.schema(
    [
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("timestamp", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("agent_name", pa.string(), nullable=False),
        pa.field("display_name", pa.string()),
        pa.field("endpoint", pa.string()),  # URL the call was sent to
        pa.field("protocol", pa.string()),  # a2a-1.0 | a2a-0.3 | openai-chat
        pa.field("model", pa.string()),
        pa.field("api_key", pa.string()),  # masked, never the secret
        pa.field("api_key_hash", pa.string()),  # stable one-way id for grouping
        pa.field("team", pa.string()),
        pa.field("project", pa.string()),
        pa.field("tags", pa.list_(pa.string())),
        pa.field("status", pa.string(), nullable=False),
        pa.field("error_type", pa.string()),
        pa.field("error", pa.string()),
        pa.field("http_status", pa.int32()),
        pa.field("attempts", pa.int32()),
        pa.field("input_tokens", pa.int64()),
        pa.field("output_tokens", pa.int64()),
        pa.field("cached_input_tokens", pa.int64()),
        pa.field("reasoning_tokens", pa.int64()),
        pa.field("token_source", pa.string()),  # reported | counted | estimated
        pa.field("latency_ms", pa.float64()),
        pa.field("context_id", pa.string()),
        pa.field("task_id", pa.string()),
        pa.field("task_state", pa.string()),  # completed | input-required | failed | ...
        pa.field("price_effective_from", pa.timestamp("us", tz="UTC")),
        *(pa.field(name, MONEY_TYPE) for name in PRICE_FIELDS),
        *(pa.field(name, MONEY_TYPE) for name in COST_PART_FIELDS),
        pa.field("cost_usd", MONEY_TYPE),  # null = unpriced, never a silent 0
        pa.field("schema_version", pa.int16(), nullable=False),
    ],
    metadata={"agentcost_nb.schema_version": str(SCHEMA_VERSION)},
)


_INT_LIMITS = {
    "http_status": 2**31 - 1,
    "attempts": 2**31 - 1,
    "input_tokens": 2**63 - 1,
    "output_tokens": 2**63 - 1,
    "cached_input_tokens": 2**63 - 1,
    "reasoning_tokens": 2**63 - 1,
}
_MONEY_FIELDS = (*PRICE_FIELDS, *COST_PART_FIELDS, "cost_usd")
_MONEY_LIMIT = Decimal(10) ** (38 - MONEY_PLACES)  # decimal128(38, 18) holds |x| < 1e20


def _fits_int(value: Any, limit: int) -> bool:
    if value is None:
        return True
    if isinstance(value, bool):
        return False
    try:
        n = operator.index(value)  # int, or a NumPy integer from a DataFrame row
    except TypeError:
        return False
    return 0 <= n <= limit


def _fits_money(value: object) -> bool:
    if value is None:
        return True
    return isinstance(value, Decimal) and value.is_finite() and abs(value) < _MONEY_LIMIT


def new_event_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Event:
    """One priced call.  Build with :meth:`priced`; every field maps to a column."""

    agent_name: str
    status: str
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    event_id: str = field(default_factory=new_event_id)
    display_name: str | None = None
    endpoint: str | None = None
    protocol: str | None = None
    model: str | None = None
    api_key: str | None = None
    api_key_hash: str | None = None
    team: str | None = None
    project: str | None = None
    tags: tuple[str, ...] = ()
    error_type: str | None = None
    error: str | None = None
    http_status: int | None = None
    attempts: int = 1
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    token_source: str | None = None
    latency_ms: float | None = None
    context_id: str | None = None
    task_id: str | None = None
    task_state: str | None = None
    price_effective_from: datetime | None = None
    cost_per_query: Decimal | None = None
    input_cost_per_token: Decimal | None = None
    output_cost_per_token: Decimal | None = None
    cached_input_cost_per_token: Decimal | None = None
    reasoning_cost_per_token: Decimal | None = None
    cost_query_usd: Decimal | None = None
    cost_input_usd: Decimal | None = None
    cost_cached_input_usd: Decimal | None = None
    cost_output_usd: Decimal | None = None
    cost_reasoning_usd: Decimal | None = None
    cost_usd: Decimal | None = None
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if self.timestamp.tzinfo is None:
            raise ValueError("event timestamp must be timezone-aware")
        object.__setattr__(self, "timestamp", self.timestamp.astimezone(UTC))
        # Refuse here what the log's columns cannot hold: such an event would
        # otherwise only fail inside a later batch write.
        for name, limit in _INT_LIMITS.items():
            value = getattr(self, name)
            if not _fits_int(value, limit):
                raise ValueError(
                    f"event {name} must be a whole number in 0..{limit}, got {value!r}"
                )
        for name in _MONEY_FIELDS:
            value = getattr(self, name)
            if not _fits_money(value):
                raise ValueError(f"event {name} must be a finite Decimal below 1e20, got {value!r}")

    @classmethod
    def priced(
        cls,
        *,
        sheet: PriceSheet | None,
        usage: TokenUsage,
        cost: CostBreakdown | None,
        **columns: Any,
    ) -> Event:
        """An event carrying the unit prices applied and each cost part."""
        prices: dict[str, Any] = {}
        if sheet is not None:
            prices = dict(sheet.prices(), price_effective_from=sheet.effective_from)
        parts: dict[str, Any] = {}
        if cost is not None:
            parts = {
                "cost_query_usd": cost.query,
                "cost_input_usd": cost.input,
                "cost_cached_input_usd": cost.cached_input,
                "cost_output_usd": cost.output,
                "cost_reasoning_usd": cost.reasoning,
                "cost_usd": cost.total,
            }
        return cls(
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cached_input_tokens=usage.cached_input_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            **prices,
            **parts,
            **columns,
        )

    @property
    def date(self) -> str:
        """The UTC date partition this event belongs to (YYYY-MM-DD)."""
        return self.timestamp.strftime("%Y-%m-%d")

    def as_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["tags"] = list(self.tags)
        return row


def _column(rows: Sequence[Event | Mapping[str, Any]], name: str, events_only: bool) -> list[Any]:
    """One column's values: attributes of events, keys of mappings (missing = null)."""
    if events_only:
        return list(map(operator.attrgetter(name), rows))
    return [getattr(r, name) if isinstance(r, Event) else r.get(name) for r in rows]


def events_to_table(events: Iterable[Event | Mapping[str, Any]]) -> pa.Table:
    """Rows in the fixed schema; never guesses types from the data.

    Column by column (one typed ``pa.array`` per schema field), not row dicts: the
    same values and types as ``Table.from_pylist(rows, schema=EVENT_SCHEMA)``, many
    times faster.  Money goes from ``Decimal`` to ``decimal128(38, 18)`` exactly.
    """
    rows: Sequence[Event | Mapping[str, Any]] = list(events)
    events_only = all(isinstance(r, Event) for r in rows)
    arrays = [pa.array(_column(rows, f.name, events_only), type=f.type) for f in EVENT_SCHEMA]
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)
