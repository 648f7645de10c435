"""Where data lives: the data home folder holds the registry and the events."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ENV_EVENTS", "ENV_HOME", "DataHome"]

ENV_HOME = "AGENTCOST_NB_HOME"
ENV_EVENTS = "AGENTCOST_NB_EVENTS"  # the event log elsewhere, e.g. s3://bucket/events
DEFAULT_HOME = "agentcost-data"


@dataclass(frozen=True)
class DataHome:
    """``<home>/agents.json`` (the registry) and ``<home>/events/`` (the Parquet log).

    Resolution order: the explicit ``path``, then ``$AGENTCOST_NB_HOME``, then
    ``./agentcost-data``. The event log may live elsewhere, on object storage
    for instance: ``events_uri``, else ``$AGENTCOST_NB_EVENTS``.
    """

    path: Path
    events_uri: str | None = None

    @classmethod
    def resolve(
        cls, path: str | os.PathLike[str] | None = None, *, events_uri: str | None = None
    ) -> DataHome:
        chosen = path if path is not None else os.environ.get(ENV_HOME) or DEFAULT_HOME
        events = events_uri or os.environ.get(ENV_EVENTS) or None
        return cls(Path(chosen).expanduser().absolute(), events)

    @property
    def registry_path(self) -> Path:
        return self.path / "agents.json"

    @property
    def events_path(self) -> Path:
        return self.path / "events"

    @property
    def events(self) -> str | Path:
        """Where the event log is: ``events_uri`` if set, else ``events_path``."""
        return self.events_uri or self.events_path
