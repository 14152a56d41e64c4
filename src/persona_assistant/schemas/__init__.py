"""The contracts every stage fills and validates.

One package so that ingestion, analysis, drafting (LLM or offline), messaging,
scoring, export and chat agree on a single shape. Every model forbids unknown
fields: a model answer with an invented key fails validation instead of being
silently dropped.

Split by contract family (`base`, `ingest`, `analysis`, `drafts`, `messaging`, `brief`); every name is
importable from here, as `from persona_assistant.schemas import X`.
"""

from __future__ import annotations

from persona_assistant.schemas.analysis import (Analysis, DataSufficiency, ExcludedColumn, Segment, SegmentStats,
                                                segment_conditions, segment_id, segment_text)
from persona_assistant.schemas.base import (Angle, BuyingRole, Claim, ClaimStatus, Confidence, Contract, Evidence,
                                            Outcome, QuoteEvidence, SegmentVerdict, Seniority, Stage, StatEvidence,
                                            SufficiencyVerdict, first_error)
from persona_assistant.schemas.brief import Brief, ProofPoint
from persona_assistant.schemas.drafts import (Disqualifier, Firmographics, ICP, PERSONA_ITEM_FIELDS, Persona,
                                              PersonaSet, QualificationSignal)
from persona_assistant.schemas.ingest import FileReport, IngestReport, UnmatchedKeys
from persona_assistant.schemas.messaging import (Asset, Campaign, ContentIdea, ItemRef, JourneyMap, JourneyStep,
                                                 LintFinding, MapEntry, MessageMap, StageMessage)

# Names accepted by `persona-assistant schema NAME`.
CONTRACTS: dict[str, type[Contract]] = {
    "evidence-quote": QuoteEvidence,
    "evidence-statistic": StatEvidence,
    "claim": Claim,
    "ingest-report": IngestReport,
    "analysis": Analysis,
    "icp": ICP,
    "persona": Persona,
    "persona-set": PersonaSet,
    "asset": Asset,
    "journey-map": JourneyMap,
    "campaign": Campaign,
    "message-map": MessageMap,
    "brief": Brief,
}

__all__ = [
    "Analysis", "Angle", "Asset", "Brief", "BuyingRole", "CONTRACTS", "Campaign", "Claim", "ClaimStatus",
    "Confidence", "ContentIdea", "Contract", "DataSufficiency", "Disqualifier", "Evidence", "ExcludedColumn",
    "FileReport", "Firmographics", "ICP", "IngestReport", "ItemRef", "JourneyMap", "JourneyStep", "LintFinding",
    "MapEntry", "MessageMap", "Outcome", "PERSONA_ITEM_FIELDS", "Persona", "PersonaSet", "ProofPoint",
    "QualificationSignal", "QuoteEvidence", "Segment", "SegmentStats", "SegmentVerdict", "Seniority", "Stage",
    "StageMessage", "StatEvidence", "SufficiencyVerdict", "UnmatchedKeys", "first_error", "segment_conditions",
    "segment_id", "segment_text"
]
