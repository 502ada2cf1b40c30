"""Loss benchmark: this library against article-style NumPy, PyTorch (CPU) and scikit-learn.

    python benchmarks/bench_losses.py [--sizes 1e3,1e5,1e7] [--dtypes float64,float32]
                                      [--threads N] [--repeats 7] [--json FILE]

Every library gets the same number of threads: this library (set_num_threads), BLAS
(threadpoolctl) and PyTorch (torch.set_num_threads).

For each size n and dtype it times, in one run and side by side:

* ``memory``: the time to read the inputs once (``np.add.reduce`` over prediction and
  target): the floor for any loss, which must read both.
* this library's value and gradient for MSE, BCE on probabilities, BCE on logits and
  softmax cross-entropy (n logits as n/10 samples of 10 classes);
* the same written as the NumPy article writes it (``np.mean((a - b) ** 2)`` ...);
* PyTorch's functional losses (value; gradient by ``backward``), same thread count;
* scikit-learn's ``mean_squared_error`` and ``log_loss`` (values only).

Each entry is the median of ``--repeats`` runs (after one warm-up), or of enough runs
to cover about ten million elements for small n (10,000 runs at 1e3, 100 at 1e5), so
that calls of microseconds are timed warm and their medians are stable; the table shows
the median time and its ratio to this library's (above 1: slower than this library).
A benchmark, not a test: these machines are shared and noisy; compare ratios within
one run, never absolute times across runs.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from _timing import median_time, write_json
from sklearn.metrics import log_loss, mean_squared_error
from threadpoolctl import threadpool_limits

import neural_network as nn

F = torch.nn.functional  # the usual name of this module

CLASSES = 10
SMALL_CALL_ELEMENTS = 10**7
"""Below this many elements a case is timed over SMALL_CALL_ELEMENTS // n runs."""


def inputs(n: int, dtype: type, seed: int = 0) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    logits: np.ndarray[Any, Any] = rng.standard_normal(n).astype(dtype) * 3
    probabilities: np.ndarray[Any, Any] = (1 / (1 + np.exp(-logits.astype(np.float64)))).astype(dtype)
    labels: np.ndarray[Any, Any] = (rng.random(n) < 0.5).astype(dtype)
    regression: np.ndarray[Any, Any] = rng.standard_normal(n).astype(dtype)
    class_logits: np.ndarray[Any, Any] = rng.standard_normal((max(n // CLASSES, 1), CLASSES)).astype(dtype)
    classes = rng.integers(0, CLASSES, class_logits.shape[0])
    return {"z": logits, "p": probabilities, "y": labels, "r": regression,
            "c": class_logits, "k": classes}


def article_bce(A: np.ndarray, y: np.ndarray) -> float:
    return float(-np.mean(y * np.log(A + 1e-15) + (1 - y) * np.log(1 - A + 1e-15)))


def cases(d: dict[str, Any]) -> dict[str, dict[str, Callable[[], object]]]:
    """For each loss, the contenders: name -> a call computing the loss (or gradient)."""
    t = {key: torch.from_numpy(value) for key, value in d.items()}

    def torch_grad(loss: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> Callable[[], object]:
        def run() -> object:
            leaf = x.detach().requires_grad_(True)
            torch.autograd.backward(loss(leaf))
            return leaf.grad
        return run

    return {
        "mse": {
            "ours": lambda: nn.mse_loss(d["r"], d["y"]),
            "ours grad": lambda: nn.mse_loss_grad(d["r"], d["y"]),
            "article": lambda: np.mean((d["r"] - d["y"]) ** 2),
            "torch": lambda: F.mse_loss(t["r"], t["y"]),
            "torch grad": torch_grad(lambda x: F.mse_loss(x, t["y"]), t["r"]),
            "sklearn": lambda: mean_squared_error(d["y"], d["r"]),
        },
        "bce": {
            "ours": lambda: nn.binary_cross_entropy(d["p"], d["y"]),
            "ours grad": lambda: nn.binary_cross_entropy_grad(d["p"], d["y"]),
            "article": lambda: article_bce(d["p"], d["y"]),
            "torch": lambda: F.binary_cross_entropy(t["p"], t["y"]),
            "torch grad": torch_grad(lambda x: F.binary_cross_entropy(x, t["y"]), t["p"]),
            "sklearn": lambda: log_loss(d["y"], d["p"], labels=[0, 1]),
        },
        "bce_with_logits": {
            "ours": lambda: nn.binary_cross_entropy_with_logits(d["z"], d["y"]),
            "ours grad": lambda: nn.binary_cross_entropy_with_logits_grad(d["z"], d["y"]),
            "torch": lambda: F.binary_cross_entropy_with_logits(t["z"], t["y"]),
            "torch grad": torch_grad(lambda x: F.binary_cross_entropy_with_logits(x, t["y"]), t["z"]),
        },
        "cross_entropy": {
            "ours": lambda: nn.cross_entropy(d["c"], d["k"]),
            "ours grad": lambda: nn.cross_entropy_grad(d["c"], d["k"]),
            "torch": lambda: F.cross_entropy(t["c"], t["k"]),
            "torch grad": torch_grad(lambda x: F.cross_entropy(x, t["k"]), t["c"]),
        },
    }


def simd_features() -> str:
    """Which SIMD kernels NumPy uses here: with AVX-512 its float64 log, exp and log1p are
    vectorized (about 1 ns an element); without it they are scalar libm (about 9 to 18 ns),
    and so are this library's transcendental losses, which changes every ratio below."""
    try:
        umath = importlib.import_module("numpy._core._multiarray_umath")
    except ImportError:  # NumPy before 2.0
        umath = importlib.import_module("numpy.core._multiarray_umath")
    dispatch = list(umath.__cpu_dispatch__)
    used = [name for name in dispatch if umath.__cpu_features__.get(name)]
    avx512 = any("AVX512" in name or name == "X86_V4" for name in used)
    return (f"NumPy {np.__version__}: SIMD baseline {' '.join(umath.__cpu_baseline__)}; dispatched here: "
            f"{' '.join(used) or 'none'} of {' '.join(dispatch)}; AVX-512 kernels: {'yes' if avx512 else 'no'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--sizes", default="1e3,1e5,1e7")
    parser.add_argument("--dtypes", default="float64,float32")
    parser.add_argument("--threads", type=int, default=nn.get_num_threads(),
                        help="threads for every library (default: this process's processors)")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--json", help="also write the results to this file")
    arguments = parser.parse_args()
    sizes = [int(float(text)) for text in arguments.sizes.split(",")]
    dtypes = [np.dtype(text).type for text in arguments.dtypes.split(",")]

    print(simd_features())
    torch.set_num_threads(arguments.threads)
    nn.set_num_threads(arguments.threads)
    results: list[dict[str, Any]] = []
    with threadpool_limits(limits=arguments.threads):
        for n in sizes:
            for dtype in dtypes:
                d = inputs(n, dtype)
                repeats = max(arguments.repeats, SMALL_CALL_ELEMENTS // n)
                # Reading both inputs once: the floor for a two-argument loss.
                def read_once(d: dict[str, Any] = d) -> object:
                    return np.add.reduce(d["r"]), np.add.reduce(d["y"])

                memory = median_time(read_once, repeats)
                for loss, contenders in cases(d).items():
                    row: dict[str, Any] = {"n": n, "dtype": np.dtype(dtype).name, "loss": loss, "memory": memory}
                    for name, run in contenders.items():
                        if name == "sklearn" and n > 10**6 and repeats > 3:
                            row[name] = median_time(run, 3)  # seconds per call at 1e7: fewer repeats
                        else:
                            row[name] = median_time(run, repeats)
                    results.append(row)
                    report(row)
    if arguments.json:
        write_json(arguments.json, arguments, results)


HEADER_PRINTED = False


def report(row: dict[str, Any]) -> None:
    global HEADER_PRINTED
    columns = ["ours", "ours grad", "memory", "article", "torch", "torch grad", "sklearn"]
    if not HEADER_PRINTED:
        print("median time of ours (value and gradient), then each contender's time as a ratio to ours")
        print("(memory: reading the inputs once; grads compare to ours grad)")
        print(f"{'loss':<16}{'n':>10}{'dtype':>9}{'ours':>11}{'ours grad':>11}"
              + "".join(f"{c:>12}" for c in columns[2:]))
        HEADER_PRINTED = True
    cells = []
    for column in columns[2:]:
        if column not in row:
            cells.append(f"{'-':>12}")
            continue
        base = row["ours grad"] if column == "torch grad" else row["ours"]
        cells.append(f"{row[column] / base:>11.2f}x")
    print(f"{row['loss']:<16}{row['n']:>10.0e}{row['dtype']:>9}{row['ours'] * 1e6:>9.0f}us"
          f"{row['ours grad'] * 1e6:>9.0f}us" + "".join(cells), flush=True)


if __name__ == "__main__":
    main()
