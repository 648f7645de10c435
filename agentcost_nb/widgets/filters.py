"""The dashboard's filter bar: date range (presets and pickers), agents, keys, teams, projects.

The bar only holds choices; :meth:`FilterBar.filters` turns them into an
:class:`~agentcost_nb.analytics.Filters`.  Options come from the data
(:func:`~agentcost_nb.analytics.filter_choices`): agents by display name, keys
masked (their hash is the value), teams and projects as written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import ipywidgets as W
import pandas as pd

from ..analytics import Filters
from ..errors import ValidationError

__all__ = ["CUSTOM", "PRESETS", "FilterBar", "choice_options", "preset_range", "sort_options"]

CUSTOM = -1
ALL_TIME = 0
PRESETS: tuple[tuple[str, int], ...] = (
    ("Last 7 days", 7),
    ("Last 30 days", 30),
    ("Last 90 days", 90),
    ("All time", ALL_TIME),
    ("Custom", CUSTOM),
)
# Filters field each multi-select feeds, and the filter_choices dimension it lists.
SELECTS: tuple[tuple[str, str, str], ...] = (
    ("agents", "agent", "Agents"),
    ("api_keys", "api_key", "API keys"),
    ("teams", "team", "Teams"),
    ("projects", "project", "Projects"),
)


def preset_range(days: int, today: date) -> tuple[date | None, date | None]:
    """The ``days`` local days up to and including ``today``; all time for 0."""
    if days == ALL_TIME:
        return None, None
    if days < 1:
        raise ValueError(f"a preset is 0 (all time) or a number of days, not {days}")
    return today - timedelta(days=days - 1), today


def choice_options(
    choices: pd.DataFrame, dimension: str, keep: Iterable[tuple[str, str]] = ()
) -> list[tuple[str, str]]:
    """``(label, value)`` pairs for one multi-select, sorted by label (ignoring case).

    A stable order, so options do not jump about when the date range changes
    which value is busiest.  Labels shared by several values (two agents with one
    display name, two short keys both masked ``****``) get the value (or a key's
    hash prefix) in brackets; ``keep`` pairs (current selections no longer in the
    data) stay listed.
    """
    rows = choices[choices["dimension"] == dimension]
    pairs = [(str(r.label), str(r.value)) for r in rows.itertuples()]
    known = {v for _, v in pairs}
    pairs += [(label, value) for label, value in keep if value not in known]
    counts = Counter(label for label, _ in pairs)
    shown = []
    for label, value in pairs:
        if counts[label] > 1:
            label = f"{label} ({value[:8] if dimension == 'api_key' else value})"
        shown.append((label, value))
    return sort_options(shown)


def sort_options(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """By label ignoring case, then as written, then by value: the same order every time."""
    return sorted(pairs, key=lambda p: (p[0].casefold(), p[0], p[1]))


class FilterBar(W.VBox):
    """Range preset + From/To pickers, and a multi-select per dimension.

    ``on_change`` is called once per user action (not for programmatic updates
    made inside :meth:`set_range` / :meth:`select`, which call it once at the end).
    """

    def __init__(
        self,
        *,
        tz: str | None = None,
        days: int = 30,
        today: date | None = None,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.tz = tz
        self.fixed_today = today
        self.on_change = on_change
        self._quiet = False
        narrow = W.Layout(width="auto")
        self.preset = W.Dropdown(options=list(PRESETS), value=days, description="Range")
        self.start = W.DatePicker(description="From", layout=narrow)
        self.end = W.DatePicker(description="To", layout=narrow)
        self.selects: dict[str, W.SelectMultiple] = {
            name: W.SelectMultiple(
                description=label, rows=4, layout=W.Layout(width="260px")
            ).add_class(f"acnb-filter-{name.replace('_', '-')}")
            for name, _dim, label in SELECTS
        }
        self.clear_button = W.Button(description="Clear filters", icon="times")
        self.preset.add_class("acnb-range")
        self.start.add_class("acnb-start")
        self.end.add_class("acnb-end")
        self.preset.observe(self._on_preset, "value")
        for picker in (self.start, self.end):
            picker.observe(self._on_dates, "value")
        for widget in self.selects.values():
            widget.observe(self._on_select, "value")
        self.clear_button.on_click(lambda _b: self.clear())
        self._apply_preset()
        super().__init__(
            [
                W.HBox([self.preset, self.start, self.end, self.clear_button]),
                W.HBox(list(self.selects.values()), layout=W.Layout(flex_flow="row wrap")),
            ]
        )
        self.add_class("acnb-filters")

    # ------------------------------------------------------------------ state

    def today(self) -> date:
        return self.fixed_today or datetime.now(ZoneInfo(Filters(tz=self.tz).zone)).date()

    def filters(self, **extra: Any) -> Filters:
        """The chosen filters; rolling presets follow the current day."""
        if self.preset.value != CUSTOM:
            self._apply_preset()  # a dashboard left open past midnight moves on
        values: dict[str, Any] = {name: tuple(w.value) for name, w in self.selects.items()}
        values.update(extra)
        return Filters(start=self.start.value, end=self.end.value, tz=self.tz, **values)

    def set_choices(self, choices: pd.DataFrame) -> None:
        """List what the data offers; selected values stay selected (and listed)."""
        with self._silence():
            for name, dimension, _label in SELECTS:
                widget = self.selects[name]
                current = dict((v, label) for label, v in widget.options)
                keep = [(current.get(v, v), v) for v in widget.value]
                options = choice_options(choices, dimension, keep)
                if list(widget.options) != options:
                    selected = tuple(widget.value)
                    widget.options = options
                    widget.value = selected

    # ------------------------------------------------------------ code actions

    def set_range(
        self, start: date | None = None, end: date | None = None, *, days: int | None = None
    ) -> None:
        """A preset (``days`` = 7, 30, 90, or 0 for all time) or explicit From / To dates."""
        if days is not None and days not in {d for _label, d in PRESETS if d != CUSTOM}:
            raise ValueError(f"days must be 7, 30, 90 or 0 (all time), not {days!r}")
        if days is None and start is not None and end is not None and start > end:
            raise ValidationError({"end": "is before the start date"}, where="filters")
        with self._silence():
            if days is not None:
                self.preset.value = days
                self._apply_preset()
            else:
                self.preset.value = CUSTOM
                self.start.value, self.end.value = start, end
        self._changed()

    def select(self, **values: Sequence[str] | None) -> None:
        """Choose values per dimension: ``agents``, ``api_keys``, ``teams``, ``projects``.

        ``None`` leaves a dimension as it is; ``()`` clears it.  Values not listed
        (yet) are added to the options, so a filter set from code is never dropped.
        """
        unknown = set(values) - set(self.selects)
        if unknown:
            raise TypeError(f"unknown filter(s) {sorted(unknown)}; use {sorted(self.selects)}")
        with self._silence():
            for name, chosen in values.items():
                if chosen is None:
                    continue
                if isinstance(chosen, str):
                    chosen = (chosen,)
                widget = self.selects[name]
                listed = {v for _label, v in widget.options}
                missing = [(v, v) for v in chosen if v not in listed]
                if missing:
                    widget.options = sort_options([*widget.options, *missing])
                widget.value = tuple(chosen)
        self._changed()

    def clear(self) -> None:
        """Every multi-select back to "all" (the date range stays)."""
        self.select(**{name: () for name in self.selects})

    # -------------------------------------------------------------- reactions

    def _apply_preset(self) -> None:
        if self.preset.value == CUSTOM:
            return
        start, end = preset_range(self.preset.value, self.today())
        if (self.start.value, self.end.value) != (start, end):
            with self._silence():
                self.start.value, self.end.value = start, end

    def _on_preset(self, _change: Any) -> None:
        if self._quiet:
            return
        self._apply_preset()
        self._changed()

    def _on_dates(self, _change: Any) -> None:
        if self._quiet:
            return
        with self._silence():
            self.preset.value = CUSTOM
        self._changed()

    def _on_select(self, _change: Any) -> None:
        if not self._quiet:
            self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    def _silence(self) -> _Quiet:
        return _Quiet(self)


class _Quiet:
    """Within it, widget changes made by code do not call ``on_change``."""

    def __init__(self, bar: FilterBar) -> None:
        self.bar = bar
        self.before = False

    def __enter__(self) -> None:
        self.before, self.bar._quiet = self.bar._quiet, True

    def __exit__(self, *_exc: object) -> None:
        self.bar._quiet = self.before
