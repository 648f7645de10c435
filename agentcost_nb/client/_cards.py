"""Agent cards: fetched once per client, and what was learned about URLs that have none.

``CardBook.target`` answers "where and how do I send to this URL?": from the
card at ``/.well-known/agent-card.json`` (then ``agent.json`` whenever the
first gave no usable card: a 404, an error, HTML or JSON that is no card),
or, when there is no card, the URL itself as the JSON-RPC URL — in the
dialect the caller set, the one detected on an earlier call, or 1.0 to try
first (``guessed``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

import httpx

from agentcost_nb.client._auth import BEARER, Secret, auth_headers, key_problem
from agentcost_nb.client._call import Progress, read_capped
from agentcost_nb.client._wire import (
    Dialect,
    Endpoint,
    endpoint_from_card,
    is_json_media,
    join_path,
    one_line,
    safe_url,
)
from agentcost_nb.client.types import AgentReply, ErrorType

__all__ = ["CARD_PATHS", "CardBook", "Target"]

CARD_PATHS = ("/.well-known/agent-card.json", "/.well-known/agent.json")
_CARD_ABSENT = {404, 405, 410}  # a card missing at one path
# A card has at least one of these (every version); a catch-all's JSON has none.
_CARD_FIELDS = frozenset(
    {"supportedInterfaces", "url", "additionalInterfaces", "preferredTransport", "protocolVersion",
     "capabilities", "skills", "securitySchemes", "defaultInputModes", "defaultOutputModes"}
)  # fmt: skip


def _read_card(content_type: str | None, raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """The card in a 2xx body, or ``None`` and what the body was instead."""
    if not is_json_media(content_type):
        media = (content_type or "no content type").split(";")[0].strip()
        return None, f"{one_line(media, 60)}, not JSON"
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError):
        return None, "invalid JSON"
    if isinstance(doc, dict) and _CARD_FIELDS & doc.keys():
        return doc, ""
    return None, "JSON that is not an agent card"


@dataclass
class Target:
    """Where a call goes, once the card (or its absence) is known."""

    endpoint: Endpoint
    card: Mapping[str, Any] | None
    guessed: bool  # no card and no dialect given: 1.0 first, then 0.3


class CardBook:
    def __init__(self) -> None:
        self._cards: dict[str, tuple[str, dict[str, Any]]] = {}
        self._cardless: set[str] = set()  # URLs known to serve no card
        self._detected: dict[str, Dialect] = {}  # dialect found for a card-less URL
        self._why: dict[str, str] = {}  # what the card paths gave, for a card-less URL

    def card(self, url: str) -> Mapping[str, Any] | None:
        cached = self._cards.get(url)
        return cached[1] if cached else None

    def detected(self, url: str, dialect: Dialect) -> None:
        """A card-less URL answered in ``dialect``: use it from now on."""
        self._detected[url] = dialect

    async def target(
        self,
        http: httpx.AsyncClient,
        url: str,
        dialect: Dialect | None,
        key: Secret | None,
        progress: Progress,
    ) -> Target | AgentReply:
        """Where to send, from the (cached) card; or the failed reply saying why not."""
        if url in self._cardless:
            return self._cardless_target(url, dialect)
        cached = self._cards.get(url)
        if cached is None:
            fetched = await self._fetch(http, url, progress, key)
            if isinstance(fetched, AgentReply):
                if fetched.error_type == "no_agent_card":
                    self._cardless.add(url)
                    return self._cardless_target(url, dialect)
                if dialect is not None and fetched.error_type != "auth":
                    return Target(Endpoint(url, dialect), None, guessed=False)
                return fetched
            self._cards[url] = cached = fetched
        card_url, card = cached
        endpoint = endpoint_from_card(card, card_url, prefer=dialect)
        if endpoint is not None:
            return Target(endpoint, card, guessed=False)
        if dialect is not None:
            return Target(Endpoint(url, dialect), card, guessed=False)
        return progress.failure(
            "invalid_response",
            f"the agent card at {safe_url(card_url)} lists no JSON-RPC interface",
        )

    def _cardless_target(self, url: str, dialect: Dialect | None) -> Target:
        if dialect is not None:
            return Target(Endpoint(url, dialect), None, guessed=False)
        known = self._detected.get(url)
        return Target(Endpoint(url, known or "1.0"), None, guessed=known is None)

    def no_agent(self, url: str, reply: AgentReply) -> AgentReply:
        """A card-less URL that does not answer A2A JSON-RPC either."""
        self._cardless.discard(url)
        tried = self._why.pop(url, "") or " or ".join(
            safe_url(join_path(url, p)) for p in CARD_PATHS
        )
        why = f"HTTP {reply.http_status}" if reply.error_type == "http_status" else reply.error
        return replace(
            reply,
            error_type="no_agent_card",
            error=f"no agent card at {tried}, and {safe_url(url)} does not answer A2A "
            f"JSON-RPC ({one_line(why, 200)}); check the URL or set the dialect",
        )

    async def _fetch(
        self, http: httpx.AsyncClient, url: str, progress: Progress, key: Secret | None
    ) -> tuple[str, dict[str, Any]] | AgentReply:
        # Cards are public: a credential goes with this request only if one is
        # refused without it (as a Bearer token: the scheme is in the card).
        if "/.well-known/" in urlsplit(url).path:
            candidates = [url]  # the caller gave the card's own URL
        else:
            candidates = [join_path(url, path) for path in CARD_PATHS]
        gave: list[str] = []  # what each path gave, for the error
        statuses: list[int] = []
        for card_url in candidates:
            progress.url = card_url
            status, content_type, raw = await self._get(http, card_url, progress, None)
            if status in (401, 403) and key and not key_problem(key, BEARER):
                status, content_type, raw = await self._get(http, card_url, progress, key)
            if 200 <= status < 300:
                card, why = _read_card(content_type, raw)
                if card is not None:
                    return card_url, card
            else:
                why = f"HTTP {status} {httpx.codes.get_reason_phrase(status)}".strip()
            # Not a card here (a 404, an HTML catch-all, an error): try the next path.
            statuses.append(status)
            gave.append(f"{safe_url(card_url)} ({why})")
        said = " or ".join(gave)
        refused = next((s for s in statuses if s in (401, 403)), None)
        failed = next((s for s in statuses if not 200 <= s < 300 and s not in _CARD_ABSENT), None)
        if refused or failed:
            error_type: ErrorType = "auth" if refused else "http_status"
            reply = progress.failure(error_type, f"no usable agent card at {said}")
            return replace(reply, http_status=refused or failed)
        self._why[url] = said
        return progress.failure("no_agent_card", f"no agent card at {said}")

    @staticmethod
    async def _get(
        http: httpx.AsyncClient, card_url: str, progress: Progress, key: Secret | None
    ) -> tuple[int, str | None, bytes]:
        headers = {"Accept": "application/json", **auth_headers(None, key)}
        async with http.stream("GET", card_url, headers=headers) as response:
            progress.saw(response)
            if response.status_code in _CARD_ABSENT or response.status_code in (401, 403):
                return response.status_code, None, b""
            return (
                response.status_code,
                response.headers.get("content-type"),
                await read_capped(response),
            )
