"""Large NumPy arrays in cache-sized blocks, spread over threads.

A loss over ten million elements written as array expressions (``(p - y) ** 2``, then
its mean) makes a full-size temporary array for every step: each one is written to
main memory and read back, and a fresh one costs page faults. Cut into blocks of
``BLOCK`` elements, the same expressions run on arrays that stay in the processor's
cache, their memory is reused from block to block, and the inputs are read from
main memory once. NumPy releases the global interpreter lock inside its array
operations, so blocks given to several threads run on several cores at once.

Results never depend on the number of threads: every block is computed the same way
whichever thread computes it, each writes only its own part of an output, and sums
are combined exactly (see :mod:`neural_network._reduction`), in block order.

The thread count is :func:`get_num_threads`: set by :func:`set_num_threads`, else by
the environment variable ``NEURAL_NETWORK_NUM_THREADS``, else the number of processors
this process may use.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from neural_network.errors import InvalidOptionError

__all__ = ["BLOCK", "blocks", "get_num_threads", "map_blocks", "scratch", "set_num_threads"]

BLOCK = 65536
"""Elements per block: 512 KiB of float64 per array, so that a block's inputs and the
few work arrays of its computation stay in a core's cache (2 MiB here), and a multiple
of the reduction's own block, so that sums are split the same way with or without
blocking. Measured on 2 cores over 10 million elements (MSE, BCE, BCE on logits, and
their gradients) against blocks of 32768: 7-27% less time on two threads, because
every NumPy call a block makes has to take the interpreter lock back, and the threads
wait for each other less often when the calls are longer; on one thread the same time
within 2%, except the logits gradient, 12% slower."""

THREADED_SIZE = 8 * BLOCK
"""Below this many elements one thread does everything: starting threads costs more."""

ENVIRONMENT_VARIABLE = "NEURAL_NETWORK_NUM_THREADS"

SCRATCH_LIMIT = 2 * BLOCK
"""Work arrays up to this many elements are kept by :func:`scratch` between calls."""

_num_threads: int | None = None
_pool: ThreadPoolExecutor | None = None
_pool_size = 0

T = TypeVar("T")


def _processors() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def set_num_threads(count: int | None) -> None:
    """Use ``count`` threads for large arrays (None: back to the default; see the module)."""
    global _num_threads
    if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
        raise InvalidOptionError(
            f"set_num_threads: count must be a positive integer or None (the default); got {count!r}."
        )
    _num_threads = count


def get_num_threads() -> int:
    """The number of threads large arrays are spread over."""
    if _num_threads is not None:
        return _num_threads
    text = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if not text:
        return _processors()
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise InvalidOptionError(
            f"{ENVIRONMENT_VARIABLE} must be a positive integer; got {text!r}. "
            "Unset it to use every processor."
        )
    return count


def blocks(size: int) -> list[tuple[int, int]]:
    """The ``(start, stop)`` of each block of ``range(size)``, in order."""
    return [(start, min(start + BLOCK, size)) for start in range(0, size, BLOCK)]


def map_blocks(task: Callable[[int, int], T], size: int) -> list[T]:
    """``[task(start, stop) for each block]``, in block order, on several threads when
    ``size`` is large enough; an exception in any block is raised here."""
    spans = blocks(size)
    threads = min(get_num_threads(), len(spans))
    if threads <= 1 or size < THREADED_SIZE:
        return [task(start, stop) for start, stop in spans]
    pool = _executor(threads)
    # Contiguous runs of blocks per thread: neighbouring blocks share cache lines and pages.
    runs = [spans[i * len(spans) // threads : (i + 1) * len(spans) // threads] for i in range(threads)]
    futures = [pool.submit(_run_blocks, task, run) for run in runs]
    return [result for future in futures for result in future.result()]


def _run_blocks(task: Callable[[int, int], T], spans: list[tuple[int, int]]) -> list[T]:
    return [task(start, stop) for start, stop in spans]


def _executor(threads: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    if _pool is None or _pool_size != threads:
        if _pool is not None:
            _pool.shutdown(wait=False)
        _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="neural_network")
        _pool_size = threads
    return _pool


_local = threading.local()
_View = tuple[int, tuple[int, ...], list[np.ndarray[Any, Any]]]
"""What :func:`scratch` last returned to an owner: the count, the shape and the arrays."""


def scratch(owner: str, count: int, shape: tuple[int, ...], dtype: type = np.float64) -> list[np.ndarray[Any, Any]]:
    """``count`` work arrays of ``shape`` and ``dtype``: the same memory at every call from
    this thread and ``owner``, for arrays of up to ``SCRATCH_LIMIT`` elements (else fresh ones).

    A fresh array of a few hundred kilobytes can cost more than the arithmetic done in
    it: the memory allocator may hand such blocks back to the operating system when they
    are freed, so that each of their pages faults again when the next block writes it,
    and fresh memory is not in the cache. Written into these instead of eight fresh
    temporaries, the soft-label binary cross-entropy of 10 million elements took 73 ms
    instead of 88 (2 threads). Each thread keeps its own arrays per owner (a module
    name) and dtype, so that threads never share them and two owners never overwrite
    each other's; their contents are garbage until written. An owner must not hold them
    across a call that may use the same owner's scratch again.
    """
    key = (owner, dtype)
    last: _View | None
    try:
        last = _local.views.get(key)
    except AttributeError:  # this thread's first call
        _local.views, _local.pools = {}, {}
        last = None
    if last is not None and last[0] == count and last[1] == shape:  # as at the last call: most often
        return last[2]
    views: dict[tuple[str, type], _View] = _local.views
    size = math.prod(shape)
    if size > SCRATCH_LIMIT:
        return [np.empty(shape, dtype) for _ in range(count)]
    pools: dict[tuple[str, type], list[np.ndarray[Any, Any]]] = _local.pools
    pool = pools.get(key, [])
    if len(pool) < count or pool[0].size < size:
        capacity = max(size, BLOCK, pool[0].size if pool else 0)
        pool = pools[key] = [np.empty(capacity, dtype) for _ in range(max(count, len(pool)))]
    arrays = [buffer[:size].reshape(shape) for buffer in pool[:count]]
    views[key] = count, shape, arrays
    return arrays
