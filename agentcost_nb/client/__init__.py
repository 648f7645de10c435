"""Agent clients on httpx: A2A (1.0 and 0.3, JSON-RPC) and OpenAI-compatible chat completions.

Each ``send`` returns one ``AgentReply`` whatever happens — it never raises
for a failed call — so that every call becomes exactly one priced event.

Names load on first use: ``agentcost_nb.usage`` (pure) imports
``client.types`` without pulling in httpx.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agentcost_nb.client._auth import AuthScheme, Secret, scheme_from_card
    from agentcost_nb.client._cancel import CancelToken
    from agentcost_nb.client._retry import RetryPolicy
    from agentcost_nb.client.a2a import A2AClient
    from agentcost_nb.client.chat_completions import ChatCompletionsClient
    from agentcost_nb.client.types import AgentReply, ReportedUsage

_WHERE = {
    "A2AClient": "a2a",
    "AgentReply": "types",
    "AuthScheme": "_auth",
    "CancelToken": "_cancel",
    "ChatCompletionsClient": "chat_completions",
    "ReportedUsage": "types",
    "RetryPolicy": "_retry",
    "Secret": "_auth",
    "scheme_from_card": "_auth",
}

__all__ = [
    "A2AClient",
    "AgentReply",
    "AuthScheme",
    "CancelToken",
    "ChatCompletionsClient",
    "ReportedUsage",
    "RetryPolicy",
    "Secret",
    "scheme_from_card",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
