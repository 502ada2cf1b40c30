"""Catalog benchmark: margin ranking, multilabel margin and log-cosh against PyTorch (CPU).

    python benchmarks/bench_catalog.py [--sizes 1e5,1e7] [--threads N] [--repeats 7]
                                       [--classes 200] [--memory N] [--json FILE]

Every library gets the same number of threads: this library (set_num_threads), BLAS
(threadpoolctl) and PyTorch (torch.set_num_threads).

For each size n (elements; for the multilabel margin loss n / ``--classes`` samples of
``--classes`` classes) it times, in one run and side by side, in float64:

* ``memory``: reading the inputs once (``np.add.reduce`` over each): the floor;
* this library's value and gradient;
* PyTorch's functional loss (value; gradient by ``backward``), where it has one. It has
  no log-cosh: there the contender is the same formula written with torch operations,
  ``|d| + softplus(-2 |d|) - log 2`` (as Keras and optax write it), and NumPy's
  ``log(cosh(d))`` (the article's, inaccurate for small and overflowing for large d).

Each entry is the median of ``--repeats`` runs (after one warm-up); the table shows the
median time of ours, and every contender's time as a ratio to ours (above 1: slower
than this library), and ours in nanoseconds per element. With ``--memory`` it also
measures the peak memory (``tracemalloc``, NumPy's allocations) of one multilabel margin
value and gradient for N samples, each in a fresh subprocess.

A benchmark, not a test: these machines are shared and noisy; compare ratios within
one run, never absolute times across runs.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from _timing import median_time, write_json
from threadpoolctl import threadpool_limits
from torch.nn import functional

import neural_network as nn
from neural_network import losses


def multilabel_targets(rng: np.random.Generator, samples: int, classes: int) -> np.ndarray[Any, Any]:
    """PyTorch-layout targets: up to classes / 4 distinct classes per row, -1, then random padding."""
    counts = rng.integers(0, classes // 4 + 1, samples)  # always fewer than classes: room for the -1
    order = np.argsort(rng.random((samples, classes)), axis=1)  # a random permutation per row
    padding = rng.integers(-1, classes, (samples, classes))
    targets = np.where(np.arange(classes)[None, :] < counts[:, None], order, padding)
    targets[np.arange(samples), counts] = -1
    return targets.astype(np.int64)


def torch_grad(loss: Callable[..., torch.Tensor], *leaves: torch.Tensor) -> Callable[[], object]:
    def run() -> object:
        variables = [leaf.detach().requires_grad_(True) for leaf in leaves]
        torch.autograd.backward(loss(*variables))
        return [variable.grad for variable in variables]

    return run


def cases(n: int, classes: int) -> dict[str, tuple[list[np.ndarray[Any, Any]], dict[str, Callable[[], object]]]]:
    """For each loss, its inputs (for the memory floor) and the contenders."""
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal(n), rng.standard_normal(n)
    y = rng.choice([-1.0, 1.0], n)
    t1, t2, ty = torch.from_numpy(x1), torch.from_numpy(x2), torch.from_numpy(y)

    samples = max(n // classes, 1)
    scores = rng.standard_normal((samples, classes))
    targets = multilabel_targets(rng, samples, classes)
    ts, tt = torch.from_numpy(scores), torch.from_numpy(targets)

    p, r = rng.standard_normal(n) * 2, rng.standard_normal(n)
    tp, tr = torch.from_numpy(p), torch.from_numpy(r)
    log2 = math.log(2.0)

    def torch_log_cosh(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        d = (a - b).abs()
        return (d + functional.softplus(-2.0 * d) - log2).mean()

    return {
        "margin_ranking": ([x1, x2, y], {
            "ours": lambda: losses.margin_ranking_loss(x1, x2, y),
            "ours grad": lambda: losses.margin_ranking_loss_grad(x1, x2, y),
            "torch": lambda: functional.margin_ranking_loss(t1, t2, ty),
            "torch grad": torch_grad(lambda a, b: functional.margin_ranking_loss(a, b, ty), t1, t2),
        }),
        "margin_ranking m": ([x1, x2, y], {  # a non-zero margin: the exact argument costs more
            "ours": lambda: losses.margin_ranking_loss(x1, x2, y, margin=0.5),
            "ours grad": lambda: losses.margin_ranking_loss_grad(x1, x2, y, margin=0.5),
            "torch": lambda: functional.margin_ranking_loss(t1, t2, ty, margin=0.5),
            "torch grad": torch_grad(lambda a, b: functional.margin_ranking_loss(a, b, ty, margin=0.5), t1, t2),
        }),
        "multilabel_margin": ([scores], {
            "ours": lambda: losses.multilabel_margin_loss(scores, targets),
            "ours grad": lambda: losses.multilabel_margin_loss_grad(scores, targets),
            "torch": lambda: functional.multilabel_margin_loss(ts, tt),
            "torch grad": torch_grad(lambda a: functional.multilabel_margin_loss(a, tt), ts),
        }),
        "log_cosh": ([p, r], {
            "ours": lambda: losses.log_cosh(p, r),
            "ours grad": lambda: losses.log_cosh_grad(p, r),
            "torch": lambda: torch_log_cosh(tp, tr),
            "torch grad": torch_grad(torch_log_cosh, tp, tr),
            "article": lambda: np.mean(np.log(np.cosh(p - r))),
        }),
    }


MEMORY_SCRIPT = """
import sys, tracemalloc
import numpy as np
from neural_network import losses
sys.path.insert(0, {here!r})
from bench_catalog import multilabel_targets
rng = np.random.default_rng(0)
scores = rng.standard_normal(({samples}, {classes}))
targets = multilabel_targets(rng, {samples}, {classes})
function = getattr(losses, 'multilabel_margin_loss{suffix}')
function(scores[:2], targets[:2])  # imports and caches outside the measurement
tracemalloc.start()
function(scores, targets)
print(tracemalloc.get_traced_memory()[1])
"""


def peak_memory(samples: int, classes: int, suffix: str) -> int:
    """Peak bytes allocated (tracemalloc) by one call, in a fresh interpreter."""
    here = str(__import__("pathlib").Path(__file__).resolve().parent)
    script = MEMORY_SCRIPT.format(here=here, samples=samples, classes=classes, suffix=suffix)
    output = subprocess.run([sys.executable, "-c", script], check=True, capture_output=True, text=True).stdout
    return int(output.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1e5,1e7")
    parser.add_argument("--threads", type=int, default=nn.get_num_threads(),
                        help="threads for every library (default: this process's processors)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--classes", type=int, default=200, help="classes of the multilabel margin loss")
    parser.add_argument("--losses", default="", help="comma-separated subset of the losses (default: all)")
    parser.add_argument("--memory", type=int, default=0, metavar="N",
                        help="also measure the multilabel margin loss's peak memory for N samples of --classes")
    parser.add_argument("--json", help="also write the results to this file")
    arguments = parser.parse_args()
    sizes = [int(float(text)) for text in arguments.sizes.split(",")]
    chosen = [name for name in arguments.losses.split(",") if name]

    torch.set_num_threads(arguments.threads)
    nn.set_num_threads(arguments.threads)
    results: list[dict[str, Any]] = []
    with threadpool_limits(limits=arguments.threads):
        for n in sizes:
            for loss, (arrays, contenders) in cases(n, arguments.classes).items():
                if chosen and loss not in chosen:
                    continue
                def read_once(arrays: list[np.ndarray[Any, Any]] = arrays) -> object:
                    return [np.add.reduce(a, axis=None) for a in arrays]

                memory = median_time(read_once, arguments.repeats)
                row: dict[str, Any] = {"n": n, "loss": loss, "memory": memory}
                for name, run in contenders.items():
                    row[name] = median_time(run, arguments.repeats)
                results.append(row)
                report(row)
    if arguments.memory:
        for suffix in ("", "_grad"):
            peak = peak_memory(arguments.memory, arguments.classes, suffix)
            print(f"peak memory of multilabel_margin_loss{suffix} (N={arguments.memory}, C={arguments.classes}): "
                  f"{peak / 2**20:.1f} MiB ({peak / (arguments.memory * arguments.classes * 8):.1f}x the input)")
            results.append({"peak memory": f"multilabel_margin_loss{suffix}", "bytes": peak})
    if arguments.json:
        write_json(arguments.json, arguments, results)


HEADER_PRINTED = False


def report(row: dict[str, Any]) -> None:
    global HEADER_PRINTED
    columns = ["memory", "torch", "torch grad", "article"]
    if not HEADER_PRINTED:
        print("median time of ours (value and gradient; ns per element), then each contender's time as a ratio "
              "to ours")
        print("(memory: reading the inputs once; torch grad compares to ours grad)")
        print(f"{'loss':<18}{'n':>8}{'ours':>11}{'ours grad':>11}{'ns/el':>8}{'grad ns':>8}"
              + "".join(f"{c:>12}" for c in columns))
        HEADER_PRINTED = True
    cells = []
    for column in columns:
        if column not in row:
            cells.append(f"{'-':>12}")
            continue
        base = row["ours grad"] if column == "torch grad" else row["ours"]
        cells.append(f"{row[column] / base:>11.2f}x")
    print(f"{row['loss']:<18}{row['n']:>8.0e}{row['ours'] * 1e6:>9.0f}us{row['ours grad'] * 1e6:>9.0f}us"
          f"{row['ours'] * 1e9 / row['n']:>8.1f}{row['ours grad'] * 1e9 / row['n']:>8.1f}"
          + "".join(cells), flush=True)


if __name__ == "__main__":
    main()
