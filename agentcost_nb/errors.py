"""The toolkit's one exception tree.

    AgentCostError
    ├── ConfigError            bad user input or a bad registry file
    │   └── ValidationError    one or more fields refused; .fields maps field -> reason
    ├── LogError               the Parquet event log cannot be read or written
    └── BudgetExceeded         a hard budget refuses a call

Failures of an *agent call* are never raised: the client returns a failed
``AgentReply`` so that every call, good or bad, becomes exactly one event.
Library errors (httpx, pyarrow, json) are converted at the boundary where they
happen, with ``raise ... from exc``; messages never contain secrets.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["AgentCostError", "BudgetExceeded", "ConfigError", "LogError", "ValidationError"]


class AgentCostError(Exception):
    """Base class of every error agentcost_nb raises on purpose."""


class ConfigError(AgentCostError):
    """Bad configuration: user input, the registry file, the data home."""


class ValidationError(ConfigError):
    """Input refused. ``fields`` maps each offending field to a reason a user can act on."""

    def __init__(self, fields: Mapping[str, str], *, where: str = "") -> None:
        self.fields = dict(fields)
        self.where = where
        detail = "; ".join(f"{name}: {reason}" for name, reason in self.fields.items())
        super().__init__(f"{where}: {detail}" if where else detail)


class LogError(AgentCostError):
    """The event log could not be written or read."""


class BudgetExceeded(AgentCostError):
    """A hard budget would be exceeded by this call."""
