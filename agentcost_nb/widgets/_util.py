"""Small helpers shared by the widgets."""

from __future__ import annotations

import asyncio
import html
import threading
from collections.abc import Coroutine, Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..charts import agent_labels

if TYPE_CHECKING:
    from ..registry import AgentConfig

__all__ = [
    "agent_options",
    "error_html",
    "esc",
    "fit",
    "html_table",
    "price_text",
    "schedule",
    "warning_html",
]


def esc(text: object) -> str:
    """Agent replies and names are untrusted: always shown as text, never as markup."""
    return html.escape(str(text), quote=True)


def agent_options(agents: Iterable[AgentConfig]) -> list[tuple[str, str]]:
    """``(label, name)`` for an agent dropdown: the display name, and where two agents
    share one, their Agent Names in brackets ("Echo Agent (echo)") — as the charts and
    the dashboard's filter label them."""
    pairs = [(a.name, a.display_name) for a in agents]
    frame = pd.DataFrame(pairs, columns=["agent_name", "display_name"])
    labels = agent_labels(frame)
    return [(labels[name], name) for name, _display in pairs]


def html_table(css_class: str, headers: Iterable[str], rows: Iterable[Iterable[object]]) -> str:
    """A plain table; every header and cell is escaped (names and replies are untrusted)."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{css_class}"><tr>{head}</tr>{body}</table>'


def fit(widget: Any) -> Any:
    """Size a checkbox or button to its description, so no text is cut off ("…").

    ipywidgets gives them a fixed width (and checkboxes a label indent) by default.
    """
    widget.layout.width = "auto"
    if hasattr(widget, "indent"):
        widget.indent = False
        widget.layout.margin = "2px 16px 2px 4px"  # without the indent they would touch
        widget.style.description_width = "initial"
    return widget


def price_text(value: Decimal | None) -> str:
    """A unit price as typed in the registry, or "—" when not set."""
    return "—" if value is None else format(value, "f")


def error_html(message: str | None) -> str:
    return (
        f'<span class="acnb-error" style="color:#b00020">{esc(message)}</span>' if message else ""
    )


def warning_html(message: str | None) -> str:
    """Allowed, but worth knowing (amber, not the red of a refusal)."""
    return (
        f'<span class="acnb-warning" style="color:#8a5a00">{esc(message)}</span>' if message else ""
    )


def schedule(coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any] | threading.Thread:
    """Run ``coro`` without blocking the kernel.

    Inside Jupyter (a running loop) it becomes an asyncio task; in a plain
    script it runs on a worker thread with its own loop.
    """
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        loop = None
    if loop is not None:
        return loop.create_task(coro)
    worker = threading.Thread(target=asyncio.run, args=(coro,), daemon=True)
    worker.start()
    return worker
