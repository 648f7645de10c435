"""The "Add New Agent" form: identity, address and a Cost Configuration.

Thin: validation is :func:`agentcost_nb.registry.validate_agent_input`; this
widget only shows its reasons next to the fields.  ``form.submit()`` is what the
Save button does.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as W

from ..errors import AgentCostError
from ..pricing import format_usd, parse_price
from ..registry import AgentConfig, Registry, validate_agent_input
from ._util import error_html, esc

__all__ = ["AgentForm"]

_TEXT_FIELDS = {
    "name": ("Agent Name", "unique id used in calls, e.g. support-bot"),
    "display_name": ("Display Name", "shown in the chat and charts"),
    "url": ("URL", "http://127.0.0.1:8765/echo"),
    "model": ("Model label", "optional, used when the agent reports none"),
}
_PRICE_FIELDS = {
    "cost_per_query": "Cost Per Query ($)",
    "input_cost_per_token": "Input Cost ($)",
    "output_cost_per_token": "Output Cost ($)",
}
_LABEL = W.Layout(width="150px")


class AgentForm(W.VBox):
    """Register an agent; bad input is refused with a reason beside its field."""

    def __init__(
        self, registry: Registry, *, on_saved: Callable[[AgentConfig], None] | None = None
    ) -> None:
        self.registry = registry
        self.on_saved = on_saved
        self.inputs: dict[str, W.Text] = {}
        self.units: dict[str, W.Dropdown] = {}
        self.errors: dict[str, W.HTML] = {}
        rows: list[W.Widget] = [W.HTML("<h3>Add New Agent</h3>")]
        for name, (label, hint) in _TEXT_FIELDS.items():
            self.inputs[name] = W.Text(placeholder=hint, layout=W.Layout(width="320px"))
            self.errors[name] = W.HTML()
            rows.append(
                W.HBox([W.Label(label, layout=_LABEL), self.inputs[name], self.errors[name]])
            )
        rows.append(W.HTML("<b>Cost Configuration</b> — set any mix; a call costs their sum"))
        for name, label in _PRICE_FIELDS.items():
            box = W.Text(placeholder="not set", layout=W.Layout(width="160px"))
            self.inputs[name] = box
            self.errors[name] = W.HTML()
            parts: list[W.Widget] = [W.Label(label, layout=_LABEL), box]
            if name != "cost_per_query":
                unit = W.Dropdown(
                    options=[
                        ("per token", "token"),
                        ("per 1K tokens", "1K"),
                        ("per 1M tokens", "1M"),
                    ],
                    value="token",
                    layout=W.Layout(width="150px"),
                )
                unit.observe(lambda _change: self._preview(), "value")
                self.units[name] = unit
                parts.append(unit)
            box.observe(lambda _change: self._preview(), "value")
            rows.append(W.HBox([*parts, self.errors[name]]))
        self.preview = W.HTML()
        self.save_button = W.Button(description="Save agent", button_style="primary", icon="check")
        self.save_button.on_click(lambda _b: self.submit())
        self.status = W.HTML()
        rows += [self.preview, W.HBox([self.save_button, self.status])]
        super().__init__(rows)

    def fill(self, **values: str) -> AgentForm:
        """Set fields from code (``unit_<field>`` keys set a unit dropdown)."""
        for key, value in values.items():
            if key.startswith("unit_"):
                self.units[key[5:]].value = value
            else:
                self.inputs[key].value = value
        return self

    def values(self) -> dict[str, str]:
        return {name: box.value for name, box in self.inputs.items()}

    def submit(self) -> AgentConfig | None:
        """Validate and save; returns the agent, or None with reasons shown by the fields."""
        for label in self.errors.values():
            label.value = ""
        cfg, problems = validate_agent_input(self.values(), self._unit_values())
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
            return None
        assert cfg is not None
        self.status.value = f"saved <b>{esc(cfg.display_name)}</b> ({esc(cfg.name)})"
        for box in self.inputs.values():
            box.value = ""
        if self.on_saved:
            self.on_saved(cfg)
        return cfg

    def _unit_values(self) -> dict[str, str]:
        return {name: dd.value for name, dd in self.units.items()}

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
            kind = "input" if name.startswith("input") else "output"
            example = format_usd(per_token * 1000)
            lines.append(
                f"{kind}: stored as {esc(format(per_token, 'f'))} $/token — "
                f"1,000 {kind} tokens cost {esc(example)}"
            )
        self.preview.value = "<br>".join(lines)
