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
              "activation": "relu", "init": "he", "dtype": "float64"}, ...]},
         "arrays": {"parameters/0.weights": {"shape": [30, 16], "dtype": "<f8",
                                             "sha256": "9f2c..."}, ...},
         "optimizer": null, or Optimizer.state_dict() with array names in place of arrays,
         "rng": null, or {"bit_generator": "PCG64", "state": {...}, "arrays": [...]},
         "metadata": {"values": {...}, "arrays": [{"path": ["scaler", "mean"],
                                                   "array": "metadata/0"}, ...]}}

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
the same folder, flushed to disk, then renamed onto the target in one step
(``os.replace``). If anything fails, the temporary file is removed and a file already
at the target is left as it was. The file is written at exactly the path given: unlike
``np.savez``, :func:`save` does not append ``.npz`` (use that suffix by convention).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import secrets
import stat
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import NDArray

from neural_network import __version__
from neural_network.errors import (
    InvalidInputError,
    InvalidTypeError,
    NonFiniteError,
    ShapeMismatchError,
    describe,
)
from neural_network.layers import Dense
from neural_network.network import Sequential
from neural_network.optimizers import OPTIMIZERS, Optimizer, get_optimizer

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "MODEL_ENTRY", "Checkpoint", "load", "load_checkpoint", "save"]

FORMAT_NAME = "neural_network.model"
"""The ``"format"`` field of every model file."""

FORMAT_VERSION = 1
"""The version of the layout this module writes; it reads this version and older ones."""

MODEL_ENTRY = "__model__.json"
"""The name of the archive entry that holds the JSON document."""

AnyArray = NDArray[Any]
JsonPath = list[str | int]
"""Where an array sits inside a JSON value: dict keys and list indices, outermost first."""


# =========================================================================== the API


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """Everything :func:`save` wrote: the model and, if they were saved, the rest.

    Attributes
    ----------
    model : Sequential
        The network, with its saved weights.
    optimizer : Optimizer or None
        A new optimizer of the saved class, hyperparameters, step count and state. Its
        state is bound to the model's parameters at its first step: pass it to
        ``checkpoint.model.fit`` (or step it with ``checkpoint.model.parameters()``).
    rng : numpy.random.Generator or None
        A generator in exactly the saved state (its bit generator is rebuilt from the
        state alone, so ``rng.spawn`` does not reproduce the original's children).
    metadata : dict
        The saved metadata: JSON values, and NumPy arrays where arrays were saved.
    """

    model: Sequential
    optimizer: Optimizer | None
    rng: np.random.Generator | None
    metadata: dict[str, Any]


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
    target = _check_target(path)
    arrays: dict[str, AnyArray] = {}
    # Each part moves its arrays into `arrays`; the table describing them comes last.
    architecture = _architecture(model, arrays)
    optimizer_part = None if optimizer is None else _optimizer_part(optimizer, model, arrays)
    rng_part = None if rng is None else _rng_part(rng, arrays)
    metadata_part = _metadata_part(metadata, arrays)
    document = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "package_version": __version__,
        "model": architecture,
        "arrays": {name: _describe_array(array) for name, array in arrays.items()},
        "optimizer": optimizer_part,
        "rng": rng_part,
        "metadata": metadata_part,
    }
    text = json.dumps(document, indent=1, allow_nan=False)
    arrays[MODEL_ENTRY] = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    _write_atomically(target, arrays)


def load(path: str | os.PathLike[str]) -> Sequential:
    """Read the network saved at ``path`` by :func:`save`; see :func:`load_checkpoint`.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    InvalidInputError (and its subclasses ShapeMismatchError, NonFiniteError)
        The file is not a model file, is truncated or corrupted, or disagrees with itself.
    """
    return _read(path, "load").model


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
        version of this package, or disagrees with itself (the message says where).
    """
    return _read(path, "load_checkpoint")


# =========================================================================== saving


def _check_target(path: object) -> Path:
    """The file to write: a path (not a folder) whose folder exists, symbolic links resolved."""
    if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str):
        raise InvalidTypeError(f"save: path must be a str or a pathlib.Path; got {describe(path)}.")
    given = Path(path)
    if given.is_dir():
        raise IsADirectoryError(
            f"save: path must name a file; got {str(given)!r}, which is a folder. "
            f"Name the file, e.g. {str(given / 'model.npz')!r}."
        )
    if not given.parent.is_dir():
        raise FileNotFoundError(
            f"save: the folder {str(given.parent)!r} of {str(given)!r} does not exist. Create it first, "
            f"e.g. pathlib.Path({str(given.parent)!r}).mkdir(parents=True), or save elsewhere."
        )
    # A symbolic link is followed, so that the file it points to is replaced, not the link.
    return Path(os.path.realpath(given))


def _architecture(model: object, arrays: dict[str, AnyArray]) -> dict[str, Any]:
    """The layers' constructor arguments; the parameters go into ``arrays``."""
    if not isinstance(model, Sequential):
        raise InvalidTypeError(
            f"save: model must be a Sequential network; got {describe(model)}. "
            "Wrap a single layer: Sequential([layer])."
        )
    layers = []
    for position, layer in enumerate(model.layers):
        if type(layer) is not Dense:
            raise InvalidTypeError(
                f"save: layer {position} must be a Dense layer, which load can rebuild; got "
                f"{type(layer).__name__}."
            )
        layers.append(
            {
                "class": "Dense",
                "in_features": layer.in_features,
                "out_features": layer.out_features,
                "activation": layer.activation,
                "init": layer.init,
                "dtype": layer.dtype.name,
            }
        )
    for name, parameter in model.named_parameters():
        if not np.all(np.isfinite(parameter.value)):
            raise NonFiniteError(
                f"save: parameter {name!r} must be finite; got NaN or infinity, so the model only "
                "predicts NaN. Training diverged: lower the learning rate, or standardize X."
            )
        arrays[f"parameters/{name}"] = parameter.value
    return {"class": "Sequential", "layers": layers}


def _optimizer_part(optimizer: object, model: Sequential, arrays: dict[str, AnyArray]) -> dict[str, Any]:
    """``optimizer.state_dict()`` with its arrays moved into ``arrays`` and named there."""
    known = tuple(OPTIMIZERS.values())
    if type(optimizer) not in known or not isinstance(optimizer, Optimizer):
        names = ", ".join(cls.__name__ for cls in known)
        raise InvalidTypeError(
            f"save: optimizer must be one of this package's optimizers ({names}), which load "
            f"can rebuild; got {describe(optimizer)}."
        )
    state = optimizer.state_dict()
    _check_optimizer_fits(state["parameters"], model)
    entries = []
    for i, entry in enumerate(state["parameters"]):
        buffers = {}
        for buffer, array in entry["buffers"].items():
            buffers[buffer] = f"optimizer/{i}/{buffer}"
            arrays[buffers[buffer]] = array
        entries.append({"name": entry["name"], "shape": entry["shape"], "buffers": buffers})
    return {**state, "parameters": entries}


def _check_optimizer_fits(entries: list[dict[str, Any]], model: Sequential) -> None:
    """Refuse an optimizer whose state was made for other parameters than the model's."""
    if not entries:  # not stepped yet: there is no state to disagree
        return
    expected = [(p.name, list(p.value.shape)) for p in model.parameters()]
    got = [(entry["name"], list(entry["shape"])) for entry in entries]
    if got != expected:
        raise InvalidInputError(
            f"save: optimizer holds state for the parameters {got} but the model has {expected}. "
            "Pass the optimizer that trains this model."
        )


def _rng_part(rng: object, arrays: dict[str, AnyArray]) -> dict[str, Any]:
    """The generator's bit-generator class name and state (its arrays moved into ``arrays``)."""
    if not isinstance(rng, np.random.Generator):
        raise InvalidTypeError(
            f"save: rng must be a numpy.random.Generator, the one passed to fit; got {describe(rng)}. "
            "An int seed needs no saving; for a RandomState use np.random.default_rng(seed) instead."
        )
    kind = type(rng.bit_generator)
    if getattr(np.random, kind.__name__, None) is not kind:
        raise InvalidTypeError(
            f"save: rng must use one of NumPy's bit generators (PCG64, PCG64DXSM, MT19937, Philox, "
            f"SFC64), which load can rebuild; got {kind.__name__}."
        )
    refs: list[dict[str, Any]] = []
    state = _to_json(rng.bit_generator.state, [], "save: rng state", "rng", arrays, refs)
    return {"bit_generator": kind.__name__, "state": state, "arrays": refs}


def _metadata_part(metadata: Mapping[str, Any] | None, arrays: dict[str, AnyArray]) -> dict[str, Any]:
    """The metadata as JSON values, with its arrays moved into ``arrays``."""
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, Mapping):
        raise InvalidTypeError(
            f"save: metadata must be a mapping such as {{'epochs': 10}}; got {describe(metadata)}."
        )
    refs: list[dict[str, Any]] = []
    values = _to_json(dict(metadata), [], "save: metadata", "metadata", arrays, refs)
    return {"values": values, "arrays": refs}


def _to_json(
    value: object,
    path: JsonPath,
    owner: str,
    prefix: str,
    arrays: dict[str, AnyArray],
    refs: list[dict[str, Any]],
) -> Any:
    """``value`` as a JSON value; each array in it goes into ``arrays`` and leaves ``null`` behind.

    ``refs`` receives ``{"path": path, "array": name}`` for each array, so that loading
    can put it back. Anything that would not come back equal is refused.
    """
    where = owner + "".join(f"[{key!r}]" for key in path)
    if isinstance(value, (np.bool_, np.integer, np.floating)):
        value = value.item()  # a NumPy scalar is stored as the equal Python number
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise NonFiniteError(
                f"{where} must be a finite number, as JSON has no NaN or infinity; got {value!r}. "
                "Store it as an array, np.array(value), which keeps it exactly."
            )
        return value
    if isinstance(value, np.ndarray):
        if type(value) is not np.ndarray or value.dtype.kind not in "biufc":
            raise InvalidTypeError(
                f"{where} must be a plain numeric NumPy array (bool, int, float or complex); got "
                f"{type(value).__name__} of dtype {value.dtype}. Convert it with np.asarray(value, dtype=float)."
            )
        name = f"{prefix}/{len(refs)}"
        arrays[name] = value
        refs.append({"path": path, "array": name})
        return None
    if isinstance(value, list):
        return [_to_json(item, [*path, i], owner, prefix, arrays, refs) for i, item in enumerate(value)]
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidTypeError(
                    f"{where} must have str keys, as JSON objects do; got the key {describe(key)}. "
                    f"Use str(key)."
                )
            result[key] = _to_json(item, [*path, key], owner, prefix, arrays, refs)
        return result
    fix = " Use a list, as JSON has no tuples." if isinstance(value, tuple) else ""
    raise InvalidTypeError(
        f"{where} must be None, a bool, int, float, str, a list or dict of these, or a NumPy "
        f"numeric array; got {describe(value)}.{fix}"
    )


def _describe_array(array: AnyArray) -> dict[str, Any]:
    """The shape, dtype and SHA-256 digest of the bytes of ``array``, as the table records them."""
    return {"shape": list(array.shape), "dtype": array.dtype.str, "sha256": _digest(array)}


def _digest(array: AnyArray) -> str:
    """The SHA-256 digest of the values of ``array`` in C order (its memory layout does not matter)."""
    return hashlib.sha256(array.tobytes(order="C")).hexdigest()


def _write_atomically(target: Path, arrays: dict[str, AnyArray]) -> None:
    """Write the archive to a temporary file beside ``target``, sync it, then rename it onto ``target``."""
    file, temporary = _open_temporary(target)
    try:
        with file:
            _write_npz(file, arrays)
            file.flush()
            os.fsync(file.fileno())
        if target.exists():  # the new file keeps the permissions of the one it replaces
            os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise
    _sync_folder(target.parent)


def _write_npz(file: IO[bytes], arrays: dict[str, AnyArray]) -> None:
    """The archive, as ``np.savez`` lays it out: one uncompressed ``<name>.npy`` entry per array."""
    with zipfile.ZipFile(file, mode="w", compression=zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, array in arrays.items():
            # A fixed date (ZipInfo's default, 1980-01-01) instead of the time of saving: the
            # same model gives the same bytes, so two files can be compared by their hash.
            info = zipfile.ZipInfo(f"{name}.npy")
            info.external_attr = 0o644 << 16  # rw-r--r-- for whoever unzips the archive
            with archive.open(info, mode="w", force_zip64=True) as entry:
                np.lib.format.write_array(entry, array, allow_pickle=False)


def _open_temporary(target: Path) -> tuple[IO[bytes], Path]:
    """A new, hidden file in the folder of ``target``, open for writing.

    Created with mode 0o666 (less the umask), as ``open`` would create ``target`` itself:
    ``tempfile.mkstemp`` would give 0o600, which the rename would carry over.
    """
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    descriptor = os.open(temporary, flags, 0o666)
    try:
        return os.fdopen(descriptor, "wb"), temporary
    except BaseException:
        os.close(descriptor)
        os.remove(temporary)
        raise


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); some systems cannot sync a folder, which is harmless."""
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


# =========================================================================== loading


@dataclass(frozen=True)
class _Source:
    """The file being read, for error messages: ``load: 'model.npz': <problem>``."""

    owner: str
    path: str

    def error(self, problem: str, kind: type[InvalidInputError] = InvalidInputError) -> InvalidInputError:
        return kind(f"{self.owner}: {self.path!r}: {problem}")


class _Arrays:
    """The archive's arrays, each handed out once; any left over is reported."""

    def __init__(self, source: _Source, arrays: dict[str, AnyArray]) -> None:
        self._source = source
        self._arrays = arrays

    def take(self, name: object, where: str) -> AnyArray:
        if not isinstance(name, str) or name not in self._arrays:
            raise self._source.error(
                f"{where} refers to the array {name!r}, which the file does not hold (or which is "
                "used twice). The file is damaged or was not written by save."
            )
        return self._arrays.pop(name)

    def shape_of(self, name: str, where: str) -> tuple[int, ...]:
        if name not in self._arrays:
            raise self._source.error(
                f"{where} needs the array {name!r}, which the file does not hold. The file is "
                "damaged or was not written by save."
            )
        return self._arrays[name].shape

    def check_all_taken(self) -> None:
        if self._arrays:
            raise self._source.error(
                f"the arrays {sorted(self._arrays)} are listed in the file's table but belong to "
                "nothing in it. The file is damaged or was not written by save."
            )


def _read(path: object, owner: str) -> Checkpoint:
    """Open, check and rebuild everything in the model file at ``path``."""
    if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str):
        raise InvalidTypeError(f"{owner}: path must be a str or a pathlib.Path; got {describe(path)}.")
    source = _Source(owner, str(os.fspath(path)))
    entries = _read_archive(source)
    document = _read_document(source, entries.pop(MODEL_ENTRY))
    arrays = _Arrays(source, _check_arrays(source, document, entries))
    model = _build_model(source, _field(source, document, "model", dict, "the document"), arrays)
    optimizer_part = _field(source, document, "optimizer", (dict, type(None)), "the document")
    rng_part = _field(source, document, "rng", (dict, type(None)), "the document")
    metadata_part = _field(source, document, "metadata", dict, "the document")
    checkpoint = Checkpoint(
        model=model,
        optimizer=None if optimizer_part is None else _build_optimizer(source, optimizer_part, model, arrays),
        rng=None if rng_part is None else _build_rng(source, rng_part, arrays),
        metadata=_restore_json(source, metadata_part, "metadata", arrays),
    )
    arrays.check_all_taken()
    return checkpoint


# --------------------------------------------------------------------------- the archive


def _read_archive(source: _Source) -> dict[str, Any]:
    """Every entry of the ``.npz`` archive, read without pickle."""
    file_path = Path(source.path)
    if not file_path.exists():
        hint = ""
        if file_path.suffix != ".npz" and file_path.with_name(file_path.name + ".npz").exists():
            hint = f" Did you mean {source.path + '.npz'!r}? (save writes exactly the path it is given.)"
        if not file_path.is_absolute():
            hint = f" (The current folder is {os.getcwd()!r}.){hint}"
        raise FileNotFoundError(f"{source.owner}: no file at {source.path!r}; check the path.{hint}")
    if file_path.is_dir():
        raise IsADirectoryError(f"{source.owner}: {source.path!r} is a folder; expected a model file.")
    with open(file_path, "rb") as file:
        try:
            archive = np.load(file, allow_pickle=False)
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
            raise _not_a_model(source, f"NumPy cannot open it: {exc}") from None
        if not isinstance(archive, np.lib.npyio.NpzFile):
            raise _not_a_model(source, "it holds a single .npy array, not an .npz archive")
        with archive:
            names = list(archive.files)
            if MODEL_ENTRY not in names:
                raise source.error(
                    f"not a neural_network model file: expected an entry {MODEL_ENTRY!r} in the .npz "
                    f"archive; got the entries {names}. Write model files with model.save(path), "
                    "not np.savez."
                )
            return {name: _read_entry(source, archive, name) for name in names}


def _not_a_model(source: _Source, detail: str) -> InvalidInputError:
    return source.error(
        f"not a neural_network model file or truncated: expected an .npz archive written by "
        f"save; {detail}. Check that the file was copied completely, or save the model again."
    )


def _read_entry(source: _Source, archive: Any, name: str) -> Any:
    """One entry, as NumPy reads it; every way a damaged entry can fail becomes our error."""
    try:
        return archive[name]
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise source.error(
                f"the entry {name!r} holds Python objects that only pickle could read. Loading never "
                "unpickles (a pickle can run any code), and save never writes such entries: this "
                "file was not written by save."
            ) from None
        raise source.error(f"the entry {name!r} is corrupted ({exc}). Use an intact copy.") from None
    except (zipfile.BadZipFile, EOFError, OSError, zlib.error) as exc:
        raise source.error(
            f"the entry {name!r} is truncated or corrupted ({exc}). Use an intact copy of the file."
        ) from None


# --------------------------------------------------------------------------- the JSON document


def _read_document(source: _Source, entry: object) -> dict[str, Any]:
    """The JSON document, checked for its format name and version."""
    if not isinstance(entry, np.ndarray) or entry.dtype != np.uint8 or entry.ndim != 1:
        raise source.error(
            f"the entry {MODEL_ENTRY!r} must be a 1-D array of bytes (uint8); got {describe(entry)}."
        )
    try:
        document = json.loads(entry.tobytes().decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise source.error(
            f"the entry {MODEL_ENTRY!r} must hold a JSON document in UTF-8; it does not ({exc}). "
            "The file is corrupted: use an intact copy, or save the model again."
        ) from None
    if not isinstance(document, dict):
        raise source.error(f"the JSON document must be an object; got {describe(document)}.")
    fmt = document.get("format")
    if fmt != FORMAT_NAME:
        raise source.error(
            f"not a neural_network model file: expected the format {FORMAT_NAME!r}; got {fmt!r}."
        )
    version = _field(source, document, "format_version", int, "the document")
    if version < 1:
        raise source.error(f"format_version must be 1 or more; got {version}.")
    if version > FORMAT_VERSION:
        writer = document.get("package_version", "a newer version")
        raise source.error(
            f"the file has format version {version}, newer than the version {FORMAT_VERSION} that "
            f"neural_network {__version__} reads; it was written by neural_network {writer}. "
            "Upgrade neural_network to load it."
        )
    return document


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON, and save never writes it")


def _field(source: _Source, mapping: object, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``mapping[key]``, checked to be of type ``kind`` (a bool never counts as an int)."""
    if not isinstance(mapping, dict):
        raise source.error(f"{where} must be a JSON object; got {describe(mapping)}.")
    if key not in mapping:
        raise source.error(
            f"{where} lacks the field {key!r}. The file is damaged or was not written by save."
        )
    value = mapping[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        expected = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
        raise source.error(f"{where}: the field {key!r} must be {expected}; got {describe(value)}.")
    return value


# --------------------------------------------------------------------------- the arrays


def _check_arrays(source: _Source, document: dict[str, Any], entries: dict[str, Any]) -> dict[str, AnyArray]:
    """The archive's arrays, each checked against the table's shape, dtype and digest."""
    table = _field(source, document, "arrays", dict, "the document")
    missing, extra = sorted(set(table) - set(entries)), sorted(set(entries) - set(table))
    if missing:
        raise source.error(
            f"the file is incomplete: the arrays {missing} are listed in its table but absent."
        )
    if extra:
        raise source.error(
            f"the file holds arrays its table does not list: {extra}. It was altered after it was saved."
        )
    return {name: _check_array(source, name, table[name], entries[name]) for name in table}


def _check_array(source: _Source, name: str, record: object, array: object) -> AnyArray:
    where = f"the table entry of {name!r}"
    shape = _shape(source, _field(source, record, "shape", list, where), where)
    dtype = _field(source, record, "dtype", str, where)
    digest = _field(source, record, "sha256", str, where)
    if not isinstance(array, np.ndarray):
        raise source.error(f"the entry {name!r} must be a .npy array; got {describe(array)}.")
    if array.shape != shape:
        raise source.error(
            f"the array {name!r} has shape {array.shape} but the table records {shape}. "
            "The file was altered after it was saved.",
            ShapeMismatchError,
        )
    if array.dtype.str != dtype:
        raise source.error(
            f"the array {name!r} has dtype {array.dtype.str!r} but the table records {dtype!r}. "
            "The file was altered after it was saved."
        )
    if _digest(array) != digest:
        raise source.error(
            f"the array {name!r} was tampered with or corrupted: its SHA-256 digest is "
            f"{_digest(array)[:16]}..., not the {digest[:16]}... recorded when it was saved. "
            "Use an intact copy of the file."
        )
    return array


def _shape(source: _Source, value: list[Any], where: str) -> tuple[int, ...]:
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value):
        raise source.error(f"{where}: the shape must be a list of integers >= 0; got {value!r}.")
    return tuple(value)


# --------------------------------------------------------------------------- the model


def _build_model(source: _Source, part: dict[str, Any], arrays: _Arrays) -> Sequential:
    """The layers rebuilt from their constructor arguments, then the saved values copied in."""
    if part.get("class") != "Sequential":
        raise source.error(f"the model must be a 'Sequential'; got {part.get('class')!r}.")
    specs = _field(source, part, "layers", list, "the model")
    if not specs:
        raise source.error("the model has no layers; a Sequential needs at least one.")
    layers = [_build_layer(source, position, spec, arrays) for position, spec in enumerate(specs)]
    try:
        model = Sequential(layers)
    except InvalidInputError as exc:
        raise source.error(f"the layers do not form a network: {exc}", _file_error_kind(exc)) from None
    for name, parameter in model.named_parameters():
        value = arrays.take(f"parameters/{name}", "the model")
        if value.dtype.name != parameter.value.dtype.name:  # by name: either byte order will do
            raise source.error(
                f"the array 'parameters/{name}' has dtype {value.dtype} but its layer is {parameter.value.dtype}."
            )
        if not np.all(np.isfinite(value)):
            raise source.error(
                f"the array 'parameters/{name}' holds NaN or infinity; a model with non-finite "
                "weights predicts NaN. Save the model again from a state before training diverged.",
                NonFiniteError,
            )
        parameter.value[...] = value  # in place: the layer keeps its own Parameter objects
    return model


def _build_layer(source: _Source, position: int, spec: object, arrays: _Arrays) -> Dense:
    where = f"layer {position}"
    kind = _field(source, spec, "class", str, where)
    if kind != "Dense":
        raise source.error(f"{where} must be a 'Dense' layer; got {kind!r}.")
    in_features = _field(source, spec, "in_features", int, where)
    out_features = _field(source, spec, "out_features", int, where)
    activation = _field(source, spec, "activation", str, where)
    init = _field(source, spec, "init", str, where)
    dtype = _field(source, spec, "dtype", str, where)
    if dtype not in ("float32", "float64"):
        raise source.error(f"{where}: dtype must be 'float32' or 'float64'; got {dtype!r}.")
    # Check the shapes before building, so that a damaged size never allocates memory.
    for name, shape in (("weights", (in_features, out_features)), ("bias", (out_features,))):
        actual = arrays.shape_of(f"parameters/{position}.{name}", where)
        if actual != shape:
            raise source.error(
                f"{where}, Dense({in_features}, {out_features}), needs {name} of shape {shape}; the "
                f"array 'parameters/{position}.{name}' has shape {actual}. The file was altered "
                "after it was saved.",
                ShapeMismatchError,
            )
    try:
        return Dense(in_features, out_features, activation, rng=0, init=init, dtype=np.dtype(dtype))
    except InvalidInputError as exc:
        raise source.error(f"{where} cannot be built: {exc}", _file_error_kind(exc)) from None


def _file_error_kind(exc: InvalidInputError) -> type[InvalidInputError]:
    """A constructor's error, as a problem of the file: shapes stay shape errors, the rest is bad input
    (an unknown activation in a file is no InvalidOptionError of the caller)."""
    return ShapeMismatchError if isinstance(exc, ShapeMismatchError) else InvalidInputError


# --------------------------------------------------------------------------- the optimizer


def _build_optimizer(source: _Source, part: dict[str, Any], model: Sequential, arrays: _Arrays) -> Optimizer:
    """A new optimizer of the saved class, with the saved state loaded into it."""
    classes = {cls.__name__: cls for cls in OPTIMIZERS.values()}
    kind = _field(source, part, "optimizer", str, "the optimizer")
    if kind not in classes:
        raise source.error(f"the optimizer must be one of {sorted(classes)}; got {kind!r}.")
    entries = _field(source, part, "parameters", list, "the optimizer")
    state = {
        **part,
        "parameters": [_optimizer_entry(source, i, entry, arrays) for i, entry in enumerate(entries)],
    }
    _check_optimizer_matches(source, state["parameters"], model)
    optimizer = get_optimizer(kind)
    try:
        optimizer.load_state_dict(state)
    except (InvalidInputError, InvalidTypeError) as exc:
        raise source.error(f"the optimizer state is not valid: {exc}") from None
    return optimizer


def _optimizer_entry(source: _Source, i: int, entry: object, arrays: _Arrays) -> dict[str, Any]:
    """One parameter's entry of the state, with its buffers' array names replaced by the arrays."""
    where = f"the optimizer's parameter {i}"
    buffers = _field(source, entry, "buffers", dict, where)
    return {
        "name": _field(source, entry, "name", str, where),
        "shape": _shape(source, _field(source, entry, "shape", list, where), where),
        "buffers": {key: arrays.take(name, where) for key, name in buffers.items()},
    }


def _check_optimizer_matches(source: _Source, entries: list[dict[str, Any]], model: Sequential) -> None:
    """The saved state must be for the model's parameters (a fresh optimizer checks only at its first step)."""
    if not entries:
        return
    expected = [(p.name, p.value.shape) for p in model.parameters()]
    got = [(entry["name"], entry["shape"]) for entry in entries]
    if got != expected:
        raise source.error(
            f"the optimizer state is for the parameters {got}, but the model has {expected}. "
            "The file was altered after it was saved."
        )


# --------------------------------------------------------------------------- the generator


def _build_rng(source: _Source, part: dict[str, Any], arrays: _Arrays) -> np.random.Generator:
    """A generator whose bit generator has exactly the saved state."""
    name = _field(source, part, "bit_generator", str, "the rng")
    kind = getattr(np.random, name, None)
    if not (isinstance(kind, type) and issubclass(kind, np.random.BitGenerator)):
        raise source.error(f"the rng's bit generator must be one of NumPy's, such as 'PCG64'; got {name!r}.")
    state = _restore_json(source, part, "rng", arrays)
    bit_generator = kind(0)  # any seed: the state is replaced at once
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError) as exc:
        raise source.error(f"the rng state is not a valid {name} state ({exc!r}).") from None
    return np.random.Generator(bit_generator)


# --------------------------------------------------------------------------- JSON with arrays


def _restore_json(source: _Source, part: dict[str, Any], what: str, arrays: _Arrays) -> Any:
    """``part``'s JSON value (``"values"`` or ``"state"``) with its arrays put back in place."""
    key = "values" if what == "metadata" else "state"
    value = _field(source, part, key, dict, f"the {what}")
    refs = _field(source, part, "arrays", list, f"the {what}")
    for ref in refs:
        path = _field(source, ref, "path", list, f"an array reference of the {what}")
        array = arrays.take(
            _field(source, ref, "array", str, f"an array reference of the {what}"), f"the {what}"
        )
        _put(source, value, path, array, what)
    return value


def _put(source: _Source, root: Any, path: list[Any], array: AnyArray, what: str) -> None:
    """Put ``array`` at ``path`` inside ``root``, where saving left ``null``."""
    container = root
    for depth, step in enumerate(path):
        fits = (isinstance(container, dict) and isinstance(step, str) and step in container) or (
            isinstance(container, list)
            and isinstance(step, int)
            and not isinstance(step, bool)
            and 0 <= step < len(container)
        )
        if not fits:
            raise source.error(f"the {what} has no place {path[: depth + 1]!r} for an array.")
        if depth == len(path) - 1:
            if container[step] is not None:
                raise source.error(f"the {what} place {path!r} for an array is not empty.")
            container[step] = array
            return
        container = container[step]
    raise source.error(f"the {what} has an array reference with an empty path.")
