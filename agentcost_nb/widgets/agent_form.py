"""Agent forms: "Add New Agent" (identity, address, Cost Configuration) and a price editor.

Thin: validation is :func:`agentcost_nb.registry.validate_agent_input` and
:func:`agentcost_nb.pricing.parse_price`; these widgets only show the reasons
next to the fields.  ``form.submit()`` / ``editor.submit()`` are what the Save
buttons do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import ipywidgets as W

from ..errors import AgentCostError
from ..pricing import PRICE_FIELDS, PriceSheet, format_usd, parse_price
from ..registry import (
    AgentConfig,
    Registry,
    _flag,
    parse_effective_from,
    validate_agent_input,
)
from ._util import agent_options, error_html, esc, fit, html_table, price_text, warning_html

__all__ = ["AgentForm", "PriceEditor", "PriceInputs"]

_TEXT_FIELDS = {
    "name": ("Agent Name", "unique id used in calls, e.g. support-bot"),
    "display_name": ("Display Name", "shown in the chat and charts"),
    "url": ("URL", "http://127.0.0.1:8765/echo"),
    "model": ("Model label", "optional, used when the agent reports none"),
}
_PRICE_LABELS = {
    "cost_per_query": "Cost Per Query ($)",
    "input_cost_per_token": "Input Cost ($)",
    "output_cost_per_token": "Output Cost ($)",
    "cached_input_cost_per_token": "Cached Input Cost ($)",
    "reasoning_cost_per_token": "Reasoning Cost ($)",
}
_ADVANCED = ("cached_input_cost_per_token", "reasoning_cost_per_token")
_UNITS = [("per token", "token"), ("per 1K tokens", "1K"), ("per 1M tokens", "1M")]
_LABEL = W.Layout(width="190px")  # fits "New Cached Input Cost ($)"


class PriceInputs(W.VBox):
    """The five price fields with unit pickers, error labels and a worked-example preview."""

    def __init__(self, *, label_prefix: str = "") -> None:
        self.inputs: dict[str, W.Text] = {}
        self.units: dict[str, W.Dropdown] = {}
        self.errors: dict[str, W.HTML] = {}
        rows: dict[str, W.HBox] = {}
        for name, label in _PRICE_LABELS.items():
            box = W.Text(placeholder="not set", layout=W.Layout(width="160px"))
            box.observe(lambda _c: self._preview(), "value")
            self.inputs[name] = box
            self.errors[name] = W.HTML()
            parts: list[W.Widget] = [W.Label(f"{label_prefix}{label}", layout=_LABEL), box]
            if name != "cost_per_query":
                unit = W.Dropdown(options=_UNITS, value="token", layout=W.Layout(width="150px"))
                unit.observe(lambda _c: self._preview(), "value")
                self.units[name] = unit
                parts.append(unit)
            rows[name] = W.HBox([*parts, self.errors[name]])
        self.preview = W.HTML()
        advanced = W.Accordion(children=[W.VBox([rows[n] for n in _ADVANCED])])
        advanced.set_title(0, "Cached-input and reasoning prices (optional)")
        advanced.selected_index = None
        super().__init__(
            [rows[n] for n in PRICE_FIELDS if n not in _ADVANCED] + [advanced, self.preview]
        )

    def values(self) -> dict[str, str]:
        return {name: box.value for name, box in self.inputs.items()}

    def unit_values(self) -> dict[str, str]:
        return {name: dd.value for name, dd in self.units.items()}

    def show_errors(self, problems: Mapping[str, str]) -> None:
        for name, label in self.errors.items():
            label.value = error_html(problems.get(name))

    def clear(self) -> None:
        for box in self.inputs.values():
            box.value = ""

    def parse(self) -> tuple[dict[str, Any], dict[str, str]]:
        """Per-token prices (or None where unset) and any reasons a field was refused."""
        prices: dict[str, Any] = {}
        problems: dict[str, str] = {}
        for name, box in self.inputs.items():
            unit = self.units[name].value if name in self.units else "token"
            try:
                prices[name] = parse_price(box.value, unit)
            except ValueError as exc:
                problems[name] = str(exc)
        return prices, problems

    def _preview(self) -> None:
        """Show the stored per-token value and a worked example, so a ×1000 slip is visible."""
        lines = []
        for name, dd in self.units.items():
            try:
                per_token = parse_price(self.inputs[name].value, dd.value)
            except ValueError:
                continue  # the reason shows on save; a half-typed number is not an error yet
            if per_token is None:
                continue
            kind = _PRICE_LABELS[name].removesuffix(" Cost ($)").lower()
            lines.append(
                f"{esc(kind)}: stored as {esc(format(per_token, 'f'))} $/token — "
                f"1,000 {esc(kind)} tokens cost {esc(format_usd(per_token * 1000))}"
            )
        self.preview.value = "<br>".join(lines)


class AgentForm(W.VBox):
    """Register an agent; bad input is refused with a reason beside its field."""

    def __init__(
        self, registry: Registry, *, on_saved: Callable[[AgentConfig], None] | None = None
    ) -> None:
        self.registry = registry
        self.on_saved = on_saved
        self.inputs: dict[str, W.Text] = {}
        self.errors: dict[str, W.HTML] = {}
        rows: list[W.Widget] = [W.HTML("<h3>Add New Agent</h3>")]
        for name, (label, hint) in _TEXT_FIELDS.items():
            self.inputs[name] = W.Text(placeholder=hint, layout=W.Layout(width="320px"))
            self.errors[name] = W.HTML()
            rows.append(
                W.HBox([W.Label(label, layout=_LABEL), self.inputs[name], self.errors[name]])
            )
        self.endpoint_type = W.Dropdown(
            options=[
                ("A2A (JSON-RPC)", "a2a"),
                ("OpenAI-compatible chat completions", "openai-chat"),
            ],
            value="a2a",
            layout=W.Layout(width="320px"),
        )
        self.dialect = W.Dropdown(
            options=[("from the agent card", ""), ("A2A 1.0", "1.0"), ("A2A 0.3", "0.3")],
            value="",
            layout=W.Layout(width="200px"),
        )
        self.stream = fit(W.Checkbox(value=True, description="stream replies when the agent can"))
        self.retries = W.BoundedIntText(value=0, min=0, max=10, layout=W.Layout(width="80px"))
        self.inputs["auth_env"] = W.Text(
            placeholder="e.g. SUPPORT_AGENT_KEY",
            tooltip="the name of an environment variable holding the agent's key "
            "(the key itself is never stored)",
            layout=W.Layout(width="320px"),
        )
        for name in ("endpoint_type", "dialect", "retries", "auth_env"):
            self.errors[name] = W.HTML()
        connection = W.VBox(
            [
                W.HBox([W.Label("Endpoint type", layout=_LABEL), self.endpoint_type,
                        self.errors["endpoint_type"]]),
                W.HBox([W.Label("A2A dialect", layout=_LABEL), self.dialect,
                        self.errors["dialect"]]),
                W.HBox([W.Label("Retries", layout=_LABEL), self.retries, self.stream,
                        self.errors["retries"]]),
                W.HBox([W.Label("Credential env var", layout=_LABEL), self.inputs["auth_env"],
                        self.errors["auth_env"]]),
            ]
        )  # fmt: skip
        rows.append(connection)
        self.inputs["display_name"].observe(lambda _c: self._warn_display_name(), "value")
        self.prices = PriceInputs()
        self.inputs.update(self.prices.inputs)
        self.errors.update(self.prices.errors)
        self.units = self.prices.units
        self.preview = self.prices.preview
        self.charge_query_on_failure = fit(
            W.Checkbox(description="charge Cost Per Query on failed calls")
        )
        self.charge_input_on_failure = fit(
            W.Checkbox(description="charge input tokens on failed calls")
        )
        self.save_button = W.Button(description="Save agent", button_style="primary", icon="check")
        self.save_button.on_click(lambda _b: self.submit())
        self.status = W.HTML()
        rows += [
            W.HTML("<b>Cost Configuration</b> — set any mix; a call costs their sum"),
            self.prices,
            W.HTML("Failed calls cost nothing unless you tick:"),
            W.HBox([self.charge_query_on_failure, self.charge_input_on_failure]),
            W.HBox([self.save_button, self.status]),
        ]
        super().__init__(rows)

    def fill(self, **values: str | bool) -> AgentForm:
        """Set fields from code (``unit_<field>`` keys set a unit dropdown)."""
        switches = ("charge_query_on_failure", "charge_input_on_failure", "stream")
        choices = ("endpoint_type", "dialect", "retries")
        known = {*self.inputs, *(f"unit_{n}" for n in self.units), *switches, *choices}
        unknown = sorted(set(values) - known)
        if unknown:
            raise TypeError(
                f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        for key, value in values.items():
            if key.startswith("unit_"):
                self.units[key[5:]].value = value
            elif key in switches:
                flag = _flag(value)  # "false" is False, never bool("false")
                if not isinstance(flag, bool):
                    raise TypeError(f"{key} must be True or False, not {value!r}")
                getattr(self, key).value = flag
            elif key in choices:
                getattr(self, key).value = value
            else:
                self.inputs[key].value = value
        return self

    def values(self) -> dict[str, object]:
        return {
            **{name: box.value for name, box in self.inputs.items()},
            "charge_query_on_failure": self.charge_query_on_failure.value,
            "charge_input_on_failure": self.charge_input_on_failure.value,
            "endpoint_type": self.endpoint_type.value,
            "dialect": self.dialect.value,
            "stream": self.stream.value,
            "retries": self.retries.value,
        }

    def same_display_name(self, display_name: str | None = None, *, besides: str = "") -> list[str]:
        """Agent Names of the registered agents already called ``display_name``
        (default: what the Display Name field holds), leaving out ``besides``."""
        wanted = self.inputs["display_name"].value if display_name is None else display_name
        wanted = wanted.strip()
        return [
            a.name
            for a in self.registry
            if wanted and a.display_name == wanted and a.name != besides
        ]

    def _clash_text(self, display_name: str, *, besides: str = "") -> str:
        others = self.same_display_name(display_name, besides=besides)
        if not others:
            return ""
        return (
            f"{', '.join(others)} already {'has' if len(others) == 1 else 'have'} this display "
            "name: allowed, but the chat and charts will add the Agent Name in brackets"
        )

    def _warn_display_name(self) -> None:
        """A display name another agent has is allowed, but worth knowing before saving."""
        typed = self.inputs["display_name"].value
        self.errors["display_name"].value = warning_html(self._clash_text(typed))

    def submit(self) -> AgentConfig | None:
        """Validate and save; returns the agent, or None with reasons shown by the fields."""
        for label in self.errors.values():
            label.value = ""
        cfg, problems = validate_agent_input(self.values(), self.prices.unit_values())
        if cfg is not None and cfg.name in self.registry:
            problems = {"name": f"an agent named {cfg.name!r} already exists"}
        if not problems and cfg is not None:
            try:
                self.registry.add(cfg)
            except AgentCostError as exc:
                problems = getattr(exc, "fields", None) or {"name": str(exc)}
        if problems:
            for name, reason in problems.items():
                self.errors.get(name, self.errors["name"]).value = error_html(reason)
            self.status.value = error_html("not saved: fix the fields marked in red")
            if "display_name" not in problems:
                self._warn_display_name()
            return None
        assert cfg is not None
        clash = self._clash_text(cfg.display_name, besides=cfg.name)
        self.status.value = f"saved <b>{esc(cfg.display_name)}</b> ({esc(cfg.name)})"
        if clash:
            self.status.value += " " + warning_html(f"note: {clash}")
        for box in self.inputs.values():
            box.value = ""
        if self.on_saved:
            self.on_saved(cfg)
        return cfg


class PriceEditor(W.VBox):
    """Add a dated price version to an existing agent; its name and history stay."""

    def __init__(
        self, registry: Registry, *, on_saved: Callable[[AgentConfig], None] | None = None
    ) -> None:
        self.registry = registry
        self.on_saved = on_saved
        self.agent = W.Dropdown(description="Agent", layout=W.Layout(width="360px"))
        self.agent.observe(self._on_agent, "value")
        self.versions = W.HTML()
        self.prices = PriceInputs(label_prefix="New ")
        self.effective_from = W.Text(
            description="Effective",
            placeholder="now, or e.g. 2026-12-01T00:00Z",
            tooltip="empty for now, or an ISO time (UTC unless it gives an offset)",
            layout=W.Layout(width="360px"),
        )
        self.effective_error = W.HTML()
        self.save_button = W.Button(description="Add price version", icon="plus")
        self.save_button.on_click(lambda _b: self.submit())
        self.status = W.HTML()
        self.refresh_agents()
        self._prefill()
        super().__init__(
            [
                W.HTML("<h3>Change an agent's prices</h3>"
                       "<i>The fields start at the current prices: what they show when you "
                       "save is the whole new version (clear a field to unset that price). "
                       "It applies from its effective time; calls already logged keep the "
                       "prices they were charged.</i>"),
                self.agent,
                self.versions,
                self.prices,
                W.HBox([self.effective_from, self.effective_error]),
                W.HBox([self.save_button, self.status]),
            ]
        )  # fmt: skip

    def refresh_agents(self) -> None:
        current = self.agent.value
        self.agent.options = agent_options(self.registry)
        names = [a.name for a in self.registry]
        self.agent.value = current if current in names else (names[0] if names else None)
        self._show_versions()

    def _on_agent(self, _change: object) -> None:
        self._show_versions()
        self._prefill()

    def _prefill(self) -> None:
        """Start from the current version: what is shown is the whole new version."""
        agent = self.registry.find(self.agent.value) if self.agent.value else None
        current = agent.current_prices.prices() if agent else {}
        for name, box in self.prices.inputs.items():
            if name in self.prices.units:
                self.prices.units[name].value = "token"
            value = current.get(name)
            box.value = "" if value is None else format(value, "f")

    def submit(self) -> AgentConfig | None:
        self.prices.show_errors({})
        self.effective_error.value = ""
        if not self.agent.value:
            self.status.value = error_html("register an agent first")
            return None
        prices, problems = self.prices.parse()
        when: datetime | None = None
        try:
            when = parse_effective_from(self.effective_from.value) or datetime.now(UTC)
        except ValueError as exc:
            problems["effective_from"] = str(exc)
        if not problems:
            try:
                agent = self.registry.set_prices(
                    self.agent.value,
                    PriceSheet(**prices),
                    effective_from=when,  # type: ignore[arg-type]
                )
            except AgentCostError as exc:
                problems = getattr(exc, "fields", None) or {"effective_from": str(exc)}
        if problems:
            self.prices.show_errors(problems)
            self.effective_error.value = error_html(problems.get("effective_from"))
            elsewhere = [v for k, v in problems.items() if k not in self.prices.errors]
            elsewhere = [v for v in elsewhere if v != problems.get("effective_from")]
            self.status.value = error_html(
                f"not saved: {'; '.join(elsewhere) or 'fix the fields marked in red'}"
            )
            return None
        added = next(p for p in agent.prices if p.effective_from == when)
        number = agent.prices.index(added) + 1
        later = " (scheduled)" if added in agent.scheduled_prices else ""
        self.status.value = (
            f"added version {number} for <b>{esc(agent.display_name)}</b>, effective from "
            f"{esc(added.effective_from.isoformat(timespec='seconds'))}{later}"
        )
        self.effective_from.value = ""
        self._show_versions()
        self._prefill()
        if self.on_saved:
            self.on_saved(agent)
        return agent

    def _show_versions(self) -> None:
        agent = self.registry.find(self.agent.value) if self.agent.value else None
        if agent is None:
            self.versions.value = ""
            return
        current, scheduled = agent.current_prices, agent.scheduled_prices
        rows = (
            [
                sheet.effective_from.isoformat(timespec="seconds"),
                "current" if sheet is current else "scheduled" if sheet in scheduled else "",
            ]
            + [price_text(v) for v in sheet.prices().values()]
            for sheet in agent.prices
        )
        self.versions.value = html_table(
            "acnb-versions", ("effective from", "", *_PRICE_LABELS.values()), rows
        )
