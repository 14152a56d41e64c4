"""Benchmark: PII redaction throughput, and building the workspace's Redactor.

    .venv/bin/python bench/bench_redact.py [--words N] [--crm-rows R]

Writes a seeded workspace into a temporary folder: interview notes of about N words (default
100,000) with names, emails and phones in the body, and a deals CSV of R rows (default 200,000)
with owner and contact columns. Prints (a) the time to build `workspace_redactor` (notes read for
names, CRM columns read), (b) the time to redact every note once with it, as words per second,
and (c) the values found. No target: this shows what one chat turn or draft request costs.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

FIRST = ["Priya", "Tomasz", "Ana", "Kwame", "Siobhan", "Björn", "Ngozi", "Jean-Luc", "Mary-Kate", "Yusuf"]
LAST = ["Raman", "Wieczorek", "López", "Mensah", "O'Neil", "Ödegaard", "Adeyemi", "Moreau", "Smith-Jones", "Demir"]
FILLER = ("the close takes nine days because every reconciliation lives in a spreadsheet and the bank feed "
          "breaks on Monday so our controller rebuilds it by hand in Excel before the board meeting").split()


def write_workspace(root: Path, words: int, crm_rows: int, rng: random.Random) -> None:
    (root / "notes").mkdir(parents=True)
    (root / "crm").mkdir()
    per_note = 5000
    for n in range(max(1, words // per_note)):
        who = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        lines = [f"---\nname: {who}\ninterviewer: Callum Fairweather\ncompany: Lumen Freight\n---\n"]
        count = 0
        while count < per_note:
            sentence = rng.sample(FILLER, 12)
            other = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            extra = rng.choice([f"{other} said", f"call {rng.randint(200, 999)}-555-{rng.randint(1000, 9999)}",
                                f"mail {other.split()[0].lower()}@acme.example", "in 2024 we paid $1,200", ""])
            lines.append(f"**{who.split()[0]}:** {' '.join(sentence)} {extra}.")
            count += 14
        (root / "notes" / f"call-{n}.md").write_text("\n\n".join(lines), encoding="utf-8")
    with (root / "crm" / "deals.csv").open("w", encoding="utf-8") as f:
        f.write("Deal Name,Deal Stage,Amount,Deal owner,Contact name,Contact email,Associated Company\n")
        for i in range(crm_rows):
            f.write(f"D{i},Closed Won,{i % 9999},Owner{i % 40} Vance,{rng.choice(FIRST)} {rng.choice(LAST)},"
                    f"c{i % 5000}@x.example,Co{i % 3000}\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--words", type=int, default=100_000)
    ap.add_argument("--crm-rows", type=int, default=200_000)
    args = ap.parse_args()
    from persona_assistant.llm.known_people import workspace_redactor
    from persona_assistant.workspace import Workspace

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        write_workspace(root, args.words, args.crm_rows, random.Random(7))
        texts = [p.read_text(encoding="utf-8") for p in sorted((root / "notes").glob("*.md"))]
        words = sum(len(t.split()) for t in texts)
        t0 = time.perf_counter()
        red = workspace_redactor(Workspace(root))
        built = time.perf_counter() - t0
        t0 = time.perf_counter()
        used: set[str] = set()
        for text in texts:
            red.redact(text, used)
        took = time.perf_counter() - t0
    print(f"(a) workspace_redactor: {built:.2f} s ({len(texts)} notes, {args.crm_rows:,} CRM rows)")
    print(f"(b) redact {words:,} words: {took:.2f} s = {words / took:,.0f} words/s")
    kinds: dict[str, int] = {}
    for p in used:
        kinds[p.split("_")[0]] = kinds.get(p.split("_")[0], 0) + 1
    print(f"(c) distinct values redacted: {len(used):,} {kinds}")


if __name__ == "__main__":
    main()
