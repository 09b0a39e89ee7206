"""Stratified permuted-block randomization lists with random block sizes, reproducible from
their generation parameters and sealed by a SHA-256 checksum.

Within every stratum (each combination of the design's strata levels) the list is a run of
blocks; a block holds m complete allocation cycles (1:1 -> m UC-MSC and m placebo) in random
order, m drawn uniformly from the design's block_multiples, so every completed block is
balanced and the block ends cannot be guessed (ICH E9 section 2.3.2 on blocking and
unpredictability). One numpy Generator (PCG64) seeded with the seed draws every stratum in
order, so (design, seed, n) always gives the same list, byte for byte.
"""

from __future__ import annotations

import hashlib
import itertools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl

from celltrial import __version__
from celltrial.simulate.design import TrialDesign

LIST_FORMAT = "celltrial-randomization-list/1"


def strata_cells(design: TrialDesign) -> list[dict[str, str]]:
    """Every combination of the strata levels, in the design's order ([{}] without strata)."""
    strata = design.randomization.strata
    combos = itertools.product(*(s.names for s in strata))
    return [dict(zip((s.id for s in strata), c, strict=True)) for c in combos]


def stratum_label(cell: dict[str, str]) -> str:
    return "|".join(f"{k}={v}" for k, v in cell.items()) or "all"


def _stratum_list(design: TrialDesign, rng: np.random.Generator, n: int) -> pl.DataFrame:
    """Blocks for one stratum until at least n allocations."""
    cycle = np.array([a.id for a in design.cycle])
    mult = np.array(design.randomization.block_multiples)
    # enough blocks even if every block is the smallest; extra draws are cut off below
    n_blocks = -(-n // (int(mult.min()) * len(cycle)))
    sizes = rng.choice(mult, n_blocks) * len(cycle)
    ends = np.cumsum(sizes)
    used = int(np.searchsorted(ends, n) + 1)  # first block reaching n
    sizes = sizes[:used]
    block = np.repeat(np.arange(used), sizes)
    within = np.concatenate([np.arange(s) for s in sizes])  # position inside the block
    arm = cycle[within % len(cycle)]  # each block: m cycles before shuffling
    order = np.lexsort((rng.random(len(block)), block))  # shuffle inside each block
    return pl.DataFrame(
        {
            "sequence": np.arange(1, len(block) + 1),
            "block": block + 1,
            "block_size": np.repeat(sizes, sizes),
            "arm": arm[order],
        }
    )


def randomization_list(design: TrialDesign, seed: int, n: int) -> pl.DataFrame:
    """The list: one row per allocation, stratum columns first, at least n per stratum."""
    if n < 1:
        raise ValueError(f"--n {n}: a list needs at least one allocation per stratum")
    rng = np.random.default_rng(seed)
    parts = []
    for cell in strata_cells(design):  # one list per stratum (a handful)
        part = _stratum_list(design, rng, n)
        cols = [pl.lit(stratum_label(cell)).alias("stratum")]
        cols += [pl.lit(v).alias(k) for k, v in cell.items()]
        parts.append(part.select(*cols, pl.all()))
    return pl.concat(parts)


def list_bytes(frame: pl.DataFrame) -> bytes:
    """The CSV bytes of a list (what the checksum seals)."""
    return frame.write_csv().encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Sidecar:
    """What regenerates and verifies a list: <LIST>.json beside it."""

    format: str
    design_id: str
    design_sha256: str
    seed: int
    n_per_stratum: int
    arms: list[str]
    allocation_cycle: list[str]
    block_multiples: list[int]
    strata: list[str]
    generator: str
    numpy: str
    celltrial: str
    list_sha256: str
    rows: int


def write_list(design: TrialDesign, design_text: bytes, seed: int, n: int, out: Path) -> Sidecar:
    """Write LIST.csv and LIST.csv.json atomically (temporary file, then rename)."""
    frame = randomization_list(design, seed, n)
    data = list_bytes(frame)
    side = Sidecar(
        format=LIST_FORMAT,
        design_id=design.id,
        design_sha256=sha256(design_text),
        seed=seed,
        n_per_stratum=n,
        arms=[a.id for a in design.arms],
        allocation_cycle=[a.id for a in design.cycle],
        block_multiples=list(design.randomization.block_multiples),
        strata=[stratum_label(c) for c in strata_cells(design)],
        generator="numpy.random.default_rng(seed) (PCG64)",
        numpy=np.__version__,
        celltrial=__version__,
        list_sha256=sha256(data),
        rows=frame.height,
    )
    _atomic_write(out, data)
    _atomic_write(sidecar_path(out), (json.dumps(side.__dict__, indent=2) + "\n").encode())
    return side


def sidecar_path(list_path: Path) -> Path:
    return list_path.with_name(list_path.name + ".json")


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def verify_list(design: TrialDesign, design_text: bytes, list_path: Path) -> list[str]:
    """Problems found (empty: verified): the file's SHA-256 against the sidecar's, the design
    against the one it was made from, and the file against the list regenerated from the
    recorded seed and n (the first differing row named by line, stratum and sequence)."""
    side_path = sidecar_path(list_path)
    try:
        data = list_path.read_bytes()
        side = json.loads(side_path.read_text())
    except OSError as exc:
        return [f"{exc.filename}: cannot read: {exc.strerror}"]
    except json.JSONDecodeError as exc:
        return [f"{side_path}: not valid JSON: {exc}"]
    problems = []
    if sha256(data) != side.get("list_sha256"):
        problems.append(
            f"{list_path}: SHA-256 {sha256(data)[:16]}... differs from the recorded "
            f"{str(side.get('list_sha256'))[:16]}... in {side_path.name}: the list was edited"
        )
    if sha256(design_text) != side.get("design_sha256"):
        problems.append(f"{side_path.name}: the list was made from a different design file")
    again = list_bytes(randomization_list(design, int(side["seed"]), int(side["n_per_stratum"])))
    if again != data:
        problems.append(_first_difference(list_path, data, again))
    return problems


def _first_difference(path: Path, data: bytes, again: bytes) -> str:
    mine, theirs = data.decode(errors="replace").splitlines(), again.decode().splitlines()
    header = theirs[0].split(",")
    for line, (a, b) in enumerate(zip(mine, theirs, strict=False), start=1):
        if a != b:
            got = dict(zip(header, a.split(","), strict=False))
            want = dict(zip(header, b.split(","), strict=False))
            cols = [c for c in header if got.get(c) != want.get(c)]
            where = f"stratum {want.get('stratum')}, sequence {want.get('sequence')}"
            diffs = ", ".join(f"{c} {got.get(c)!r} (regenerated {want.get(c)!r})" for c in cols)
            return f"{path}: row {line} ({where}): {diffs}"
    return f"{path}: {len(mine)} lines, the regenerated list has {len(theirs)}"
