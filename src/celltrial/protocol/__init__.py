"""A study protocol as data: eligibility, dosing, visit windows, titration, endpoints.

The simulator, the analysis and the registry read a protocol only through this package.
Shipped protocols live in protocols/*.yaml (format: docs/protocols.md).
"""

from celltrial.protocol.dosing import DosePlan, check_infusions, compute_dose, plan_doses
from celltrial.protocol.eligibility import ScreeningResult, screen
from celltrial.protocol.loader import (
    ProtocolError,
    ProtocolIssue,
    load_protocol,
    parse_protocol,
    shipped_protocols,
)
from celltrial.protocol.lots import release_lots
from celltrial.protocol.model import (
    Deescalation,
    Dosing,
    LotRelease,
    Outcome,
    Protocol,
    Titration,
    Visit,
)
from celltrial.protocol.titration import Action, Advice, Reason, advise_insulin, advise_oral
from celltrial.protocol.windows import anchor_dates, assign_visits, visit_dates, visits_table

__all__ = [
    "Action",
    "Advice",
    "Deescalation",
    "DosePlan",
    "Dosing",
    "LotRelease",
    "Outcome",
    "Protocol",
    "ProtocolError",
    "ProtocolIssue",
    "Reason",
    "ScreeningResult",
    "Titration",
    "Visit",
    "advise_insulin",
    "advise_oral",
    "anchor_dates",
    "assign_visits",
    "check_infusions",
    "compute_dose",
    "load_protocol",
    "parse_protocol",
    "plan_doses",
    "release_lots",
    "screen",
    "shipped_protocols",
    "visit_dates",
    "visits_table",
]
