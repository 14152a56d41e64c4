"""Reading a note file: bytes to text, text to lines, lines to interviews, front matter to metadata.

Design: pure functions over the file's text; line numbers are the file's own (1-based), since every quote
is cited by file and line. Which file suffixes are notes is decided here (`NOTE_SUFFIXES`), for the
workspace's note listing and for the loader. Encoding: UTF-8 (with or without BOM), UTF-16 with a BOM;
otherwise cp1252 with a notice; anything else is an InputError naming the file.
"""

from __future__ import annotations

import re

from persona_assistant.errors import InputError

NOTE_SUFFIXES = {".md", ".txt", ".vtt", ".srt", ".markdown"}
CAPTION_SUFFIXES = {".vtt", ".srt"}
META_KEYS = ("name", "role", "title", "company", "industry", "company_size", "region", "date", "segment")


def decode_note(raw: bytes, path: str) -> tuple[str, list[str]]:
    """Text of a note file and any notice about how it was decoded."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), []
        except UnicodeDecodeError:
            raise InputError(f"{path}: not readable as UTF-16 text despite its byte-order mark") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise InputError(f"{path}: not text in UTF-8 or cp1252 (save it as UTF-8)") from None
        return _check_text(text, path), [f"{path}: not UTF-8, read as cp1252 (Windows-1252)"]
    return _check_text(text, path), []


def _check_text(text: str, path: str) -> str:
    if "\x00" in text:
        raise InputError(f"{path}: looks like a binary file, not an interview note")
    return text


def split_lines(text: str) -> list[str]:
    """Lines as editors number them (\\n, \\r\\n or \\r end a line; no other separators)."""
    lines = re.split(r"\r\n|\r|\n", text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _front_matter_at(lines: list[str], i: int, *, require_known: bool) -> int | None:
    """Index of the closing --- when a front-matter block opens at lines[i]."""
    if lines[i].strip() != "---":
        return None
    for j in range(i + 1, min(len(lines), i + 60)):
        if lines[j].strip() in {"---", "..."}:
            body = lines[i + 1:j]
            if require_known and not any(
                    re.match(rf"^\s*{k}\s*:", ln, re.I) for ln in body for k in META_KEYS):
                return None
            if not all(not ln.strip() or ln.startswith((" ", "\t", "#", "-"))
                       or re.match(r"^[\w .-]+\s*:", ln) for ln in body):
                return None
            return j
    return None


def split_interviews(lines: list[str], caption: bool) -> list[tuple[int, int, tuple[int, int] | None]]:
    """(first_line, last_line, front-matter line span or None) per interview, 1-based."""
    if caption:
        return [(1, len(lines), None)] if any(ln.strip() for ln in lines) else []
    chunks: list[tuple[int, int, tuple[int, int] | None]] = []
    start, meta_span, i = 0, None, 0
    fm = _front_matter_at(lines, 0, require_known=False) if lines else None
    if fm is not None:
        meta_span, i = (1, fm + 1), fm + 1

    def close(end: int) -> None:
        body = [ln for k, ln in enumerate(lines[start:end], start=start)
                if not (meta_span and meta_span[0] - 1 <= k <= meta_span[1] - 1)]
        if any(ln.strip() for ln in body):
            chunks.append((start + 1, end, meta_span))

    while i < len(lines):
        if lines[i].strip() == "+++":
            close(i)
            start, meta_span = i + 1, None
            nxt = i + 1
            while nxt < len(lines) and not lines[nxt].strip():
                nxt += 1
            if nxt < len(lines):
                fm = _front_matter_at(lines, nxt, require_known=False)
                if fm is not None:
                    meta_span, i = (nxt + 1, fm + 1), fm + 1
                    continue
            i += 1
            continue
        if i > 0 and lines[i].strip() == "---":
            fm = _front_matter_at(lines, i, require_known=True)
            if fm is not None:
                close(i)
                start, meta_span = i, (i + 1, fm + 1)
                i = fm + 1
                continue
        i += 1
    close(len(lines))
    return chunks


def parse_meta(lines: list[str], span: tuple[int, int] | None, shown: str) -> tuple[dict, dict, dict]:
    """(meta, extra, key -> line) from the front matter at line `span` (YAML; known keys in `META_KEYS`)."""
    if span is None:
        return {}, {}, {}
    import yaml

    a, b = span  # lines a (---) .. b (---), 1-based
    body = "\n".join(lines[a:b - 1])
    try:
        data = yaml.safe_load(body) if body.strip() else {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {a + 1 + mark.line}" if mark is not None else f" lines {a}-{b}"
        raise InputError(f"{shown}:{where}: front matter is not valid YAML") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError(f"{shown}: line {a}: front matter must be `key: value` lines")
    meta, extra, where = {}, {}, {}
    for key, value in data.items():
        k = str(key).strip().lower().replace(" ", "_").replace("-", "_")
        if k in META_KEYS and value is not None and not isinstance(value, (dict, list)):
            meta[k] = str(value).strip()
        else:
            extra[str(key)] = value
    for n in range(a + 1, b):
        m = re.match(r"^\s*([\w -]+?)\s*:", lines[n - 1])
        if m:
            where.setdefault(m.group(1).strip().lower().replace(" ", "_").replace("-", "_"), n)
    if "role" not in meta and "title" in meta:
        meta["role"] = meta["title"]
        where.setdefault("role", where.get("title"))
    return meta, extra, where
