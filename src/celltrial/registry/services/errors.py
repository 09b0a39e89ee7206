"""What a service refuses, as values the API and CLI turn into answers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Problem:
    field: str | None
    message: str
    value: str | None = None


class Refused(Exception):
    """The write breaks a rule: nothing was stored. One problem per field or rule."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class NotFound(Exception):
    """No such object, or one the user may not see (answered alike: 404)."""


class Forbidden(Exception):
    """The user's role may not do this in this study."""


@dataclass
class Conflict(Exception):
    """The record changed since the version the client read (optimistic locking)."""

    current_version: int
    changed: dict[str, object] = field(default_factory=dict)  # field -> current value

    def __str__(self) -> str:
        return f"record changed since (now version {self.current_version})"
