"""Shared by the browser tests: timeouts, stages with screenshots, tabs, drawn charts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

LOAD_TIMEOUT = 90_000  # ms: first render includes the kernel start and the App's import
CALL_TIMEOUT = 30_000


def expect() -> Any:
    from playwright.sync_api import expect

    return expect


@contextmanager
def stage(snap: Callable[[str], Path], name: str, page: Any) -> Iterator[None]:
    """Screenshot a stage when it ends, also when it fails (then with the page's JS errors)."""
    try:
        yield
    except BaseException as exc:
        try:
            snap(f"{name}-FAILED")
        except Exception:
            pass
        errors = getattr(page, "page_errors", [])
        if errors and isinstance(exc, AssertionError):
            raise AssertionError(f"{exc}\npage errors: {errors}") from exc
        raise
    snap(name)


def panel(page: Any) -> Any:
    """The visible tab's contents."""
    return page.locator(".widget-tab-contents > .widget-box:visible")


def load_app(page: Any, url: str) -> None:
    """Open the app and wait until its tabs are drawn (the kernel has run the notebook)."""
    page.goto(url, timeout=LOAD_TIMEOUT, wait_until="domcontentloaded")
    expect()(page.get_by_role("tab", name="Dashboard", exact=True)).to_be_visible(
        timeout=LOAD_TIMEOUT
    )


def open_tab(page: Any, title: str) -> Any:
    tab = page.get_by_role("tab", name=title, exact=True)
    tab.click()
    expect()(tab).to_have_attribute("aria-selected", "true")
    return panel(page)


def drawn(chart: Any) -> bool:
    """True once a chart's SVG or canvas has a non-zero size."""
    box = chart.locator("canvas, svg.marks").first.bounding_box()
    return bool(box and box["width"] > 0 and box["height"] > 0)
