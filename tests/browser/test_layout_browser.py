"""Nothing the app says is cut off at 1400 px: labels, checkbox and button texts, placeholders.

Each tab is opened (and the price accordions expanded) and every visible text
that a widget may clip is measured: a label, checkbox description or button
whose text is wider than its box, or a placeholder wider than its input.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .helpers import expect as _expect
from .helpers import load_app, open_tab, stage

pytestmark = pytest.mark.browser

# Returns "what: text" for every clipped text in the visible tab.
CLIPPED_JS = """(root) => {
    const canvas = document.createElement('canvas').getContext('2d');
    const width = (el, text) => {
        const s = getComputedStyle(el);
        canvas.font = `${s.fontStyle} ${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
        return canvas.measureText(text).width;
    };
    const visible = (el) => el.offsetParent !== null && el.getClientRects().length > 0;
    const out = [];
    for (const el of root.querySelectorAll('.widget-label, label, button')) {
        if (!visible(el) || !el.textContent.trim()) continue;
        if (el.scrollWidth > el.clientWidth + 1) out.push(`text: ${el.textContent.trim()}`);
    }
    for (const el of root.querySelectorAll('input[placeholder], textarea[placeholder]')) {
        if (!visible(el) || !el.placeholder || el.tagName === 'TEXTAREA') continue;
        const s = getComputedStyle(el);
        const room = el.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight);
        if (width(el, el.placeholder) > room + 1) out.push(`placeholder: ${el.placeholder}`);
    }
    return out;
}"""


def test_no_label_button_or_placeholder_is_cut_off(
    voila_app: Any, page: Any, snap: Callable[[str], Path]
) -> None:
    expect = _expect()
    with stage(snap, "layout-loaded", page):
        load_app(page, voila_app.url)
    clipped: dict[str, list[str]] = {}
    for title in ("Playground", "Agents", "Dashboard"):
        with stage(snap, f"layout-{title.lower()}", page):
            panel = open_tab(page, title)
            expect(panel.locator("button").first).to_be_visible()
            for header in panel.locator(".jupyter-widget-Collapse-header:visible, "
                                        ".p-Collapse-header:visible").all():  # fmt: skip
                header.click()  # the optional price fields
            page.wait_for_timeout(300)
            if title == "Playground":  # the placeholders that say a key is held
                for field in ("Agent key", "API key"):
                    box = panel.get_by_label(field, exact=True)
                    box.fill("sk-test-0123456789abcdefKLMN")
                    box.press("Enter")
                    expect(box).to_have_attribute("placeholder", re.compile("type to replace"))
            found = panel.first.evaluate(CLIPPED_JS)
            if found:
                clipped[title] = found
    assert clipped == {}, clipped
