"""Regenerate the sample data home in data/: the demo agents and ~2,000 priced events.

Run with `make sample`.  Deterministic (fixed seed and end date), so the files
only change when this script does.  `agentcost-nb app` copies them into an
empty data home, shifting the events so the newest falls on today.
"""

from __future__ import annotations

import random
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from agentcost_nb.billing import Caller
from agentcost_nb.demo_agent import DEMO_AGENTS
from agentcost_nb.demo_setup import DEMO_PRICES, register_demo_agents
from agentcost_nb.eventlog import EventLog
from agentcost_nb.events import Event
from agentcost_nb.keys import key_hash, mask_key
from agentcost_nb.pricing import TokenUsage, compute_cost
from agentcost_nb.registry import Registry

HERE = Path(__file__).resolve().parent
END = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)
DAYS = 30
N = 2_000


def main() -> None:
    shutil.rmtree(HERE / "events", ignore_errors=True)
    (HERE / "agents.json").unlink(missing_ok=True)
    registry = Registry(HERE / "agents.json")
    register_demo_agents(registry, "http://127.0.0.1:8765")
    rng = random.Random(20261201)
    callers = [
        Caller(api_key=f"sk-sample-{team}-key-000000000{i}", team=team, project=project)
        for i, (team, project) in enumerate(
            [("finance", "q4-close"), ("support", "helpdesk"), ("research", "eval"), ("", "")]
        )
    ]
    events = []
    for _ in range(N):
        spec = rng.choices(DEMO_AGENTS, weights=[5, 3, 2][: len(DEMO_AGENTS)])[0]
        agent = registry.get(spec.name)
        caller = rng.choice(callers)
        ts = END - timedelta(seconds=rng.uniform(0, DAYS * 86_400))
        usage = TokenUsage(rng.randint(5, 3_000), rng.randint(5, 1_200))
        failed = rng.random() < 0.06
        sheet = DEMO_PRICES[spec.name]
        cost = compute_cost(sheet, usage, charge_query=not failed, charge_input=not failed,
                            charge_output=not failed)  # fmt: skip
        events.append(
            Event.priced(
                sheet=sheet,
                usage=usage,
                cost=cost,
                timestamp=ts,
                agent_name=spec.name,
                display_name=spec.display_name,
                endpoint=agent.url,
                protocol="a2a-1.0",
                model=spec.model,
                api_key=mask_key(caller.api_key) or None,
                api_key_hash=key_hash(caller.api_key) or None,
                team=caller.team or None,
                project=caller.project or None,
                status="error" if failed else "success",
                error_type="task_failed" if failed else None,
                error="sample failure" if failed else None,
                http_status=200,
                token_source="reported" if spec.name != "echo" else "estimated",
                latency_ms=round(rng.lognormvariate(5.5, 0.6), 1),
            )  # fmt: skip
        )
    EventLog(HERE / "events").append(sorted(events, key=lambda e: e.timestamp))
    print(f"wrote {len(registry)} agents and {len(events)} events to {HERE}")


if __name__ == "__main__":
    main()
