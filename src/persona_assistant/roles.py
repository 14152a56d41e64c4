"""Job titles and role descriptions read as (seniority, function).

One table serves the offline persona engine (roles from front matter or the text)
and scoring (contact titles matched to personas), so a "Controller" is the same
kind of buyer in a persona and in a scored lead. The words and phrases by which an
interviewee states a role (`TITLE_WORDS`, `ROLE_PATTERNS`) live here too: one role
vocabulary for notes, synthesis and scoring.
"""

from __future__ import annotations

import re

from persona_assistant.schemas import Seniority

# Checked in order: the first that matches wins ("VP Engineering Manager" is a vp).
_SENIORITY: list[tuple[Seniority, re.Pattern[str]]] = [
    ("c_level", re.compile(
        r"\b(chief|c[a-z]{1,2}o|founder|co-?founder|owner|president|managing director|"
        r"partner)\b")),
    ("vp", re.compile(r"\b(svp|evp|avp|vp|vice president|head)\b")),
    # A general manager runs one site, venue or business unit: a director's reach, not the C-suite's.
    ("director", re.compile(r"\b(director|dir|general manager)\b")),
    ("manager", re.compile(r"\b(manager|mgr|lead|team lead|supervisor|controller|comptroller)\b")),
    ("individual_contributor", re.compile(
        r"\b(senior|sr|staff|principal|junior|jr|associate|analyst|engineer\w*|developer|"
        r"specialist|accountant|architect|consultant|administrator|admin|coordinator|"
        r"representative|rep|designer|scientist|officer|executive|agent|buyer|recruiter|"
        r"clerk|technician|intern|advocate|bookkeeper|maintainer|programmer|team member)\b")),
]

# Canonical function -> keywords. Order matters for titles naming two ("Finance IT Manager").
_FUNCTIONS: list[tuple[str, re.Pattern[str]]] = [
    ("devrel", re.compile(r"\b(developer advocate|developer relations|devrel|evangelist)\b")),
    ("security", re.compile(r"\b(security|ciso|secops|infosec|cyber\w*|appsec)\b")),
    ("finance", re.compile(
        r"\b(finance|financial|cfo|accounting|accountant|accounts payable|accounts receivable|"
        r"ap|ar|controller|comptroller|controlling|treasury|treasurer|fp&a|fpa|payroll|tax|audit|bookkeep\w*)\b")),
    ("procurement", re.compile(r"\b(procurement|purchasing|sourcing|buyer|vendor management)\b")),
    ("engineering", re.compile(
        r"\b(engineering|engineer|cto|developer|programmer|maintainer|observability|software|platform|sre|"
        r"site reliability|devops|"
        r"infrastructure|backend|frontend|architect|architecture|r&d|development)\b")),
    ("data", re.compile(r"\b(data|analytics|bi|business intelligence|machine learning|ml|ai)\b")),
    # Revenue operations before sales, marketing and IT: a "Sales Operations Lead", a "Marketing Ops
    # Manager" and a "CRM administrator" run the go-to-market systems, one kind of buyer.
    ("revops", re.compile(r"\b(revops|rev ops|revenue operations|sales operations|sales ops|"
                          r"marketing operations|marketing ops|gtm operations|go to market operations|"
                          r"crm|salesforce admin\w*|hubspot admin\w*|business systems)\b")),
    ("it", re.compile(r"\b(it|cio|information technology|systems|sysadmin|helpdesk|help desk|"
                      r"network|technology)\b")),
    ("sales", re.compile(r"\b(sales|cro|revenue|account executive|ae|sdr|bdr|business development|"
                         r"account manager)\b")),
    ("marketing", re.compile(r"\b(marketing|cmo|growth|brand|demand gen\w*|content|seo|"
                             r"communications|pr)\b")),
    ("customer_success", re.compile(r"\b(customer success|customer experience|cx|support|"
                                    r"service desk|onboarding)\b")),
    ("product", re.compile(r"\b(product|cpo|ux|design)\b")),
    ("operations", re.compile(r"\b(operations|ops|coo|revops|logistics|supply chain|practice manager)\b")),
    ("hr", re.compile(r"\b(hr|human resources|people|talent|recruiting|recruiter|chro)\b")),
    ("legal", re.compile(r"\b(legal|counsel|lawyer|compliance|gc|privacy)\b")),
    ("executive", re.compile(r"\b(ceo|founder|president|owner|managing director|general manager)\b")),
    ("consumer", re.compile(r"\b(student|parent|teacher|homeowner|retiree|shopper|consumer|freelancer|"
                            r"nurse|physician)\b")),
]

_SPACES = re.compile(r"[^\w&+]+")
_FUNCTION_ALIASES = {"accounting": "finance", "platform": "engineering", "sre": "engineering",
                     "devops": "engineering", "purchasing": "procurement", "customer success": "customer_success",
                     "information technology": "it", "infosec": "security", "human resources": "hr",
                     "revenue operations": "revops", "sales operations": "revops"}


def normalise(text: str) -> str:
    return _SPACES.sub(" ", text.lower()).strip()


def parse_title(title: str | None) -> tuple[Seniority, str]:
    """(seniority, function) read from a job title; 'unknown' for what the title does not say."""
    if not title or not title.strip():
        return "unknown", "unknown"
    text = normalise(title)
    seniority: Seniority = next((level for level, rx in _SENIORITY if rx.search(text)), "unknown")
    function = next((name for name, rx in _FUNCTIONS if rx.search(text)), "unknown")
    return seniority, function


def canonical_function(function: str | None) -> str:
    """A persona's free-text function in the vocabulary parse_title uses ('Finance' -> 'finance')."""
    if not function:
        return "unknown"
    text = normalise(function)
    if text in _FUNCTION_ALIASES:
        return _FUNCTION_ALIASES[text]
    if text.replace(" ", "_") in {name for name, _ in _FUNCTIONS}:
        return text.replace(" ", "_")
    return parse_title(function)[1] if text not in ("", "unknown") else "unknown"


# --------------------------------------------------------------------------- roles in an interviewee's words
# Words that make a phrase a job title ("staff engineer", "homeowner"): a role hint read from a note
# (`ingest.notes.find_role`, `synthesis.profile`) must contain one, so "it has to" is never a role.
TITLE_WORDS = (
    r"cfo|ceo|coo|cto|cio|ciso|cmo|cro|vp|founder|president|chief|director|head|manager|controller|"
    r"comptroller|accountant|bookkeeper|treasurer|analyst|engineer|engineering|developer|sre|architect|"
    r"advocate|lead|officer|designer|consultant|administrator|admin|specialist|scientist|maintainer|"
    r"owner|partner|programmer|evangelist|recruiter|marketer|strategist|coordinator|supervisor|"
    r"student|parent|teacher|nurse|physician|freelancer|homeowner|retiree"
)
TITLE_RE = re.compile(rf"\b(?:{TITLE_WORDS})s?\b", re.I)
# How people state their role: "my title is ...", "I'm Ana, the CFO at ...", "I lead the X team".
ROLE_PATTERNS = [
    re.compile(r"\bmy (?:job )?title(?: at work)? is (?P<role>[^.,;!?]{2,60})", re.I),
    re.compile(r"\bI(?:'m| am|’m) (?P<name>[A-Z][\w-]+(?: [A-Z][\w-]+)?), (?:the |a |an )?(?P<role>[^.,;!?]{2,60}?)"
               r"(?=\s+(?:at|for|working|on|in|with|here|of)\b|[.,;!?]|$)"),
    re.compile(r"\bI(?:'m| am|’m)\s+(?:currently\s+|now\s+)?(?:the |a |an )(?P<role>[^.,;!?]{2,60}?)"
               r"(?=\s+(?:at|for|with|in|on|of|here|and|who|working)\b|[.,;!?]|$)", re.I),
    re.compile(r"\bI lead (?:the )?(?P<team>[\w &/-]{2,40}?) team\b", re.I),
    re.compile(r"\bI(?:'m| am|’m) on the (?P<member>[\w &/-]{2,40}?) team\b", re.I),
    re.compile(r"\b(?:as|I've been|I have been|I was hired as|I work as) (?:the |a |an )?"
               r"(?P<role>(?:[\w/&-]+ ){0,3}(?:CFO|CEO|COO|CTO|CIO|controller|accountant|engineer|manager|director))\b",
               re.I),
]
# The company named right after a stated role ("... at Acme").
COMPANY_AFTER_ROLE = re.compile(r"^\s+(?:here\s+)?(?:working\s+|based\s+)?(?:at|for)\s+"
                                r"(?P<c>[A-Z][\w&'-]*(?:[ .][A-Z][\w&'-]*){0,3})")
# A structured note's "Who" section, and the role phrase its first line opens with.
WHO_HEADING = re.compile(r"^(?:who|interviewee|participant|about them)\b", re.I)
WHO_ROLE = re.compile(r"^(?:an?|the)\s+(?P<role>[^,.;]{2,60}?)(?=\s+(?:on|at|for|in|with|who|and)\b|[,.;]|$)", re.I)


def clean_role(role: str) -> str | None:
    """A stated role cut to end at its last title word; None when it names no title word."""
    role = re.sub(r"[*_`]", "", role).strip()
    role = re.sub(r"^(?:senior|staff|lead|principal|junior)?\s*$", "", role, flags=re.I)
    if not role or not TITLE_RE.search(role) or len(role.split()) > 7:
        return None
    # End the role at its last title word ("staff engineer working on X" -> "staff engineer").
    last = list(TITLE_RE.finditer(role))[-1]
    return role[:last.end()].strip()
