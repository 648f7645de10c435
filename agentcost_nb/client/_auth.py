"""Credentials: which one an agent card asks for, and how to send it.  Pure: no I/O.

Card ``securitySchemes`` come in two shapes: 1.0 wraps each scheme
(``{"httpAuthSecurityScheme": {"scheme": "Bearer"}}``,
``{"apiKeySecurityScheme": {"location": "header", "name": "X-API-Key"}}``),
0.3 is OpenAPI style (``{"type": "http", "scheme": "bearer"}``,
``{"type": "apiKey", "in": "header", "name": "X-API-Key"}``).  OAuth2 and
OpenID Connect tokens travel as Bearer tokens too.  Schemes we cannot send
(mutual TLS, API keys in a query or cookie) are skipped.

The key itself is wrapped in ``Secret`` as soon as it is read, so a repr, a
traceback's locals or a log line shows ``Secret('****')``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from agentcost_nb.client._wire import safe_url
from agentcost_nb.client.types import AgentReply

__all__ = [
    "AuthScheme",
    "Secret",
    "auth_failure",
    "auth_headers",
    "redact",
    "scheme_from_card",
]


class Secret:
    """A credential that never shows itself: use ``.reveal()`` where it is sent."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value.strip()

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret is not pickled")


@dataclass(frozen=True)
class AuthScheme:
    """How to send a key: ``kind`` "bearer" (Authorization header) or "header" (named)."""

    kind: str
    header: str = "Authorization"
    name: str = ""  # the scheme's name in the card

    def describe(self) -> str:
        """What to provide, in words: names the credential, never holds it."""
        if self.kind == "bearer":
            return "a Bearer token (Authorization header)"
        return f"an API key in the {self.header} header"


BEARER = AuthScheme("bearer")


def _scheme(name: str, raw: object) -> AuthScheme | None:
    if not isinstance(raw, Mapping):
        return None
    http = raw.get("httpAuthSecurityScheme")
    api_key = raw.get("apiKeySecurityScheme")
    kind = str(raw.get("type") or "").lower()
    if isinstance(http, Mapping) or kind == "http":
        scheme = (http if isinstance(http, Mapping) else raw).get("scheme")
        if isinstance(scheme, str) and scheme.lower() == "bearer":
            return AuthScheme("bearer", name=name)
        return None  # Basic, Digest: not a single key
    if isinstance(api_key, Mapping) or kind == "apikey":
        spec = api_key if isinstance(api_key, Mapping) else raw
        where = str(spec.get("location", spec.get("in")) or "").lower()
        header = spec.get("name")
        if where == "header" and isinstance(header, str) and header.strip():
            return AuthScheme("header", header=header.strip(), name=name)
        return None
    oauth = ("oauth2SecurityScheme", "openIdConnectSecurityScheme")
    if any(isinstance(raw.get(k), Mapping) for k in oauth) or kind in ("oauth2", "openidconnect"):
        return AuthScheme("bearer", name=name)
    return None


def _required_names(card: Mapping[str, Any]) -> list[str]:
    """Scheme names the card lists as required, in order (1.0 and 0.3 shapes)."""
    names: list[str] = []
    for key in ("securityRequirements", "security"):
        entries = card.get(key)
        if not isinstance(entries, list):
            continue
        for entry in entries:
            if not isinstance(entry, Mapping):
                continue
            schemes = entry.get("schemes", entry)  # 1.0: {"schemes": {name: ...}}
            if isinstance(schemes, Mapping):
                names.extend(str(n) for n in schemes)
    return names


def scheme_from_card(card: Mapping[str, Any] | None) -> AuthScheme | None:
    """The credential the card asks for (a required one first), or ``None``."""
    if not isinstance(card, Mapping):
        return None
    raw = card.get("securitySchemes")
    if not isinstance(raw, Mapping) or not raw:
        return None
    usable = {str(n): s for n, s in ((n, _scheme(str(n), v)) for n, v in raw.items()) if s}
    for name in _required_names(card):
        if name in usable:
            return usable[name]
    return next(iter(usable.values()), None)


def auth_headers(scheme: AuthScheme | None, key: Secret | None) -> dict[str, str]:
    """The header carrying ``key`` (Bearer when the agent named no scheme)."""
    if not key:
        return {}
    scheme = scheme or BEARER
    if scheme.kind == "bearer":
        return {"Authorization": f"Bearer {key.reveal()}"}
    return {scheme.header: key.reveal()}


def redact(text: str, secrets: Iterable[Secret | None]) -> str:
    """``text`` with every secret replaced by ``****`` (a last guard on error messages)."""
    for secret in secrets:
        if secret and secret.reveal():
            text = text.replace(secret.reveal(), "****")
    return text


def auth_failure(
    reply: AgentReply,
    scheme: AuthScheme | None,
    *,
    url: str,
    key_given: bool,
    hint: str = "",
    card: bool = False,
) -> AgentReply:
    """A 401 / 403 as an error naming the credential wanted (never the key) and where from."""
    status = f"HTTP {reply.http_status}" if reply.http_status else "refused"
    where = safe_url(reply.rpc_url or url)
    wanted = scheme.describe() if scheme else "a credential"
    what = "the agent card" if card else "the agent"
    if key_given:
        error = f"{status} from {where}: {what} refused the key sent as {wanted}"
    else:
        error = f"{status} from {where}: {what} needs {wanted} and none was given"
        error += f" ({hint or 'pass auth_key='})"
    return replace(reply, error=error)
