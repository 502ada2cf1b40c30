"""``neural-network loss`` over a large file against pandas + scikit-learn: time and peak memory.

    python benchmarks/bench_cli_loss.py [--rows 10000000] [--formats parquet,csv]
                                        [--repeats 3] [--dir DIR] [--json FILE]

A file of ``--rows`` rows (probabilities ``p`` in [0.01, 0.99], 0/1 labels ``y`` drawn
from them, and a regression pair ``pred``/``target``) is written in each format. Then,
each in a process of its own, as a person would run them:

* ``neural-network loss FILE --loss binary_cross_entropy --pred p --target y --json``
  (and ``mse_loss`` on ``pred``/``target``): the file streamed in batches;
* pandas + scikit-learn: ``pandas.read_parquet`` / ``read_csv`` of the two columns,
  then ``sklearn.metrics.log_loss`` / ``mean_squared_error``;
* pandas + this library: the same load, then ``binary_cross_entropy`` / ``mse_loss`` on
  the whole columns in memory (what streaming costs or saves against holding it all).

Each is timed end to end (interpreter start, imports, reading, the loss: the wall time a
person waits) and its peak resident memory read with ``wait4`` (Linux), from a small
wrapper process that forks it. The table gives
the median time of ``--repeats`` runs and the largest peak, with the ratios of the others
to the command's (above 1: slower or larger than the command), and the relative
difference of each value from the command's. A benchmark, not a test: these machines are
shared and noisy, so read the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from _timing import write_json

SCRIPT = Path(sys.executable).parent / "neural-network"

LOSSES = {
    # name: (command's --loss, prediction column, target column, scikit-learn metric, library function)
    "bce": ("binary_cross_entropy", "p", "y", "log_loss", "binary_cross_entropy"),
    "mse": ("mse_loss", "pred", "target", "mean_squared_error", "mse_loss"),
}

PANDAS = """
import json, sys
import pandas as pd
path, kind, pred, target = sys.argv[1:5]
columns = [pred, target]
frame = pd.read_parquet(path, columns=columns) if kind == "parquet" else pd.read_csv(path, usecols=columns)
"""
SKLEARN = PANDAS + """
from sklearn import metrics
metric = getattr(metrics, sys.argv[5])
print(json.dumps({"value": float(metric(frame[target].to_numpy(), frame[pred].to_numpy()))}))
"""
LIBRARY = PANDAS + """
import neural_network
function = getattr(neural_network, sys.argv[6])
print(json.dumps({"value": float(function(frame[pred].to_numpy(), frame[target].to_numpy()))}))
"""


def write_files(rows: int, folder: Path, formats: list[str]) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.99, rows)
    table = pa.table({
        "p": p,
        "y": (rng.random(rows) < p).astype(np.float64),
        "pred": rng.standard_normal(rows),
        "target": rng.standard_normal(rows),
    })
    paths = {}
    for kind in formats:
        path = folder / f"data.{kind}"
        if kind == "parquet":
            pq.write_table(table, path)
        else:
            pacsv.write_csv(table, path)
        paths[kind] = path
    return paths


MEASURE = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\nmeasured {time.perf_counter() - start} {usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Runs a command, then reports its wall time and peak resident memory (KiB on Linux).

The command is forked from this small wrapper rather than from the benchmark: a child's
peak starts at its parent's resident memory when it forks (at the parent's peak after
the vfork ``subprocess`` uses), which would hide the command's own peak."""


def measure(argv: list[str]) -> tuple[float, int, dict[str, Any]]:
    """Wall time (s), peak resident memory (bytes) and the JSON printed by one run in its own process."""
    completed = subprocess.run([sys.executable, "-S", "-c", MEASURE, *argv], capture_output=True, text=True)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} ... failed ({completed.returncode}):\n{completed.stderr}")
    _, seconds, kib = completed.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib) * 1024, json.loads(completed.stdout)


def contenders(path: Path, kind: str, loss: str) -> dict[str, list[str]]:
    name, pred, target, metric, function = LOSSES[loss]
    return {
        "neural-network loss": [str(SCRIPT), "loss", str(path), "--loss", name, "--pred", pred,
                                "--target", target, "--json"],
        "pandas + scikit-learn": [sys.executable, "-c", SKLEARN, str(path), kind, pred, target, metric],
        "pandas + this library": [sys.executable, "-c", LIBRARY, str(path), kind, pred, target, metric, function],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", help="where to write the files (default: a temporary folder, removed after)")
    parser.add_argument("--json", help="also write the results to this file")
    arguments = parser.parse_args()
    if not sys.platform.startswith("linux"):
        raise SystemExit("peak memory is read with os.wait4 (ru_maxrss in KiB): run this on Linux")

    folder = Path(arguments.dir or tempfile.mkdtemp(prefix="bench_cli_loss_"))
    folder.mkdir(parents=True, exist_ok=True)
    formats = arguments.formats.split(",")
    try:
        start = time.perf_counter()
        paths = write_files(arguments.rows, folder, formats)
        sizes = {kind: path.stat().st_size / 2**20 for kind, path in paths.items()}
        print(f"{arguments.rows:,} rows written in {time.perf_counter() - start:.1f} s: "
              + ", ".join(f"{kind} {size:.0f} MiB" for kind, size in sizes.items()))
        results: list[dict[str, Any]] = []
        for kind, path in paths.items():
            for loss in LOSSES:
                runs = {name: [measure(argv) for _ in range(arguments.repeats)]
                        for name, argv in contenders(path, kind, loss).items()}
                results.append({"format": kind, "loss": loss, "runs": {
                    name: {"time": statistics.median(r[0] for r in measured),
                           "peak": max(r[1] for r in measured),
                           "value": measured[0][2]["value"]}
                    for name, measured in runs.items()}})
    finally:
        if not arguments.dir:
            shutil.rmtree(folder, ignore_errors=True)

    print(f"median of {arguments.repeats} runs, each in its own process (start-up and imports included); "
          "ratios to `neural-network loss` (above 1: slower / larger)")
    header = f"{'format':<8}{'loss':<5}{'contender':<23}{'time (s)':>9}{'ratio':>8}{'peak (MiB)':>11}{'ratio':>8}" \
             f"{'value':>22}{'rel. diff':>11}"
    print(header)
    print("-" * len(header))
    for result in results:
        base = result["runs"]["neural-network loss"]
        for name, run in result["runs"].items():
            difference = abs(run["value"] - base["value"]) / abs(base["value"])
            print(f"{result['format']:<8}{result['loss']:<5}{name:<23}{run['time']:>9.2f}"
                  f"{run['time'] / base['time']:>7.2f}x{run['peak'] / 2**20:>11.0f}{run['peak'] / base['peak']:>7.2f}x"
                  f"{run['value']!r:>22}{difference:>11.1e}")
    if arguments.json:
        write_json(arguments.json, arguments, results)


if __name__ == "__main__":
    main()
