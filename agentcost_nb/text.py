"""Untrusted text made safe to store, print and render.  Pure: no I/O.

What an agent sends may hold lone surrogates (valid JSON, but no UTF-8 can
encode them: the event could not be written), terminal escapes and bidi
overrides (a CLI that prints them can be made to show anything), or
characters XML cannot hold (the chart renderer aborts the process on them).
Each cleaner is idempotent, so it may run at every boundary a value crosses.

- ``valid``: lone surrogates become U+FFFD, a surrogate pair its character;
- ``clean_label``: for ids, model names, states: every unprintable character
  (``str.isprintable`` false: controls, format, separators but space) becomes U+FFFD;
- ``clean_text``: for an answer: keeps line breaks and tabs, drops every other
  control character (CR too) and the bidi embedding / override / isolate characters;
- ``one_line``: whitespace runs become one space, cut to ``limit`` with "…";
- ``xml_safe``: drops what XML 1.0 cannot hold (C0 but tab / line breaks, U+FFFE/U+FFFF);
- ``unprintable``: the check user input (team, project, tags, budgets) must pass.
"""

from __future__ import annotations

import re

__all__ = ["clean_label", "clean_text", "one_line", "unprintable", "valid", "xml_safe"]

REPLACEMENT = "\ufffd"

_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BIDI = "\u202a-\u202e\u2066-\u2069"
# C0 but \t and \n (a CR goes: a bare one lets what follows overwrite the line), DEL, C1, bidi.
_NOT_IN_TEXT = re.compile(rf"[\x00-\x08\x0b-\x1f\x7f-\x9f{_BIDI}]")
_NOT_IN_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def valid(text: str) -> str:
    """``text`` as valid Unicode: lone surrogates -> U+FFFD, surrogate pairs joined."""
    if not _SURROGATE.search(text):
        return text
    # UTF-16 is where surrogates mean something: a pair decodes to its character.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def clean_label(text: str) -> str:
    """An identifier or label safe on one terminal line: unprintables -> U+FFFD."""
    if text.isprintable():  # the common case; also rules out surrogates
        return text
    return "".join(c if c.isprintable() else REPLACEMENT for c in valid(text))


def clean_text(text: str) -> str:
    """An answer safe to print: line breaks and tabs kept, other controls and bidi dropped."""
    return _NOT_IN_TEXT.sub("", valid(text))


def one_line(text: object, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def xml_safe(text: str) -> str:
    """``text`` without what XML 1.0 cannot hold (vl-convert's SVG text panics on it)."""
    return _NOT_IN_XML.sub("", valid(text))


def unprintable(text: str) -> bool:
    """True when ``text`` holds a character a user could not see or type back.

    The one rule for user input that ends up in the log and names a budget
    (team, project, tags, budget values): newlines, escapes, zero-width and
    bidi characters, line and paragraph separators are all refused.
    """
    return not text.isprintable()
