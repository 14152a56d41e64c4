"""Cue patterns the offline engine uses to sort interview sentences into persona fields.

Three tables, all data: CUES (what a sentence says), QUESTION_CUES (what the question it
answers asks; synthesis/statements.py weighs it above the sentence's own cues) and
OFF_TOPIC (small talk, logistics, event plugs, a speaker's own pitch, a note-taker's
asides; synthesis/topics.py). SECTION_HINTS also reads explicit labels ("Pain:",
"Where she learns:", a "Concerns" bullet).

Data, not code, so the rules can be read and tuned in one place. Each field has
(regex, weight) pairs; a sentence's score for a field is the sum of the weights of
its distinct matching cues (a negative weight cancels a cue in a context that
reverses it) plus SECTION_BONUS when it sits under a heading that names
the field (a structured note's "Challenges:" section). A sentence needs at least
MIN_SCORE to count for a field. Patterns are case-insensitive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

MIN_SCORE = 2
SECTION_BONUS = 2

CUES: dict[str, list[tuple[str, int]]] = {
    "pains": [
        (r"\bargu(?:e|es|ing|ment)", 2), (r"\bout of date\b|\bstale\b|\boutdated\b", 2),
        (r"\bby hand\b|\brecord by record\b|\bone by one\b", 2), (r"\bignor(?:e|es|ed)\b", 2),
        (r"\bcan'?t (?:answer|tell|see|explain|trust)\b|\bcan’t (?:answer|tell|see|explain|trust)\b", 2),
        (r"\bnobody (?:knows|knew|trusts|believes|notices|can|could|read|told|saw)\b|\bno one knows\b", 2),
        # what the old way cost: "took me four hours every week", "takes us until the twentieth"
        (r"\b(?:takes?|took|taking) (?:us|me|them|my team) (?:until|ages|forever|all|half|hours|days|weeks|"
         r"(?:\d+|one|two|three|four|five|six|seven|eight|ten|twelve|a few|several) (?:hours|days|weeks))\b", 2), (r"\bguesswork\b", 2),
        (r"\bchas(?:e|es|ing)\b", 2), (r"\bhurts?\b", 2), (r"\bdrift", 1), (r"\bpatchwork\b", 2),
        (r"\bweeks? (?:late|after)\b|\btoo late\b", 2), (r"\bqueue\b", 1), (r"\bworst\b", 2),
        (r"\bduplicat", 1), (r"\bdisputes?\b", 2), (r"\bwrong\b", 1),
        (r"\b(?:after|past|miss(?:ed)?) the deadline\b|\barrive late\b", 2),
        (r"\bstruggl", 2), (r"\bpain(?:ful)?\b", 2), (r"\bfrustrat", 3), (r"\bhard to\b", 2),
        (r"\bdifficult", 2), (r"\bwast(?:e|ed|ing)\b", 2), (r"\bmanual(?:ly)?\b", 2),
        (r"\btakes? forever\b", 3), (r"\bnightmare\b", 3), (r"\bheadache", 3), (r"\bbottleneck", 2),
        (r"\bchalleng", 2), (r"\bproblem", 1), (r"\bissues?\b", 1), (r"\berrors?\b", 1),
        (r"\bconfus", 2), (r"\boverwhelm", 2), (r"\btedious", 2), (r"\bslow\b", 1), (r"\bbroke|\bbreaks?\b", 1),
        (r"\bspreadsheets?\b", 1), (r"\bcan'?t\b|\bcannot\b|\bcan’t\b", 1), (r"\blate\b", 1),
        (r"\bscrambl", 2), (r"\bpainstaking|\bgrind\b|\bburn(?:ed|t)? out\b", 2),
        (r"\bdoesn'?t work|\bdon'?t work|\bnot work", 2), (r"\bhard\b", 1), (r"\bmess\b|\bmessy\b", 2),
    ],
    "goals": [
        (r"\bI (?:also |really |just |always |still )?want(?:ed)?\b|\bwhat I (?:want|need) is\b", 2), (r"\bI'?d like\b|\bI’d like\b", 2),
        (r"^wants?\b", 3), (r"\bmy aim\b", 3),
        (r"\bwe want(?:ed)? to\b", 3), (r"\bour goal\b|\bthe goal\b|\bmy goal\b", 3),
        (r"\bI need to\b|\bwe need to\b", 2), (r"\btrying to\b", 2), (r"\bwant(?:s|ed)? to\b", 1),
        (r"\bwould love\b|\bI'?d love\b|\bI’d love\b", 2), (r"\baim(?:ing)? to\b|\bwe aim\b", 2),
        (r"\bvision\b", 2), (r"\bobjective", 2), (r"\bhop(?:e|ing) to\b", 2), (r"\bwish\b", 1),
        (r"\bplan(?:ning)? to\b", 2), (r"\bfocus(?:ed)? on\b", 1),
    ],
    "objections": [
        (r"\bwary\b|\bnervous\b|\bcautious\b", 3), (r"\bnon-?starter\b", 3), (r"\bhard sell\b", 3),
        (r"\bwould never\b|\bwill never happen\b|\bnever logged in\b", 2),
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
        (r"\bdrives me\b|\bI like being\b|\bI got into\b|\btired of\b", 3),
        (r"\bbecause\b", 1), (r"\bso that\b", 2), (r"\bmatters to me\b|\bI care\b|\bcare about\b", 3),
        (r"\bexcit", 2), (r"\bproud\b", 2), (r"\bpassion", 2), (r"\bmotivat", 3), (r"\bbenefits?\b", 1),
        (r"\bpeace of mind\b", 3), (r"\bsleep at night\b", 3), (r"\bcareer\b", 1),
        (r"\bbetter experience\b", 2), (r"\benjoy", 2), (r"\blove\b", 1), (r"\bvalue\b", 1),
        (r"\bcredib|\btrust(?:ed)? advisor|\bstrategic\b", 2),
    ],
    "triggers": [
        (r"\b(?:board|bank|auditors?|investors?|owners?|CEO|CRO|customer|regulator)s? (?:asked|told|wanted|required|demanded|cut)", 3),
        (r"\bafter we\b", 1), (r"\blast (?:year|spring|summer|autumn|fall|winter|quarter|month)\b", 1),
        (r"\bstarts next\b|\bwe(?:'re| are) (?:moving|preparing)\b", 2), (r"\bfroze\b|\bdoubled\b", 2),
        (r"\bwhen we\b", 1), (r"\bafter the\b|\bafter our\b", 1), (r"\bonce we\b", 2),
        (r"(?<!at )\bthe moment (?:we|I|our|they|the|it|a)\b", 3),  # "the moment we hit", not "at the moment"
        (r"\bthat'?s when\b|\bwhich is when\b|\bthat’s when\b", 3), (r"\bstart(?:ed)? looking\b", 3),
        (r"\bfinally\b", 1), (r"\bmigrat", 1),  # a migration is what happened; alone, not why (r"\bnew (?:ERP|system|CFO|auditors?|vendor)\b", 3),
        (r"\baudit finding|\bmaterial weakness", 3), (r"\bIPO\b", 2), (r"\bacqui(?:red|sition)", 2),
        (r"\bhiring freeze\b|\bheadcount freeze\b", 3), (r"\bwe switched\b|\bwe moved\b", 2),
        (r"\bdeadline\b", 1), (r"\bkicked off\b|\bdecided to\b", 2),
    ],
    "decision_criteria": [
        (r"\bit (?:has|needs|had) to\b|\bhas to be\b|\bmust (?:support|run|work|connect)\b", 2),
        (r"\bout of the box\b", 3), (r"\bunless it\b|\bnot worth it unless\b", 3),
        (r"\bwork(?:s)? with our\b|\bneed(?:s)? it to\b", 2), (r"\bshow me\b|\bpilot\b", 2),
        (r"\b(?:has|have|needs?) to (?:keep|support|integrate|connect|work|show|read|export|pull|join|fit|beat|run|"
         r"import|write|sync)\b", 2), (r"\buseless\b|\bI move on\b|\bdeal-?breaker\b", 2),
        (r"\bhas to\b|\bhave to\b|\bmust\b", 1), (r"\bneeds? to (?:integrate|work with|support|connect)\b", 3),
        (r"\bintegrat", 2), (r"\bSOC ?2\b|\bSSO\b|\bSAML\b", 3), (r"\bease of use\b|\beasy to\b", 2),
        (r"\bdeal ?breaker\b", 3), (r"\bnon-?negotiable\b", 3), (r"\bcriteria\b|\brequirements?\b", 3),
        (r"\bevaluat", 2), (r"\bcompar", 1), (r"\bvendors?\b", 1), (r"\bopen source\b|\bopen standard", 2),
        (r"\bROI\b|\bpayback\b", 2), (r"\breferences?\b", 1), (r"\bshortlist|\bRFP\b|\bproof of concept|\bPoC\b", 2),
        (r"\bsupport(?:ed)? by\b|\bcommunity support", 1),
    ],
    "channels": [
        (r"\bhear about\b|\blearn (?:from|about)\b|\bhear of\b", 3), (r"\bsubreddit\b|\bhacker news\b", 3),
        (r"\broundtable\b|\bcouncil\b|\bassociation\b|\bmailing list\b|\bdiscord\b", 3),
        (r"\brecommendations?\b|\bnetwork\b", 2), (r"\btalks\b", 1),
        (r"\bpodcasts?\b", 3), (r"\bnewsletters?\b", 3), (r"\bslack\b", 1), (r"\bslack (?:community|group|channel|workspace)", 3), (r"\bcommunit(?:y|ies)\b", 2),
        (r"\bconferences?\b", 3), (r"\blinked ?in\b", 3), (r"\breddit\b", 3), (r"\bpeers?\b", 2),
        (r"\bpeer groups?\b", 3), (r"\bwebinars?\b", 3), (r"\bblogs?\b", 2), (r"\byoutube\b", 2),
        (r"\bmeetups?\b", 3), (r"\bkubecon\b|\bAICPA\b", 3), (r"\bevents?\b", 1),
        (r"\bG2\b|\bGartner\b|\breview sites?\b", 3), (r"\bword of mouth\b", 3), (r"\bforums?\b", 2),
        (r"\bdocumentation\b|\bdocs\b", 1), (r"\bread(?:ing)?\b|\blisten", 1), (r"\bCNCF\b", 1),
        (r"\btwitter\b|\bmastodon\b|\bbluesky\b", 2),
    ],
    "success_metrics": [
        (r"\bmeasured on\b|\bon the hook for\b", 3), (r"\bper (?:order|euro|dollar|rep|article|event|channel)\b", 2),
        (r"\b(?:conversion|attainment|frequency) rate\b|\bconversion\b|\bpayback\b", 1),
        (r"\d+(?:\.\d+)?\s?%|\bpercent\b", 3), (r"\b\d+\s+(?:hours?|days?|weeks?|minutes?|months?)\b", 3),
        (r"\breduc", 2), (r"\bMTTR\b|\blatency\b|\buptime\b|\bSLOs?\b", 3), (r"\bmeasur", 2),
        (r"\bmetrics? (?:we|I) (?:track|watch|care)", 3), (r"\bKPIs?\b", 3),
        (r"\bdays to close\b|\bclose in\b|\btime to close\b", 3), (r"\bsav(?:e|ed|ing)s?\b", 1),
        (r"\bfaster\b", 2), (r"\bcut\b", 1), (r"\bnumber of\b", 1), (r"\bhalf\b|\bdoubl", 1),
    ],
    "day_in_life": [
        (r"\b(?:I|we) spend\b|\b(?:half|most) (?:of )?my (?:week|day|time)\b", 3), (r"\bmost (?:mornings|afternoons|weeks)\b", 3),
        (r"\bnormal day\b|\bon call\b", 3), (r"\b(?:mondays?|tuesdays?|fridays?)\b", 1),
        (r"\bI (?:own|run|look after)\b|\bwe run the\b", 2),
        (r"\bevery morning\b", 3), (r"\bmy day\b", 3), (r"\bI spend\b", 3), (r"\btypical (?:day|week)\b", 3),
        (r"\bday[- ]to[- ]day\b", 2),
        # workload: "we route about three hundred inbound leads a week"
        (r"\b(?:\d+|two|three|four|five|six|ten|twelve|twenty|fifty|hundred|thousand|dozens?)\b[^.;]{0,50}?"
         r"\b(?:a|per|each|every) (?:day|week|month)\b", 2), (r"\bevery (?:day|week|month)\b", 1), (r"\bfirst thing\b", 2),
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
    "goals": r"goal|vision|want|objective|outcome|wish",
    "objections": r"objection|concern|risk|worr|hesitat|doubt",
    "motivations": r"why|motivation|positive",
    "triggers": r"trigger|what changed|catalyst",
    "decision_criteria": r"criteri|requirement|evaluation|buying process|decision|must.have",
    "channels": r"channel|learn|sources of information|where (?:they|she|he)|hear",
    "success_metrics": r"metric|kpi|success|measure",
    "day_in_life": r"day in the life|routine|typical (?:day|week)",
    "traits": r"stack|environment|setup|tools",
}

# What the question an answer responds to asks. Checked in this order; the first match wins.
# "smalltalk" and "role" are not fields: an answer to small talk is off-topic; an answer about
# the person's role is their day in the life (except the sentence naming the role itself).
QUESTION_CUES: list[tuple[str, str]] = [
    # "What was scheduling like before?" asks about the old way: its answer is a pain (before small talk's "how was")
    ("pains", r"\b(?:like|look|work|done|handled?|go)\b[^?]{0,20}\bbefore\b(?! (?:we|I) (?:start|begin|go))"),
    ("smalltalk", r"weekend|how'?s your (?:week|day)|how was (?:the|your)|by the way|can you hear|side projects?|"
                  r"holiday|vacation|weather|how are you(?: doing)?\?|recording|hiring|anything else|christmas|"
                  r"new year|any fun|fun plans|plans for the (?:holidays?|break|summer)"),
    # a lost deal's reason is an objection, not a decision criterion: "why did you pick the other vendor?"
    ("objections", r"decided? against|other (?:vendor|option|tool|product|provider|supplier)|went with|go with (?:the other|another|them|someone)|"
                   r"chose (?:another|someone else|them)|why not us|lost (?:the deal|us)|not (?:choose|pick|buy from) us|"
                   r"stop you|hesitat|worr|concern|say no|cautious|put you off|hold you back|risk|nervous|"
                   r"make you (?:hesitate|doubt)"),
    ("triggers", r"why now|made you start|start(?:ed)? looking|pushed|forc(?:e|ing)|urgent|happened|got this started|"
                 r"finally (?:\w+ )?(?:invest|act|buy|decid|mov|start|switch|chang|look)|started the project|trigger|"
                 r"what changed|put this on|made you (?:act|look|search|switch|move)|pushed you|prompted"),
    ("channels", r"hear about|learn|find (?:new )?(?:tools|vendors|software|out about)|look for ideas|keep up|stay on top|"
                 r"where do you (?:go|look)|who do you (?:ask|trust|follow)"),
    ("motivations", r"matter(?:s)? to you|personally|motivat|drives you|why do you care"),
    ("success_metrics", r"measured on|on the hook|how (?:will|would|do) you (?:know|measure|judge whether|tell)|"
                        r"you(?:'ll| will| would)? know (?:it|if|whether)|"
                        r"measure|report on|judge whether|look at after|success|kpi|"
                        # "metric" alone is telemetry to an observability team ("the span metrics connector")
                        r"(?:what|which|key|success|business) metrics?|metrics? (?:do|does|would|will) you|metrics? that matter"),
    ("decision_criteria", r"pick|choos|select|evaluat|judge|compar|trust|convince|say yes|need from|have to do|"
                          r"need to have|look for|check first|mattered|must.have|requirement|buy|"
                          r"(?:has|have|must|needs? to) (?:to )?(?:do|get right)|non-?negotiable|chang(?:e|ed) your mind|win you back"),
    ("goals", r"achieve|trying to|instead|like to be able|like them to|hoping|aim|working towards|goal|"
              r"change first|would change|good looks? like|ideal|get to\b|set out|"
              # "do you want to introduce yourself?" is a request, not a goal question
              r"want(?! to (?:introduce|add|share|mention|say|talk|jump|kick|start|go|take|hear))"),
    ("pains", r"frustrat|keeps? you up|slow(?:s|ed)? you down|hard|hurt|headache|struggl|pain|bother|bug(?:s|ged)? you|broken|annoy|"
              r"problem|challeng|wrong|hand over|get rid of|worst"),
    ("day_in_life", r"normal day|typical (?:day|week)|your (?:day|week)|takes? most of|eats? most|"
                    r"how does .{0,40} work|walk me through"),
    ("role", r"your role|what do you do|introduce|tell (?:me|us) (?:a bit )?about (?:your|yourself)|your team|"
             r"your title|how long have you|looks after|what's your job"),
]

# Small talk, logistics, event plugs, a speaker's own pitch, a note-taker's asides.
OFF_TOPIC: list[str] = [
    r"\b(?:weekend|hiking|kids|food|weather|marathon|football|beer|stout|cycling|holidays?|vacation|christmas|"
    r"birthday|my (?:father|mother|family|wife|husband|partner|daughter|son))\b",
    r"\bnothing work related\b|\bno worries\b|\bloud and clear\b|\bhappy to\b",
    r"\b(?:recording|recorded|slides|the chat|q&a|mics?|atrium|lunch|coffee|wi-?fi)\b",
    r"\b(?:sign up|register|registration|tickets? (?:are|go) on sale|event tickets|early bird|sponsor|free trial|call for proposals|submit a talk)\b",
    r"\b(?:reach out|my website|consulting|we'?re hiring|pass it on|see you)\b",
    r"^(?:he|she|they) (?:was|were|had|has|is|joined|left|brews|recommended)\b",
    r"\b(?:we chatted|ran out of time|next steps|follow-up|send (?:the|a) \w+|book a follow)\b",
    r"^(?:thanks?|thank you|great|perfect|sure|okay|ok|lovely|ha|bye)\b[^.!?]{0,30}[.!?]?$",
    r"^my name is\b|\bwhere (?:I am|I'm|everyone is) (?:in the world|connecting from)\b|\bconnecting from\b",
    r"\bjoined (?:us )?(?:a little )?(?:bit )?later\b|\bif you have (?:any )?questions\b|\bthe calendar\b",
    r"\benjoy the rest\b|\bhave a (?:great|good|nice)\b|\b(?:great|excited|happy|glad|nice) to (?:be here|meet)\b",
]
# Talk to the audience about the session itself: off-topic whatever else the sentence says
# ("for those who joined us later, pop your questions into the live chat on YouTube or
# LinkedIn" names channels, but it is the session's logistics, not how anyone learns).
AUDIENCE_LOGISTICS = (
    r"\b(?:those|anyone|folks|people) (?:who|that) (?:just )?joined\b|\bjoined us\b|"
    r"\bpop (?:them|it|those|that|your (?:questions?|comments?)|the questions?) (?:in|into)\b|\blive chat\b|"
    r"\b(?:drop|put|leave) (?:them|your questions?|a comment) in the (?:chat|comments)\b"
)

# Labels of a note-taker's own sections: never a statement.
ASIDE_LABELS = r"^(?:misc|other|small talk|next steps|follow[- ]?up|context|who|notes?|action items|about)\b"

# Fields a sentence can hold besides its best one (a pain sentence with "40 hours" is also a metric).
FACETS = ("channels", "success_metrics")


@lru_cache(maxsize=1)
def compiled() -> dict[str, list[tuple[re.Pattern[str], int]]]:
    """CUES compiled once per process."""
    return {f: [(re.compile(p, re.I), w) for p, w in pats] for f, pats in CUES.items()}


def _split_top(pattern: str) -> list[str]:
    """A pattern's top-level alternatives (| outside any group or class)."""
    out, depth, cls, start, i = [], 0, False, 0, 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if cls:
            cls = c != "]"
        elif c == "[":
            cls = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            out.append(pattern[start:i])
            start = i + 1
        i += 1
    return out + [pattern[start:]]


def required_literal(branch: str) -> str | None:
    """The longest run of plain characters outside groups that every match of `branch` must
    contain (lower case), or None when there is none of 3+ characters."""
    req = requirement(branch)
    return req[0] if req and len(req) == 1 else None


def requirement(branch: str) -> tuple[str, ...] | None:
    """Lower-case strings one of which every match of `branch` contains: its longest plain run
    outside groups, or the alternatives of a plain group it cannot skip ("(?:board|bank)s? asked"
    needs "board" or "bank"), whichever is more selective; None when neither has 3+ characters."""
    runs, groups, cur, depth, cls, i, group_start = [], [], "", 0, False, 0, 0
    while i < len(branch):
        c = branch[i]
        if cls:
            cls = c != "]"
        elif c == "\\" or c in "[()|.^$":
            if c == "\\":
                i += 1
            elif c == "[":
                cls = True  # a character class ends the run
            elif c == "(":
                depth += 1
                if depth == 1:
                    group_start = i + 1
            elif c == ")":
                depth -= 1
                if depth == 0 and (i + 1 >= len(branch) or branch[i + 1] not in "?*{"):
                    groups.append(branch[group_start:i].removeprefix("?:"))
            runs.append(cur)
            cur = ""
        elif c in "?*{":
            runs.append(cur[:-1])  # the last character is optional
            cur = ""
            if c == "{":
                i = branch.index("}", i)
        elif c == "+":
            runs.append(cur)
            cur = ""
        elif depth == 0:
            cur += c
        i += 1
    runs.append(cur)
    options = [(max(runs, key=len).lower(),)]
    for g in groups:
        if not g.startswith("?"):
            alts = [requirement(alt) for alt in _split_top(g)]
            if all(a is not None for a in alts):
                options.append(tuple(s for a in alts for s in a))
    best = max(options, key=lambda o: min(len(s.strip()) for s in o))
    return best if min(len(s.strip()) for s in best) >= 3 else None


@dataclass(frozen=True)
class _CueIndex:
    cues: tuple[tuple[str, re.Pattern[str], int], ...]  # (field, regex, weight)
    finder: re.Pattern[str]  # finds, at each position, the longest required literal there
    prefixes: dict[str, tuple[str, ...]]  # literal -> the literals it starts with (itself too)
    by_literal: dict[str, tuple[int, ...]]  # literal -> cues needing it (or another of theirs)
    always: frozenset[int]  # cues without a required literal: always searched


def _trie(words) -> str:
    """A regex matching the longest of `words` that starts at a position (a trie: one branch
    per next character, so a position costs a few steps instead of one test per word)."""
    root: dict = {}
    for w in words:
        node = root
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        kids = sorted(k for k in node if k)
        if not kids:
            return ""
        alts = [re.escape(k) + build(node[k]) for k in kids]
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(root)


@lru_cache(maxsize=1)
def _indexed() -> _CueIndex:
    """Each cue with the literals one of which a text must contain for it to match: one scan
    of the sentence for all literals at once skips most regex searches, exactly."""
    cues, by_literal, always = [], {}, set()
    for fld, pats in CUES.items():
        for p, w in pats:
            cid = len(cues)
            cues.append((fld, re.compile(p, re.I), w))
            reqs = [requirement(b) for b in _split_top(p)]
            if None in reqs:
                always.add(cid)
                continue
            for lit in {s for r in reqs for s in r}:
                by_literal.setdefault(lit, []).append(cid)
    literals = sorted(by_literal)
    finder = re.compile("(?=(" + _trie(literals) + "))")
    prefixes = {lit: tuple(m for m in literals if lit.startswith(m)) for lit in literals}
    return _CueIndex(tuple(cues), finder, prefixes, {k: tuple(v) for k, v in by_literal.items()},
                     frozenset(always))


def cue_scores(text: str, fields) -> dict[str, float]:
    """Sum of the weights of the distinct cues of each field that `text` matches (> 0 only)."""
    index = _indexed()
    low = text.lower()
    candidates = set(index.always)
    # Every literal found at a position is a prefix of the longest one there: exact, one pass.
    for m in index.finder.finditer(low):
        for lit in index.prefixes[m.group(1)]:
            candidates.update(index.by_literal[lit])
    wanted = set(fields)
    scores: dict[str, float] = {}
    for cid in candidates:
        fld, rx, w = index.cues[cid]
        if fld in wanted and rx.search(text):
            scores[fld] = scores.get(fld, 0.0) + w
    return {f: s for f, s in scores.items() if s > 0}


SECTION_RES = {f: re.compile(p, re.I) for f, p in SECTION_HINTS.items()}
QUESTION_RES = [(kind, re.compile(p, re.I)) for kind, p in QUESTION_CUES]
OFF_TOPIC_RES = [re.compile(p, re.I) for p in OFF_TOPIC]
AUDIENCE_LOGISTICS_RE = re.compile(AUDIENCE_LOGISTICS, re.I)
ASIDE_RE = re.compile(ASIDE_LABELS, re.I)
