"""Encoding of a delimited file: detected from its bytes, validated in one streaming pass, transcoded to UTF-8.

Design (the rules are in `ingest.csvfile`'s docstring): valid UTF-8 (with or without BOM) is UTF-8; UTF-16
by its BOM or by NULs in every other byte; anything else not UTF-8 is cp1252 with a notice giving the
offset of the first non-UTF-8 byte; bytes that are neither are an InputError naming the offset and line.
NULs are counted here and stripped while transcoding. Reads go chunk by chunk (`layout.CHUNK`), so a
large file never sits in memory.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path

from persona_assistant.errors import InputError
from persona_assistant.ingest.layout import CHUNK


@dataclass
class Encoding:
    """How a file is decoded, and whether it needs a UTF-8 copy (`transcode`)."""

    name: str  # python codec
    label: str  # for the report
    bom: int = 0  # bytes to skip
    transcode: bool = False
    nuls: int = 0
    notices: list[str] = field(default_factory=list)


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when NULs sit in every other byte of ASCII-ish text."""
    if len(head) < 4:
        return None
    even, odd = head[0::2], head[1::2]
    if odd.count(0) > 0.7 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.7 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def _line_at(path: Path, offset: int) -> int:
    """1-based line of a byte offset (only computed on the error path)."""
    line = 1
    with path.open("rb") as fh:
        done = 0
        while done < offset:
            chunk = fh.read(min(CHUNK, offset - done))
            if not chunk:
                break
            line += chunk.count(b"\n") or 0
            done += len(chunk)
    return line


def _nul_count(chunk: bytes) -> int:
    """NUL bytes in `chunk`. The membership test (memchr) is ~10x faster than count() and files rarely have any."""
    return chunk.count(b"\x00") if b"\x00" in chunk else 0


def _check_stream(path: Path, codec: str, skip: int) -> tuple[int, int | None]:
    """Decode the whole file in chunks: (NUL count, offset of the first undecodable byte or None)."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    ascii_valid = codec in ("utf-8", "cp1252")  # plain ASCII is valid in both: no need to decode it
    nuls = 0
    offset = skip
    with path.open("rb") as fh:
        fh.seek(skip)
        while True:
            chunk = fh.read(CHUNK)
            final = not chunk
            pending = len(decoder.getstate()[0])
            if ascii_valid and chunk and not pending and chunk.isascii():  # ~10x faster than decoding
                nuls += _nul_count(chunk)
                offset += len(chunk)
                continue
            try:
                decoder.decode(chunk, final)
            except UnicodeDecodeError as exc:
                return nuls, max(skip, offset - pending + exc.start)
            if final:
                return nuls, None
            nuls += _nul_count(chunk)
            offset += len(chunk)


def detect_encoding(path: Path) -> Encoding:
    """Decide the encoding deterministically (see the module docstring)."""
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(codecs.BOM_UTF8):
        enc = Encoding("utf-8", "utf-8 (BOM)", bom=3)
    elif head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        codec = "utf-16-le" if head.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
        enc = Encoding(codec, codec + " (BOM)", bom=2, transcode=True)
        enc.notices.append(f"encoding {codec} (BOM): transcoded to UTF-8")
    elif (guess := _utf16_without_bom(head)) is not None:
        enc = Encoding(guess, guess, transcode=True)
        enc.notices.append(f"encoding {guess} without BOM (NUL bytes in every other position): transcoded to UTF-8")
    else:
        enc = Encoding("utf-8", "utf-8")
    nuls, bad = _check_stream(path, enc.name, enc.bom)
    if bad is not None and enc.name == "utf-8":
        nuls, bad_cp = _check_stream(path, "cp1252", enc.bom)
        if bad_cp is not None:
            raise InputError(f"{path}: byte {bad_cp} (line {_line_at(path, bad_cp)}) is neither UTF-8 nor "
                             "cp1252 (Windows-1252); save the file as UTF-8")
        enc = Encoding("cp1252", "cp1252", transcode=True)
        enc.notices.append(f"not valid UTF-8 (first non-UTF-8 byte at offset {bad}, line {_line_at(path, bad)}): "
                           "read as cp1252 (Windows-1252) and transcoded to UTF-8")
    elif bad is not None:
        raise InputError(f"{path}: byte {bad} (line {_line_at(path, bad)}) is not valid {enc.name}")
    if enc.name == "utf-8":
        enc.nuls = nuls
    else:  # count NUL characters, not NUL bytes of UTF-16 code units: done while transcoding
        enc.nuls = 0
    if enc.nuls:
        enc.transcode = True
    return enc


def transcode(path: Path, enc: Encoding, dest: Path) -> int:
    """Stream `path` into UTF-8 `dest`, stripping NULs; returns the NUL characters removed."""
    decoder = codecs.getincrementaldecoder(enc.name)("strict")
    removed = 0
    with path.open("rb") as src, dest.open("w", encoding="utf-8", newline="") as out:
        src.seek(enc.bom)
        while True:
            chunk = src.read(CHUNK)
            text = decoder.decode(chunk, not chunk)
            if "\x00" in text:
                removed += text.count("\x00")
                text = text.replace("\x00", "")
            out.write(text)
            if not chunk:
                return removed
