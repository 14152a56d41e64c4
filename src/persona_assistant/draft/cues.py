"""Cue patterns the offline engine uses to sort interview sentences into persona fields.

Data, not code, so the rules can be read and tuned in one place. Each field has
(regex, weight) pairs; a sentence's score for a field is the sum of the weights of
its distinct matching cues (a negative weight cancels a cue in a context that
reverses it) plus SECTION_BONUS when it sits under a heading that names
the field (a structured note's "Challenges:" section). A sentence needs at least
MIN_SCORE to count for a field. Patterns are case-insensitive.
"""

from __future__ import annotations

import re

MIN_SCORE = 2
SECTION_BONUS = 2

CUES: dict[str, list[tuple[str, int]]] = {
    "pains": [
        (r"\bstruggl", 2), (r"\bpain(?:ful)?\b", 2), (r"\bfrustrat", 3), (r"\bhard to\b", 2),
        (r"\bdifficult", 2), (r"\bwast(?:e|ed|ing)\b", 2), (r"\bmanual(?:ly)?\b", 2),
        (r"\btakes? forever\b", 3), (r"\bnightmare\b", 3), (r"\bheadache", 3), (r"\bbottleneck", 2),
        (r"\bchalleng", 2), (r"\bproblem", 1), (r"\bissues?\b", 1), (r"\berrors?\b", 1),
        (r"\bconfus", 2), (r"\boverwhelm", 2), (r"\btedious", 2), (r"\bslow\b", 1), (r"\bbroke", 1),
        (r"\bspreadsheets?\b", 1), (r"\bcan'?t\b|\bcannot\b|\bcan’t\b", 1), (r"\blate\b", 1),
        (r"\bscrambl", 2), (r"\bpainstaking|\bgrind\b|\bburn(?:ed|t)? out\b", 2),
        (r"\bdoesn'?t work|\bdon'?t work|\bnot work", 2), (r"\bhard\b", 1), (r"\bmess\b|\bmessy\b", 2),
    ],
    "goals": [
        (r"\bwe want(?:ed)? to\b", 3), (r"\bour goal\b|\bthe goal\b|\bmy goal\b", 3),
        (r"\bI need to\b|\bwe need to\b", 2), (r"\btrying to\b", 2), (r"\bwant(?:s|ed)? to\b", 1),
        (r"\bwould love\b|\bI'?d love\b|\bI’d love\b", 2), (r"\baim(?:ing)? to\b|\bwe aim\b", 2),
        (r"\bvision\b", 2), (r"\bobjective", 2), (r"\bhop(?:e|ing) to\b", 2), (r"\bwish\b", 1),
        (r"\bplan(?:ning)? to\b", 2), (r"\bfocus(?:ed)? on\b", 1),
    ],
    "objections": [
        (r"\bworr(?:y|ied|ies)\b", 3), (r"\bconcern", 3), (r"\btoo expensive\b", 3), (r"\bnot sure\b", 2),
        (r"\brisk", 2), (r"\bskeptic", 3), (r"\bafraid\b|\bfear", 3), (r"\bsecurity review\b", 2),
        (r"\bhesita", 2), (r"\bbudget\b", 1), (r"\bprice\b|\bpricing\b|\bcosts?\b", 1), (r"\bdoubt", 2),
        (r"\bburned\b", 2), (r"\bvendor lock|\block-?in\b", 3), (r"\bwhat if\b", 1), (r"\bpush ?back\b", 2),
        (r"\bwouldn'?t trust|\bdon'?t trust|\bnot convinced\b", 3), (r"\boverhead\b", 1),
        # a concern already dealt with is not a live objection: "we worked together to alleviate those concerns"
        (r"\b(?:alleviat|address|resolv|eas(?:e|ed|ing)|put to rest|settl)\w*\b[^.]{0,40}\b(?:concern|worr|fear)"
         r"|\bresponsive to (?:our|my|the|their|any) (?:concern|worr)", -3),
    ],
    "motivations": [
        (r"\bbecause\b", 1), (r"\bso that\b", 2), (r"\bmatters to me\b|\bI care\b|\bcare about\b", 3),
        (r"\bexcit", 2), (r"\bproud\b", 2), (r"\bpassion", 2), (r"\bmotivat", 3), (r"\bbenefits?\b", 1),
        (r"\bpeace of mind\b", 3), (r"\bsleep at night\b", 3), (r"\bcareer\b", 1),
        (r"\bbetter experience\b", 2), (r"\benjoy", 2), (r"\blove\b", 1), (r"\bvalue\b", 1),
        (r"\bcredib|\btrust(?:ed)? advisor|\bstrategic\b", 2),
    ],
    "triggers": [
        (r"\bwhen we\b", 2), (r"\bafter the\b|\bafter our\b", 2), (r"\bonce we\b", 2), (r"\bthe moment\b", 3),
        (r"\bthat'?s when\b|\bwhich is when\b|\bthat’s when\b", 3), (r"\bstart(?:ed)? looking\b", 3),
        (r"\bfinally\b", 1), (r"\bmigrat", 2), (r"\bnew (?:ERP|system|CFO|auditors?|vendor)\b", 3),
        (r"\baudit finding|\bmaterial weakness", 3), (r"\bIPO\b", 2), (r"\bacqui(?:red|sition)", 2),
        (r"\bhiring freeze\b|\bheadcount freeze\b", 3), (r"\bwe switched\b|\bwe moved\b", 2),
        (r"\bdeadline\b", 1), (r"\bkicked off\b|\bdecided to\b", 2),
    ],
    "decision_criteria": [
        (r"\bhas to\b|\bhave to\b|\bmust\b", 1), (r"\bneeds? to (?:integrate|work with|support|connect)\b", 3),
        (r"\bintegrat", 2), (r"\bSOC ?2\b|\bSSO\b|\bSAML\b", 3), (r"\bease of use\b|\beasy to\b", 2),
        (r"\bdeal ?breaker\b", 3), (r"\bnon-?negotiable\b", 3), (r"\bcriteria\b|\brequirements?\b", 3),
        (r"\bevaluat", 2), (r"\bcompar", 1), (r"\bvendors?\b", 1), (r"\bopen source\b|\bopen standard", 2),
        (r"\bROI\b|\bpayback\b", 2), (r"\breferences?\b", 1), (r"\bshortlist|\bRFP\b|\bproof of concept|\bPoC\b", 2),
        (r"\bsupport(?:ed)? by\b|\bcommunity support", 1),
    ],
    "channels": [
        (r"\bpodcasts?\b", 3), (r"\bnewsletters?\b", 3), (r"\bslack\b", 1), (r"\bslack (?:community|group|channel|workspace)", 3), (r"\bcommunit(?:y|ies)\b", 2),
        (r"\bconferences?\b", 3), (r"\blinked ?in\b", 3), (r"\breddit\b", 3), (r"\bpeers?\b", 2),
        (r"\bpeer groups?\b", 3), (r"\bwebinars?\b", 3), (r"\bblogs?\b", 2), (r"\byoutube\b", 2),
        (r"\bmeetups?\b", 3), (r"\bkubecon\b|\bAICPA\b", 3), (r"\bevents?\b", 1),
        (r"\bG2\b|\bGartner\b|\breview sites?\b", 3), (r"\bword of mouth\b", 3), (r"\bforums?\b", 2),
        (r"\bdocumentation\b|\bdocs\b", 1), (r"\bread(?:ing)?\b|\blisten", 1), (r"\bCNCF\b", 1),
        (r"\btwitter\b|\bmastodon\b|\bbluesky\b", 2),
    ],
    "success_metrics": [
        (r"\d+(?:\.\d+)?\s?%|\bpercent\b", 3), (r"\b\d+\s+(?:hours?|days?|weeks?|minutes?|months?)\b", 3),
        (r"\breduc", 2), (r"\bMTTR\b|\blatency\b|\buptime\b|\bSLOs?\b", 3), (r"\bmeasur", 2),
        (r"\bmetrics? (?:we|I) (?:track|watch|care)", 3), (r"\bKPIs?\b", 3),
        (r"\bdays to close\b|\bclose in\b|\btime to close\b", 3), (r"\bsav(?:e|ed|ing)s?\b", 1),
        (r"\bfaster\b", 2), (r"\bcut\b", 1), (r"\bnumber of\b", 1), (r"\bhalf\b|\bdoubl", 1),
    ],
    "day_in_life": [
        (r"\bevery morning\b", 3), (r"\bmy day\b", 3), (r"\bI spend\b", 3), (r"\btypical (?:day|week)\b", 3),
        (r"\bday[- ]to[- ]day\b", 2), (r"\bevery (?:day|week|month)\b", 1), (r"\bfirst thing\b", 2),
    ],
    # For the ICP only: what the customers' environment looks like.
    "traits": [
        (r"\bwe use\b|\bwe(?:'re| are) using\b|\bwe’re using\b", 2), (r"\bwe run\b|\bwe(?:'re| are) running\b", 2),
        (r"\bwe(?:'re| are) on\b|\bwe’re on\b", 2), (r"\bour stack\b|\bstack\b", 2),
        (r"\bwe have (?:about |around |over )?\d", 3),
        (r"\b(?:NetSuite|Sage Intacct|QuickBooks|SAP|Oracle|Kubernetes|Workday|Dynamics)\b", 2),
        (r"\bentities\b|\bsubsidiar", 2), (r"\bmulti-?cloud|\bmicroservices\b|\bmonorepo\b", 2),
    ],
    "expansion": [
        (r"\broll(?:ed|ing)? (?:it )?out\b", 3), (r"\bother teams\b|\bevery team\b|\bacross the company\b", 3),
        (r"\bexpand", 3), (r"\bmore (?:entities|teams|services|seats)\b", 3), (r"\brenew", 2),
        (r"\bgrow(?:ing)? with\b|\blong[- ]term\b", 2),
    ],
    "advocacy": [
        (r"\brecommend", 3), (r"\btold (?:my|other) (?:peers|friends|colleagues)\b", 3),
        (r"\breference (?:customer|call)", 3), (r"\bshare (?:it|this|that) with\b", 2),
        (r"\bcontribut", 2), (r"\bspeak(?:ing)? at\b|\bgive a talk\b|\btalk about it\b", 2),
        (r"\bcase study\b", 2), (r"\bchampion", 2),
    ],
}

# A heading naming a field gives its sentences SECTION_BONUS for that field.
SECTION_HINTS: dict[str, str] = {
    "pains": r"challenge|pain|problem|frustrat|struggle|issue",
    "goals": r"goal|vision|want|objective|outcome",
    "objections": r"objection|concern|risk|worr|hesitat",
    "motivations": r"why|motivation|positive",
    "triggers": r"trigger|what changed|catalyst",
    "decision_criteria": r"criteria|requirement|evaluation|buying process",
    "channels": r"channel|learn|sources of information|where they",
    "success_metrics": r"metric|kpi|success|measure",
    "traits": r"stack|environment|setup|tools",
}

# Fields a sentence can hold besides its best one (a pain sentence with "40 hours" is also a metric).
FACETS = ("channels", "success_metrics")


def compiled() -> dict[str, list[tuple[re.Pattern[str], int]]]:
    """CUES compiled once per process."""
    global _COMPILED
    if _COMPILED is None:
        _COMPILED = {f: [(re.compile(p, re.I), w) for p, w in pats] for f, pats in CUES.items()}
    return _COMPILED


_COMPILED: dict[str, list[tuple[re.Pattern[str], int]]] | None = None
SECTION_RES = {f: re.compile(p, re.I) for f, p in SECTION_HINTS.items()}
