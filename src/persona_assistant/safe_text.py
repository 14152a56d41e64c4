"""Untrusted text (notes, CRM cells, model output) made inert for a terminal and for exports.

One function per idea:

* `clean`: escape sequences (CSI, OSC, two-byte ESC) and other control characters removed,
  tab and newline kept (CR and CRLF become newlines). Terminals, saved drafts and every export
  format (Markdown via `md_escape`, HTML via the report's Jinja2 `finalize`, JSON via
  `clean_data`, CSV via `export.csv_safe.safe_cell`) go through it.
* `md_escape`: text for Markdown that a viewer shows and never renders as HTML or as a live
  link, and that reads as written in the file: only what Markdown would act on gets a backslash
  (`<`, an entity-like `&`, `*`, a backquote, an edge `_`, a backslash before punctuation), so
  `IT & ERP` stays `IT & ERP`; a link survives only as an inline link to http(s) or mailto
  (`[text](https://...)`); any other link, image or reference definition is broken by writing
  its `]` as `&#93;` (so `[x](javascript:...)` shows as text).
* `as_rich_text`: rich markup in cleaned text is shown, never interpreted.
"""

from __future__ import annotations

import re
import sys
from typing import Any

# CSI, OSC (terminated by BEL or ST), and other two-byte ESC sequences.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# An inline link to http(s) or mailto, not an image: the only link Markdown output keeps live.
_SAFE_LINK = re.compile(r"(?<!!)\[[^\[\]\n]*\]\((?:https?://|mailto:)[^\s()<>\[\]]*\)", re.I)
# A `]` that would close a link label: inline `](`, reference `][`, definition `]:`.
_LABEL_END = re.compile(r"\](?=[(\[:])")
# What Markdown would act on in plain text: a backslash escape, the start of raw HTML or an autolink,
# an entity reference, emphasis (`*`, `_` at a word's edge) and code spans.
_MD_ACTIVE = re.compile(r"\\(?=[!-/:-@\[-`{-~])|<|&(?=#\d+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)"
                        r"|\*|`|(?<!\w)_|_(?!\w)")


def clean(text: str, *, keep_newlines: bool = True) -> str:
    """Remove escape sequences and control characters; keep tabs and (optionally) newlines."""
    text = _ESCAPES.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROLS.sub("", text)
    if not keep_newlines:
        text = text.replace("\n", " ")
    return text


def clean_data(value: Any) -> Any:
    """`clean` applied to every string (keys included) of JSON-like data."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {clean_data(k): clean_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_data(v) for v in value]
    return value


def shorten(text: object, n: int) -> str:
    """`text` on one line (runs of whitespace folded), cut to at most `n` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def write_notice(message: str) -> None:
    """A cleaned line on stderr (progress and notices; stdout stays for --json)."""
    sys.stderr.write(clean(message) + "\n")
    sys.stderr.flush()


def as_rich_text(text: str, style: str | None = None):
    """A `rich.text.Text` of cleaned text: rich markup in it is shown, not interpreted."""
    from rich.text import Text

    return Text(clean(text), style=style or "")


def _md_text(text: str) -> str:
    """Plain text shown literally by a Markdown viewer and readable as a file: a backslash escape
    only where Markdown would act (an escape, raw HTML, an entity, emphasis, code), so `R&D` and
    `IT & ERP` stay as written, and a `]` that would close a link label broken as `&#93;`."""
    return _LABEL_END.sub("&#93;", _MD_ACTIVE.sub(r"\\\g<0>", text))


def md_escape(text: object) -> str:
    """Untrusted text for Markdown: a viewer shows it, never as HTML, never as a live link other
    than an inline http(s)/mailto link, and no control character reaches the file."""
    text = clean(str(text))
    out: list[str] = []
    last = 0
    for m in _SAFE_LINK.finditer(text):
        label, _, url = m.group()[1:].partition("](")
        out += [_md_text(text[last:m.start()]), f"[{_md_text(label)}]({url}"]
        last = m.end()
    out.append(_md_text(text[last:]))
    return "".join(out)


def md_cell(text: object) -> str:
    """md_escape for a Markdown table cell: no pipes or line breaks."""
    return md_escape(text).replace("|", "\\|").replace("\n", " ")
