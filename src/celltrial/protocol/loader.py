"""Load a protocol YAML file into a validated Protocol, with errors that name file, line, key.

PyYAML's node tree keeps each key's line; pydantic's error locations are mapped back onto
it. Cross-section rules (unique visit ids, disjoint windows, references between sections)
are checked here after the model is built, with their own paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from itertools import pairwise
from pathlib import Path

import yaml
from pydantic import ValidationError

from celltrial.protocol.model import Protocol

Path_ = tuple[str | int, ...]


@dataclass(frozen=True)
class ProtocolIssue:
    file: str
    line: int
    key: str  # dotted path, e.g. "visits[2].window_after"
    message: str

    def __str__(self) -> str:
        """file:line: key k: message; without a line (no such file) or a key, those parts go."""
        head = f"{self.file}:{self.line}" if self.line else self.file
        where = f" key {self.key}:" if self.key else ""
        return f"{head}:{where} {self.message}"


class ProtocolError(ValueError):
    """A protocol file that cannot be used; `issues` lists every problem found."""

    def __init__(self, issues: list[ProtocolIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def shipped_protocols() -> list[str]:
    """Names of the protocols shipped inside the package (protocols/*.yaml)."""
    folder = resources.files("celltrial.protocol") / "protocols"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def resolve(name_or_path: str | Path) -> tuple[str, str]:
    """(display name, YAML text) of a shipped protocol name or a file path."""
    text_name = str(name_or_path)
    # "lian-2022", "Lian_2022" and "lian2022" name the same shipped protocol.
    alias = text_name.lower().replace("-", "").replace("_", "")
    if alias in shipped_protocols() and not Path(text_name).is_file():
        text_name = alias
    if text_name in shipped_protocols():
        res = resources.files("celltrial.protocol") / "protocols" / f"{text_name}.yaml"
        return f"{text_name}.yaml", res.read_text(encoding="utf-8")
    path = Path(name_or_path)
    if not path.is_file():
        known = ", ".join(shipped_protocols())
        raise ProtocolError(
            [
                ProtocolIssue(
                    text_name, 0, "", f"no such file or shipped protocol (shipped: {known})"
                )
            ]
        )
    try:
        return str(path), path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProtocolError([ProtocolIssue(str(path), 0, "", f"cannot read: {exc}")]) from None


def load_protocol(name_or_path: str | Path) -> Protocol:
    """A shipped protocol by name ("lian2022", "chin2025") or a YAML file by path."""
    file, text = resolve(name_or_path)
    return parse_protocol(text, file)


def parse_protocol(text: str, file: str = "<string>") -> Protocol:
    data, lines = _read_yaml(text, file)
    try:
        protocol = Protocol.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError(_issues_from(exc, lines, file)) from None
    problems = _cross_checks(protocol)
    if problems:
        raise ProtocolError(
            [ProtocolIssue(file, _line_of(p, lines), _dotted(p), m) for p, m in problems]
        )
    return protocol


# ---------------------------------------------------------------- YAML with lines


def _read_yaml(text: str, file: str) -> tuple[object, dict[Path_, int]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProtocolError([ProtocolIssue(file, line, "", f"YAML syntax: {problem}")]) from None
    if root is None or not isinstance(root, yaml.MappingNode):
        raise ProtocolError([ProtocolIssue(file, 1, "", "the file must be a YAML mapping")])
    # The top-level mapping is the whole file: an error about it (a missing top-level key)
    # points at line 1, not at its first key, which may follow a comment header.
    lines: dict[Path_, int] = {(): 1}
    duplicates: list[ProtocolIssue] = []
    _index(root, (), lines, duplicates, file)
    if duplicates:
        raise ProtocolError(duplicates)
    try:
        return yaml.SafeLoader(text).get_single_data(), lines
    except (yaml.YAMLError, ValueError) as exc:  # a tag or a value YAML cannot construct
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(exc, "problem", None) or str(exc)
        raise ProtocolError([ProtocolIssue(file, line, "", f"YAML value: {problem}")]) from None


def _index(
    node: yaml.Node, path: Path_, lines: dict[Path_, int], dup: list[ProtocolIssue], file: str
) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                msg = "duplicate key (YAML keeps only the last one)"
                dup.append(
                    ProtocolIssue(file, key.start_mark.line + 1, _dotted((*path, name)), msg)
                )
            seen.add(name)
            lines[(*path, name)] = key.start_mark.line + 1
            _index(value, (*path, name), lines, dup, file)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _index(item, (*path, i), lines, dup, file)


def _line_of(loc: Path_, lines: dict[Path_, int]) -> int:
    """Line of the deepest part of `loc` present in the file; segments that pydantic adds
    (union tags such as 'measurement') are skipped."""
    return lines.get(_kept_path(loc, lines), 1)


def _dotted(loc: Path_) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _issues_from(exc: ValidationError, lines: dict[Path_, int], file: str) -> list[ProtocolIssue]:
    issues = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        kept = _kept_path(loc, lines)
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (not part of the protocol format, see docs/protocols.md)"
        elif err["type"] == "missing":
            # the key is absent, so `kept` is the mapping that lacks it: point at that
            # mapping's line (its `key:` line, its `- ` item line, or line 1 for the top level)
            msg = f"missing required key {loc[-1]!r}"
            kept = (*kept, loc[-1]) if loc[-1] not in kept else kept
        issues.append(ProtocolIssue(file, _line_of(loc, lines), _dotted(kept), msg))
    return issues


def _kept_path(loc: Path_, lines: dict[Path_, int]) -> Path_:
    path: Path_ = ()
    for part in loc:
        if (*path, part) in lines:
            path = (*path, part)
    return path


# ---------------------------------------------------------------- cross-section rules


def _cross_checks(p: Protocol) -> list[tuple[Path_, str]]:
    problems: list[tuple[Path_, str]] = []
    problems += _duplicates([v.id for v in p.visits], "visits")
    problems += _duplicates([c.id for c in p.eligibility], "eligibility")
    problems += _duplicates([s.id for s in p.subgroups], "subgroups")
    baselines = [i for i, v in enumerate(p.visits) if v.baseline]
    if len(baselines) != 1:
        problems.append(
            (("visits",), f"exactly one visit must be baseline, found {len(baselines)}")
        )
    else:
        problems += _baseline_before_treatment(p, baselines[0])
    order = sorted(range(len(p.visits)), key=lambda i: p.visits[i].target_day)
    for a, b in pairwise(order):
        va, vb = p.visits[a], p.visits[b]
        if va.upper_day >= vb.lower_day:
            msg = (
                f"window of {vb.id} (days {vb.lower_day}..{vb.upper_day}) overlaps "
                f"{va.id} (days {va.lower_day}..{va.upper_day})"
            )
            problems.append((("visits", b, "window_before"), msg))
    visit_ids = {v.id for v in p.visits}
    extensions = {v.id for v in p.extension_visits}
    subgroup_ids = {s.id for s in p.subgroups}
    for i, o in enumerate(p.outcomes):
        for v in o.visits:
            if msg := _paper_visit_problem(v, visit_ids, extensions):
                problems.append((("outcomes", i, "visits"), msg))
        if o.subgroup is not None and o.subgroup not in subgroup_ids:
            problems.append((("outcomes", i, "subgroup"), f"unknown subgroup {o.subgroup!r}"))
    for i, s in enumerate(p.subgroups):
        visit = getattr(s, "visit", None)
        if visit is not None and (msg := _paper_visit_problem(visit, visit_ids, extensions)):
            problems.append((("subgroups", i, "visit"), msg))
    return problems


def _paper_visit_problem(visit: str, visit_ids: set[str], extensions: set[str]) -> str | None:
    """An outcome or a subgroup is analysed at a visit of the paper's schedule."""
    if visit not in visit_ids:
        return f"unknown visit {visit!r}"
    if visit in extensions:
        return f"visit {visit!r} is an extension, not a visit of the paper's schedule"
    return None


def _baseline_before_treatment(p: Protocol, i: int) -> list[tuple[Path_, str]]:
    """A baseline value must precede the first infusion (ICH E9 section 5.7: baseline is
    measured before treatment), so its window may not reach past the first infusion day."""
    base, first = p.visits[i], p.dosing.infusion_days[0]
    if base.upper_day <= first:
        return []
    msg = (
        f"baseline visit {base.id} window reaches day {base.upper_day}, after the first "
        f"infusion on day {first}: post-treatment values would count as baseline; set "
        f"window_after to at most {first - base.target_day}"
    )
    return [(("visits", i, "window_after"), msg)]


def _duplicates(ids: list[str], section: str) -> list[tuple[Path_, str]]:
    seen: set[str] = set()
    out: list[tuple[Path_, str]] = []
    for i, x in enumerate(ids):
        if x in seen:
            out.append(((section, i, "id"), f"duplicate id {x!r}"))
        seen.add(x)
    return out
