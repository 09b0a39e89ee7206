"""The one unit converter: every reader, form and simulator converts through here."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from celltrial.clinical.analytes import to_canonical_factors

FloatOrArray = float | npt.NDArray[np.float64]


def as_float_or_array(value: npt.ArrayLike) -> FloatOrArray:
    """A 0-d result as a Python float, anything else as a float64 array: scalars in, scalar out."""
    out = np.asarray(value, dtype=float)
    return float(out) if out.ndim == 0 else out


def convert(value: FloatOrArray, analyte: str, from_unit: str, to_unit: str) -> FloatOrArray:
    """Convert `value` of `analyte` from one accepted unit to another (affine, via canonical)."""
    src = to_canonical_factors(analyte, from_unit)
    dst = to_canonical_factors(analyte, to_unit)
    canonical = np.asarray(value, dtype=float) * src.factor + src.offset
    return as_float_or_array((canonical - dst.offset) / dst.factor)
