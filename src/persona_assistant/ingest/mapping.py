"""Which export column means what, which stage name means won/lost/open, and the mapping file.

Headers are matched case-, space- and punctuation-insensitively against synonyms
(`Deal Stage` = `StageName` = `deal_stage`), so HubSpot, Salesforce, Pipedrive and
plain exports map without configuration. What was inferred is reported; a mapping
file overrides it.

Mapping file (TOML, `mapping.toml` in the workspace or `--mapping FILE`)::

    [columns]                 # canonical field = header in the export
    industry = "Sector"       # or "accounts.csv:Sector" to name the file too
    amount = "Net value"

    [stages]                  # extra stage names (exact, case-insensitive) -> won | lost | open
    "Contract Signed" = "won"
    "Parked" = "open"

    [aliases.product]         # join-key aliases per key (account, account_id, product, owner):
    "GTXPro" = "GTX Pro"      # the deals-side value = the value in the products/accounts/teams file

    [units]
    revenue = "millions"      # or "units" (plain USD); without it, revenue all below 100,000 is read
                              # as millions and a notice says so

    [funnel]                  # a leads/MQL file plus a deals file joined by a key (`ingest/funnel.py`)
    leads = "mqls.csv"        # one row per lead; its created date ([columns] created) starts the window
    deals = "closed_deals.csv"  # deals of those leads: a stage/status column, else every row is a won deal
    key = "mql_id"            # the key's header in both files, or ["lead header", "deal header"]
    window_days = 180         # a lead with no deal is lost this long after it was created, open before
    as_of = "2024-06-30"      # optional: the day the window is measured to (default: the latest date seen)

Canonical fields are the keys of `SYNONYMS`.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from persona_assistant.errors import InputError

# canonical field -> header synonyms (normalised with `norm`). Order matters only for
# readability; a header maps to the first field listing it.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "deal_id": ("dealid", "opportunityid", "oppid", "opportunity18digitid", "dealrecordid"),
    "account_id": ("accountid", "companyid", "organizationid", "orgid", "associatedcompanyid",
                   "associatedcompanyids", "associatedcompanyidsprimary", "companyrecordid",
                   "dealorganizationid", "organisationid"),
    "account": ("account", "accountname", "company", "companyname", "associatedcompany",
                "associatedcompanyprimary", "organization", "organisation", "organizationname",
                "dealorganization", "customer", "customername", "client", "clientname",
                "organizationnamename"),
    "status": ("status", "dealstatus", "outcome", "dealoutcome", "result", "wonlost", "iswon"),
    "stage": ("stage", "dealstage", "stagename", "opportunitystage", "salesstage", "pipelinestage"),
    "amount": ("amount", "dealamount", "value", "dealvalue", "closevalue", "opportunityamount",
               "amountconverted", "totalamount", "dealsize", "contractvalue", "acv", "arr", "tcv"),
    "created": ("createdate", "createddate", "created", "createdon", "dealcreated", "dealcreatedate",
                "dealdealcreated", "dealaddtime", "addtime", "engagedate", "opendate", "opportunitycreateddate",
                "datecreated", "dealcreatedon"),
    "closed": ("closed", "closedate", "closeddate", "closedon", "dealclosedate", "dealclosedon", "closetime",
               "dealclosetime", "dateclosed", "actualclosedate"),
    "won_time": ("wontime", "dealwontime", "wondate"),
    "lost_time": ("losttime", "deallosttime", "lostdate"),
    "industry": ("industry", "sector", "vertical", "companyindustry", "accountindustry",
                 "organizationindustry", "industrysector"),
    "employees": ("numberofemployees", "employees", "employeecount", "employeecnt", "headcount",
                  "noofemployees", "numemployees", "companyemployees", "organizationemployees",
                  "employeesnumber", "staff"),
    "revenue": ("annualrevenue", "revenue", "companyrevenue", "accountrevenue", "annualrevenueusd",
                "organizationannualrevenue", "yearlyrevenue"),
    "region": ("region", "salesregion", "territory", "regionaloffice", "billingregion", "georegion", "geo"),
    "country": ("country", "countryregion", "billingcountry", "shippingcountry", "hqcountry",
                "officelocation", "organizationcountry", "companycountry", "mailingcountry"),
    "product": ("product", "productname", "products", "dealproduct", "productline"),
    "lead_source": ("leadsource", "source", "originalsource", "dealsource", "opportunitysource",
                    "sourcechannel", "acquisitionchannel", "channel", "originalsourcetype"),
    "owner": ("owner", "dealowner", "opportunityowner", "salesagent", "salesrep", "accountowner",
              "ownername", "rep", "assignedto", "dealownername", "contactowner", "companyowner"),
    "technologies": ("technologies", "techstack", "technology", "technographics", "tools"),
    "manager": ("manager", "salesmanager", "teamlead"),
    "price": ("price", "salesprice", "listprice", "unitprice"),
    "title": ("title", "jobtitle", "position", "role", "contacttitle"),
    "contact_name": ("name", "fullname", "contactname", "contact", "personname"),
    "first_name": ("firstname", "givenname"),
    "last_name": ("lastname", "surname", "familyname"),
    "email": ("email", "emailaddress", "workemail", "contactemail", "personemail"),
    "phone": ("phone", "phonenumber", "mobile", "mobilephone", "workphone", "personphone"),
}
# Headers whose meaning depends on the file: the record id of a deals export is a deal id,
# of a companies export an account id.
RECORD_ID = ("recordid", "id", "hubspotid", "recordidhubspot")
PREFIXES = ("deal", "opportunity", "organization", "organisation", "company", "account", "person", "lead")

CANONICAL = tuple(SYNONYMS)
OUTCOMES = ("won", "lost", "open")
UNITS = ("millions", "units")
ALIAS_KEYS = ("account", "account_id", "product", "owner")

# Stage names (normalised) with a known outcome: HubSpot, Salesforce, Pipedrive, plain exports.
STAGES: dict[str, str] = {
    **{s: "won" for s in ("won", "closedwon", "dealwon", "win", "closedwin", "signed", "contractsigned",
                          "customer", "booked", "true", "yes", "1")},
    **{s: "lost" for s in ("lost", "closedlost", "deallost", "loss", "closedloss", "disqualified",
                           "closeddisqualified", "false", "no", "0", "churned", "nodecision")},
    **{s: "open" for s in (
        "open", "engaging", "prospecting", "prospect", "qualification", "qualified", "qualifying",
        "needsanalysis", "valueproposition", "iddecisionmakers", "perceptionanalysis",
        "proposalpricequote", "proposal", "negotiationreview", "negotiation", "appointmentscheduled",
        "qualifiedtobuy", "presentationscheduled", "decisionmakerboughtin", "contractsent",
        "leadin", "contactmade", "demoscheduled", "proposalmade", "negotiationsstarted", "discovery",
        "demo", "trial", "evaluation", "pending", "inprogress", "new", "lead", "meeting", "meetingscheduled",
        "sqlqualified", "commit", "bestcase", "pipeline", "upside", "closing")},
}
_WON_TOKEN = re.compile(r"\b(closed[\s_-]*)?won\b", re.I)
_LOST_TOKEN = re.compile(r"\b(closed[\s_-]*)?lost\b", re.I)


def norm(header: str) -> str:
    """Header key: lower case, letters and digits only."""
    return re.sub(r"[^0-9a-z]", "", header.lower())


_LOOKUP = {syn: canon for canon, syns in reversed(list(SYNONYMS.items())) for syn in syns}


def infer_field(header: str, *, deals: bool | None = None) -> str | None:
    """The canonical field a header means, or None. `deals` resolves 'Record ID'/'ID'."""
    key = norm(header)
    if key in RECORD_ID:
        if deals is None:
            return None
        return "deal_id" if deals else "account_id"
    if key in _LOOKUP:
        return _LOOKUP[key]
    for prefix in PREFIXES:  # "Deal - Value", "Organization - Industry", "Opportunity Stage"
        if key.startswith(prefix) and key[len(prefix):] in _LOOKUP:
            return _LOOKUP[key[len(prefix):]]
    return None


def stage_outcome(stage: str, extra: dict[str, str] | None = None) -> str | None:
    """won | lost | open for a raw stage name; None when the name is not known (reported)."""
    if extra:
        hit = extra.get(stage.strip().lower())
        if hit:
            return hit
    key = norm(stage)
    if key in STAGES:
        return STAGES[key]
    won, lost = bool(_WON_TOKEN.search(stage)), bool(_LOST_TOKEN.search(stage))
    if won != lost:  # "Closed Won - Expansion", "Lost (no budget)"
        return "won" if won else "lost"
    return None


@dataclass(frozen=True)
class Funnel:
    """The [funnel] section: which two files form a funnel, their key, and the no-deal window."""

    leads: str
    deals: str
    lead_key: str
    deal_key: str
    window_days: int
    as_of: date | None = None


@dataclass
class MappingFile:
    """A parsed mapping file (see the module docstring)."""

    path: Path | None = None
    columns: dict[str, str] = field(default_factory=dict)  # canonical -> header or "file:header"
    stages: dict[str, str] = field(default_factory=dict)  # lower-cased stage -> outcome
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)  # key -> {deals value: other value}
    units: dict[str, str] = field(default_factory=dict)
    funnel: "Funnel | None" = None

    def column_for(self, canonical: str, file: Path, headers: list[str]) -> str | None:
        """The header in `file` the mapping names for `canonical`, if any (matched case-insensitively)."""
        spec = self.columns.get(canonical)
        if spec is None:
            return None
        name = spec
        if ":" in spec:
            fname, _, rest = spec.partition(":")
            if fname.strip().lower() not in (file.name.lower(), file.stem.lower()):
                return None
            name = rest
        return next((h for h in headers if h.strip().lower() == name.strip().lower()), None)


def load_mapping(path: Path | None) -> MappingFile:
    """Parse and check a mapping file; any mistake is an InputError naming the file and key."""
    if path is None:
        return MappingFile()
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise InputError(f"{path}: mapping file not found") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid TOML ({exc})") from None
    unknown = set(data) - {"columns", "stages", "aliases", "units", "funnel"}
    if unknown:
        raise InputError(f"{path}: unknown section [{sorted(unknown)[0]}] "
                         "(expected columns, stages, aliases, units, funnel)")
    m = MappingFile(path=path)
    for key, value in _table(data, "columns", path).items():
        if key not in SYNONYMS:
            raise InputError(f"{path}: [columns] {key}: not a canonical field ({', '.join(CANONICAL)})")
        if not isinstance(value, str) or not value.strip():
            raise InputError(f"{path}: [columns] {key}: expected the export's header as a string")
        m.columns[key] = value
    for key, value in _table(data, "stages", path).items():
        if value not in OUTCOMES:
            raise InputError(f'{path}: [stages] "{key}" = {value!r}: expected "won", "lost" or "open"')
        m.stages[key.strip().lower()] = value
    for key, table in _table(data, "aliases", path).items():
        if key not in ALIAS_KEYS:
            raise InputError(f"{path}: [aliases.{key}]: not a join key ({', '.join(ALIAS_KEYS)})")
        if not isinstance(table, dict) or not all(isinstance(v, str) for v in table.values()):
            raise InputError(f'{path}: [aliases.{key}]: expected "deals value" = "value in the other file" pairs')
        m.aliases[key] = dict(table)
    for key, value in _table(data, "units", path).items():
        if key != "revenue" or value not in UNITS:
            raise InputError(f'{path}: [units] {key} = {value!r}: only revenue = "millions" or "units"')
        m.units[key] = value
    if "funnel" in data:
        m.funnel = _funnel(_table(data, "funnel", path), path)
    return m


def _funnel(t: dict, path: Path) -> Funnel:
    unknown = set(t) - {"leads", "deals", "key", "window_days", "as_of"}
    if unknown:
        raise InputError(f"{path}: [funnel] {sorted(unknown)[0]}: unknown key (expected leads, deals, key, "
                         "window_days, as_of)")
    for name in ("leads", "deals"):
        if not isinstance(t.get(name), str) or not t[name].strip():
            raise InputError(f"{path}: [funnel] {name}: expected the file's name as a string")
    key = t.get("key")
    if isinstance(key, str) and key.strip():
        keys = (key, key)
    elif isinstance(key, list) and len(key) == 2 and all(isinstance(k, str) and k.strip() for k in key):
        keys = (key[0], key[1])
    else:
        raise InputError(f'{path}: [funnel] key: expected the key\'s header ("mql_id") or '
                         '["leads header", "deals header"]')
    window = t.get("window_days", 180)
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise InputError(f"{path}: [funnel] window_days: expected a positive number of days, got {window!r}")
    as_of = t.get("as_of")
    if as_of is not None:
        if isinstance(as_of, str):
            try:
                as_of = date.fromisoformat(as_of)
            except ValueError:
                as_of = None
        if not isinstance(as_of, date):
            raise InputError(f"{path}: [funnel] as_of: expected a date (YYYY-MM-DD), got {t['as_of']!r}")
    return Funnel(t["leads"], t["deals"], keys[0], keys[1], window, as_of)


def _table(data: dict, name: str, path: Path) -> dict:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise InputError(f"{path}: [{name}] must be a table")
    return value
