"""What NumPy itself costs on this machine: the floor under any loss written with it.

    python benchmarks/bench_numpy_floor.py [--repeats 101] [--json FILE]

This library computes every loss with NumPy calls, one array operation each, and no
compiled code of its own. Whatever it does, a loss then costs at least its number of
NumPy calls times what one call costs. This script measures those costs, side by side
in one run, so that the times of ``bench_losses.py`` can be read against them:

* ``call``: one NumPy call on 1,000 float64 elements, mostly the cost of the call
  itself. A loss of 1,000 elements that takes k calls cannot take less than k times this.
* ``element``: the time per element of one operation over a block of
  ``_blocks.BLOCK`` float64 elements already in the cache, as the blocked engine runs
  them (simple arithmetic, then the transcendental functions).
* ``threads``: how much faster two threads run twice the work of one, for a loop of
  such block operations: each call takes the interpreter lock back, so threads wait
  for each other. Two processes, which share no lock, are the reference.

Medians of ``--repeats`` runs. A benchmark, not a test: compare within one run.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from _timing import median_time, write_json

from neural_network import _blocks

Float64Array = np.ndarray[Any, np.dtype[np.float64]]


def operations(a: Float64Array, b: Float64Array, out: Float64Array) -> dict[str, Callable[[], object]]:
    """The NumPy calls the loss kernels are made of, each writing into ``out``."""
    return {
        "subtract": lambda: np.subtract(a, b, out=out),
        "multiply": lambda: np.multiply(a, b, out=out),
        "maximum": lambda: np.maximum(a, b, out=out),
        "copysign": lambda: np.copysign(a, -1.0, out=out),
        "less_equal": lambda: np.less_equal(a, b),
        "sum": lambda: np.add.reduce(a),
        "minimum.reduce": lambda: np.minimum.reduce(a),
        "exp": lambda: np.exp(b, out=out),
        "log": lambda: np.log(a, out=out),
        "log1p": lambda: np.log1p(a, out=out),
    }


def arrays(size: int) -> tuple[Float64Array, Float64Array, Float64Array]:
    rng = np.random.default_rng(0)
    return rng.uniform(0.01, 1.0, size), -rng.uniform(0.0, 30.0, size), np.empty(size)


def subtract_loop(iterations: int) -> float:
    """Seconds for ``iterations`` subtractions of one block (in this thread or process)."""
    a, b, out = arrays(_blocks.BLOCK)
    start = time.perf_counter()
    for _ in range(iterations):
        np.subtract(a, b, out=out)
    return time.perf_counter() - start


def two_threads(iterations: int) -> float:
    workers = [threading.Thread(target=subtract_loop, args=(iterations,)) for _ in range(2)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start


def two_processes(iterations: int, pool: Any) -> float:
    start = time.perf_counter()
    pool.map(subtract_loop, [iterations, iterations])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--repeats", type=int, default=101)
    parser.add_argument("--json", help="also write the results to this file")
    arguments = parser.parse_args()
    results: list[dict[str, Any]] = []

    print(f"{'operation':<16}{'call, 1000 elements':>22}{f'per element, {_blocks.BLOCK} in cache':>30}")
    small, block = operations(*arrays(1000)), operations(*arrays(_blocks.BLOCK))
    for name in small:
        call = median_time(small[name], arguments.repeats)
        element = median_time(block[name], arguments.repeats) / _blocks.BLOCK
        results.append({"operation": name, "call": call, "element": element})
        print(f"{name:<16}{call * 1e6:>19.2f} us{element * 1e9:>27.3f} ns")

    iterations, rounds = 400, 7
    thread_ratios, process_ratios = [], []
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        two_processes(10, pool)  # start both workers before timing
        for _ in range(rounds):  # interleaved, so that a slow moment of the machine hits all three
            one = subtract_loop(iterations)
            thread_ratios.append(2 * one / two_threads(iterations))
            process_ratios.append(2 * one / two_processes(iterations, pool))
    threads, processes = statistics.median(thread_ratios), statistics.median(process_ratios)
    print(f"\ntwice the work of one thread ({iterations} subtractions of {_blocks.BLOCK} elements each),")
    print(f"median of {rounds} interleaved rounds:")
    print(f"  two threads:   {threads:.2f}x the speed of one")
    print(f"  two processes: {processes:.2f}x the speed of one (no interpreter lock to share)")
    results.append({"threads speed-up": threads, "processes speed-up": processes})
    if arguments.json:
        write_json(arguments.json, arguments, results)


if __name__ == "__main__":
    main()
