"""Saving and loading networks without pickle: one ``.npz`` file holds a model.

:func:`save` (or :meth:`Sequential.save <neural_network.network.Sequential.save>`) writes a
network and, if you pass them, its optimizer, the generator that shuffles its batches and
metadata of your own. :func:`load` reads the network back; :func:`load_checkpoint` reads
everything, so that training resumes exactly where it stopped::

    model.fit(X, y, loss="mse_loss", optimizer=optimizer, epochs=3, rng=generator)
    model.save("run.npz", optimizer=optimizer, rng=generator, metadata={"epochs": 3})

    checkpoint = load_checkpoint("run.npz")
    checkpoint.model.fit(X, y, loss="mse_loss", optimizer=checkpoint.optimizer,
                         epochs=2, rng=checkpoint.rng)  # = five epochs in one go, bit for bit

The file layout
---------------
A model file is an ordinary, uncompressed NumPy ``.npz`` archive (a zip of ``.npy``
files), so ``np.load(path)`` opens it. Nothing in it needs pickle: loading passes
``allow_pickle=False``, so reading a file can never run code. The archive holds:

``__model__.json``
    A JSON document, stored as a 1-D array of its UTF-8 bytes (dtype uint8)::

        {"format": "neural_network.model", "format_version": 1, "package_version": "0.1.0",
         "model": {"class": "Sequential", "layers": [
             {"class": "Dense", "in_features": 30, "out_features": 16,
              "activation": "relu", "init": "glorot", "dtype": "float64"}, ...]},
         "arrays": {"parameters/0.weights": {"shape": [30, 16], "dtype": "<f8",
                                             "sha256": "9f2c..."}, ...},
         "optimizer": null, or Optimizer.state_dict() with array names in place of arrays,
         "rng": null, or {"bit_generator": "PCG64", "state": {...}, "arrays": [...]},
         "metadata": {"values": {...}, "arrays": [{"path": ["scaler", "mean"],
                                                   "array": "metadata/0"}, ...]},
         "loss": "cross_entropy"}    (only for a model that knows its loss: Sequential.loss)

    A ``Dropout`` layer is ``{"class": "Dropout", "rate": 0.2, "rng": null}``, or with
    ``"rng"`` the generator of its masks as ``"rng"`` above (its arrays named
    ``layers/<position>/rng/<k>``), so that resumed training draws the same masks.

    Print it with ``bytes(np.load(path)["__model__.json"]).decode()``.
``parameters/0.weights``, ``parameters/0.bias``, ...
    The weights and biases, named as :meth:`Sequential.named_parameters` names them.
``optimizer/<i>/<buffer>``
    The optimizer's arrays for parameter ``i`` (``optimizer/0/exp_avg``, ...).
``rng/<k>``, ``metadata/<k>``
    Arrays found inside the generator's state (MT19937, Philox and SFC64 keep some) and
    inside the metadata. The JSON holds ``null`` in their place and lists their paths.

The table ``"arrays"`` records the shape, dtype and SHA-256 digest of every array;
loading checks all three, so a damaged or edited array is refused instead of silently
used. (The digests catch corruption and accidental edits; they are no signature against
a forger, who could recompute them.)

Saving never leaves a half-written file: the archive is written to a temporary file in
the same folder (``.<name>.<process id>.<random>.tmp``), flushed to disk, then renamed
onto the target in one step (``os.replace``). If anything fails, the temporary file is
removed and a file already at the target is left as it was; if the process is killed,
the next save to the same path removes its temporary file. The file is written at
exactly the path given: unlike ``np.savez``, :func:`save` does not append ``.npz`` (use
that suffix by convention).

Loading checks everything the file declares before it reads an array: the zip
directory (uncompressed, unencrypted ``.npy`` entries that lie inside the file), then
each entry's ``.npy`` header against the table and the layers, and the size it declares
against its shape and dtype. So a damaged or hostile file is refused with an
:class:`~neural_network.errors.InvalidInputError` before it can make loading allocate
more memory than the file holds.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from neural_network import __version__
from neural_network.errors import InvalidInputError
from neural_network.network import Sequential
from neural_network.optimizers import Optimizer
from neural_network.serialization._format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_DOCUMENT_BYTES,
    MODEL_ENTRY,
    AnyArray,
    Checkpoint,
)
from neural_network.serialization._read import read_checkpoint
from neural_network.serialization._write import (
    check_target,
    describe_array,
    metadata_record,
    model_architecture,
    optimizer_record,
    rng_record,
    write_atomically,
)

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "MODEL_ENTRY", "Checkpoint", "load", "load_checkpoint", "save"]


def save(
    model: Sequential,
    path: str | os.PathLike[str],
    *,
    optimizer: Optimizer | None = None,
    rng: np.random.Generator | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> None:
    """Write ``model`` (and optionally its training state) to ``path``, without pickle.

    Parameters
    ----------
    model : Sequential
    path : str or os.PathLike
        The file to write, exactly as given (no ``.npz`` is appended). Its folder must
        exist. A file already there is replaced only once the new one is complete.
    optimizer : Optimizer, optional
        The optimizer training ``model``, to resume with the same step count and buffers.
    rng : numpy.random.Generator, optional
        The generator passed to ``fit`` as ``rng``, to resume with the same shuffles.
    metadata : mapping of str to values, optional
        Your own notes: JSON values (None, bool, int, finite float, str, and lists and
        dicts with str keys of these) and NumPy numeric arrays, nested as you like. Arrays
        are stored exactly and come back as arrays; NumPy scalars come back as the equal
        Python numbers. Tuples (which JSON would turn into lists), NaN and infinity
        (which JSON lacks) and other objects are refused; wrap such values in a list or
        ``np.array``.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        The folder of ``path`` does not exist, or ``path`` is a folder.
    OSError
        The file cannot be written (no permission, disk full); nothing is left behind.
    InvalidTypeError, InvalidInputError, NonFiniteError
        The model, optimizer, generator or metadata cannot be saved (the message says why).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from neural_network import Dense, Sequential
    >>> model = Sequential([Dense(3, 4, "relu", rng=0), Dense(4, 1, rng=1)])
    >>> X = np.ones((2, 3))
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = pathlib.Path(folder) / "model.npz"
    ...     save(model, path, metadata={"note": "untrained"})
    ...     checkpoint = load_checkpoint(path)
    >>> checkpoint.metadata
    {'note': 'untrained'}
    >>> bool(np.array_equal(checkpoint.model.predict(X), model.predict(X)))
    True
    """
    target = check_target(path)
    arrays: dict[str, AnyArray] = {}
    # Each part moves its arrays into `arrays`; the table describing them comes last.
    architecture = model_architecture(model, arrays)
    optimizer_part = None if optimizer is None else optimizer_record(optimizer, model, arrays)
    rng_part = None if rng is None else rng_record(rng, arrays)
    metadata_part = metadata_record(metadata, arrays)
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "model": architecture,
        "arrays": {name: describe_array(array) for name, array in arrays.items()},
        "optimizer": optimizer_part,
        "rng": rng_part,
        "metadata": metadata_part,
    }
    if model.loss is not None:  # the loss fit trained with, when known: predict_proba reads it
        document["loss"] = model.loss
    text = json.dumps(document, indent=1, allow_nan=False).encode("utf-8")
    if len(text) > MAX_DOCUMENT_BYTES:
        raise InvalidInputError(
            f"save: the file's JSON description would take {len(text)} bytes, more than the "
            f"{MAX_DOCUMENT_BYTES // 2**20} MiB that load reads; the metadata's JSON values fill it. "
            "Store large values as NumPy arrays, e.g. np.asarray(values), which are kept beside it."
        )
    arrays[MODEL_ENTRY] = np.frombuffer(text, dtype=np.uint8)
    write_atomically(target, arrays)


def load(path: str | os.PathLike[str]) -> Sequential:
    """Read the network saved at ``path`` by :func:`save`; see :func:`load_checkpoint`.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    InvalidInputError (and its subclasses ShapeMismatchError, NonFiniteError)
        The file is not a model file, is truncated or corrupted, or disagrees with itself.
    """
    return read_checkpoint(path, "load").model


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read everything :func:`save` wrote to ``path``: model, optimizer, generator, metadata.

    Every array is checked against the shape, dtype and digest recorded when it was
    saved, and the weights against the architecture, before anything is returned.
    ``load_checkpoint(path).model`` is :func:`load` ``(path)``.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        No file at ``path``, or ``path`` is a folder.
    InvalidInputError (and its subclasses ShapeMismatchError, NonFiniteError)
        The file is not a model file, is truncated or corrupted, was written by a newer
        version of this package, or disagrees with itself (the message says where). So is
        a file that declares more than it holds, or than its layers need (an entry's size,
        a ``.npy`` header's shape, a JSON document over 64 MiB), or holds compressed or
        encrypted entries, or an impossible generator state: all are refused before any
        array is read.
    """
    return read_checkpoint(path, "load_checkpoint")
