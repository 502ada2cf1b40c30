"""Extra memory of a reduced loss: the peak resident memory a call adds beyond its inputs.

    python benchmarks/bench_memory.py [--size 1e8] [--losses mse_loss,...] [--dtype float64]

Each loss runs in a fresh Python process: it creates the inputs (touching every page),
reads its peak resident set size (``ru_maxrss``), calls the loss once with the default
``reduction="mean"``, and reads the peak again. The difference is what the call
needed on top of its inputs: temporaries, scratch buffers, threads' stacks. The same
is measured for PyTorch's functional loss on the same arrays, for comparison.
"""

from __future__ import annotations

import argparse
import subprocess
import sys

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


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--size", default="1e8")
    parser.add_argument("--dtype", default="float64")
    parser.add_argument("--losses", default="mse_loss,binary_cross_entropy,binary_cross_entropy_with_logits")
    arguments = parser.parse_args()
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


if __name__ == "__main__":
    main()
