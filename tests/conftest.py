"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from agentcost_nb.demo_agent import DemoAgentServer


@pytest.fixture(scope="session")
def demo_server() -> Iterator[DemoAgentServer]:
    """The bundled demo agents on a free loopback port, for the whole session."""
    with DemoAgentServer(port=0) as server:
        yield server
