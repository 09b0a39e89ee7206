"""Exit statuses shared by every verb (DESIGN.md, interfaces a person uses)."""

DONE = 0
FINDINGS = 1
BAD_INPUT = 2
