"""The HTML report in a real headless browser (Debian's chromium; `.ci/browser.sh` installs it in
CI): rendered at 1 and at 10 personas and screenshot at 1366x768, the first screen must hold the
ICP headline and the whole persona comparison.

How the fold is checked without running a script in the page: the test's copy of the report gets
a style block (the page's CSP allows inline styles) that paints a bar of one marker colour under
the ICP headline and another under the last row of the persona comparison. The screenshot must
show both colours: a comparison that runs below the first screen loses its bar, and the test fails.
Skips, saying why, only when no chromium is installed."""

from __future__ import annotations

import html
import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from persona_assistant.export.html import render_report
from persona_assistant.export.json_export import load_all
from persona_assistant.workspace import open_workspace

from test_demo import run_demo

CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium")
                 if p and Path(p).exists()), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium not found (apt-get install -y chromium; "
                                                         ".ci/browser.sh does it in CI)")
WIDTH, HEIGHT = 1366, 768
HEADLINE_BAR = (255, 0, 255)
COMPARISON_BAR = (0, 255, 255)
MARKERS = """<style>
#icp-headline::after{content:"";display:block;height:6px;background:rgb(255,0,255)}
#persona-comparison::after{content:"";display:block;height:6px;background:rgb(0,255,255)}
</style>"""


def png_pixels(path: Path) -> tuple[int, int, list[bytes]]:
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced PNG, as chromium writes."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 4 if colour == 6 else 3
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, [bytes(r[i:i + 3]) for r in rows for i in range(0, stride, bpp)]


def rows_with(colour: tuple[int, int, int], width: int, pixels: list[bytes]) -> list[int]:
    want = bytes(colour)
    return sorted({i // width for i, px in enumerate(pixels) if px == want})


def between(text: str, start: str, end: str) -> str:
    at = text.index(start)
    return text[at:text.index(end, at)]


def chromium(*args: str, tmp: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                           "--no-first-run", "--disable-background-networking", "--disable-component-update",
                           "--disable-sync", f"--user-data-dir={tmp / 'profile'}", *args],
                          capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    done = run_demo(cwd=root)
    assert done.returncode == 0, done.stderr
    return load_all(open_workspace(root / "persona-assistant-demo"))


def ten_personas(personas: list) -> list:
    """Ten personas from the demo's three: each copy a persona of its own (id and name)."""
    out = []
    for i in range(10):
        p = personas[i % len(personas)]
        out.append(p.model_copy(update={"id": f"{p.id}-{i}", "name": f"{p.name.split(',')[0]} {i + 1}, "
                                                                    f"{p.name.split(', ', 1)[-1]}"}))
    return out


@pytest.mark.parametrize("count", [1, 10])
def test_first_screen_holds_the_icp_headline_and_the_persona_comparison(demo, tmp_path, count):
    personas = demo["personas"].personas
    chosen = personas[:1] if count == 1 else ten_personas(personas)
    page = render_report(demo["icp"], chosen, demo["campaign"], demo["analysis"], title="Demo report")
    report = tmp_path / "report.html"
    report.write_text(page.replace("</head>", MARKERS + "</head>", 1))
    shot = tmp_path / f"report-{count}-personas.png"  # pytest keeps it for a person to look at
    r = chromium(f"--window-size={WIDTH},{HEIGHT}", "--hide-scrollbars", f"--screenshot={shot}",
                 report.as_uri(), tmp=tmp_path)
    assert shot.is_file(), r.stderr[-2000:]
    width, height, pixels = png_pixels(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    headline_rows = rows_with(HEADLINE_BAR, width, pixels)
    comparison_rows = rows_with(COMPARISON_BAR, width, pixels)
    assert headline_rows, "the ICP headline does not end on the first screen"
    assert comparison_rows, f"the persona comparison of {count} personas runs below the first screen"
    assert headline_rows[-1] < comparison_rows[0]  # headline first, then the comparison

    # What the first screen holds, read from the DOM chromium built (no script in the page).
    dom = chromium("--dump-dom", report.as_uri(), tmp=tmp_path).stdout
    first = between(dom, '<section id="summary">', "</section>")
    top = demo["analysis"].segment(demo["analysis"].icp_candidates[0])
    assert f"{top.win_rate:.0%}" in first and "Best fit:" in first
    table = between(first, '<table class="compare">', "</table>")
    assert table.count("<tr>") - 1 == count  # one comparison row per persona (header row aside)
    assert all(html.escape(p.name, quote=False) in first for p in chosen)
    assert f"of {len(chosen[0].sources)}" in first  # "n of N interviewees"


def test_printed_demo_report_is_short(demo, tmp_path):
    """Printed to PDF (A4 by chromium's default), the demo report stays a handful of pages: the
    details of 144 assets are collapsed, the rest printed once."""
    report = tmp_path / "report.html"
    report.write_text(render_report(demo["icp"], demo["personas"].personas, demo["campaign"], demo["analysis"]))
    pdf = tmp_path / "report.pdf"
    r = chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", report.as_uri(), tmp=tmp_path)
    assert pdf.is_file(), r.stderr[-2000:]
    pages = pdf.read_bytes().count(b"/Type /Page") - pdf.read_bytes().count(b"/Type /Pages")
    print(json.dumps({"printed_pages": pages}))
    assert 1 <= pages <= 15, pages
