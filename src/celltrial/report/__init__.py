"""Report: tables, figures and documents (XLSX, DOCX, HTML) built from analysis Results."""

from celltrial.report.outputs import Outputs, write_outputs

__all__ = ["Outputs", "write_outputs"]
