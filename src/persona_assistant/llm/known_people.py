"""The Redactor a workspace needs: who it knows by name, and which capitalised words are not people.

One place builds it for every model path (draft icp/personas, campaign, chat), so a name
redacted while drafting is redacted in chat too. What goes in:
- people: every name-like front-matter field of every note (name, interviewee, interviewer,
  attendees, participants, host, author, ... including lists and "A, B and C" strings), the
  speaker labels of the turns (not generic ones like "Interviewer" or "Q"), and the CRM's
  contact-name, first/last-name, owner and manager columns of every CRM file;
- emails and phones: the CRM's email and phone columns (patterns find the rest anywhere);
- vocabulary: the notes and the brief: a word they write in lower case more often than
  capitalised is a common word, so "Pain Points" in a Title Case heading is not a name;
- not_names: the brief's product and every name-like term in the brief ("Sage Intacct"), note
  companies, industries, regions and segments, and the CRM's account, industry, region, country
  and product values.
Then every note is read for names (llm/pii.py), so a name found in one note is redacted wherever
it comes back, alone or in lower case. A CRM file that cannot be read adds nothing here (the
commands that read it report why): the seed never fails a model call.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

from persona_assistant.llm.pii import Lexicon, find_names, looks_like_name
from persona_assistant.llm.redact import Redactor

PEOPLE_FIELDS = ("contact_name", "first_name", "last_name", "owner", "manager")
NOT_NAME_FIELDS = ("account", "industry", "region", "country", "product")
MAX_VALUES = 50_000  # distinct values read from one CRM column
_NAME_KEY = re.compile(r"name|interview|attendee|participant|host|moderator|author|speaker|contact|person|"
                       r"owner|with|by|people|guest|panel", re.I)
_NOT_NAME_KEY = re.compile(r"company|account|organi[sz]ation|industry|region|segment|product|country|city|"
                           r"location|title|role|size|date|url|link|source|tag", re.I)
_NOT_NAME_TERMS = re.compile(r"company|account|organi[sz]ation|industry|region|segment|product|country|city|"
                             r"location", re.I)
# "Name", "Contact name", "Person - Name", "Lead full name": a person's name column
_PERSON_NAME_HEADER = re.compile(r"(?:person|contact|lead|customer|client)?(?:full)?name$|(?:contact|person)$")
_SPLIT = re.compile(r"\s*(?:[,;/&|\n]|\band\b)\s*")


def workspace_redactor(ws, sources: list | None = None) -> Redactor:
    """A Redactor seeded from the workspace's notes (`sources` when already loaded), brief and CRM."""
    from persona_assistant.errors import PersonaError

    if sources is None:
        from persona_assistant.ingest.notes import load_sources

        try:
            sources = load_sources(ws.note_files(), root=ws.root)
        except PersonaError:
            sources = []
    people, not_names, vocabulary = people_in_notes(sources)
    emails: list[str] = []
    phones: list[str] = []
    try:
        from persona_assistant.workspace import load_brief

        brief = load_brief(ws)
        text = "\n".join(str(v) for v in _values(brief.model_dump()))
        # The brief is the user's own product text: whatever in it reads as a name ("Sage Intacct",
        # "Harbor Health") is a product or customer the copy may name, not a person to hide.
        not_names += [brief.product, *find_names(text, Lexicon())]
        vocabulary.append(text)
    except PersonaError:
        pass
    import duckdb

    from persona_assistant.ingest.mapping import MappingFile, load_mapping

    try:
        mapping = load_mapping(ws.mapping_file())
    except PersonaError:  # a broken mapping.toml is reported by the CRM commands, not here
        mapping = MappingFile()
    for path in ws.crm_files():
        try:
            found = crm_values(path, mapping)
        except (PersonaError, duckdb.Error, OSError):  # the seed must not fail a model call
            continue
        people += found["people"]
        emails += found["email"]
        phones += found["phone"]
        not_names += found["not_names"]
    red = Redactor(people=people, emails=emails, phones=phones, vocabulary=vocabulary, not_names=not_names)
    for src in sources:  # names found in any note are known in every request (and in chat) from the start
        red.learn("\n".join(src.lines[src.first_line - 1:src.last_line]))
    return red


def people_in_notes(sources: Iterable[Any]) -> tuple[list[str], list[str], list[str]]:
    """(people, not-name terms, vocabulary texts) of loaded notes."""
    from persona_assistant.ingest.notes import INTERVIEWEE_LABELS, INTERVIEWER_LABELS

    generic = INTERVIEWER_LABELS | INTERVIEWEE_LABELS
    people: list[str] = []
    not_names: list[str] = []
    vocabulary: list[str] = []
    for src in sources:
        fields = {**(src.extra or {}), **(src.meta or {})}
        for key, value in fields.items():
            key = str(key).lower()
            if _NOT_NAME_KEY.search(key):
                if _NOT_NAME_TERMS.search(key):
                    not_names += _values(value)
            elif _NAME_KEY.search(key):
                people += _values(value)
            else:  # any other field whose value reads as a name: "note_taker: Rafe Okoro"
                people += [v for v in _values(value) if looks_like_name(v)]
        speakers = {t.speaker for t in src.turns if t.speaker} | set(src.interviewers or ())
        if src.interviewee:
            speakers.add(src.interviewee)
        people += [s for s in speakers if s.strip().lower() not in generic]
        if src.company:
            not_names.append(src.company)
        vocabulary.append("\n".join(src.lines[src.first_line - 1:src.last_line]))
    people = [p for p in people if not any(c.isdigit() for c in p) and any(c.isalpha() for c in p)]
    return people, not_names, vocabulary


def _values(value: Any) -> list[str]:
    if isinstance(value, (list, tuple, set)):
        return [v for item in value for v in _values(item)]
    if isinstance(value, dict):
        return [v for item in value.values() for v in _values(item)]
    if value is None or isinstance(value, (int, float, bool)):
        return []
    return [v for v in _SPLIT.split(str(value)) if v.strip()]


def crm_values(path: Path, mapping: "MappingFile | None" = None) -> dict[str, list[str]]:
    """Distinct people, emails, phones and not-name terms of one CRM file's mapped columns: the
    headers `mapping` (mapping.toml) names first, as ingestion reads them, then header synonyms."""
    import duckdb

    from persona_assistant.ingest.csvfile import quote_ident, read_table
    from persona_assistant.ingest.mapping import infer_field, norm

    out: dict[str, list[str]] = {"people": [], "email": [], "phone": [], "not_names": []}
    con = duckdb.connect()
    try:
        raw = read_table(con, Path(path), "crm")
        deals = any(infer_field(h, deals=True) in ("stage", "status") for h in raw.columns)
        fields = {infer_field(h, deals=deals) for h in raw.columns}
        # a companies export ("Name, Industry, Employees") names companies, not people
        about_companies = not fields & {"title", "email", "phone", "first_name", "last_name"} and bool(
            fields & {"industry", "employees", "revenue", "country"})
        named = {} if mapping is None else {
            h: c for c in (*PEOPLE_FIELDS, "email", "phone", *NOT_NAME_FIELDS)
            if (h := mapping.column_for(c, Path(path), raw.columns)) is not None}
        first_last: dict[str, str] = {}
        for header in raw.columns:
            field = named.get(header) or infer_field(header, deals=deals)
            if header not in named and field == "contact_name" and (
                    about_companies or not _PERSON_NAME_HEADER.match(norm(header))):
                field = "account"  # "Company name", "Deal Name": the name of a thing, not of a person
            if field in PEOPLE_FIELDS:
                bucket = "people"
                if field in ("first_name", "last_name"):
                    first_last[field] = header
            elif field in ("email", "phone"):
                bucket = field
            elif field in NOT_NAME_FIELDS:
                bucket = "not_names"
            else:
                continue
            col = quote_ident(header)
            rows = con.execute(f"SELECT DISTINCT trim({col}) FROM {raw.name} WHERE nullif(trim({col}), '') IS NOT NULL "
                               f"LIMIT {MAX_VALUES}").fetchall()
            out[bucket] += [r[0] for r in rows]
        if len(first_last) == 2:  # "Ana" and "López" in two columns: "Ana López" as one name too
            f, l = (quote_ident(first_last[k]) for k in ("first_name", "last_name"))
            rows = con.execute(f"SELECT DISTINCT trim({f}) || ' ' || trim({l}) FROM {raw.name} "
                               f"WHERE {f} IS NOT NULL AND {l} IS NOT NULL LIMIT {MAX_VALUES}").fetchall()
            out["people"] += [r[0] for r in rows]
    finally:
        con.close()
    return out
