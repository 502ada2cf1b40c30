"""What every benchmark here shares: the median time of a call, and the JSON it writes."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any


def median_time(run: Callable[[], object], repeats: int) -> float:
    """The median wall time of ``repeats`` calls of ``run``, in seconds, after one warm-up call."""
    run()  # warm-up: caches, lazy imports, allocator
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def write_json(path: str, arguments: argparse.Namespace, results: list[dict[str, Any]] | dict[str, Any]) -> None:
    """The settings of the run and its results, as JSON at ``path``."""
    settings = {key: str(value) if not isinstance(value, (int, float, str, bool, type(None))) else value
                for key, value in vars(arguments).items()}
    with open(path, "w", encoding="utf-8") as file:
        json.dump({"settings": settings, "results": results}, file, indent=2)
