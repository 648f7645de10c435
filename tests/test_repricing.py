from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from agentcost_nb.billing import Caller, price_reply
from agentcost_nb.client.types import AgentReply, ReportedUsage
from agentcost_nb.eventlog import EventLog
from agentcost_nb.pricing import PriceSheet
from agentcost_nb.registry import AgentConfig, Registry
from agentcost_nb.repricing import reprice, reprice_summary

T0 = datetime(2026, 12, 2, 9, tzinfo=UTC)


def _reply(status="success", i=1000, o=100):
    return AgentReply(status=status, text="ok", usage=ReportedUsage(i, o), error_type=None
                      if status == "success" else "task_failed")  # fmt: skip


def test_price_change_mid_day_keeps_old_events_and_reprices_both(tmp_path):
    reg = Registry(tmp_path / "agents.json")
    reg.add(AgentConfig(name="a", display_name="A", url="http://h/a",
                        prices=(PriceSheet(input_cost_per_token=D("0.000001"), effective_from=T0),)))  # fmt: skip
    log = EventLog(tmp_path / "events")
    before = price_reply(reg.get("a"), _reply(), request_text="x", caller=Caller(),
                         started_at=T0 + timedelta(hours=2))  # fmt: skip
    reg.set_prices("a", PriceSheet(input_cost_per_token=D("0.000003")),
                   effective_from=T0 + timedelta(hours=6))  # fmt: skip
    after = price_reply(reg.get("a"), _reply(), request_text="x", caller=Caller(),
                        started_at=T0 + timedelta(hours=8))  # fmt: skip
    failed = price_reply(reg.get("a"), _reply("error"), request_text="x", caller=Caller(),
                         started_at=T0 + timedelta(hours=9))  # fmt: skip
    log.append([before, after, failed])
    assert before.input_cost_per_token == D("0.000001") and before.cost_usd == D("0.001")
    assert after.input_cost_per_token == D("0.000003") and after.cost_usd == D("0.003")

    events = log.to_pandas().sort_values("timestamp")
    r = reprice(events, reg)  # at current prices
    assert list(r["as_billed_usd"]) == [D("0.001"), D("0.003"), D("0")]
    assert list(r["repriced_usd"]) == [D("0.003"), D("0.003"), D("0")]
    summary = reprice_summary(r).set_index("agent_name")
    assert summary.loc["(total)", "as_billed_usd"] == D("0.004")
    assert summary.loc["(total)", "repriced_usd"] == D("0.006")
    assert summary.loc["(total)", "difference_usd"] == D("0.002")
    # Stored events are untouched.
    assert list(log.to_pandas().sort_values("timestamp")["cost_usd"]) == [
        D("0.001"),
        D("0.003"),
        D("0"),
    ]


def test_unknown_agent_reprices_to_null_not_zero(tmp_path):
    reg = Registry(tmp_path / "agents.json")
    reg.add(AgentConfig(name="a", display_name="A", url="http://h/a",
                        prices=(PriceSheet(cost_per_query=D("0.5")),)))  # fmt: skip
    e = price_reply(reg.get("a"), _reply(), request_text="x", caller=Caller(), started_at=T0)
    EventLog(tmp_path / "events").append([e])
    r = reprice(
        EventLog(tmp_path / "events").to_pandas(), {"other": PriceSheet(cost_per_query=D(1))}
    )
    assert r["repriced_usd"].iloc[0] is None
    s = reprice_summary(r).set_index("agent_name")
    assert s.loc["a", "unpriced"] == 1 and s.loc["a", "repriced_usd"] is None


def test_the_difference_compares_only_events_priced_both_ways():
    import pandas as pd

    rows = [  # billed, re-priced
        ("a", D("0.10"), D("0.30")),
        ("a", None, D("5.00")),  # unpriced when billed: not a $5 difference
        ("b", D("1.00"), None),  # unpriced now: not a -$1 difference
        ("b", D("0.50"), D("0.40")),
    ]
    frame = pd.DataFrame(
        [{"agent_name": n, "as_billed_usd": a, "repriced_usd": r} for n, a, r in rows]
    )
    s = reprice_summary(frame).set_index("agent_name")
    assert s.loc["a", "difference_usd"] == D("0.20") and s.loc["a", "left_out"] == 1
    assert s.loc["b", "difference_usd"] == D("-0.10") and s.loc["b", "left_out"] == 1
    assert s.loc["(total)", "difference_usd"] == D("0.10")
    assert (s.loc["(total)", "compared"], s.loc["(total)", "left_out"]) == (2, 2)
    assert s.loc["(total)", "as_billed_usd"] == D("1.60")  # what is known of each, still shown
    assert s.loc["(total)", "repriced_usd"] == D("5.70")
    only_one_way = reprice_summary(frame.iloc[[1]]).set_index("agent_name")
    assert only_one_way.loc["(total)", "difference_usd"] is None


def test_the_whatif_panel_says_how_many_calls_the_difference_left_out():
    import pandas as pd

    from agentcost_nb.widgets.whatif import _table_html

    frame = pd.DataFrame(
        [{"agent_name": "a", "as_billed_usd": D("1"), "repriced_usd": D("0.5")},
         {"agent_name": "a", "as_billed_usd": None, "repriced_usd": D("0.5")}]
    )  # fmt: skip
    html = _table_html(reprice_summary(frame))
    assert "-$0.50" in html and "1 call left out" in html
