"""``--engine dask``: ``loss`` and ``predict`` over a Dask cluster, for data of any size.

``dask.dataframe`` reads the files: Parquet a row group per partition, CSV a block of
``CSV_BLOCK`` bytes per partition (a compressed CSV file as one partition, since it
cannot be cut), each partition read by one worker. Nothing bigger than a partition is
ever in a worker's memory, so the data may be many times larger than the cluster's
memory.

``loss``: every partition computes its weighted per-element losses with the library
function, as the streaming engine does for a batch, and reduces them to the terms of
a :class:`~neural_network._exact_sum.StreamingSum` (a few floats whose exact sum is
the sum of the partition's 2048-element partials). The client adds the terms of all
partitions with ``math.fsum``, which rounds once. So the value does not depend on the
order in which workers finish (it is the same bits from run to run), and it differs
from the streaming engine's only where partition edges cut its 2048-element blocks
differently: a few units in the last place at most.

A partition the library refuses (a NaN, a label outside [0, 1]) or a cell that is not a
number stops the computation; the files are then read again by the streaming engine,
which names the file and row of the first offending value. That second pass is taken
only on that error path.

The cluster: ``--scheduler ADDRESS`` connects to a running one (its workers must have
this package installed); without it a local cluster of ``--workers`` processes, one
thread each, is started and stopped by the command. Dask and distributed come with the
``dask`` extra: ``pip install 'neural-network[dask]'``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from neural_network._exact_sum import combine
from neural_network.cli._errors import CommandError
from neural_network.cli._loss_table import LOSSES, Sums

if TYPE_CHECKING:
    from neural_network.cli._loss_table import Columns, LossEntry

CSV_BLOCK = 64 * 1024 * 1024
"""Bytes of an uncompressed CSV file per partition."""

CONNECT_TIMEOUT = "10s"


def require_dask() -> None:
    """Refuse ``--engine dask`` where Dask is not installed, with the command that installs it."""
    missing = [name for name in ("dask", "distributed", "pandas") if importlib.util.find_spec(name) is None]
    if missing:
        raise CommandError(
            f"--engine dask needs Dask, distributed and pandas ({', '.join(missing)} not installed). "
            "Install them with: pip install 'neural-network[dask]'"
        )


@contextlib.contextmanager
def cluster(scheduler: str | None, workers: int | None) -> Iterator[Any]:
    """A ``distributed.Client``: connected to ``scheduler``, or to a local cluster it starts."""
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as error:
            raise CommandError(
                f"--scheduler {scheduler}: cannot connect to a Dask scheduler there ({error}). "
                "Start one with `dask scheduler` (and workers with `dask worker ADDRESS`), "
                "or leave --scheduler out to run on a local cluster."
            ) from None
        with client:
            yield client
        return
    count = workers or max(os.cpu_count() or 1, 1)
    with (
        LocalCluster(
            n_workers=count, threads_per_worker=1, processes=True, dashboard_address=":0",
            silence_logs=logging.CRITICAL,
        ) as local,
        Client(local) as client,
    ):
        yield client


def frame(paths: Sequence[str], names: Sequence[str]) -> Any:
    """The named columns of the files as one ``dask.dataframe``, their rows in the order given."""
    import dask.dataframe as dd

    from neural_network.cli import _stream

    names = list(dict.fromkeys(names))
    parquet = [_stream.is_parquet(path) for path in paths]
    if all(parquet):
        return dd.read_parquet(list(paths), columns=names, split_row_groups=True)
    if any(parquet):
        first = paths[parquet.index(True)]
        other = paths[parquet.index(False)]
        raise CommandError(
            f"--engine dask reads files of one format at a time; got Parquet ({first}) and CSV ({other}). "
            "Convert them to one format, or use the streaming engine (leave --engine out)."
        )
    compressed = any(_stream.compression_of(path) for path in paths)
    return dd.read_csv(
        list(paths), usecols=names, dtype=dict.fromkeys(names, "float64"),
        sep=_stream.delimiter(paths[0]), compression="infer",
        blocksize=None if compressed else CSV_BLOCK,
    )


# --------------------------------------------------------------------------- loss


@dataclass(frozen=True)
class PartitionSums:
    """What one partition adds to the loss: terms of exact sums, and counts."""

    total: list[float]
    """The terms of the weighted per-element losses' sum."""
    denominator: list[float]
    """The terms of the mean's summed weights (empty where it counts elements)."""
    elements: int
    rows: int


def partition_sums(
    data: Any, loss: str, pred: list[str], target: list[str], weight: str | None, reduction: str
) -> PartitionSums:
    """The sums of one partition (a pandas DataFrame), by the loss named ``loss``."""

    rows = len(data)
    if rows == 0:
        return PartitionSums([], [], 0, 0)
    p = np.column_stack([data[name].to_numpy(dtype=np.float64) for name in pred])
    t = np.column_stack([data[name].to_numpy(dtype=np.float64) for name in target])
    w = None if weight is None else data[weight].to_numpy(dtype=np.float64)
    sums = Sums()
    sums.add(LOSSES[loss], p, t, w, reduction)
    return PartitionSums(sums.total.terms(), sums.denominator.terms() if sums.weighted else [], sums.elements, rows)


def loss_sums(
    entry: LossEntry, columns: Columns, paths: Sequence[str], reduction: str, client: Any
) -> tuple[float, float, int]:
    """``(sum, divisor, rows)`` of the loss over the files, computed on the cluster.

    The divisor is the summed weights of the counted elements, or the element count;
    NaN for a sum. Raises whatever a partition raised.
    """
    import dask

    data = frame(paths, columns.all())
    tasks = [
        dask.delayed(partition_sums, pure=True)(
            partition, entry.name, columns.pred, columns.target, columns.weight, reduction
        )
        for partition in data.to_delayed()
    ]
    parts: list[PartitionSums] = list(client.gather(client.compute(tasks)))
    total = float(combine([term for part in parts for term in part.total]))
    rows = sum(part.rows for part in parts)
    if reduction == "sum":
        return total, math.nan, rows
    if columns.weight is not None or entry.layout == "classes":  # see LossEntry.counted
        divisor = float(combine([term for part in parts for term in part.denominator]))
    else:
        divisor = float(sum(part.elements for part in parts))
    return total, divisor, rows


# --------------------------------------------------------------------------- predict


def write_predictions(model: Any, card: Any, paths: Sequence[str], output: str, client: Any) -> int:
    """Write the model's predictions for every row of the files to ``output``, a folder of Parquet files.

    One file per partition, ``part-000000.parquet`` onwards, in the order of the input
    rows. Returns the number of rows.
    """
    import pandas as pd

    data = frame(paths, card.column_names)
    empty = pd.DataFrame({name: np.zeros(1) for name in card.column_names})
    meta = prediction_frame(empty, model, card).iloc[:0]
    predicted = data.map_partitions(prediction_frame, model, card, meta=meta)
    written = predicted.to_parquet(output, write_index=False, name_function=part_name, compute=False)
    rows = data.map_partitions(len).sum()
    counted = client.compute([written, rows])
    return int(client.gather(counted)[1])


def prediction_frame(data: Any, model: Any, card: Any) -> Any:
    """The prediction columns for one partition (a pandas DataFrame), as ``predict`` writes them."""
    import pandas as pd

    # Every cell must hold a number: an empty one (NaN here) is refused by the network, and the
    # streaming reader then names its file and row (see ``predict``).
    columns = [data[spec.name].to_numpy(dtype=np.float64) for spec in card.columns]
    X = card.standardize(np.column_stack(columns)) if columns else np.empty((len(data), 0))
    return pd.DataFrame(card.predictions(model.predict(X)), index=data.index)


def part_name(index: int) -> str:
    """The name of the ``index``-th output file: zero-padded, so names sort in row order."""
    return f"part-{index:06d}.parquet"


def data_files(folder: str) -> list[str]:
    """The CSV and Parquet files directly in ``folder``, sorted by name."""
    from neural_network.cli import _stream

    names = sorted(os.listdir(folder))
    suffixes = (".parquet", ".pq", ".csv", ".tsv", ".tab")
    found = [
        os.path.join(folder, name)
        for name in names
        if os.path.isfile(os.path.join(folder, name))
        and (name.lower().endswith(suffixes) or (_stream.compression_of(name) and ".csv" in name.lower()))
    ]
    if not found:
        raise CommandError(f"{folder} holds no .parquet or .csv files.")
    return found
