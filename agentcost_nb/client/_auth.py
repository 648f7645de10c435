"""Credentials: which one an agent card asks for, and how to send it.  Pure: no I/O.

Card ``securitySchemes`` come in two shapes: 1.0 wraps each scheme
(``{"httpAuthSecurityScheme": {"scheme": "Bearer"}}``,
``{"apiKeySecurityScheme": {"location": "header", "name": "X-API-Key"}}``),
0.3 is OpenAPI style (``{"type": "http", "scheme": "bearer"}``,
``{"type": "apiKey", "in": "header", "name": "X-API-Key"}``).  The key goes
where the card asks: a Bearer token, a named header, query parameter or
cookie, or HTTP Basic (the key is ``user:password``).  OAuth 2 and OpenID
Connect tokens travel as Bearer tokens (the caller obtains them).  What a key
cannot satisfy (mutual TLS, HTTP Digest) is named in the error when the agent
refuses; the key, if given, then goes as a Bearer token.

The key itself is wrapped in ``Secret`` as soon as it is read, so a repr, a
traceback's locals or a log line shows ``Secret('****')``.  A key that a
request cannot carry (a pasted line break, a non-ASCII character in a header)
is refused before anything is sent (``key_problem``): libraries quote such a
value in their errors.  ``redact`` is the last guard on any text leaving a
call: it knows the escaped and encoded forms a library may show, and takes out
any piece of 8 or more characters of the key (an agent quoting part of it).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import quote, quote_plus

from agentcost_nb.client._wire import safe_url
from agentcost_nb.client.types import AgentReply

__all__ = [
    "BEARER",
    "NO_CREDENTIAL",
    "AuthScheme",
    "Credential",
    "Secret",
    "auth_failure",
    "auth_headers",
    "credential",
    "key_problem",
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
    """How to send a key, from a card's scheme.

    ``kind``: "bearer" (Authorization header), "header" (``header``), "query"
    or "cookie" (named ``param``), "basic", or "unsupported" (``label`` says
    what the card asks for).  ``name`` is the scheme's name in the card.
    """

    kind: str
    header: str = "Authorization"
    name: str = ""
    param: str = ""
    label: str = ""

    def describe(self) -> str:
        """What to provide, in words: names the credential, never holds it."""
        if self.kind == "header":
            return f"an API key in the {self.header} header"
        if self.kind == "query":
            return f"an API key in the query parameter {self.param}"
        if self.kind == "cookie":
            return f"an API key in the cookie {self.param}"
        if self.kind == "basic":
            return "HTTP Basic credentials (the key as user:password)"
        if self.kind == "unsupported":
            return f"{self.label}, which agentcost_nb cannot provide"
        if self.label:  # OAuth 2, OpenID Connect: a token the caller obtained
            return f"{self.label} (sent as a Bearer token)"
        return "a Bearer token (Authorization header)"

    def carrier(self) -> str:
        """The header the key travels in, in words ("" when it is encoded first)."""
        if self.kind in ("query", "basic"):
            return ""
        if self.kind == "cookie":
            return f"the cookie {self.param}"
        return f"the {self.header} header"


BEARER = AuthScheme("bearer")
_UNSUPPORTED = "unsupported"


def _scheme(name: str, raw: object) -> AuthScheme | None:
    if not isinstance(raw, Mapping):
        return None
    http = raw.get("httpAuthSecurityScheme")
    api_key = raw.get("apiKeySecurityScheme")
    kind = str(raw.get("type") or "").lower()
    if isinstance(http, Mapping) or kind == "http":
        scheme = str((http if isinstance(http, Mapping) else raw).get("scheme") or "").strip()
        if scheme.lower() in ("bearer", "basic"):
            return AuthScheme(scheme.lower(), name=name)
        label = f"HTTP {scheme.title()} authentication" if scheme else "HTTP authentication"
        return AuthScheme(_UNSUPPORTED, name=name, label=label)
    if isinstance(api_key, Mapping) or kind == "apikey":
        spec = api_key if isinstance(api_key, Mapping) else raw
        where = str(spec.get("location", spec.get("in")) or "").lower()
        field = spec.get("name")
        field = field.strip() if isinstance(field, str) else ""
        if field and where == "header":
            return AuthScheme("header", header=field, name=name)
        if field and where in ("query", "cookie"):
            return AuthScheme(where, param=field, name=name)
        label = f"an API key in the {where}" if where and field else "an API key"
        return AuthScheme(_UNSUPPORTED, name=name, label=label)
    if isinstance(raw.get("oauth2SecurityScheme"), Mapping) or kind == "oauth2":
        return AuthScheme("bearer", name=name, label="an OAuth 2 access token")
    if isinstance(raw.get("openIdConnectSecurityScheme"), Mapping) or kind == "openidconnect":
        return AuthScheme("bearer", name=name, label="an OpenID Connect token")
    if isinstance(raw.get("mtlsSecurityScheme"), Mapping) or kind == "mutualtls":
        return AuthScheme(_UNSUPPORTED, name=name, label="mutual TLS (a client certificate)")
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
    """The credential the card asks for, or ``None``.

    One a key can satisfy wins (a required one first); else the first that
    cannot be satisfied, so that an error can name it.
    """
    if not isinstance(card, Mapping):
        return None
    raw = card.get("securitySchemes")
    if not isinstance(raw, Mapping) or not raw:
        return None
    known = {str(n): s for n, s in ((n, _scheme(str(n), v)) for n, v in raw.items()) if s}
    required = _required_names(card)
    for usable in (True, False):
        pool = {n: s for n, s in known.items() if (s.kind != _UNSUPPORTED) == usable}
        for name in required:
            if name in pool:
                return pool[name]
        if pool:
            return next(iter(pool.values()))
    return None


@dataclass(frozen=True)
class Credential:
    """What carries a key on each request: headers and query parameters."""

    headers: Mapping[str, str]
    params: Mapping[str, str]


NO_CREDENTIAL = Credential({}, {})


def credential(scheme: AuthScheme | None, key: Secret | None) -> Credential:
    """Where ``key`` goes, as ``scheme`` asks (Bearer when the agent named none it takes).

    Check ``key_problem`` first: this builds what it is given.
    """
    if not key:
        return NO_CREDENTIAL
    value = key.reveal()
    kind = scheme.kind if scheme else "bearer"
    if kind == "header" and scheme is not None:
        return Credential({scheme.header: value}, {})
    if kind == "query" and scheme is not None:
        return Credential({}, {scheme.param: value})
    if kind == "cookie" and scheme is not None:
        return Credential({"Cookie": f"{scheme.param}={value}"}, {})
    if kind == "basic":
        token = base64.b64encode(value.encode("utf-8")).decode("ascii")
        return Credential({"Authorization": f"Basic {token}"}, {})
    return Credential({"Authorization": f"Bearer {value}"}, {})


def auth_headers(scheme: AuthScheme | None, key: Secret | None) -> dict[str, str]:
    """The headers carrying ``key`` (see ``credential``; a query key is not among them)."""
    return dict(credential(scheme, key).headers)


_CONTROL_NAMES = {"\n": "a line break", "\r": "a carriage return", "\t": "a tab",
                  "\x00": "a NUL character"}  # fmt: skip


def key_problem(key: Secret | None, scheme: AuthScheme | None = None) -> str | None:
    """Why ``key`` cannot be sent as ``scheme`` asks, else ``None``; never quotes the key.

    Without a scheme only what no request can carry is checked (control
    characters: always a copy-and-paste slip, and a header injection).
    """
    value = key.reveal() if key else ""
    if not value:
        return None
    for position, char in enumerate(value, 1):
        code = ord(char)
        if code < 0x20 or 0x7F <= code <= 0x9F:
            what = _CONTROL_NAMES.get(char, "a control character")
            return (
                f"the agent key was not sent: it contains {what} (character {position}), "
                "and a key cannot contain control characters; check how it was copied or stored"
            )
    if scheme is None:
        return None
    if scheme.kind == "basic" and ":" not in value:
        return "the agent key was not sent: HTTP Basic needs it as user:password, and it has no ':'"
    carrier = scheme.carrier()
    if not carrier:  # percent-encoded (query) or base64 (Basic): any text travels
        return None
    for position, char in enumerate(value, 1):
        if char == " ":
            what = "a space"
        elif ord(char) > 0x7E:
            what = "a non-ASCII character"
        elif scheme.kind == "cookie" and char in ';,"\\':
            what = repr(char)
        else:
            continue
        return (
            f"the agent key was not sent: it contains {what} (character {position}), "
            f"which cannot go in {carrier}; check the key"
        )
    return None


def _forms(value: str) -> set[str]:
    """The ways a library may show ``value`` in a message: escaped, encoded, reflowed."""
    raw = value.encode("utf-8", "surrogatepass")
    forms = {
        value,
        " ".join(value.split()),  # after one_line()
        repr(value)[1:-1],
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        repr(raw)[2:-1],
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
    }
    try:
        forms.add(repr(value.encode("latin-1"))[2:-1])
    except UnicodeEncodeError:
        pass
    forms |= {f.rstrip("=") for f in forms if f.endswith("=") and len(f.rstrip("=")) >= 6}
    # A key broken by a control character may be shown piece by piece.
    forms |= {p for p in value.translate(_TO_SPACE).split() if len(p) >= 6}
    return {f for f in forms if f}


_TO_SPACE = {c: " " for c in [*range(0x20), *range(0x7F, 0xA0)]}


# A run this long of a key's characters is a piece of it (an agent echoing
# ``key[7:27]``); shorter runs would also hit ordinary words.
_MIN_PIECE = 8


def _pieces(text: str, forms: Iterable[str]) -> str:
    """``text`` with every run of ``_MIN_PIECE``+ characters found in a form as ``****``."""
    forms = [f for f in forms if len(f) >= _MIN_PIECE]
    grams = {f[i : i + _MIN_PIECE] for f in forms for i in range(len(f) - _MIN_PIECE + 1)}
    out, start, i = [], 0, 0
    while i <= len(text) - _MIN_PIECE:
        if text[i : i + _MIN_PIECE] not in grams:
            i += 1
            continue
        end = i + _MIN_PIECE  # grow the run as far as some form still holds it: longest first
        while end < len(text) and any(text[i : end + 1] in f for f in forms):
            end += 1
        out += [text[start:i], "****"]
        start = i = end
    return "".join([*out, text[start:]])


def redact(text: str, secrets: Iterable[Secret | None]) -> str:
    """``text`` with every secret, in any form a library may show it, replaced by ``****``.

    Any piece of 8 (``_MIN_PIECE``) or more characters of a key that long (raw or
    escaped) goes too: an agent may quote part of the key it refuses.
    """
    forms: set[str] = set()
    long_forms: set[str] = set()
    for secret in secrets:
        if secret and secret.reveal():
            forms |= _forms(secret.reveal())
            if len(secret.reveal()) >= _MIN_PIECE:
                long_forms |= _forms(secret.reveal())
    ordered = sorted(forms, key=len, reverse=True)  # the whole key before its pieces
    for form in ordered:
        text = text.replace(form, "****")
    if long_forms:
        text = _pieces(text, long_forms)
    if text.endswith("…"):  # cut by one_line: the key's start may end the text
        head = text[:-1]
        for form in ordered:
            cut = next((n for n in range(len(form) - 1, 3, -1) if head.endswith(form[:n])), 0)
            if cut:
                return head[:-cut] + "****…"
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
    if scheme is not None and scheme.kind == _UNSUPPORTED:
        error = f"{status} from {where}: {what}'s card asks for {wanted}"
        if key_given:
            error += "; the key was sent as a Bearer token and refused"
    elif key_given:
        error = f"{status} from {where}: {what} refused the key sent as {wanted}"
    else:
        error = f"{status} from {where}: {what} needs {wanted} and none was given"
        error += f" ({hint or 'pass auth_key='})"
    return replace(reply, error=error)
