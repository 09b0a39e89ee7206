"""Adverse-event terms: the one synonym table, the normalised term and how long after an
infusion an event of a term is attributed to it.

Normalising (a convention stated here, not a coding dictionary): surrounding and repeated
blanks removed, case ignored, a synonym replaced by its preferred term, the first letter
capitalised ("  PYREXIA " -> "Fever"). Preferred terms are the words of the source trial
(Lian 2022: "fever", "hypoglycemia", British spelling as the rest of CellTrial); the synonyms
are everyday and MedDRA preferred-term spellings of the same event. The term as entered is
kept beside the normalised one.
"""

from __future__ import annotations

import polars as pl

# synonym (lower case) -> preferred term (CellTrial convention, see the module docstring)
SYNONYMS: dict[str, str] = {
    "pyrexia": "fever",  # MedDRA preferred term for fever
    "febrile": "fever",
    "fever": "fever",
    "high temperature": "fever",
    "temperature increased": "fever",
    "body temperature increased": "fever",
    "hypoglycaemia": "hypoglycaemia",
    "hypoglycemia": "hypoglycaemia",  # US spelling
    "low blood sugar": "hypoglycaemia",
    "low blood glucose": "hypoglycaemia",
    "low glucose": "hypoglycaemia",
    "nocturnal hypoglycaemia": "hypoglycaemia",  # Lian 2022 (seed line 203): one such event
    "nocturnal hypoglycemia": "hypoglycaemia",
    "rigors": "chills",
    "shivering": "chills",
    "chills": "chills",
    "cephalalgia": "headache",
    "headache": "headache",
    # the long-term follow-up's malignancy question (lian2022 m6-m36): a "yes" is reported
    # as this event; MedDRA groups cancers under SOC "Neoplasms benign, malignant and
    # unspecified"
    "malignancy": "malignancy",
    "new malignancy": "malignancy",
    "cancer": "malignancy",
    "malignant neoplasm": "malignancy",
    "neoplasm malignant": "malignancy",  # MedDRA preferred-term spelling
}

# Hours after the start of an infusion within which an event of the term is attributed to
# that infusion; a term not listed belongs to the latest infusion before its onset, until the
# next one (the infusion interval: hypoglycaemia is counted per infusion this way).
ATTRIBUTION_WINDOW_H: dict[str, float] = {
    # Lian 2022 (seed line 202): fever "within 24 h after the second or third infusion"
    "Fever": 24.0,
}


def normalised_term(term: pl.Expr) -> pl.Expr:
    """The preferred term of each entered term (null stays null), as described above."""
    key = term.str.strip_chars().str.replace_all(r"\s+", " ").str.to_lowercase()
    preferred = key.replace(SYNONYMS)
    return preferred.str.slice(0, 1).str.to_uppercase() + preferred.str.slice(1)
