from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from agentcost_nb.analytics import Filters
from agentcost_nb.billing import Caller, price_reply
from agentcost_nb.client.types import AgentReply, ReportedUsage
from agentcost_nb.pricing import PriceSheet
from agentcost_nb.registry import AgentConfig
from agentcost_nb.tracker import Tracker
from agentcost_nb.widgets import App
from agentcost_nb.widgets.whatif import WhatIf


def test_whatif_reprices_the_selection_at_current_prices(tmp_path):
    tracker = Tracker(tmp_path)
    t0 = datetime.now(UTC) - timedelta(days=2)
    for name in ("a", "b"):
        tracker.registry.add(AgentConfig(name=name, display_name=name.upper(), url="http://h/x",
                             prices=(PriceSheet(cost_per_query=D("0.10"), effective_from=t0),)))  # fmt: skip
    reply = AgentReply(status="success", text="ok", usage=ReportedUsage(100, 10))
    events = [price_reply(tracker.registry.get(n), reply, request_text="x", caller=Caller(),
                          started_at=t0 + timedelta(hours=1)) for n in ("a", "a", "b")]  # fmt: skip
    tracker.log.append(events)
    tracker.registry.set_prices("a", PriceSheet(cost_per_query=D("0.25")))

    whatif = WhatIf(tracker.log, tracker.registry)
    summary = whatif.run().set_index("agent_name")
    assert summary.loc["a", "as_billed_usd"] == D("0.20") and summary.loc["a", "repriced_usd"] == D(
        "0.50"
    )
    assert summary.loc["(total)", "difference_usd"] == D("0.30")
    assert "$0.50" in whatif.result.value and "acnb-whatif" in whatif.result.value
    only_b = WhatIf(tracker.log, tracker.registry, lambda: Filters(agents=("b",)))
    assert list(only_b.run()["agent_name"]) == ["b", "(total)"]
    assert len(tracker.log.to_pandas()) == 3  # stored events untouched
    assert list(tracker.log.to_pandas()["cost_usd"]).count(D("0.10")) == 3


def test_app_shows_whatif_for_the_dashboards_filter(tmp_path):
    app = App(tmp_path, demo=False)
    assert app.whatif.current_filters == app.dashboard.filters
    app.whatif.button.click()
    assert "no data for this selection" in app.whatif.result.value
