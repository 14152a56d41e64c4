"""PII probes: personal values in many styles that must never reach a request, and text that must
come back untouched. Written for these tests (fictional people, reserved phone ranges,
example.* domains); shared by tests/test_redact_probes.py and the end-to-end request tests.

KNOWN_PEOPLE are what a workspace knows from front matter, speaker labels and CRM columns;
every other name must be found in the text itself.
"""

from __future__ import annotations

KNOWN_PEOPLE = ["Marisol Etxeberria", "Callum Fairweather", "Oksana Hrytsenko"]

# (sentence, the personal value in it)
POSITIVES: list[tuple[str, str]] = [
    # names in prose, not known beforehand
    ("Last week I spoke with Priya Raman about the close.", "Priya Raman"),
    ("Our auditor, Dr. Jane O'Neil, wants the support attached.", "Jane O'Neil"),
    ("Ana María López runs AP for the Lisbon entity.", "Ana María López"),
    ("The reconciliations are owned by Mary-Kate Smith-Jones now.", "Mary-Kate Smith-Jones"),
    ("We escalated it to Ludwig van Berkel in treasury.", "Ludwig van Berkel"),
    ("Ms Okonkwo signs off every journal over ten thousand.", "Okonkwo"),
    ("Tomasz said the bank feed breaks every Monday.", "Tomasz"),
    ("Thanks Siobhan, that clears it up.", "Siobhan"),
    ("Prof. Haverkamp reviewed our controls last year.", "Haverkamp"),
    ("When Kwame Mensah joined, the checklist lived in Excel.", "Kwame Mensah"),
    ("I forwarded it to Seamus McAllister and his team.", "Seamus McAllister"),
    ("Ask Jean-Luc Moreau whether the accruals are booked.", "Jean-Luc Moreau"),
    ("According to Ngozi Adeyemi the backlog doubled.", "Ngozi Adeyemi"),
    ("Björn Ödegaard keeps the intercompany schedule.", "Björn Ödegaard"),
    ("Mr. Fitzgerald approved the budget.", "Fitzgerald"),
    # known names, in any case, alone or in part
    ("marisol etxeberria told us the close takes nine days", "marisol etxeberria"),
    ("I think etxeberria is right about the accruals", "etxeberria"),
    ("CALLUM FAIRWEATHER owns the rollout.", "CALLUM FAIRWEATHER"),
    ("Fairweather wants weekly status.", "Fairweather"),
    ("what did oksana say about audit prep?", "oksana"),
    # emails
    ("Write to jane.oneil@acme.example for the file.", "jane.oneil@acme.example"),
    ("Reach her at priya [at] northwind [dot] example today.", "priya [at] northwind [dot] example"),
    ("Contact: kwame(at)harbor(dot)example", "kwame(at)harbor(dot)example"),
    ("mail tomasz at ironclad dot example if stuck", "tomasz at ironclad dot example"),
    ("or siobhan.k at medisync.example", "siobhan.k at medisync.example"),
    ("cc ana{at}lopez{dot}example please", "ana{at}lopez{dot}example"),
    ("send it to AP <ap-team+close@finance.acme.example>", "ap-team+close@finance.acme.example"),
    # phones
    ("Call me on +44 20 7946 0958 after five.", "+44 20 7946 0958"),
    ("Mobile 07700 900123, any time.", "07700 900123"),
    ("Office (415) 555-0124 is staffed.", "(415) 555-0124"),
    ("Her direct line is 415.555.0124.", "415.555.0124"),
    ("Text 4155550124 if the call drops.", "4155550124"),
    ("Desk 415-555-0124 ext. 218 for AP.", "415-555-0124 ext. 218"),
    ("Berlin office: +49 30 901820 17", "+49 30 901820 17"),
    ("Paris: +33 1 42 68 53 00", "+33 1 42 68 53 00"),
    ("US toll line +1-212-555-0199 works too.", "+1-212-555-0199"),
    ("UK landline 020 7946 0958 in the mornings.", "020 7946 0958"),
    ("dial 0044 20 7946 0958 from abroad", "0044 20 7946 0958"),
    # account numbers
    ("Pay to GB82 WEST 1234 5698 7654 32 by Friday.", "GB82 WEST 1234 5698 7654 32"),
    ("The card 4111 1111 1111 1111 was declined.", "4111 1111 1111 1111"),
    ("IBAN DE89370400440532013000 on file.", "DE89370400440532013000"),
]

# Text that must come back exactly as it is: numbers that are not phones, words that are not names.
NEGATIVES: list[str] = [
    "On 2024-03-12 we closed 12 days late.",
    "The deal was $1,200,000 in 2023 and €45.000,50 in 2024.",
    "Version 10.2.3 shipped; 3.5% of lines failed; 85% auto-matched.",
    "Order 1234567890 and invoice INV-20240312-001 are open.",
    "ZIP 94107 and 10001-1234; PO box 4471.",
    "We processed 120000000 rows in 2024 Q1.",
    "Meeting on Tuesday 14 March at 09:30 about the Q3 plan.",
    "The CFO and the Controller want one checklist in NetSuite.",
    "## Pain Points\nThe month-end close takes too long.",
    "Our ERP is Microsoft Dynamics; we tried Sage Intacct too.",
    "Revenue grew 12.5% to 4.2 million.",
    "Reference 20240312001 was paid on 12/03/2024.",
    "Build 2.14.1082 fixed ticket #4521.",
    "The Senior Accountant reports to the Assistant Controller.",
    "North America and Western Europe are our biggest regions.",
]

# Known limits, measured and kept visible (tests/test_redact_probes.py marks them strict xfail, so
# a change that fixes one is noticed): a single first name with no cue, nowhere else in the
# workspace; a two-word product or place the brief and CRM do not list.
KNOWN_MISSES: list[tuple[str, str]] = [
    ("We hired Tomasz last spring.", "Tomasz"),
    ("Henrik runs the video channel.", "Henrik"),
]
KNOWN_FALSE_POSITIVES: list[str] = [
    "We moved the pipeline to Apache Arrow last year.",
    "Our office is in Sunny Austin these days.",
]
