from datetime import UTC, datetime
from decimal import Decimal as D
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentcost_nb.pricing import PriceSheet, TokenUsage, compute_cost, format_usd, parse_price

MIXED = PriceSheet(
    cost_per_query=D("0.05"),
    input_cost_per_token=D("0.000002"),
    output_cost_per_token=D("0.000008"),
)


def test_three_parts_are_added():
    cost = compute_cost(MIXED, TokenUsage(100, 20))
    assert cost.total == D("0.05036")
    assert (cost.query, cost.input, cost.output) == (D("0.05"), D("0.0002"), D("0.00016"))


@pytest.mark.parametrize(
    "sheet, expected",
    [
        (PriceSheet(cost_per_query=D("0.05")), D("0.05")),
        (PriceSheet(input_cost_per_token=D("0.000002")), D("0.0002")),
        (PriceSheet(output_cost_per_token=D("0.000008")), D("0.00016")),
        (PriceSheet(cost_per_query=D("0.05"), output_cost_per_token=D("0.000008")), D("0.05016")),
    ],
)
def test_each_part_alone_and_in_pairs(sheet, expected):
    assert compute_cost(sheet, TokenUsage(100, 20)).total == expected


def test_cached_tokens_are_a_subset_charged_once():
    sheet = PriceSheet(
        input_cost_per_token=D("0.000003"), cached_input_cost_per_token=D("0.0000003")
    )
    cost = compute_cost(sheet, TokenUsage(input_tokens=17_903, cached_input_tokens=17_817))
    assert cost.input == D("0.000258")
    assert cost.cached_input == D("0.0053451")
    assert cost.total == D("0.0056031")
    no_cached_price = PriceSheet(input_cost_per_token=D("0.000003"))
    assert compute_cost(no_cached_price, TokenUsage(17_903, 0, 17_817)).total == D("0.053709")


def test_reasoning_tokens_are_a_subset_of_output():
    sheet = PriceSheet(output_cost_per_token=D("0.00001"), reasoning_cost_per_token=D("0.00002"))
    cost = compute_cost(sheet, TokenUsage(output_tokens=100, reasoning_tokens=40))
    assert (cost.output, cost.reasoning, cost.total) == (D("0.0006"), D("0.0008"), D("0.0014"))


def test_zero_prices_are_zero_and_no_prices_are_unknown():
    zero = PriceSheet(cost_per_query=D(0), input_cost_per_token=D(0), output_cost_per_token=D(0))
    assert compute_cost(zero, TokenUsage(10, 10)).total == 0
    assert format_usd(compute_cost(zero, TokenUsage(10, 10)).total) == "$0.00"
    # Nothing set is not $0: it is unpriced, so no silent zero reaches the log.
    assert compute_cost(PriceSheet(), TokenUsage(10, 10)) is None


def test_per_million_unit_is_stored_per_token():
    per_token = parse_price("2.00", "1M")
    assert per_token == D("0.000002")
    cost = compute_cost(PriceSheet(input_cost_per_token=per_token), TokenUsage(1_234_567, 0))
    assert cost.total == D("2.469134")
    assert parse_price("2", "1K") == D("0.002")


def test_ten_dimes_are_one_dollar():
    sheet = PriceSheet(cost_per_query=D("0.10"))
    total = sum((compute_cost(sheet, TokenUsage()).total for _ in range(10)), D(0))
    assert total == D("1.00")


@pytest.mark.parametrize(
    "text, reason",
    [
        ("-1", "negative"),
        ("NaN", "finite"),
        ("inf", "finite"),
        ("-Infinity", "finite"),
        ("abc", "not a number"),
        ("1e-30", "decimal places"),
        ("0.1.2", "not a number"),
    ],
)
def test_bad_prices_are_refused_with_a_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_price(text)


def test_floats_are_refused_and_blank_is_unset():
    with pytest.raises(ValueError, match="float"):
        parse_price(0.1)
    assert parse_price("  ") is None
    assert parse_price("$1,000.50") == D("1000.5")


@pytest.mark.parametrize("text", ["0,5", "1,5", "1.000,5", "0,500", "1,00", "1,0000", "12,3456"])
def test_a_decimal_comma_is_refused_not_read_as_thousands(text):
    with pytest.raises(ValueError, match="use a dot for decimals"):
        parse_price(text)


@pytest.mark.parametrize(
    "text, value",
    [("1,000", D("1000")), ("12,345.67", D("12345.67")), ("$1,234,567", D("1234567")),
     ("0.5", D("0.5")), (".5", D("0.5")), ("1e-6", D("0.000001"))],
)  # fmt: skip
def test_commas_group_thousands_only(text, value):
    assert parse_price(text) == value


@pytest.mark.parametrize("text", ["1_000", "١٢", "1 000", "0x10", "5$"])
def test_only_plain_ascii_numbers_are_prices(text):
    with pytest.raises(ValueError, match="not a number"):
        parse_price(text)


@pytest.mark.parametrize("value", [True, False])
def test_a_bool_is_not_a_price_and_says_so(value):
    with pytest.raises(ValueError, match="is not a price") as info:
        parse_price(value)
    assert "float" not in str(info.value)


@pytest.mark.parametrize("text, reason", [("1e999999999", "large"), ("1e-999999999", "places")])
def test_extreme_exponents_are_refused_not_overflowed(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_price(text, "1M")


def test_failure_policy_switches():
    cost = compute_cost(MIXED, TokenUsage(100, 20), charge_query=True, charge_input=False,
                        charge_output=False)  # fmt: skip
    assert cost.total == D("0.05")


def test_price_sheet_validates_its_parts():
    with pytest.raises(ValueError, match="input_cost_per_token"):
        PriceSheet(input_cost_per_token=D("-1"))
    with pytest.raises(ValueError, match="timezone"):
        PriceSheet(effective_from=datetime(2026, 1, 1))
    assert PriceSheet(effective_from=datetime(2026, 1, 1, tzinfo=UTC)).is_priced is False


prices = st.one_of(
    st.none(),
    st.decimals(min_value=0, max_value=D("0.01"), places=12, allow_nan=False, allow_infinity=False),
)
usages = st.builds(
    lambda i, o, c, r: TokenUsage(i, o, min(c, i), min(r, o)),
    st.integers(0, 10**9),
    st.integers(0, 10**9),
    st.integers(0, 10**9),
    st.integers(0, 10**9),
)
sheets = st.builds(PriceSheet, prices, prices, prices, prices, prices).filter(lambda s: s.is_priced)


def _reference(sheet: PriceSheet, u: TokenUsage) -> Fraction:
    f = lambda d: Fraction(d) if d is not None else Fraction(0)  # noqa: E731
    cached = u.cached_input_tokens if sheet.cached_input_cost_per_token is not None else 0
    reasoning = u.reasoning_tokens if sheet.reasoning_cost_per_token is not None else 0
    return (
        f(sheet.cost_per_query)
        + (u.input_tokens - cached) * f(sheet.input_cost_per_token)
        + cached * f(sheet.cached_input_cost_per_token)
        + (u.output_tokens - reasoning) * f(sheet.output_cost_per_token)
        + reasoning * f(sheet.reasoning_cost_per_token)
    )


@given(sheets, usages)
def test_cost_is_exact_against_fractions(sheet, usage):
    cost = compute_cost(sheet, usage)
    assert Fraction(cost.total) == _reference(sheet, usage)
    assert cost.total >= 0


@given(sheets, usages, usages)
def test_cost_is_additive_and_monotone_in_tokens(sheet, a, b):
    both = TokenUsage(
        a.input_tokens + b.input_tokens,
        a.output_tokens + b.output_tokens,
        a.cached_input_tokens + b.cached_input_tokens,
        a.reasoning_tokens + b.reasoning_tokens,
    )
    flat = sheet.cost_per_query or D(0)
    # Token parts add up across calls; the flat fee is per call.
    assert compute_cost(sheet, both).total == (
        compute_cost(sheet, a).total + compute_cost(sheet, b).total - flat
    )
    assert compute_cost(sheet, both).total >= compute_cost(sheet, a).total


def test_every_money_input_refuses_a_decimal_comma(tmp_path, capsys):
    """The CLI (agents add / set-price, budgets set), the form and the price editor."""
    from agentcost_nb.cli import main
    from agentcost_nb.registry import Registry
    from agentcost_nb.widgets.agent_form import AgentForm, PriceEditor

    home = ["--home", str(tmp_path)]
    assert (
        main([*home, "agents", "add", "a", "--url", "http://h/", "--input-cost-per-token", "0,5"])
        == 2
    )
    assert "use a dot for decimals" in capsys.readouterr().err
    assert not (tmp_path / "agents.json").exists()
    assert (
        main([*home, "agents", "add", "a", "--url", "http://h/", "--cost-per-query", "1,000"]) == 0
    )
    assert main([*home, "agents", "set-price", "a", "--cost-per-query", "1,5"]) == 2
    assert main([*home, "budgets", "set", "team", "t", "0,5"]) == 2
    assert "use a dot for decimals" in capsys.readouterr().err
    assert not (tmp_path / "budgets.json").exists()
    reg = Registry(tmp_path / "agents.json")
    assert [p.cost_per_query for p in reg.get("a").prices] == [D("1000")]
    form = AgentForm(reg).fill(name="b", url="http://h/", output_cost_per_token="0,5")
    assert form.submit() is None and "use a dot" in form.errors["output_cost_per_token"].value
    editor = PriceEditor(reg)
    editor.prices.inputs["cost_per_query"].value = "1.000,5"
    assert editor.submit() is None and "use a dot" in editor.prices.errors["cost_per_query"].value


@pytest.mark.parametrize(
    "amount, shown",
    [("-0.5", "-$0.50"), ("-0.05036", "-$0.05036"), ("-1234.5", "-$1,234.50"), ("-0", "$0.00"),
     ("0.5", "$0.50"), ("-0.004", "$0.00")],
)  # fmt: skip
def test_format_usd_keeps_the_sign(amount, shown):
    places = 2 if amount == "-0.004" else None
    assert format_usd(D(amount), places=places) == shown
