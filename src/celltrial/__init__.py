"""CellTrial: run, analyse and simulate studies of UC-MSC infusion in type 2 diabetes."""

__version__ = "0.1.0"
