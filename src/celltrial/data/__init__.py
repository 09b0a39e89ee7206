"""StudyData: the tables that connect the layers (../shared/DESIGN.md), read, written and
validated here."""

from celltrial.data.findings import Finding, Findings, InvalidStudyError, StudyWarning
from celltrial.data.folder import StudyReadError, read_study, write_study
from celltrial.data.schema import TABLES, TableSchema
from celltrial.data.study import StudyData, StudyMeta
from celltrial.data.validation import validate

__all__ = [
    "TABLES",
    "Finding",
    "Findings",
    "InvalidStudyError",
    "StudyData",
    "StudyMeta",
    "StudyReadError",
    "StudyWarning",
    "TableSchema",
    "read_study",
    "validate",
    "write_study",
]
