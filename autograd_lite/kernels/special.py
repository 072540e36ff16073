"""Special functions NumPy lacks, as numba ufuncs (compiled on first use, cached on disk)."""
from __future__ import annotations

import math

import numba


@numba.vectorize(["float32(float32)", "float64(float64)"], cache=True)
def erf(x):
    """The error function, erf(x) = 2/sqrt(pi) * integral_0^x exp(-t^2) dt (libm's, to the last digit)."""
    return math.erf(x)
