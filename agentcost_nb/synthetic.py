"""Deterministic synthetic events for sample data, tests and benchmarks.

Vectorised with numpy and Arrow (no ``Event`` object per row), so ten million rows
take seconds, not hours.  Costs are computed with Arrow's exact decimal arithmetic
by the same rules as :func:`agentcost_nb.pricing.compute_cost`: each part is
``tokens × unit price``, cached and reasoning tokens are charged at their own rate
only when one is set, a part without a price is $0, and an agent with no price at
all is unpriced (``cost_usd`` null).  Failed calls are billed by the agent's
failure policy, as :mod:`agentcost_nb.billing` does.

The same ``n``, ``seed``, ``end``, agents and ``batch_size`` give the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .eventlog import EventLog
from .events import EVENT_SCHEMA, MONEY_TYPE, SCHEMA_VERSION
from .keys import key_hash, mask_key
from .pricing import PriceSheet

__all__ = [
    "DEFAULT_AGENTS",
    "DEFAULT_CALLERS",
    "SyntheticAgent",
    "SyntheticCaller",
    "generate_events",
    "write_synthetic",
]

# tokens (< 1e12, 12 digits) × price (< $100, 20 digits with 18 places) fits
# decimal128(33, 18); five such parts summed fit the schema's decimal128(38, 18).
_TOKENS_TYPE = pa.decimal128(12, 0)
_PRICE_TYPE = pa.decimal128(20, 18)
_MAX_TOKENS = 10**12 - 1


@dataclass(frozen=True)
class SyntheticAgent:
    """How one fake agent is called, answers and is priced."""

    name: str
    display_name: str
    sheet: PriceSheet
    models: tuple[str, ...] = ()
    weight: float = 1.0
    input_tokens_median: int = 800
    output_tokens_median: int = 300
    cached_share: float = 0.0  # mean share of input tokens served from cache
    reasoning_share: float = 0.0  # mean share of output tokens spent reasoning
    latency_ms_median: float = 1500.0
    charge_query_on_failure: bool = False
    charge_input_on_failure: bool = False
    endpoint: str = ""
    protocol: str = "a2a-1.0"


_SINCE = datetime(2025, 1, 1, tzinfo=UTC)

DEFAULT_AGENTS: tuple[SyntheticAgent, ...] = (
    SyntheticAgent(
        name="research-agent",
        display_name="Research Agent",
        sheet=PriceSheet(
            input_cost_per_token=Decimal("0.000002"),
            cached_input_cost_per_token=Decimal("0.0000005"),
            output_cost_per_token=Decimal("0.000008"),
            effective_from=_SINCE,
        ),
        models=("gpt-4.1", "gpt-4.1-mini"),
        weight=3.0,
        input_tokens_median=2400,
        output_tokens_median=700,
        cached_share=0.3,
        latency_ms_median=4200.0,
        endpoint="https://research.agents.example/a2a",
    ),
    SyntheticAgent(
        name="support-bot",
        display_name="Support Bot",
        sheet=PriceSheet(cost_per_query=Decimal("0.05"), effective_from=_SINCE),
        models=("support-bot-v2",),
        weight=4.0,
        input_tokens_median=300,
        output_tokens_median=180,
        latency_ms_median=900.0,
        charge_query_on_failure=True,
        endpoint="https://support.agents.example/a2a",
    ),
    SyntheticAgent(
        name="code-reviewer",
        display_name="Code Reviewer",
        sheet=PriceSheet(
            cost_per_query=Decimal("0.01"),
            input_cost_per_token=Decimal("0.000003"),
            output_cost_per_token=Decimal("0.000015"),
            reasoning_cost_per_token=Decimal("0.00001"),
            effective_from=_SINCE,
        ),
        models=("claude-sonnet-4",),
        weight=2.0,
        input_tokens_median=6000,
        output_tokens_median=1200,
        reasoning_share=0.4,
        latency_ms_median=9000.0,
        charge_input_on_failure=True,
        endpoint="https://review.agents.example/a2a",
    ),
    SyntheticAgent(
        name="summarizer",
        display_name="Summarizer",
        sheet=PriceSheet(
            input_cost_per_token=Decimal("0.000000075"),
            output_cost_per_token=Decimal("0.0000003"),
            effective_from=_SINCE,
        ),
        models=("gemini-2.5-flash",),
        weight=3.0,
        input_tokens_median=5000,
        output_tokens_median=400,
        latency_ms_median=1200.0,
        endpoint="https://summarize.agents.example/a2a",
        protocol="a2a-0.3",
    ),
    SyntheticAgent(
        name="legacy-agent",
        display_name="Legacy Agent (unpriced)",
        sheet=PriceSheet(),
        weight=0.5,
        latency_ms_median=2500.0,
        endpoint="https://legacy.agents.example/chat",
        protocol="openai-chat",
    ),
)


@dataclass(frozen=True)
class SyntheticCaller:
    """Who makes the calls: a fake key (only its mask and hash reach events), team, project."""

    key: str
    team: str | None
    project: str | None
    weight: float = 1.0
    masked: str = field(init=False)
    hashed: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "masked", mask_key(self.key))
        object.__setattr__(self, "hashed", key_hash(self.key))


DEFAULT_CALLERS: tuple[SyntheticCaller, ...] = (
    SyntheticCaller("sk-synthetic-growth-0001-abcd", "growth", "onboarding", 3.0),
    SyntheticCaller("sk-synthetic-growth-0002-efgh", "growth", "churn-study", 1.0),
    SyntheticCaller("sk-synthetic-platform-003-ijkl", "platform", "code-health", 2.0),
    SyntheticCaller("sk-synthetic-support-004-mnop", "support", "helpdesk", 4.0),
    SyntheticCaller("sk-synthetic-research-05-qrst", "research", None, 1.0),
    SyntheticCaller("sk-synthetic-notebook-06-uvwx", None, None, 0.5),
)

# (status, error_type, http_status, task_state, message, weight)
_FAILURES: tuple[tuple[str, str, int | None, str | None, str, float], ...] = (
    ("error", "http_status", 502, None, "HTTP 502 from the agent", 3.0),
    ("error", "http_status", 503, None, "HTTP 503 from the agent", 2.0),
    ("error", "task_failed", 200, "failed", "the agent reported the task as failed", 2.0),
    ("error", "jsonrpc", 200, None, "JSON-RPC error -32603: internal error", 1.0),
    ("error", "connect", None, None, "could not connect to the agent", 1.0),
    ("timeout", "timeout", None, None, "no answer within 30 s", 2.0),
    ("canceled", "canceled", None, None, "canceled by the user", 0.5),
)

# Relative traffic per UTC hour (busy in the European and American working day).
_HOURLY = np.array(
    [2, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 10, 11, 12, 12, 11, 9, 7, 6, 5, 4, 3, 2], float
)
_WEEKDAY = np.array([1.0, 1.0, 1.0, 1.0, 0.9, 0.35, 0.3])  # Monday first


def _weights(values: Sequence[float]) -> np.ndarray:
    w = np.asarray(values, dtype=float)
    return w / w.sum()


def _hex_ids(rng: np.random.Generator, n: int) -> pa.Array:
    """``n`` random 32-hex-digit ids, built without a Python loop."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16)
    digits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    text = np.empty((n, 32), dtype=np.uint8)
    text[:, 0::2] = digits[raw >> 4]
    text[:, 1::2] = digits[raw & 15]
    offsets = np.arange(0, 32 * (n + 1), 32, dtype=np.int32)
    return pa.Array.from_buffers(
        pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(text.tobytes())]
    )


def _lognormal_ints(
    rng: np.random.Generator, medians: np.ndarray, sigma: float, low: int = 1
) -> np.ndarray:
    values = medians * rng.lognormal(0.0, sigma, size=len(medians))
    return np.clip(np.rint(values), low, _MAX_TOKENS).astype(np.int64)


def _share(rng: np.random.Generator, tokens: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """A random subset count of ``tokens`` with mean share ``shares``."""
    fraction = np.clip(rng.uniform(0.0, 2.0, size=len(tokens)) * shares, 0.0, 1.0)
    return np.minimum(np.floor(tokens * fraction).astype(np.int64), tokens)


def _part(tokens: np.ndarray, prices: pa.Array) -> pa.Array:
    """Exact ``tokens × price`` per row; a missing price is $0."""
    product = pc.multiply(pa.array(tokens).cast(pa.decimal128(19, 0)).cast(_TOKENS_TYPE), prices)
    return pc.fill_null(product, pa.scalar(Decimal(0), product.type))


def _slot_times(u: np.ndarray, start: datetime, hours: int) -> np.ndarray:
    """Map sorted uniform draws in [0, 1) to instants (µs since epoch) after ``start``,
    busier on weekday working hours."""
    hour_of_week = (start.weekday() * 24 + start.hour + np.arange(hours)) % (7 * 24)
    weights = _HOURLY[hour_of_week % 24] * _WEEKDAY[hour_of_week // 24]
    cdf = np.concatenate([[0.0], np.cumsum(weights)])
    cdf /= cdf[-1]
    slot = np.clip(np.searchsorted(cdf, u, side="right") - 1, 0, hours - 1)
    within = (u - cdf[slot]) / (cdf[slot + 1] - cdf[slot])
    offset_us = np.floor((slot + within) * 3_600_000_000).astype(np.int64)
    return int(start.timestamp()) * 1_000_000 + start.microsecond + offset_us


def generate_events(
    n: int,
    *,
    agents: Sequence[SyntheticAgent] = DEFAULT_AGENTS,
    callers: Sequence[SyntheticCaller] = DEFAULT_CALLERS,
    days: int = 90,
    end: datetime | None = None,
    seed: int = 0,
    failure_rate: float = 0.05,
    batch_size: int = 100_000,
) -> Iterator[pa.Table]:
    """``n`` events in ``EVENT_SCHEMA``, in time order, as tables of ``batch_size`` rows.

    Events fall in the ``days`` × 24 hours before ``end`` (default: the current hour,
    UTC); pass ``end`` for data that does not depend on the clock.
    """
    if n < 0 or days < 1 or batch_size < 1 or not agents:
        raise ValueError("need n ≥ 0, days ≥ 1, batch_size ≥ 1 and at least one agent")
    if not 0.0 <= failure_rate <= 1.0:
        raise ValueError("failure_rate must be between 0 and 1")
    if end is None:
        end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    if end.tzinfo is None:
        raise ValueError("end must be timezone-aware")
    end = end.astimezone(UTC)
    start = end - timedelta(days=days)
    rng = np.random.default_rng(seed)

    a = _AgentArrays(agents)
    caller_w = _weights([c.weight for c in callers])
    failure_w = _weights([f[-1] for f in _FAILURES])
    end_us = int(end.timestamp() * 1_000_000)

    for first in range(0, n, batch_size):
        m = min(batch_size, n - first)
        # Sorted uniform draws for this slice of the period: batches are in time order,
        # so writing one batch touches only a few UTC date partitions.
        u = np.sort(rng.uniform(first / n, (first + m) / n, size=m))
        micros = np.minimum(_slot_times(u, start, days * 24), end_us - 1)
        ag = rng.choice(len(agents), size=m, p=a.weights)
        who = rng.choice(len(callers), size=m, p=caller_w)
        failed = rng.random(m) < failure_rate
        how = rng.choice(len(_FAILURES), size=m, p=failure_w)

        inp = _lognormal_ints(rng, a.input_median[ag], 0.7)
        # A failed task may have produced some output before failing; other failures none.
        task_failed = np.array([f[1] == "task_failed" for f in _FAILURES])[how]
        out = np.where(failed & ~task_failed, 0, _lognormal_ints(rng, a.output_median[ag], 0.6))
        cached = _share(rng, inp, a.cached_share[ag])
        reasoning = _share(rng, out, a.reasoning_share[ag])
        latency = np.round(a.latency_median[ag] * rng.lognormal(0.0, 0.5, size=m), 1)
        is_timeout = failed & (np.array([f[0] for f in _FAILURES])[how] == "timeout")
        latency = np.where(is_timeout, 30_000.0, latency)

        yield _table(
            m=m,
            rng=rng,
            a=a,
            ag=ag,
            callers=callers,
            who=who,
            failed=failed,
            how=how,
            micros=micros,
            inp=inp,
            out=out,
            cached=cached,
            reasoning=reasoning,
            latency=latency,
        )


class _AgentArrays:
    """Per-agent attributes as arrays, indexed by agent number."""

    def __init__(self, agents: Sequence[SyntheticAgent]) -> None:
        self.agents = agents
        self.weights = _weights([x.weight for x in agents])
        self.input_median = np.array([x.input_tokens_median for x in agents], float)
        self.output_median = np.array([x.output_tokens_median for x in agents], float)
        self.cached_share = np.array([x.cached_share for x in agents], float)
        self.reasoning_share = np.array([x.reasoning_share for x in agents], float)
        self.latency_median = np.array([x.latency_ms_median for x in agents], float)
        self.priced = np.array([x.sheet.is_priced for x in agents])
        self.q_on_fail = np.array([x.charge_query_on_failure for x in agents])
        self.in_on_fail = np.array([x.charge_input_on_failure for x in agents])
        self.has_cached_rate = np.array(
            [x.sheet.cached_input_cost_per_token is not None for x in agents]
        )
        self.has_reasoning_rate = np.array(
            [x.sheet.reasoning_cost_per_token is not None for x in agents]
        )

    def prices(self, name: str, type_: pa.DataType = _PRICE_TYPE) -> pa.Array:
        return pa.array([getattr(x.sheet, name) for x in self.agents], type_)

    def strings(self, values: Sequence[str | None]) -> pa.Array:
        return pa.array(list(values), pa.string())


def _table(
    *,
    m: int,
    rng: np.random.Generator,
    a: _AgentArrays,
    ag: np.ndarray,
    callers: Sequence[SyntheticCaller],
    who: np.ndarray,
    failed: np.ndarray,
    how: np.ndarray,
    micros: np.ndarray,
    inp: np.ndarray,
    out: np.ndarray,
    cached: np.ndarray,
    reasoning: np.ndarray,
    latency: np.ndarray,
) -> pa.Table:
    idx = pa.array(ag.astype(np.int32))
    caller_idx = pa.array(who.astype(np.int32))
    ok = ~failed

    # Billing, as in billing.price_reply + pricing.compute_cost.
    charge_query = ok | a.q_on_fail[ag]
    charge_input = ok | a.in_on_fail[ag]
    charge_output = ok
    cached_billed = np.where(a.has_cached_rate[ag], cached, 0)
    reasoning_billed = np.where(a.has_reasoning_rate[ag], reasoning, 0)
    zero = np.zeros(m, dtype=np.int64)
    query_price = pc.fill_null(
        a.prices("cost_per_query").take(idx), pa.scalar(Decimal(0), _PRICE_TYPE)
    )
    parts = {
        "cost_query_usd": pc.if_else(
            pa.array(charge_query), query_price, pa.scalar(Decimal(0), _PRICE_TYPE)
        ),
        "cost_input_usd": _part(
            np.where(charge_input, inp - cached_billed, zero),
            a.prices("input_cost_per_token").take(idx),
        ),
        "cost_cached_input_usd": _part(
            np.where(charge_input, cached_billed, zero),
            a.prices("cached_input_cost_per_token").take(idx),
        ),
        "cost_output_usd": _part(
            np.where(charge_output, out - reasoning_billed, zero),
            a.prices("output_cost_per_token").take(idx),
        ),
        "cost_reasoning_usd": _part(
            np.where(charge_output, reasoning_billed, zero),
            a.prices("reasoning_cost_per_token").take(idx),
        ),
    }
    total: Any = parts["cost_query_usd"]
    for name in (
        "cost_input_usd",
        "cost_cached_input_usd",
        "cost_output_usd",
        "cost_reasoning_usd",
    ):
        total = pc.add(total, parts[name])
    priced = pa.array(a.priced[ag])
    null_money = pa.scalar(None, MONEY_TYPE)
    columns: dict[str, Any] = {
        name: pc.if_else(priced, value.cast(MONEY_TYPE), null_money)
        for name, value in parts.items()
    }
    columns["cost_usd"] = pc.if_else(priced, total.cast(MONEY_TYPE), null_money)

    failure = _FAILURES
    fail_idx = pa.array(how.astype(np.int32))
    failed_arr = pa.array(failed)
    status = pc.if_else(
        failed_arr, pa.array([f[0] for f in failure]).take(fail_idx), pa.scalar("success")
    )
    models = [x.models or (None,) for x in a.agents]
    model_pick = (rng.random(m) * np.array([len(ms) for ms in models])[ag]).astype(np.int64)
    flat_models = [mo for ms in models for mo in ms]
    model_offsets = np.cumsum([0] + [len(ms) for ms in models])[:-1]
    model_idx = pa.array((model_offsets[ag] + model_pick).astype(np.int32))
    ts_type = pa.timestamp("us", tz="UTC")
    price_from = pa.array(
        [x.sheet.effective_from if x.sheet.is_priced else None for x in a.agents], ts_type
    )
    retried = rng.random(m) < 0.02

    def when_failed(values: Sequence[Any], type_: pa.DataType, ok_value: Any = None) -> pa.Array:
        return pc.if_else(
            failed_arr, pa.array(list(values), type_).take(fail_idx), pa.scalar(ok_value, type_)
        )

    data: dict[str, Any] = {
        "event_id": _hex_ids(rng, m),
        "timestamp": pa.array(micros, pa.int64()).cast(ts_type),
        "agent_name": a.strings([x.name for x in a.agents]).take(idx),
        "display_name": a.strings([x.display_name for x in a.agents]).take(idx),
        "endpoint": a.strings([x.endpoint or None for x in a.agents]).take(idx),
        "protocol": a.strings([x.protocol for x in a.agents]).take(idx),
        "model": pa.array(flat_models, pa.string()).take(model_idx),
        "api_key": pa.array([c.masked for c in callers], pa.string()).take(caller_idx),
        "api_key_hash": pa.array([c.hashed for c in callers], pa.string()).take(caller_idx),
        "team": pa.array([c.team for c in callers], pa.string()).take(caller_idx),
        "project": pa.array([c.project for c in callers], pa.string()).take(caller_idx),
        "tags": pa.ListArray.from_arrays(
            pa.array(np.zeros(m + 1, dtype=np.int32)), pa.array([], pa.string())
        ),
        "status": status,
        "error_type": when_failed([f[1] for f in failure], pa.string()),
        "error": when_failed([f[4] for f in failure], pa.string()),
        "http_status": when_failed([f[2] for f in failure], pa.int32(), 200),
        "attempts": pa.array(np.where(retried, 2, 1).astype(np.int32)),
        "input_tokens": pa.array(inp),
        "output_tokens": pa.array(out),
        "cached_input_tokens": pa.array(cached),
        "reasoning_tokens": pa.array(reasoning),
        "token_source": pa.scalar("reported"),
        "latency_ms": pa.array(latency),
        "context_id": pa.scalar(None, pa.string()),
        "task_id": pa.scalar(None, pa.string()),
        "task_state": when_failed([f[3] for f in failure], pa.string(), "completed"),
        "price_effective_from": price_from.take(idx),
        **{name: a.prices(name, MONEY_TYPE).take(idx) for name in _PRICE_NAMES},
        **columns,
        "schema_version": pa.scalar(SCHEMA_VERSION, pa.int16()),
    }
    arrays = []
    for f in EVENT_SCHEMA:
        value = data[f.name]
        if isinstance(value, pa.Scalar):
            value = pa.repeat(value, m)
        arrays.append(value)
    return pa.Table.from_arrays(arrays, schema=EVENT_SCHEMA)


_PRICE_NAMES = (
    "cost_per_query",
    "input_cost_per_token",
    "output_cost_per_token",
    "cached_input_cost_per_token",
    "reasoning_cost_per_token",
)


def write_synthetic(log: EventLog, n: int, **kw: Any) -> int:
    """Append ``n`` synthetic events to ``log`` (one file per batch and UTC date)."""
    written = 0
    for table in generate_events(n, **kw):
        log.append_table(table)  # the vectorised public path: splits by UTC date
        written += table.num_rows
    return written
