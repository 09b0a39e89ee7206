"""Analysis: StudyData in, results as values (Polars frames and dataclasses) out."""

from celltrial.analysis.results import Results
from celltrial.analysis.study import analyze_study, resolve_plan

__all__ = ["Results", "analyze_study", "resolve_plan"]
