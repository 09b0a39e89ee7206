"""A study protocol as data: eligibility, dosing, visit windows, titration, endpoints.

The simulator, the analysis and the registry read a protocol only through this package.
Shipped protocols live in protocols/*.yaml (format: docs/protocols.md).
"""

from celltrial.protocol.loader import (
    ProtocolError,
    ProtocolIssue,
    load_protocol,
    parse_protocol,
    shipped_protocols,
)
from celltrial.protocol.model import (
    Dosing,
    LotRelease,
    Outcome,
    Protocol,
    Titration,
    Visit,
)

__all__ = [
    "Dosing",
    "LotRelease",
    "Outcome",
    "Protocol",
    "ProtocolError",
    "ProtocolIssue",
    "Titration",
    "Visit",
    "load_protocol",
    "parse_protocol",
    "shipped_protocols",
]
