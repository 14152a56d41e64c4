"""Untrusted text (notes, CRM cells, model output) made safe for a terminal.

One place strips what could act on the screen: ANSI/OSC escape sequences and
other control characters. Rich markup is avoided by rendering through
`rich.text.Text`, never `console.print(str)`.
"""

from __future__ import annotations

import re

# CSI, OSC (terminated by BEL or ST), and other two-byte ESC sequences.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def clean(text: str, *, keep_newlines: bool = True) -> str:
    """Remove escape sequences and control characters; keep tabs and (optionally) newlines."""
    text = _ESCAPES.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", text)
    if not keep_newlines:
        text = text.replace("\n", " ")
    return text


def as_rich_text(text: str, style: str | None = None):
    """A `rich.text.Text` of cleaned text: rich markup in it is shown, not interpreted."""
    from rich.text import Text

    return Text(clean(text), style=style or "")


def md_escape(text: object) -> str:
    """Untrusted text for Markdown: a viewer shows it and never renders it as HTML."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_cell(text: object) -> str:
    """md_escape for a Markdown table cell: no pipes or line breaks."""
    return md_escape(text).replace("|", "\\|").replace("\r", " ").replace("\n", " ")
