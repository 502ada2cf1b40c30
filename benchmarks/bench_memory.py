"""Peak memory: of a reduced loss beyond its inputs, or of the ``train``/``predict``/``evaluate`` commands.

    python benchmarks/bench_memory.py [--size 1e8] [--losses mse_loss,...] [--dtype float64]
    python benchmarks/bench_memory.py --command [--rows 2e6] [--text] [--folder DIR] [--epochs 2]

Losses: each loss runs in a fresh Python process: it creates the inputs (touching every
page), reads its peak resident set size (``ru_maxrss``), calls the loss once with the
default ``reduction="mean"``, and reads the peak again. The difference is what the call
needed on top of its inputs: temporaries, scratch buffers, threads' stacks. The same
is measured for PyTorch's functional loss on the same arrays, for comparison.

Commands (``--command``): a CSV file of ``--rows`` rows is made (once; kept in
``--folder``): 10 columns of numbers and a 0/1 target ``y``; with ``--text`` two more
columns of text (5 categories each), and about 1% of the cells of one column of numbers
and of one text column empty. Each command then runs in a fresh process and its peak
resident set size is read from ``getrusage(RUSAGE_CHILDREN)``, next to the floor: the
interpreter with the command's imports (PyArrow imports pandas, where installed, on its
first conversion), the features once as float64, and for ``train`` three arrays of a
number a row more (the targets in the file's order and in the split's, the split's row
indices). ``train`` also needs the network and its batches, and its temporaries.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import resource, sys
import numpy as np
size, dtype, loss, library = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
rng = np.random.default_rng(0)
# Filled piece by piece, so that making the inputs needs no temporary as large as they are
# (the peak before the call must be the inputs themselves).
x, y = np.empty(size, dtype=dtype), np.empty(size, dtype=dtype)
for start in range(0, size, 1 << 20):
    piece = slice(start, min(start + (1 << 20), size))
    x[piece] = rng.random(piece.stop - start)  # probabilities, also fine as logits and predictions
    y[piece] = rng.random(piece.stop - start) < 0.5
if library == "torch":
    import torch
    import torch.nn.functional as F
    torch.set_num_threads(1)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    call = {"mse_loss": lambda: F.mse_loss(tx, ty), "binary_cross_entropy": lambda: F.binary_cross_entropy(tx, ty),
            "binary_cross_entropy_with_logits": lambda: F.binary_cross_entropy_with_logits(tx, ty)}[loss]
else:
    import neural_network
    function = getattr(neural_network, loss)
    call = lambda: function(x, y)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
call()
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print((after - before) / 1024)  # ru_maxrss is in KiB on Linux
"""

MEASURE = r"""
import resource, subprocess, sys
result = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
if result.returncode:
    sys.exit(result.stderr)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)  # KiB on Linux
"""

FEATURES = 10
"""The columns of numbers of the generated file."""

CATEGORIES = ("red", "green", "blue", "yellow", "violet")


def make_csv(path: Path, rows: int, text: bool, chunk: int = 100_000) -> None:
    """Write the file chunk by chunk (never the whole of it in memory)."""
    import numpy as np

    rng = np.random.default_rng(0)
    weights = rng.normal(size=FEATURES)
    names = [f"x{index}" for index in range(FEATURES)] + (["c0", "c1"] if text else []) + ["y"]
    with open(path, "w", encoding="utf-8") as file:
        file.write(",".join(names) + "\n")
        for start in range(0, rows, chunk):
            count = min(chunk, rows - start)
            X = rng.normal(size=(count, FEATURES))
            y = (X @ weights + rng.normal(size=count) > 0).astype(int)
            cells = [[repr(value) for value in column] for column in X.T.tolist()]
            if text:
                for _ in range(2):
                    cells.append([CATEGORIES[code] for code in rng.integers(0, len(CATEGORIES), count).tolist()])
                for column in (0, FEATURES):  # x0 and c0: about 1% of the cells empty
                    for row in np.flatnonzero(rng.random(count) < 0.01).tolist():
                        cells[column][row] = ""
            cells.append([str(value) for value in y.tolist()])
            file.write("\n".join(",".join(row) for row in zip(*cells, strict=True)) + "\n")


def peak_mib(command: list[str]) -> float:
    """The peak resident memory (MiB) of ``command``, run in a process of its own."""
    result = subprocess.run([sys.executable, "-c", MEASURE, *command], capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)} failed:\n{result.stderr}")
    return float(result.stdout.strip())


def commands(arguments: argparse.Namespace) -> None:
    rows = int(float(arguments.rows))
    folder = Path(arguments.folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / f"rows-{rows}{'-text' if arguments.text else ''}.csv"
    if not data.exists():
        make_csv(data, rows, arguments.text)
    tool = str(Path(sys.executable).with_name("neural-network"))
    out = folder / f"run{'-text' if arguments.text else ''}"
    # With --text: x0's indicator of an empty cell, c0's categories and the empty one, c1's categories.
    width = FEATURES + (1 + 2 * len(CATEGORIES) + 1 if arguments.text else 0)
    print(f"{data} ({data.stat().st_size / 2**20:,.0f} MiB): {rows:,} rows; peak resident memory (MiB)")
    # PyArrow imports pandas (where installed) on its first conversion: part of the floor.
    imports = "import neural_network.cli._run_train, pyarrow; pyarrow.array([0.0])"
    floor = peak_mib([sys.executable, "-c", imports])
    print(f"{'floor: interpreter + imports':<44}{floor:>10.0f}")
    features = rows * width * 8 / 2**20
    print(f"{'floor: the features once as float64':<44}{features:>10.0f}")
    # train also holds the targets (in the file's order and in the split's) and the split's row indices.
    print(f"{'floor of train (+ 3 arrays of 8 B a row)':<44}{floor + features + 3 * rows * 8 / 2**20:>10.0f}")
    train = [tool, "train", str(data), "--target", "y", "--epochs", str(arguments.epochs), "--out", str(out)]
    runs = {
        "train": train,
        "train --no-early-stopping": [*train, "--no-early-stopping"],
        "predict": [tool, "predict", str(out / "model.npz"), str(data), "--output", str(folder / "predictions.csv")],
        "evaluate": [tool, "evaluate", str(out / "model.npz"), str(data)],
    }
    for name, command in runs.items():
        print(f"{name:<44}{peak_mib(command):>10.0f}", flush=True)


def losses(arguments: argparse.Namespace) -> None:
    size = int(float(arguments.size))
    print(f"extra peak memory of one reduced loss over {size:,} {arguments.dtype} pairs (MiB)")
    print(f"{'loss':<36}{'neural_network':>16}{'pytorch':>10}")
    for loss in arguments.losses.split(","):
        row = []
        for library in ("neural_network", "torch"):
            result = subprocess.run(
                [sys.executable, "-c", CHILD, str(size), arguments.dtype, loss, library],
                capture_output=True, text=True, check=True,
            )
            row.append(float(result.stdout.strip()))
        print(f"{loss:<36}{row[0]:>16.1f}{row[1]:>10.1f}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", default="1e8")
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--losses", default="mse_loss,binary_cross_entropy,binary_cross_entropy_with_logits")
    parser.add_argument("--command", action="store_true", help="measure the train, predict and evaluate commands")
    parser.add_argument("--rows", default="2e6")
    parser.add_argument("--text", action="store_true", help="two text columns and some empty cells")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--folder", default="/tmp/bench-memory")
    arguments = parser.parse_args()
    if arguments.command:
        commands(arguments)
    else:
        losses(arguments)


if __name__ == "__main__":
    main()
