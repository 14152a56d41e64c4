"""Interview-note ingestion: formats, line numbers, splitting, encodings, excluded summaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from persona_assistant.errors import InputError
from persona_assistant.ingest.notes import load_source_file, load_sources


@pytest.fixture
def samples(fixtures_dir) -> Path:
    return fixtures_dir / "notes-samples"


def line_of(path: Path, needle: str, encoding: str = "utf-8") -> int:
    """1-based number of the first line containing `needle`, read independently of the parser."""
    for i, line in enumerate(path.read_text(encoding=encoding).split("\n"), start=1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


def test_front_matter_known_keys_extra_and_markdown_turns(samples):
    path = samples / "frontmatter-turns.md"
    [src] = load_source_file(path, root=samples)
    assert src.id == "frontmatter-turns" and src.path == "frontmatter-turns.md"
    assert src.meta["name"] == "Hannah Cole" and src.meta["company"] == "Tidewater Foods"
    assert src.meta["company_size"] == "300"
    assert src.role_hint == "VP Finance"  # from `title`
    assert src.extra == {"favourite_tool": "Excel", "interviewer": "Sam Ortiz"}
    # both `**Name:**` and `**Name**:` are turns; the interviewer named in the front matter asks
    assert [t.speaker for t in src.turns] == ["Sam", "Hannah", "Sam", "Hannah"]
    assert src.interviewers == {"Sam"} and src.interviewee == "Hannah Cole"
    first = src.turns[1]
    assert first.line_start == line_of(path, "Our close takes nine days")
    assert first.line_end == line_of(path, "We reconcile everything by hand")
    assert first.text.startswith("Our close takes nine days") and "**" not in first.text
    # front-matter lines are remembered so demographics can cite them
    assert src.front_matter_lines["company"] == line_of(path, "company: Tidewater Foods")
    # the interviewer's questions are not the interviewee's sentences
    texts = [s.text for s in src.sentences()]
    assert "How long is your close?" not in texts
    assert "We want to close in five days without hiring." in texts


def test_plain_name_colon_turns_and_multiline_sentence(samples):
    path = samples / "plain-turns.txt"
    [src] = load_source_file(path)
    speakers = {t.speaker for t in src.turns}
    assert {"Interviewer", "Oliver Grant"} <= speakers
    assert "Note" not in speakers  # a label used once is prose, not a speaker
    assert src.interviewers == {"Interviewer"} and src.interviewee == "Oliver Grant"
    assert src.role_hint == "senior accountant" and src.company == "Lakeside Dental Group"
    [sent] = [s for s in src.sentences() if s.text.startswith("Matching deposits")]
    assert sent.text == ("Matching deposits by hand takes forever, especially for the twelve practices "
                         "that share one bank account.")
    assert (sent.line_start, sent.line_end) == (line_of(path, "Matching deposits"), line_of(path, "for the twelve"))


def test_vtt_cue_text_keeps_real_line_numbers(samples):
    path = samples / "captions.vtt"
    [src] = load_source_file(path)
    assert src.interviewee == "Ana Lima" and src.interviewers == {"Interviewer"}
    assert src.role_hint == "controller" and src.company == "Seabright Logistics"
    timing = line_of(path, "00:00:04.500 -->")
    assert timing in src.non_text and line_of(path, "It spans two lines") in src.non_text
    assert all("-->" not in t.text and not t.text.strip().isdigit() for t in src.turns)
    [sent] = [s for s in src.sentences() if s.text.startswith("Our reconciliations")]
    assert sent.text == "Our reconciliations are manual and they take about forty hours."
    assert (sent.line_start, sent.line_end) == (line_of(path, "Our reconciliations"), line_of(path, "they take about"))
    # a turn spanning two cues skips the timing lines between them
    ana = [t for t in src.turns if t.speaker == "Ana Lima"]
    assert len(ana) == 1 and ana[0].line_end == line_of(path, "cut that in half")


def test_srt_cue_numbers_and_timestamps_are_not_text(samples):
    path = samples / "captions.srt"
    [src] = load_source_file(path)
    assert src.interviewee == "Ben Ito"
    assert line_of(path, "00:00:03,500") in src.non_text
    assert 1 in src.non_text  # the cue number "1"
    [sent] = [s for s in src.sentences() if s.text.startswith("Mostly")]
    assert sent.text == "Mostly from my peer group and a CFO newsletter I read every Friday."
    assert (sent.line_start, sent.line_end) == (line_of(path, "Mostly from"), line_of(path, "every Friday"))


def test_several_interviews_in_one_file(samples):
    path = samples / "multi.md"
    srcs = load_source_file(path)
    assert [s.id for s in srcs] == ["multi#1", "multi#2", "multi#3"]
    one, two, three = srcs
    assert one.meta["name"] == "First Person" and two.meta == {} and three.meta["role"] == "Staff Accountant"
    assert one.last_line < line_of(path, "+++") < two.first_line
    assert two.last_line < line_of(path, "name: Third Person") and three.first_line <= line_of(path, "name: Third")
    assert [t.speaker for t in two.turns] == ["Interviewer", "Second"]
    assert all(one.first_line <= t.line_start <= one.last_line for t in one.turns)
    assert one.lines is two.lines  # one read, whole-file line numbers everywhere


def test_empty_notes_are_input_errors_naming_the_file(samples):
    for name in ("empty.md", "blank.txt"):
        with pytest.raises(InputError) as err:
            load_source_file(samples / name)
        assert name in err.value.message and "empty" in err.value.message
        assert "\n" not in err.value.message


def test_front_matter_without_interview_text_is_an_error(tmp_path):
    p = tmp_path / "only-meta.md"
    p.write_text("---\nname: Kim\nrole: CFO\n---\n\n")
    with pytest.raises(InputError, match=r"only-meta.md: empty note"):
        load_source_file(p)


def test_cp1252_note_is_read_with_a_notice(samples):
    [src] = load_source_file(samples / "cp1252.txt", root=samples)
    assert any("cp1252" in n and "cp1252.txt" in n for n in src.notices)
    assert src.interviewee == "Renée Dubois"
    assert "“not reviewable” – that hurt." in src.lines[1]


def test_utf8_bom_and_crlf(tmp_path):
    p = tmp_path / "bom.txt"
    p.write_bytes("\ufeffInterviewer: Hi?\r\nSara Holt: I'm the CFO at Birch Labs.\r\nInterviewer: Ok?\r\nSara Holt: Fine.\r\n".encode())
    [src] = load_source_file(p)
    assert src.lines[0] == "Interviewer: Hi?" and len(src.lines) == 4 and not src.notices
    assert src.role_hint == "CFO" and src.company == "Birch Labs"


def test_undecodable_and_binary_notes_are_input_errors(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_bytes(b"\x81\x8d\x90\x9d not text")
    with pytest.raises(InputError, match="bad.md"):
        load_source_file(bad)
    binary = tmp_path / "bin.txt"
    binary.write_bytes(b"abc\x00\x00def")
    with pytest.raises(InputError, match="bin.txt"):
        load_source_file(binary)


def test_invalid_front_matter_names_file_and_line(tmp_path):
    p = tmp_path / "fm.md"
    p.write_text("---\nname: [unclosed\n---\n**A:** hello there\n")
    with pytest.raises(InputError, match=r"fm.md.*front matter"):
        load_source_file(p)


def test_summary_and_description_are_excluded(samples):
    path = samples / "summary.md"
    [src] = load_source_file(path)
    summary_line = line_of(path, "alert fatigue is the biggest problem")
    assert src.is_excluded(summary_line) and src.is_excluded(line_of(path, "Rowan talks about"))
    assert not src.is_excluded(line_of(path, "Alert fatigue is real"))
    assert src.interviewers == {"Host"} and src.interviewee == "Rowan"
    assert src.role_hint == "staff SRE" and src.company == "Ledgerline"
    texts = [s.text for s in src.sentences()]
    assert not any("biggest problem" in t for t in texts)
    # a ### heading does not end Rowan's turn; a ## heading does (the raw transcript is unattributed)
    assert any(t.startswith("We moved to OpenTelemetry") for t in texts)
    assert not any("welcome rowan" in t for t in texts)


def test_load_sources_makes_ids_unique(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "call.md").write_text("**Interviewer:** Hi?\n**Kim:** Hello there, all good.\n")
    srcs = load_sources(sorted(tmp_path.rglob("*.md")), root=tmp_path)
    assert [s.path for s in srcs] == ["a/call.md", "b/call.md"]
    assert len({s.id for s in srcs}) == 2


def test_shared_otel_transcripts(shared_dir):
    folder = shared_dir / "datasets" / "otel-interviews"
    files = sorted(folder.rglob("*.md"))
    srcs = load_sources(files, root=folder)
    assert len(srcs) == len(files) >= 2
    by = {s.path: s for s in srcs}
    transcripts = [s for s in srcs if s.path.startswith("transcripts/")]
    for s in transcripts:
        assert s.excluded, s.path  # every transcript has an AI summary
        assert s.interviewee and s.interviewee not in s.interviewers
        for sent in s.sentences():
            assert not s.is_excluded(sent.line_start)
    # the structured note is one unlabelled written account with a role from its "Who" section
    [note] = [s for s in srcs if "techdevplatform" in s.path]
    assert note.respondents == [None] and note.role_hint == "engineer"
    assert sum(1 for s in srcs if s.role_hint) >= len(srcs) - 1
    assert by  # paths are relative to the folder
