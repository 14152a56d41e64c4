"""The HTML report as a team reads it: every persona field the schema has, each quote printed in
full once, no empty section, a chart scaled to the data, the ICP headline, and the message maps
in every export format. (Escaping and the browser checks live in test_export / test_report_browser.)"""

from __future__ import annotations

import csv
import html
import io
import re
from html.parser import HTMLParser

from persona_assistant.draft.evidence import evidence_items
from persona_assistant.draft.markdown import playbook_markdown
from persona_assistant.export.csv_assets import message_maps_path, write_campaign_csv
from persona_assistant.export.html import render_report
from persona_assistant.export.json_export import export_json
from persona_assistant.schemas import (
    Analysis, Claim, DataSufficiency, Persona, QuoteEvidence, Segment, SegmentStats, segment_id,
)

from test_campaign import claim, make_icp, make_personas, q
from test_export import campaign_for


def full_persona() -> Persona:
    """A persona with every field of the schema filled, whatever the schema holds today."""
    values = {}
    for name, info in Persona.model_fields.items():
        ann = info.annotation
        if ann == list[Claim]:
            values[name] = [claim(f"The {name} item a reviewer said out loud in the interview.", "notes/p.md", 5)]
        elif ann is Claim:
            values[name] = claim(f"A {name} described at length by the interviewee.", "notes/p.md", 6)
        elif ann == list[QuoteEvidence]:
            values[name] = [q("notes/p.md", 7, f"A separate {name} line kept on its own for the persona.")]
        elif ann == list[str]:
            values[name] = [f"{name}-one", f"{name}-two"]
    return Persona(**{"id": "full", "name": "Full, the Everything", "archetype": "Has every field",
                      "role": "Controller", "function": "finance", "seniority": "manager",
                      "buying_role": "champion", "icp_id": "icp-1", **values})


def card(page: str, persona_id: str) -> str:
    start = page.index(f'data-persona="{persona_id}"')
    return page[start:page.index("</section>", start)]


def test_every_field_of_the_persona_schema_is_in_the_report_and_the_playbook():
    expected = set(Persona.model_fields) - {"id", "name"}  # the name heads the card, the id names it
    sparse = make_personas()[1]  # many fields empty
    page = render_report(make_icp(), [full_persona(), sparse], None)
    shown = set(re.findall(r'data-field="([a-z_]+)"', card(page, "full")))
    assert shown == expected
    assert "Full, the Everything" in card(page, "full")
    # an empty field is named once, as not in the notes, never an empty heading
    sparse_card = card(page, "cfo")
    assert set(re.findall(r'data-field="([a-z_]+)"', sparse_card)) == expected
    assert "Not in the notes:" in sparse_card and '<h4 data-field="success_metrics">' not in sparse_card
    md = playbook_markdown(make_icp(), [full_persona()], None)
    for name in expected:
        assert name.replace("_", " ") in md.lower(), name


class Blocks(HTMLParser):
    """The text of every <section> and <details> outside its own headings and summary."""

    HEADS = {"summary", "h2", "h3", "h4"}

    def __init__(self):
        super().__init__()
        self.stack: list[list] = []  # [tag, id, text parts]
        self.heads = 0
        self.blocks: list[tuple[str, str]] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("section", "details"):
            self.stack.append([tag, dict(attrs).get("id", ""), []])
        elif tag in self.HEADS:
            self.heads += 1

    def handle_endtag(self, tag):
        if tag in ("section", "details") and self.stack:
            t, ident, parts = self.stack.pop()
            self.blocks.append((f"{t}#{ident}", "".join(parts).strip()))
            if self.stack:
                self.stack[-1][2].append("".join(parts))
        elif tag in self.HEADS:
            self.heads -= 1

    def handle_data(self, data):
        if self.stack and not self.heads:
            self.stack[-1][2].append(data)


def test_no_section_is_printed_empty(tmp_path):
    personas = make_personas()
    bare = campaign_for(tmp_path, personas).model_copy(update={"journeys": [], "content_ideas": [],
                                                                "message_maps": []})
    page = render_report(make_icp(), personas, bare)
    for title in ("Journey maps", "Content ideas", "Message maps"):
        assert title not in page
    parser = Blocks()
    parser.feed(page)
    assert parser.blocks and all(text for _, text in parser.blocks), [b for b, t in parser.blocks if not t]
    full = campaign_for(tmp_path / "full", personas)
    page = render_report(make_icp(), personas, full)
    assert "Journey maps" in page and "Message maps" in page


def test_each_quote_is_printed_in_full_once():
    personas = make_personas()
    ctrl = personas[0]
    other = "Reviewers cannot see what changed since last month, so they redo everything."
    personas[0] = ctrl.model_copy(update={
        "quotes": [ctrl.pains[0].evidence[0], q("notes/c.md", 20, other)],  # one repeats an item
        "goals": ctrl.goals + [Claim(text="Sign-off in one place", status="supported",
                                     evidence=[q("notes/c.md", 7, ctrl.goals[0].text)])]})
    icp = make_icp().model_copy(update={  # the ICP's evidence repeats persona quotes
        "challenges": [Claim(text="From interviews: " + ctrl.pains[0].text, status="supported",
                             evidence=[ctrl.pains[0].evidence[0]]),
                       Claim(text="Reconciliations are manual", status="supported",
                             evidence=[q("notes/c.md", 20, other)])]})
    page = render_report(icp, personas, None)
    quotes = {ev.text for _, ev in evidence_items([*personas, icp]) if isinstance(ev, QuoteEvidence)}
    assert len(quotes) >= 10
    for text in quotes:
        assert page.count(html.escape(text, quote=True).replace("&#x27;", "&#39;")) == 1, text
    assert "notes/c.md:4" in page and "notes/c.md:20" in page  # every citation still shown


def analysis_of(rates: list[tuple[str, int, int, float, float, str]], baseline: float) -> Analysis:
    segs = [Segment(id=segment_id({"industry": name}), dimensions={"industry": name}, closed=closed, won=won,
                    lost=closed - won, win_rate=won / closed, ci_low=lo, ci_high=hi, verdict=verdict)
            for name, closed, won, lo, hi, verdict in rates]
    return Analysis(baseline=SegmentStats(closed=1000, won=int(baseline * 1000), lost=1000 - int(baseline * 1000),
                                          win_rate=baseline, ci_low=baseline - 0.01, ci_high=baseline + 0.01),
                    dimensions=["industry"], min_support=30, correction="Bonferroni", segments=segs,
                    icp_candidates=[s.id for s in segs if s.verdict == "better"],
                    anti_icp=[s.id for s in segs if s.verdict == "worse"],
                    sufficiency=DataSufficiency(won=80, lost=920, verdict="sufficient"), verdict="v")


def test_chart_axis_is_scaled_to_small_rates_and_labelled():
    a = analysis_of([("R&D", 100, 16, 0.10, 0.15, "better"), ("Retail", 100, 3, 0.01, 0.08, "worse")], 0.08)
    page = render_report(None, [], None, a)
    svg = page[page.index("<svg"):page.index("</svg>")]
    ticks = re.findall(r'text-anchor="middle">([^<]+)</text>', svg)
    assert ticks[:5] == ["0%", "5%", "10%", "15%", "20%"]  # not 0-100%
    assert "win rate (axis 0 to 20%)" in svg
    dots = [float(x) for x in re.findall(r'<circle cx="([\d.]+)"', svg)]
    assert dots[0] - dots[1] > 200  # 16% and 3% sit far apart on a 440px plot
    # segment ids read as written, not %-escaped
    assert "industry=R&amp;D" in page and "R%26D" not in page


def test_first_screen_names_the_best_segment_or_says_none_stands_out():
    a = analysis_of([("Software", 120, 60, 0.41, 0.59, "better"), ("Retail", 90, 9, 0.05, 0.18, "worse")], 0.3)
    icp = make_icp().model_copy(update={"crm_singles_out_segment": True})
    page = render_report(icp, make_personas(), None, a)
    summary = page[page.index('<section id="summary">'):page.index("</section>", page.index('<section id="summary">'))]
    assert "Best fit: industry=Software" in summary and "50%" in summary and "41&ndash;59%" in summary
    assert "industry=Retail" in summary and "anti-ICP" in summary
    assert "Dana, the Controller" in summary and "1 of 1" in summary  # comparison with counts
    none = render_report(make_icp(), make_personas(), None, a.model_copy(update={"icp_candidates": []}))
    assert "No segment stands out" in none and "Best fit" not in none
    # the leak and data-quality findings are on the first screen too (in full under Segments)
    leaky = a.model_copy(update={"leaks": ["loss_reason: blank on 98% of won deals, set on 91% of lost"],
                                 "findings": ["region blank on 40% of deals: blanks win 2x as often"]})
    page = render_report(icp, make_personas(), None, leaky)
    summary = page[page.index('<section id="summary">'):page.index("</section>", page.index('<section id="summary">'))]
    assert "Outcome leak, excluded:" in summary and "loss_reason: blank on 98%" in summary
    assert "Data quality:" in summary and "region blank on 40%" in summary


def test_message_maps_are_an_artefact_of_every_export(tmp_path):
    personas = make_personas()
    camp = campaign_for(tmp_path, personas)
    assert camp.message_maps and all(m.entries for m in camp.message_maps)
    entry = camp.message_maps[0].entries[0]
    md = playbook_markdown(make_icp(), personas, camp)
    assert "## Message map: Dana, the Controller" in md and entry.value_proposition in md
    data = export_json({"campaign": camp})
    assert data["campaign"]["message_maps"][0]["entries"][0]["value_proposition"] == entry.value_proposition
    paths = write_campaign_csv(tmp_path / "assets.csv", camp, personas)
    assert paths[1] == message_maps_path(tmp_path / "assets.csv") == tmp_path / "assets-message-maps.csv"
    rows = list(csv.DictReader(io.StringIO(paths[1].read_text())))
    assert len(rows) == sum(len(m.entries) for m in camp.message_maps)
    assert rows[0]["entry"] == entry.id and rows[0]["value_proposition"] == entry.value_proposition
    assert rows[0]["proof_source"] == entry.proof_source and rows[0]["persona_name"] == "Dana, the Controller"
    page = render_report(make_icp(), personas, camp)
    maps = page[page.index('id="message-maps"'):]
    assert html.escape(entry.value_proposition, quote=False) in maps and entry.id in maps


def test_demo_report_prints_each_of_its_quotes_once(tmp_path):
    """The bundled demo end to end: its quotes reach persona items, the ICP's evidence, archetypes,
    journeys and content ideas, and each is printed in full exactly once."""
    from persona_assistant.export.json_export import load_all
    from persona_assistant.workspace import open_workspace

    from test_demo import run_demo

    assert run_demo(cwd=tmp_path).returncode == 0
    out = tmp_path / "persona-assistant-demo"
    parts = load_all(open_workspace(out))
    page = (out / "output" / "report.html").read_text()
    quotes = {e.text for _, e in evidence_items([*parts["personas"].personas, parts["icp"]])
              if isinstance(e, QuoteEvidence)}
    assert len(quotes) > 50
    counts = {t: page.count(html.escape(t, quote=True).replace("&#x27;", "&#39;")) for t in quotes}
    assert {t: n for t, n in counts.items() if n != 1} == {}
    assert (out / "output" / "assets-message-maps.csv").is_file()


def test_markdown_persona_does_not_repeat_a_quote_that_is_an_item():
    from persona_assistant.draft.markdown import persona_markdown

    ctrl = make_personas()[0]
    other = "Reviewers cannot see what changed since last month, so they redo everything."
    p = ctrl.model_copy(update={"quotes": [ctrl.pains[0].evidence[0], q("notes/c.md", 20, other)]})
    md = persona_markdown(p)
    assert md.count(ctrl.pains[0].text) == 1 and f"> {other}" in md
