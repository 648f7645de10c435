"""The agent registry: who the agents are and what they cost, as dated price versions.

Stored as human-readable, diff-friendly JSON (prices as strings, so exact) and
written atomically.  An agent's identity is its Agent Name; editing a price adds
a version with an ``effective_from`` time and never changes the name, so
history stays in one piece.  Pure apart from reading and writing that one file.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from ._locks import file_lock
from .errors import ConfigError, ValidationError
from .pricing import PRICE_FIELDS, PRICE_UNITS, PriceSheet, parse_price
from .text import unprintable

__all__ = [
    "DIALECT_CHOICES",
    "ENDPOINT_TYPES",
    "AgentConfig",
    "Registry",
    "parse_effective_from",
    "url_problem",
    "validate_agent_input",
]

REGISTRY_VERSION = 1
ENDPOINT_TYPES = ("a2a", "openai-chat")
EndpointType = Literal["a2a", "openai-chat"]
DIALECT_CHOICES = ("", "1.0", "0.3")  # "": from the card, or detected for a bare JSON-RPC URL
MAX_RETRIES = 10

# Used with fullmatch: "$" would also match before a trailing newline ("support\n").
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:@-]{0,99}", re.ASCII)
_ENV_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)


@dataclass(frozen=True)
class AgentConfig:
    name: str  # unique id used in calls; never changes
    display_name: str
    url: str
    model: str = ""  # label used when the agent reports none
    endpoint_type: EndpointType = "a2a"
    prices: tuple[PriceSheet, ...] = (PriceSheet(),)  # ascending effective_from
    auth_env: str = ""  # env var holding the credential, never the secret
    dialect: str = ""  # A2A dialect to force ("1.0" / "0.3"); "" = from the card or detected
    stream: bool = True  # stream when the agent can (the card says so; always for openai-chat)
    retries: int = 0  # extra tries on connect errors and HTTP 502 / 503 / 504
    charge_query_on_failure: bool = False
    charge_input_on_failure: bool = False
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def price_at(self, when: datetime) -> PriceSheet:
        """The price version in effect at ``when`` (the earliest if ``when`` predates all)."""
        current = self.prices[0]
        for sheet in self.prices:
            if sheet.effective_from <= when:
                current = sheet
        return current

    @property
    def current_prices(self) -> PriceSheet:
        """The version in effect now; a version dated later is scheduled, not current."""
        return self.price_at(datetime.now(UTC))

    @property
    def scheduled_prices(self) -> tuple[PriceSheet, ...]:
        """Versions that take effect later than now, soonest first."""
        now = datetime.now(UTC)
        return tuple(p for p in self.prices if p.effective_from > now)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "display_name": self.display_name,
            "url": self.url,
            "model": self.model,
            "endpoint_type": self.endpoint_type,
            "auth_env": self.auth_env,
            "dialect": self.dialect,
            "stream": self.stream,
            "retries": self.retries,
            "charge_query_on_failure": self.charge_query_on_failure,
            "charge_input_on_failure": self.charge_input_on_failure,
            "created_at": _iso(self.created_at),
            "prices": [
                {
                    "effective_from": _iso(p.effective_from),
                    **{n: (None if v is None else _plain(v)) for n, v in p.prices().items()},
                }
                for p in self.prices
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, where: str = "") -> AgentConfig:
        if not isinstance(data, Mapping):
            raise ConfigError(f"{where}: an agent must be a JSON object")
        known = {
            "name", "display_name", "url", "model", "endpoint_type", "auth_env",
            "dialect", "stream", "retries",
            "charge_query_on_failure", "charge_input_on_failure", "created_at", "prices",
        }  # fmt: skip
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}")
        missing = [k for k in ("name", "display_name", "url") if k not in data]
        if missing:
            raise ConfigError(f"{where}: missing field(s) {', '.join(missing)}")
        # Missing "prices": an agent written by hand without any; anything else must be a
        # non-empty list ({} or null would otherwise pass silently for "unpriced").
        raw_prices = data.get("prices", [{}])
        if not isinstance(raw_prices, list) or not raw_prices:
            raise ValidationError(
                {"prices": "must be a non-empty list of price versions ([{}] for unpriced)"},
                where=where,
            )
        sheets: list[PriceSheet] = []
        for i, raw in enumerate(raw_prices):
            at = f"{where}.prices[{i}]"
            if not isinstance(raw, Mapping):
                raise ConfigError(f"{at}: must be an object")
            extra = sorted(set(raw) - set(PRICE_FIELDS) - {"effective_from"})
            if extra:
                raise ConfigError(f"{at}: unknown field(s) {', '.join(extra)}")
            values: dict[str, Any] = {}
            for name in PRICE_FIELDS:
                try:
                    values[name] = parse_price(raw.get(name))
                except ValueError as exc:
                    raise ConfigError(f"{at}.{name}: {exc}") from None
            when = _parse_time(raw.get("effective_from", _EPOCH), at)
            if any(s.effective_from == when for s in sheets):
                raise ConfigError(
                    f"{at}.effective_from: two price versions effective at {_iso(when)}; keep one"
                )
            sheets.append(PriceSheet(**values, effective_from=when))
        sheets.sort(key=lambda s: s.effective_from)
        # Values as written: a wrong type is refused below, never coerced ("false" is not False).
        cfg = cls(
            name=data["name"],
            display_name=data["display_name"],
            url=data["url"],
            model=data.get("model", ""),
            endpoint_type=data.get("endpoint_type", "a2a"),
            auth_env=data.get("auth_env", ""),
            dialect=data.get("dialect", ""),
            stream=data.get("stream", True),
            retries=data.get("retries", 0),
            charge_query_on_failure=data.get("charge_query_on_failure", False),
            charge_input_on_failure=data.get("charge_input_on_failure", False),
            created_at=_parse_time(data.get("created_at", _EPOCH), where),
            prices=tuple(sheets),
        )
        problems = _field_problems(cfg)
        if problems:
            raise ValidationError(problems, where=where)
        return cfg


def _plain(value: Decimal) -> str:
    return format(value, "f")


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


_EPOCH = "1970-01-01T00:00:00Z"  # a version or agent written by hand without a time


def _parse_time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {_kind(value)} is not an ISO 8601 time")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):  # OverflowError: year 9999 with an offset
        raise ConfigError(f"{where}: {_short(value)!r} is not an ISO 8601 time") from None


_TEXT_FIELDS = ("name", "display_name", "url", "model", "endpoint_type", "auth_env", "dialect")
_FLAG_FIELDS = ("stream", "charge_query_on_failure", "charge_input_on_failure")


def parse_effective_from(text: str) -> datetime | None:
    """A price version's time as typed: ISO date or date-time, UTC unless it has a zone.

    Blank or ``now`` is ``None`` (now).  Raises ``ValueError`` with a reason.
    """
    typed = text.strip()
    if typed.lower() in ("", "now"):
        return None
    try:
        when = datetime.fromisoformat(typed.replace("Z", "+00:00").replace("z", "+00:00"))
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(
            f"{typed!r} is not an ISO 8601 date or time, e.g. 2026-12-01 or 2026-12-01T09:00Z"
        ) from None


def _field_problems(cfg: AgentConfig) -> dict[str, str]:
    """Every field's problem; a wrong type is a problem of its own, never coerced."""
    problems: dict[str, str] = {}
    for name in _TEXT_FIELDS:
        value = getattr(cfg, name)
        if not isinstance(value, str):
            problems[name] = f"must be text (a JSON string), not {_kind(value)}"
    for name in _FLAG_FIELDS:
        if not isinstance(getattr(cfg, name), bool):
            problems[name] = f"must be true or false, not {_kind(getattr(cfg, name))}"
    if (
        isinstance(cfg.retries, bool)
        or not isinstance(cfg.retries, int)
        or not 0 <= cfg.retries <= MAX_RETRIES
    ):
        problems["retries"] = f"must be a whole number from 0 to {MAX_RETRIES}"
    if "name" not in problems and not _NAME_RE.fullmatch(cfg.name):
        problems["name"] = (
            "use 1-100 letters, digits or _ . : @ - (no spaces), starting with a letter or digit"
        )
    if "display_name" not in problems:
        if not cfg.display_name.strip():
            problems["display_name"] = "must not be empty"
        elif len(cfg.display_name) > 200:
            problems["display_name"] = "at most 200 characters"
        elif unprintable(cfg.display_name):
            problems["display_name"] = "must not contain control characters (newlines, tabs…)"
    if "model" not in problems and unprintable(cfg.model):
        problems["model"] = "must not contain control characters (newlines, tabs…)"
    if "url" not in problems:
        reason = url_problem(cfg.url)
        if reason:
            problems["url"] = reason
    if "endpoint_type" not in problems and cfg.endpoint_type not in ENDPOINT_TYPES:
        problems["endpoint_type"] = f"must be one of {', '.join(ENDPOINT_TYPES)}"
    if "auth_env" not in problems and cfg.auth_env and not _ENV_RE.fullmatch(cfg.auth_env):
        problems["auth_env"] = "must be an environment variable name such as MY_AGENT_KEY"
    if "dialect" not in problems and cfg.dialect not in DIALECT_CHOICES:
        problems["dialect"] = "must be '1.0', '0.3' or empty (from the card)"
    if not isinstance(cfg.prices, tuple) or not cfg.prices:
        problems["prices"] = "must hold at least one price version"
    return problems


_HOST_RE = re.compile(r"[\w.-]+")  # letters (IDN too), digits, - . _; no % or other marks
_NETLOC_RE = re.compile(r"(?:\[[^\]]*\]|[^:\[\]]+)(?::\d*)?")  # host or [IPv6], then :port


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be an agent's address, or None when it can.

    The one URL check (the form, the CLI and the registry file all come here): http or
    https, a host, a port from 1 to 65535, no whitespace or control characters, no
    credentials (they belong in an environment variable).  urllib only, so this
    core stays free of the HTTP client; every URL it passes, httpx accepts too
    (tests/test_registry.py checks).
    """
    if not url:
        return "required: the agent's base URL, e.g. http://127.0.0.1:8765/echo"
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return "must not contain spaces or control characters (write a space as %20)"
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "Invalid IPv6 URL"
        return f"not a valid URL ({exc})"
    try:
        port = parts.port
    except ValueError:  # not a number, or out of range
        port = 0
    if parts.scheme.lower() not in ("http", "https"):
        return "must be an http:// or https:// URL"
    host = parts.hostname or ""
    if not host:
        return "has no host; e.g. http://127.0.0.1:8765/echo"
    if not (":" in host or _HOST_RE.fullmatch(host)) or not _NETLOC_RE.fullmatch(
        parts.netloc.rpartition("@")[2]
    ):
        return f"{_short(parts.netloc)!r} is not a host name or IP address (with a port)"
    if port == 0:
        return "port must be a number from 1 to 65535"
    if parts.username is not None or parts.password is not None:
        return "must not hold a user name or password; put the key in an environment variable"
    return None


def _short(text: str, limit: int = 60) -> str:
    """Text quoted in a message: a pasted megabyte must not become the message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _kind(value: Any) -> str:
    """A JSON-ish name for a value's type, for messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"text {_short(value)!r}"
    if isinstance(value, (int, Decimal, float)):
        return f"the number {value}"
    return {"list": "a list", "dict": "an object"}.get(type(value).__name__, type(value).__name__)


def _flag(value: Any) -> Any:
    """Form input for a yes/no field: bools as they are, "true"/"false" strings parsed."""
    if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "1", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    return value


def _text(value: Any) -> Any:
    """Form input for a text field: stripped; None is empty; other types left to be refused."""
    if value is None:
        return ""
    return value.strip() if isinstance(value, str) else value


def _whole(value: Any) -> Any:
    """Form input for a count: "3" -> 3; anything else is left for validation to refuse."""
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    if value in (None, ""):
        return 0
    return value


def validate_agent_input(
    values: Mapping[str, Any], units: Mapping[str, str] | None = None
) -> tuple[AgentConfig | None, dict[str, str]]:
    """Check raw form input (strings) and build an ``AgentConfig``.

    Returns ``(config, {})`` or ``(None, {field: reason})``; never raises for bad
    input, so a form can show every reason next to its field at once.
    """
    units = units or {}
    problems: dict[str, str] = {}
    prices: dict[str, Any] = {}
    for name in PRICE_FIELDS:
        unit = units.get(name, "token") if name != "cost_per_query" else "token"
        if unit not in PRICE_UNITS:
            problems[name] = f"unknown unit {unit!r}"
            continue
        try:
            prices[name] = parse_price(values.get(name), unit)
        except ValueError as exc:
            problems[name] = str(exc)
    cfg = AgentConfig(
        name=_text(values.get("name")),
        display_name=_text(values.get("display_name")),
        url=_text(values.get("url")),
        model=_text(values.get("model")),
        endpoint_type=_text(values.get("endpoint_type")) or "a2a",
        auth_env=_text(values.get("auth_env")),
        dialect=_text(values.get("dialect")),
        stream=_flag(values.get("stream", True)),
        retries=_whole(values.get("retries", 0)),
        charge_query_on_failure=_flag(values.get("charge_query_on_failure", False)),
        charge_input_on_failure=_flag(values.get("charge_input_on_failure", False)),
        prices=(PriceSheet(**prices) if not problems else PriceSheet(),),
    )
    if cfg.display_name == "" and cfg.name:
        cfg = replace(cfg, display_name=cfg.name)
    problems = {**_field_problems(cfg), **problems}
    return (None, problems) if problems else (cfg, {})


class Registry:
    """The agents of one data home, backed by a JSON file.

    The file is never overwritten with less than it held: a file that does not
    load is never saved over (``strict=False`` keeps the error in
    ``load_error`` instead of raising, and every change is refused until the
    file is fixed); a change made by someone else since it was read (by hand, or
    another kernel) is loaded before a change is applied on top of it; and the
    previous version is kept as ``<name>.bak`` before each overwrite.
    """

    def __init__(self, path: str | os.PathLike[str], *, strict: bool = True) -> None:
        self.path = Path(path)
        self.load_error: str | None = None  # why the file could not be loaded (strict=False)
        self._agents: dict[str, AgentConfig] = {}
        self._synced: dict[str, AgentConfig] = {}  # as in the file when last read or written
        self._disk: str | None = None  # the file's text then (None: there was no file)
        try:
            self._sync()
        except ConfigError as exc:
            if strict:
                raise
            self.load_error = str(exc)

    def _sync(self) -> None:
        """Load the file (when it exists) as the current state."""
        text = self._read_text()
        agents = self._load(text) if text is not None else {}
        self._agents, self._synced, self._disk = dict(agents), agents, text
        self.load_error = None

    def _read_text(self) -> str | None:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise ConfigError(f"{self.path}: cannot read: {reason}") from None

    def reload(self) -> None:
        """Pick up changes made to the file since it was read (the CLI, another kernel, an
        editor); re-reads only if it changed. A broken file raises ``ConfigError`` (and
        sets ``load_error``); the agents already loaded stay in use."""
        self._refresh()

    def _refresh(self) -> None:
        """Before a change: pick up edits made since the file was read; refuse a broken file."""
        if self.load_error is not None or self._read_text() != self._disk:
            try:
                self._sync()
            except ConfigError as exc:
                self.load_error = str(exc)
                raise ConfigError(f"not changed: fix the registry file first ({exc})") from None

    def _load(self, text: str) -> dict[str, AgentConfig]:
        where = str(self.path)
        if not text.strip():
            # Never written by us: an emptied file must not pass for "no agents" (a save
            # would then replace the backup of what it held).
            raise ConfigError(
                f'{where}, line 1: the file is empty; expected {{"version": 1, "agents": [...]}} '
                f"(the previous version may be in {self.path.name}.bak)"
            )
        try:
            data = json.loads(text, parse_float=Decimal, parse_constant=Decimal)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{where}, line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})"
            ) from None
        except RecursionError:
            raise ConfigError(
                f'{where}, line 1: nested too deeply to be a registry; expected {{"version": 1, '
                '"agents": [...]}'
            ) from None
        lines = _key_lines(text)
        for path, seen in lines.items():
            if len(seen) > 1:
                raise ConfigError(
                    f"{where}, line {seen[1]}: {_dotted(path)}: appears twice in one object "
                    f"(also on line {seen[0]}); keep one"
                )
        if not isinstance(data, Mapping) or not isinstance(data.get("agents", []), list):
            raise ConfigError(f'{where}, line 1: expected {{"version": 1, "agents": [...]}}')
        unknown = sorted(set(data) - {"version", "agents"})
        if unknown:
            at = lines.get((unknown[0],), [1])[0]
            raise ConfigError(f"{where}, line {at}: unknown field(s) {', '.join(unknown)}")
        version = data.get("version", REGISTRY_VERSION)
        if type(version) is not int or version != REGISTRY_VERSION:  # true == 1 in Python
            at = lines.get(("version",), [1])[0]
            raise ConfigError(
                f"{where}, line {at}: version {version!r} is not {REGISTRY_VERSION}: this file "
                "was written by another version of agentcost_nb; it is left as it is"
            )
        agents: dict[str, AgentConfig] = {}
        for i, raw in enumerate(data.get("agents", [])):
            label = raw.get("name") if isinstance(raw, Mapping) else None
            label = _short(label) if isinstance(label, str) else None
            here = f"agents[{i}]" + (f" ({label})" if label else "")
            try:
                cfg = AgentConfig.from_json(raw, where=here)
            except ValidationError as exc:
                at = _line_of(lines, ("agents", i, next(iter(exc.fields), "")))
                raise ValidationError(exc.fields, where=f"{where}, line {at}: {here}") from None
            except ConfigError as exc:
                path, message = _error_path(str(exc), here)
                at = _line_of(lines, ("agents", i, *path))
                raise ConfigError(f"{where}, line {at}: {message}") from None
            if _key(cfg.name) in {_key(n) for n in agents}:
                at = _line_of(lines, ("agents", i, "name"))
                raise ConfigError(
                    f"{where}, line {at}: {here}.name: duplicate Agent Name {cfg.name!r}"
                )
            agents[cfg.name] = cfg
        return agents

    def save(self) -> None:
        """Atomic: a temporary file in the same folder, fsynced, then renamed over.

        Refused (and the change undone in memory) when the file did not load or
        was changed by someone else since it was read; the old file is kept as
        ``<name>.bak`` first.
        """
        try:
            if self.load_error is not None:
                raise ConfigError(
                    f"{self.path}: not saved: the file could not be loaded ({self.load_error})"
                )
            current = self._read_text()
            if current != self._disk:
                raise ConfigError(
                    f"{self.path}: not saved: the file was changed by someone else since it "
                    "was read; nothing was overwritten — try again"
                )
            data = {
                "version": REGISTRY_VERSION,
                "agents": [a.to_json() for a in self._agents.values()],
            }
            text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise ConfigError(f"{self.path}: cannot write: {exc.strerror or exc}") from None
            if current is not None and current != text:
                _write_atomic(self.path.with_name(self.path.name + ".bak"), current)
            _write_atomic(self.path, text)
        except ConfigError:
            self._agents = dict(self._synced)  # memory stays what the file holds
            raise
        self._synced, self._disk = dict(self._agents), text

    def __iter__(self) -> Iterator[AgentConfig]:
        return iter(self._agents.values())

    def __len__(self) -> int:
        return len(self._agents)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.find(name) is not None

    def find(self, name: str) -> AgentConfig | None:
        key = _key(name)
        return next((a for n, a in self._agents.items() if _key(n) == key), None)

    def get(self, name: str) -> AgentConfig:
        agent = self.find(name)
        if agent is None:
            known = ", ".join(self._agents) or "none registered"
            raise ConfigError(f"no agent named {name!r} (known: {known})")
        return agent

    def by_display_name(self, display_name: str) -> AgentConfig:
        for agent in self._agents.values():
            if agent.display_name == display_name:
                return agent
        raise ConfigError(f"no agent with display name {display_name!r}")

    @contextmanager
    def _changing(self) -> Iterator[None]:
        """One change at a time across processes: lock, pick up others' edits, change, save."""
        with ExitStack() as stack:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                stack.enter_context(
                    file_lock(self.path.with_name(self.path.name + ".lock"), exclusive=True)
                )
            except OSError as exc:
                raise ConfigError(
                    f"{self.path.parent}: cannot use this data home folder: {exc.strerror or exc}"
                ) from None
            self._refresh()
            yield

    def add(self, agent: AgentConfig) -> AgentConfig:
        """Register a new agent and save.  A duplicate name (ignoring case) is refused."""
        with self._changing():
            if agent.name in self:
                raise ValidationError({"name": f"an agent named {agent.name!r} already exists"})
            self._store(agent)
        return agent

    def set_prices(
        self, name: str, sheet: PriceSheet, *, effective_from: datetime | None = None
    ) -> AgentConfig:
        """Add a price version (effective now unless given); older events keep their prices.

        ``sheet`` is the whole new version: a price it leaves unset is unset from
        then on.  To change some prices and keep the others, use :meth:`change_prices`.
        """
        return self._new_version(name, lambda _current: sheet, effective_from)

    def change_prices(
        self,
        name: str,
        changes: Mapping[str, Decimal | None],
        *,
        effective_from: datetime | None = None,
    ) -> AgentConfig:
        """A new version with ``changes`` applied to the current prices (None unsets one)."""
        unknown = sorted(set(changes) - set(PRICE_FIELDS))
        if unknown:
            raise ValidationError({n: "not a price field" for n in unknown})

        def merged(current: PriceSheet) -> PriceSheet:
            values: dict[str, Any] = {**current.prices(), **changes}
            return PriceSheet(**values)

        return self._new_version(name, merged, effective_from)

    def _new_version(
        self,
        name: str,
        make: Callable[[PriceSheet], PriceSheet],
        effective_from: datetime | None,
    ) -> AgentConfig:
        """Insert a version at its time (any time no other version has), kept in order.

        ``make`` gets the version that would otherwise be in effect then, so a
        change made now is based on the current prices even when a later one is
        already scheduled (which still takes over at its own time).
        """
        when = effective_from or datetime.now(UTC)
        if when.tzinfo is None:
            raise ValidationError({"effective_from": "give a time zone (or Z for UTC)"})
        when = when.astimezone(UTC)
        with self._changing():  # the versions are read under the lock
            agent = self.get(name)
            if any(p.effective_from == when for p in agent.prices):
                raise ValidationError(
                    {"effective_from": f"a price version is already effective at {_iso(when)}; "
                     "pick another time"}
                )  # fmt: skip
            try:
                sheet = replace(make(agent.price_at(when)), effective_from=when)
            except ValueError as exc:
                raise ValidationError({"prices": str(exc)}) from None
            prices = tuple(sorted((*agent.prices, sheet), key=lambda p: p.effective_from))
            updated = replace(agent, prices=prices)
            self._agents[agent.name] = updated
            self.save()
        return updated

    def update(self, name: str, **changes: Any) -> AgentConfig:
        """Change display name, URL, model or auth settings (not the name, not prices)."""
        if "name" in changes or "prices" in changes:
            raise ConfigError("the Agent Name is the agent's identity; use set_prices() for prices")
        with self._changing():
            agent = replace(self.get(name), **changes)
            self._store(agent)
        return agent

    def _store(self, agent: AgentConfig) -> None:
        """Validate, keep and save one agent (inside :meth:`_changing`)."""
        problems = _field_problems(agent)
        if problems:
            raise ValidationError(problems)
        self._agents[agent.name] = agent
        self.save()

    def remove(self, name: str) -> None:
        with self._changing():
            del self._agents[self.get(name).name]
            self.save()


def _key(name: str) -> str:
    return name.casefold()


def _write_atomic(path: Path, text: str) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write: {exc.strerror or exc}") from exc


# --------------------------------------------- where in the file: line numbers for errors

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+')
JsonPath = tuple[str | int, ...]


def _key_lines(text: str) -> dict[JsonPath, list[int]]:
    """The line of every object key and array item in a (valid) JSON text, by path.

    A key that appears twice in one object has two lines.
    """
    found: dict[JsonPath, list[int]] = {}
    stack: list[list[Any]] = []  # [is_object, path, key or index, expecting a key]
    line, pos = 1, 0
    for match in _TOKEN.finditer(text):
        line += text.count("\n", pos, match.start())
        pos = match.start()
        token = match.group()
        top = stack[-1] if stack else None
        if token in ("}", "]"):
            stack.pop()
            continue
        if token == ",":
            if top is not None and top[0]:
                top[3] = True
            elif top is not None:
                top[2] += 1
            continue
        if token == ":":
            continue
        if top is not None and top[0] and top[3]:  # an object key
            top[2], top[3] = json.loads(token), False
            found.setdefault((*top[1], top[2]), []).append(line)
            continue
        path: JsonPath = () if top is None else (*top[1], top[2])
        if top is not None and not top[0]:
            found.setdefault(path, []).append(line)
        if token == "{":
            stack.append([True, path, None, True])
        elif token == "[":
            stack.append([False, path, 0, False])
    return found


def _line_of(lines: dict[JsonPath, list[int]], path: JsonPath) -> int:
    """The line of ``path``, or of its nearest enclosing part that is in the file."""
    for n in range(len(path), 0, -1):
        if path[:n] in lines:
            return lines[path[:n]][0]
    return 1


def _dotted(path: JsonPath) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


_SUBPATH = re.compile(r"^((?:\.[A-Za-z_]\w*|\[\d+\])*): (.*)$", re.DOTALL)


def _error_path(message: str, where: str) -> tuple[JsonPath, str]:
    """The field an ``AgentConfig.from_json`` error is about, and the message naming it."""
    match = _SUBPATH.match(message[len(where) :]) if message.startswith(where) else None
    if match is None:
        return (), message
    sub, reason = match.groups()
    path: list[str | int] = [
        int(p[1:-1]) if p.startswith("[") else p[1:]
        for p in re.findall(r"\.[A-Za-z_]\w*|\[\d+\]", sub)
    ]
    if reason.startswith("unknown field(s) "):
        path.append(reason[len("unknown field(s) ") :].split(",")[0].strip())
    elif reason.endswith("is not an ISO 8601 time"):
        name = "effective_from" if path and isinstance(path[-1], int) else "created_at"
        path.append(name)
        message = f"{where}{sub}.{name}: {reason}"
    return tuple(path), message
