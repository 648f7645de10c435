"""Make a data home ready for the demo: demo agents registered and reachable.

The demo agents (see :mod:`agentcost_nb.demo_agent`) are registered with example
prices.  Their URLs follow wherever the demo server runs, which is an address
change, not an identity change: names and price history stay as they are.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from .eventlog import EventLog
from .events import Event
from .pricing import PriceSheet
from .registry import AgentConfig, Registry

__all__ = ["DEMO_PRICES", "agent_answers", "copy_sample", "register_demo_agents"]

# Example prices: one flat, one per token, one mixed — the three ways to price.
DEMO_PRICES: dict[str, PriceSheet] = {
    "echo": PriceSheet(cost_per_query=Decimal("0.01")),
    "summarizer": PriceSheet(
        input_cost_per_token=Decimal("0.000003"), output_cost_per_token=Decimal("0.000015")
    ),
    "chat-completions": PriceSheet(
        input_cost_per_token=Decimal("0.0000025"),
        cached_input_cost_per_token=Decimal("0.00000125"),
        output_cost_per_token=Decimal("0.00001"),
    ),
    "translator": PriceSheet(
        cost_per_query=Decimal("0.002"),
        input_cost_per_token=Decimal("0.000001"),
        output_cost_per_token=Decimal("0.000004"),
    ),
}


def _demo_configs(base_url: str) -> list[AgentConfig]:
    from .demo_agent import DEMO_AGENTS
    from .demo_http import CHAT_MODEL

    base = base_url.rstrip("/")
    configs = [
        AgentConfig(
            name=spec.name,
            display_name=spec.display_name,
            url=f"{base}/{spec.name}",
            model=spec.model,
            prices=(DEMO_PRICES.get(spec.name, PriceSheet()),),
        )
        for spec in DEMO_AGENTS
    ]
    configs.append(
        AgentConfig(
            name="chat-completions",
            display_name="Chat Completions Demo",
            url=f"{base}/openai/v1",
            model=CHAT_MODEL,
            endpoint_type="openai-chat",
            prices=(DEMO_PRICES["chat-completions"],),
        )
    )
    return configs


def register_demo_agents(registry: Registry, base_url: str) -> list[AgentConfig]:
    """Register the demo agents at ``base_url`` (or re-point ones already registered)."""
    done = []
    for demo in _demo_configs(base_url):
        url = demo.url
        existing = registry.find(demo.name)
        if existing is None:
            done.append(registry.add(demo))
        elif existing.url != url and _is_loopback(existing.url):
            done.append(registry.update(existing.name, url=url))
        else:
            done.append(existing)
    return done


def _is_loopback(url: str) -> bool:
    return urlsplit(url).hostname in {"127.0.0.1", "localhost", "::1"}


def agent_answers(url: str, *, timeout: float = 1.0) -> bool:
    """True if an agent card is served at ``url``."""
    try:
        r = httpx.get(f"{url.rstrip('/')}/.well-known/agent-card.json", timeout=timeout)
    except httpx.HTTPError:
        return False
    return r.status_code == 200


def copy_sample(sample: Path, home: Path) -> bool:
    """Seed an empty data home with the sample registry and events; never overwrite.

    The sample events are moved forward by whole days so the newest falls on
    today: a dashboard showing "last 30 days" then has something to show.
    """
    if (home / "agents.json").exists() or (home / "events").exists():
        return False
    home.mkdir(parents=True, exist_ok=True)
    if (sample / "agents.json").exists():
        shutil.copy2(sample / "agents.json", home / "agents.json")
    if (sample / "events").is_dir():
        rows = EventLog(sample / "events").read().to_pylist()
        if rows:
            newest = max(r["timestamp"] for r in rows).date()
            shift = timedelta(days=(datetime.now(UTC).date() - newest).days)
            events = []
            for row in rows:
                row.pop("date", None)
                row["tags"] = tuple(row["tags"] or ())
                row["timestamp"] += shift
                events.append(Event(**row))
            EventLog(home / "events").append(events)
    return True
