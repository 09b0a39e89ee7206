"""REDCap's missing-data codes: a cell holding one means 'no value, for this reason', never a
number. The default list is the one REDCap offers in Project Setup > Additional
customizations > Missing Data Codes (REDCap 9.x+, after HL7 v3 NullFlavor); a project may
define its own, which the project XML carries (redcap:MissingDataCodes)."""

from __future__ import annotations

# REDCap "Missing Data Codes" suggested list (HL7 v3 NullFlavor codes and labels)
REDCAP_MISSING_CODES: dict[str, str] = {
    "NI": "No information",
    "INV": "Invalid",
    "UNK": "Unknown",
    "NASK": "Not asked",
    "ASKU": "Asked but unknown",
    "NAV": "Temporarily unavailable",
    "MSK": "Masked",
    "NA": "Not applicable",
    "NAVU": "Not available",
    "NP": "Not present",
    "QS": "Sufficient quantity",
    "QI": "Insufficient quantity",
    "TRC": "Trace",
    "UNC": "Unencoded",
    "DER": "Derived",
    "PINF": "Positive infinity",
    "NINF": "Negative infinity",
    "OTH": "Other",
}


def parse_missing_codes(text: str) -> dict[str, str]:
    """REDCap's own spelling of a project's list, 'UNK, Unknown | NA, Not applicable'."""
    codes: dict[str, str] = {}
    for item in text.replace("\n", "|").split("|"):  # a handful of codes, not data rows
        code, _, label = item.partition(",")
        if code.strip():
            codes[code.strip()] = label.strip() or code.strip()
    return codes
