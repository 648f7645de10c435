"""agentcost_nb: what your calls to AI agents cost, in JupyterLab, Voila and pandas.

The pure cores are importable without any widget or chart library::

    from agentcost_nb import Tracker, Caller
    tracker = Tracker()                      # ./agentcost-data or $AGENTCOST_NB_HOME
    result = tracker.call_sync("echo", "hello", caller=Caller(team="finance"))
    result.event.cost_usd                    # Decimal, exact

Widgets live in ``agentcost_nb.widgets``, analytics in ``agentcost_nb.analytics``,
charts in ``agentcost_nb.charts``.
"""

from .billing import Caller
from .errors import AgentCostError, BudgetExceeded, ConfigError, LogError, ValidationError
from .eventlog import EventLog, LogWarning
from .events import EVENT_SCHEMA, SCHEMA_VERSION, Event
from .home import DataHome
from .keys import key_hash, mask_key
from .pricing import CostBreakdown, PriceSheet, TokenUsage, compute_cost, format_usd, parse_price
from .registry import AgentConfig, Registry
from .tracker import CallResult, Tracker
from .writer import BufferedWriter

__version__ = "0.1.0"

__all__ = [
    "EVENT_SCHEMA",
    "SCHEMA_VERSION",
    "AgentConfig",
    "AgentCostError",
    "BudgetExceeded",
    "BufferedWriter",
    "CallResult",
    "Caller",
    "ConfigError",
    "CostBreakdown",
    "DataHome",
    "Event",
    "EventLog",
    "LogError",
    "LogWarning",
    "PriceSheet",
    "Registry",
    "TokenUsage",
    "Tracker",
    "ValidationError",
    "compute_cost",
    "format_usd",
    "key_hash",
    "mask_key",
    "parse_price",
]
