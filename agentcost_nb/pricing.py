"""Price math: exact, additive, explained. Pure Python, no I/O.

A price sheet has up to five per-unit prices; the cost of a call is the sum of
the parts that are set.  ``None`` means "not set" and contributes nothing, but a
sheet with *no* part set prices nothing: the cost is unknown (``None``), never a
silent $0.  A part set to 0 is a real $0.

Cached input tokens are a subset of input tokens and reasoning tokens a subset
of output tokens: each token is charged once, at the most specific rate set.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

__all__ = [
    "MONEY_PLACES",
    "PRICE_FIELDS",
    "PRICE_UNITS",
    "CostBreakdown",
    "PriceSheet",
    "PriceUnit",
    "TokenUsage",
    "compute_cost",
    "format_usd",
    "parse_price",
]

# Parquet stores money as decimal128(38, 18): 18 places covers per-token prices
# such as $0.075 per 1M tokens (7.5e-8) with room to spare.
MONEY_PLACES = 18
_QUANTUM = Decimal(1).scaleb(-MONEY_PLACES)
# Enough digits that tokens (≤ 1e15) × an 18-place price never rounds.
_EXACT = decimal.Context(prec=80, traps=[decimal.InvalidOperation, decimal.Overflow])

PriceUnit = Literal["token", "1K", "1M"]
PRICE_UNITS: dict[str, int] = {"token": 1, "1K": 1_000, "1M": 1_000_000}

PRICE_FIELDS: tuple[str, ...] = (
    "cost_per_query",
    "input_cost_per_token",
    "output_cost_per_token",
    "cached_input_cost_per_token",
    "reasoning_cost_per_token",
)


# Plain ASCII numbers only: Decimal() would also take "1_0", "١٢" or " 1 e3".
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
# A comma only as a thousands separator: "1,000", "12,345.67" (not "0,5", "1,5", "1.000,5").
_GROUPED = re.compile(r"[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?", re.ASCII)
_NON_FINITE = re.compile(r"[+-]?(?:s?nan\d*|inf|infinity)", re.IGNORECASE)


def _number(typed: str) -> Decimal | None:
    """Exact value of typed text; ``None`` for blank.  Refuses a decimal comma."""
    text = typed.strip().removeprefix("$").strip()
    if not text:
        return None
    if "," in text:
        if not _GROUPED.fullmatch(text):
            raise ValueError(
                f"{typed.strip()!r}: use a dot for decimals (0.5); a comma may only "
                "group thousands (1,000 or 12,345.67)"
            )
        text = text.replace(",", "")
    if _NON_FINITE.fullmatch(text):
        raise ValueError("must be a finite number (not NaN or infinity)")
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"{typed.strip()!r} is not a number")
    return Decimal(text)


def parse_price(value: object, unit: str = "token") -> Decimal | None:
    """Turn user input into a per-token (or per-query) price, or any other money amount.

    Empty input means "not set" (``None``).  Raises ``ValueError`` with a reason
    a user can act on: not a number, a decimal comma, negative, NaN / infinity,
    too precise, too large.  Floats are refused: ``0.1`` as a float is not $0.10.
    """
    if unit not in PRICE_UNITS:
        raise ValueError(f"unknown unit {unit!r}; use one of {', '.join(PRICE_UNITS)}")
    if value is None:
        return None
    if isinstance(value, bool):  # before int: True is an int
        raise ValueError(f"{value} is not a price; give a number such as 0.05")
    if isinstance(value, float):
        raise ValueError("give the price as text or Decimal, not a float (floats are not exact)")
    if isinstance(value, int):
        value = Decimal(value)
    if isinstance(value, str):
        value = _number(value)
        if value is None:
            return None
    if not isinstance(value, Decimal):
        raise ValueError(f"{type(value).__name__} is not a price; give a number such as 0.05")
    if not value.is_finite():
        raise ValueError("must be a finite number (not NaN or infinity)")
    if value < 0:
        raise ValueError("must not be negative")
    # Magnitude first: "1e999999999" would overflow the division, "1e-999999999" underflow to 0.
    if value and value.adjusted() > 15:
        raise ValueError("implausibly large (≥ $1,000,000,000)")
    if value and value.adjusted() < -MONEY_PLACES:
        raise ValueError(
            f"more than {MONEY_PLACES} decimal places per token; cannot be stored exactly"
        )
    per_token = _EXACT.divide(value, Decimal(PRICE_UNITS[unit]))
    if per_token != 0 and per_token.as_tuple().exponent < -MONEY_PLACES:  # type: ignore[operator]
        raise ValueError(
            f"more than {MONEY_PLACES} decimal places per token; cannot be stored exactly"
        )
    if per_token >= Decimal(10) ** 9:
        raise ValueError("implausibly large (≥ $1,000,000,000)")
    return per_token.normalize(_EXACT) if per_token else Decimal(0)


@dataclass(frozen=True)
class TokenUsage:
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0  # subset of input_tokens
    reasoning_tokens: int = 0  # subset of output_tokens

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{f.name} must be a whole number ≥ 0, got {v!r}")
        if self.cached_input_tokens > self.input_tokens:
            raise ValueError("cached_input_tokens cannot exceed input_tokens")
        if self.reasoning_tokens > self.output_tokens:
            raise ValueError("reasoning_tokens cannot exceed output_tokens")


@dataclass(frozen=True)
class PriceSheet:
    """One dated version of an agent's prices (all per token, except per query)."""

    cost_per_query: Decimal | None = None
    input_cost_per_token: Decimal | None = None
    output_cost_per_token: Decimal | None = None
    cached_input_cost_per_token: Decimal | None = None
    reasoning_cost_per_token: Decimal | None = None
    effective_from: datetime = datetime(1970, 1, 1, tzinfo=UTC)

    def __post_init__(self) -> None:
        for name in PRICE_FIELDS:
            v = getattr(self, name)
            if v is None:
                continue
            try:
                ok = parse_price(v)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
            object.__setattr__(self, name, ok)
        if self.effective_from.tzinfo is None:
            raise ValueError("effective_from must be timezone-aware (UTC)")
        object.__setattr__(self, "effective_from", self.effective_from.astimezone(UTC))

    @property
    def is_priced(self) -> bool:
        """True when at least one part is set (a part set to 0 counts as set)."""
        return any(getattr(self, n) is not None for n in PRICE_FIELDS)

    def prices(self) -> dict[str, Decimal | None]:
        return {n: getattr(self, n) for n in PRICE_FIELDS}


@dataclass(frozen=True)
class CostBreakdown:
    """The parts of one call's cost; ``total`` is their exact sum."""

    query: Decimal
    input: Decimal
    cached_input: Decimal
    output: Decimal
    reasoning: Decimal

    @property
    def total(self) -> Decimal:
        return _EXACT.create_decimal(
            sum(
                (self.query, self.input, self.cached_input, self.output, self.reasoning), Decimal(0)
            )
        )


_ZERO = Decimal(0)


def _times(tokens: int, price: Decimal | None) -> Decimal:
    return _ZERO if price is None or tokens == 0 else _EXACT.multiply(Decimal(tokens), price)


def compute_cost(
    sheet: PriceSheet,
    usage: TokenUsage,
    *,
    charge_query: bool = True,
    charge_input: bool = True,
    charge_output: bool = True,
) -> CostBreakdown | None:
    """Exact cost of one call, or ``None`` when the sheet sets no price at all.

    The ``charge_*`` switches implement the failed-call policy: a failed call may
    be charged its flat fee and/or its input tokens, never silently.
    """
    if not sheet.is_priced:
        return None
    cached_rate = sheet.cached_input_cost_per_token
    reasoning_rate = sheet.reasoning_cost_per_token
    # A subset token falls back to its parent rate when it has no rate of its own.
    cached = usage.cached_input_tokens if cached_rate is not None else 0
    reasoning = usage.reasoning_tokens if reasoning_rate is not None else 0
    return CostBreakdown(
        query=(sheet.cost_per_query or _ZERO) if charge_query else _ZERO,
        input=_times(usage.input_tokens - cached, sheet.input_cost_per_token)
        if charge_input
        else _ZERO,
        cached_input=_times(cached, cached_rate) if charge_input else _ZERO,
        output=_times(usage.output_tokens - reasoning, sheet.output_cost_per_token)
        if charge_output
        else _ZERO,
        reasoning=_times(reasoning, reasoning_rate) if charge_output else _ZERO,
    )


def format_usd(amount: Decimal | None, *, places: int | None = None) -> str:
    """Display form only: "$0.05036", "-$0.50". Never round stored money with this."""
    if amount is None:
        return "unpriced"
    if places is not None:
        amount = amount.quantize(Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_EVEN)
    # The sign is shown apart: int("-0") would drop it for amounts between -1 and 0.
    sign = "-" if amount < 0 else ""
    text = format(abs(amount).normalize(_EXACT), "f")
    if "." in text:
        whole, frac = text.split(".")
        frac = frac.ljust(2, "0")
    else:
        whole, frac = text, "00"
    return f"{sign}${int(whole):,}.{frac}"
