"""StudyData: the tables that connect the layers (../shared/DESIGN.md)."""

from celltrial.data.schema import TABLES, TableSchema
from celltrial.data.study import StudyData, StudyMeta

__all__ = ["TABLES", "StudyData", "StudyMeta", "TableSchema"]
