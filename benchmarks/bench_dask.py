"""``loss --engine dask`` against the streaming engine, and (where there is one) GPU losses.

    python benchmarks/bench_dask.py [--rows 20000000] [--files 8] [--workers 2]
                                    [--repeats 3] [--dir DIR] [--json FILE]

Part 1, the command. ``--files`` Parquet files of ``--rows`` rows in all (probabilities
``p`` and 0/1 labels ``y``, row groups of 2**20 rows) are scored with
``--loss binary_cross_entropy``, each run a process of its own, timed end to end:

* ``stream``: the default engine, one process reading the files in batches;
* ``dask, local cluster``: ``--engine dask --workers N``, which starts and stops its
  cluster of N worker processes (the start is part of what a person waits for);
* ``dask, running cluster``: ``--engine dask --scheduler ADDRESS`` against a cluster of N
  workers started beforehand by this script (the throughput of the engine itself).

It prints the median of ``--repeats`` runs, the rows per second and the ratio to the
streaming engine (above 1: faster than streaming), and checks that every value agrees.

Part 2, GPU. Where PyTorch sees a CUDA device, the library's losses on CUDA tensors
(value, and gradient) are timed against PyTorch's own CUDA losses on the same tensors,
at 1e6 and 1e8 elements, and their values compared with the NumPy results on the CPU.
Where there is none, it says so. A benchmark, not a test: read the ratios of one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

SCRIPT = Path(sys.executable).parent / "neural-network"
ROW_GROUP = 1 << 20


def write_files(folder: Path, rows: int, files: int) -> None:
    rng = np.random.default_rng(0)
    for index, count in enumerate(np.diff(np.linspace(0, rows, files + 1).astype(int))):
        p = rng.uniform(0.01, 0.99, count)
        table = pa.table({"p": p, "y": (rng.random(count) < p).astype(np.float64)})
        pq.write_table(table, folder / f"part-{index:04d}.parquet", row_group_size=ROW_GROUP)


def timed(words: list[str]) -> tuple[float, float]:
    """Seconds of one run of the command, and the value it printed."""
    start = time.perf_counter()
    done = subprocess.run([str(SCRIPT), *words, "--json"], capture_output=True, text=True, check=True)
    return time.perf_counter() - start, float(json.loads(done.stdout)["value"])


def bench_command(arguments: argparse.Namespace, folder: Path) -> list[dict[str, Any]]:
    from distributed import LocalCluster

    loss = ["loss", str(folder), "--loss", "binary_cross_entropy", "--pred", "p", "--target", "y"]
    glob = ["loss", f"{folder}/*.parquet", *loss[2:]]
    runs: dict[str, list[tuple[float, float]]] = {"stream": [], "dask, local cluster": [], "dask, running cluster": []}
    with LocalCluster(
        n_workers=arguments.workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        address = cluster.scheduler_address
        timed([*loss, "--engine", "dask", "--scheduler", address])  # the workers import their libraries once
        for _ in range(arguments.repeats):
            runs["stream"].append(timed(glob))
            runs["dask, local cluster"].append(timed([*loss, "--engine", "dask", "--workers", str(arguments.workers)]))
            runs["dask, running cluster"].append(timed([*loss, "--engine", "dask", "--scheduler", address]))
    base = statistics.median(t for t, _ in runs["stream"])
    reference = runs["stream"][0][1]
    rows = []
    for name, results in runs.items():
        median = statistics.median(t for t, _ in results)
        worst = max(abs(v - reference) / abs(reference) for _, v in results)
        rows.append({"engine": name, "seconds": median, "rows_per_second": arguments.rows / median,
                     "speedup_vs_stream": base / median, "relative_difference": worst})
    return rows


def bench_gpu() -> list[dict[str, Any]] | str:
    try:
        import torch
    except ImportError:
        return "PyTorch is not installed: no GPU timing."
    if not torch.cuda.is_available():
        return "no CUDA device here: the GPU path was not timed (its tests skip)."
    import neural_network.losses as ours

    results = []
    for n in (10**6, 10**8):
        generator = torch.Generator(device="cuda").manual_seed(0)
        p = torch.rand(n, device="cuda", dtype=torch.float64, generator=generator) * 0.98 + 0.01
        logits = torch.randn(n, device="cuda", dtype=torch.float64, generator=generator) * 4
        y = (torch.rand(n, device="cuda", dtype=torch.float64, generator=generator) < p).to(torch.float64)
        cases = {
            "mse_loss": (ours.mse_loss, torch.nn.functional.mse_loss, logits, p),
            "binary_cross_entropy": (ours.binary_cross_entropy, torch.nn.functional.binary_cross_entropy, p, y),
            "binary_cross_entropy_with_logits": (
                ours.binary_cross_entropy_with_logits, torch.nn.functional.binary_cross_entropy_with_logits, logits, y,
            ),
        }
        for name, (mine, theirs, a, b) in cases.items():
            mine_s = _cuda_median(lambda mine=mine, a=a, b=b: mine(a, b), torch)
            theirs_s = _cuda_median(lambda theirs=theirs, a=a, b=b: theirs(a, b), torch)
            value = mine(a, b)
            cpu = float(getattr(ours, name)(a.cpu().numpy(), b.cpu().numpy()))
            results.append({
                "loss": name, "n": n, "ours_ms": mine_s * 1e3, "torch_ms": theirs_s * 1e3,
                "torch_over_ours": theirs_s / mine_s, "on_device": value.device.type == "cuda",
                "relative_difference_from_cpu": abs(float(value) - cpu) / abs(cpu),
            })
    return results


def _cuda_median(call: Any, torch: Any, repeats: int = 9) -> float:
    call()
    times = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        start = time.perf_counter()
        call()
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--files", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dir", type=Path, help="where to write the data (default: a temporary folder)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=arguments.dir) as temporary:
        folder = Path(temporary)
        write_files(folder, arguments.rows, arguments.files)
        command = bench_command(arguments, folder)
    print(f"loss over {arguments.rows:,} Parquet rows in {arguments.files} files, "
          f"{arguments.workers} workers, medians of {arguments.repeats}:")
    print(f"{'engine':<24}{'seconds':>9}{'rows/s':>14}{'vs stream':>11}{'rel. diff':>11}")
    for row in command:
        print(f"{row['engine']:<24}{row['seconds']:>9.2f}{row['rows_per_second']:>14,.0f}"
              f"{row['speedup_vs_stream']:>10.2f}x{row['relative_difference']:>11.1e}")
    gpu = bench_gpu()
    print()
    if isinstance(gpu, str):
        print(gpu)
    else:
        print(f"{'GPU loss':<36}{'n':>12}{'ours ms':>10}{'torch ms':>10}{'torch/ours':>11}{'vs CPU':>10}")
        for row in gpu:
            print(f"{row['loss']:<36}{row['n']:>12,}{row['ours_ms']:>10.3f}{row['torch_ms']:>10.3f}"
                  f"{row['torch_over_ours']:>11.2f}{row['relative_difference_from_cpu']:>10.1e}")
    if arguments.json:
        arguments.json.write_text(json.dumps({"command": command, "gpu": gpu}, indent=2))


if __name__ == "__main__":
    main()
