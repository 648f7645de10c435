"""Where data lives: the data home folder holds the registry and the events."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ENV_HOME", "DataHome"]

ENV_HOME = "AGENTCOST_NB_HOME"
DEFAULT_HOME = "agentcost-data"


@dataclass(frozen=True)
class DataHome:
    """``<home>/agents.json`` (the registry) and ``<home>/events/`` (the Parquet log).

    Resolution order: the explicit ``path``, then ``$AGENTCOST_NB_HOME``, then
    ``./agentcost-data``.
    """

    path: Path

    @classmethod
    def resolve(cls, path: str | os.PathLike[str] | None = None) -> DataHome:
        chosen = path if path is not None else os.environ.get(ENV_HOME) or DEFAULT_HOME
        return cls(Path(chosen).expanduser().absolute())

    @property
    def registry_path(self) -> Path:
        return self.path / "agents.json"

    @property
    def events_path(self) -> Path:
        return self.path / "events"
