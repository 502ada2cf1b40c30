"""Dask arrays: the exact sum of a chunked array, computed chunk by chunk.

A loss over a Dask array goes through the same math as over NumPy, operation by
operation in Dask's namespace, so element-wise values and derivatives are computed
chunk by chunk and stay lazy. Only the final sum needs care: Dask's own ``sum`` adds
the chunk sums in a tree, rounding at every level, so its result would depend on the
chunking. Here every chunk instead reduces its values to a few floats whose exact sum
is the sum of its ``PARTIAL_LENGTH``-element partials (a :class:`StreamingSum` expansion), and
the expansions of all chunks are added with ``math.fsum``, which rounds once.

The result therefore does not depend on the order in which the chunks are computed
(identical from run to run), differs from the in-memory NumPy sum only by how the
chunk edges cut the partials (a few units in the last place at most), and is the same
bits as NumPy's when every chunk but the last holds a multiple of ``PARTIAL_LENGTH`` values.

Dask is imported only here, and only when a Dask array arrives.
"""

from __future__ import annotations

from typing import Any

import array_api_compat
import numpy as np

from neural_network._exact_sum import StreamingSum, combine
from neural_network._validation import Array


def total(values: Array) -> Array:
    """The sum of a Dask array as a lazy 0-d float64 Dask array, combined exactly."""
    import dask
    import dask.array as da

    chunk_terms = [dask.delayed(_terms, pure=True)(chunk) for chunk in values.to_delayed().ravel()]
    summed = dask.delayed(_combine, pure=True)(chunk_terms)
    return da.from_delayed(summed, shape=(), dtype=np.float64)


def _terms(chunk: Any) -> list[float]:
    """Floats whose exact sum is the sum of ``chunk``'s partials (row-major order)."""
    accumulator = StreamingSum()
    accumulator.add(chunk)
    return accumulator.terms()


def _combine(chunk_terms: list[list[float]]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The exact sum of every chunk's terms, rounded once, as a 0-d array."""
    return np.asarray(combine([term for terms in chunk_terms for term in terms]))


def chunked_like(result: Array, model: Any) -> Array:
    """``result`` rechunked along the rows as ``model`` is, where both are Dask arrays.

    A computation that goes position by position (CTC's recursion over frames, the
    multilabel margin over target positions) comes out in other chunks than its input;
    the caller expects the input's rows (and, for a result of the input's shape, all its
    chunks). Anything else is returned as it is.
    """
    if not array_api_compat.is_dask_array(result) or not array_api_compat.is_dask_array(model):
        return result
    if result.shape == model.shape:
        return result if result.chunks == model.chunks else result.rechunk(model.chunks)
    if result.ndim and model.ndim and result.shape[0] == model.shape[0] and result.chunks[0] != model.chunks[0]:
        return result.rechunk({0: model.chunks[0]})
    return result
