"""The error model in which every ulp bound of the tests is derived.

A bound must hold on any CPU, whichever libm NumPy calls (its AVX-512 kernels or the
scalar libm of a CPU without them), so it is derived, not measured:

* ``U = 2**-53``. A correctly rounded operation (+, -, *, /, sqrt) errs by at most
  ``U`` relative; a libm function within 1 ulp (log, exp, log1p, expm1, pow, tanh) by
  at most ``2 U``.
* A result whose relative error is at most ``k U`` is within ``k`` ulp (the spacing at
  ``x`` is at least ``|x| U``).
* Errors pass to first order through condition numbers; a sum of terms of one sign adds
  ``U`` for each addition a term passes through (:func:`additions`); cancellation
  multiplies by the condition number. The double-double helpers of
  ``neural_network._numerics`` add nothing at this scale but their final rounding.

Each test states, beside its assertion, the sources it counts.
"""

from __future__ import annotations

U = 2.0**-53


def pairwise_roundings(n: int) -> int:
    """The most roundings a term passes in NumPy's pairwise sum of ``n`` terms: sequential
    below 8 terms, 8 running sums up to 128, halves (at multiples of 8) above."""
    if n < 8:
        return max(n - 1, 0)
    if n <= 128:
        return n // 8 - 1 + 3 + n % 8
    half = n // 2 - (n // 2) % 8
    return 1 + max(pairwise_roundings(half), pairwise_roundings(n - half))


def additions(n: int) -> int:
    """:func:`pairwise_roundings`, plus the reduction's first add where ``n >= 8``."""
    return pairwise_roundings(n) + (n >= 8)


def any_order(n: int) -> int:
    """The most roundings a term passes in a sum of ``n`` terms added in any order (another
    library's reduction, whose order is not NumPy's): ``n - 1``."""
    return max(n - 1, 0)
