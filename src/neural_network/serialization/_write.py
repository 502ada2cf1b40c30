"""Saving: the parts of the JSON document, the arrays and their digests, the atomic write."""


from __future__ import annotations

import contextlib
import hashlib
import math
import os
import re
import secrets
import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from neural_network.errors import (
    InvalidInputError,
    InvalidTypeError,
    NonFiniteError,
    describe,
)
from neural_network.layers import Dense, Dropout
from neural_network.network import Sequential
from neural_network.optimizers import OPTIMIZERS, Optimizer
from neural_network.serialization._format import AnyArray, JsonPath

# =========================================================================== saving


def check_target(path: object) -> Path:
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


def model_architecture(model: object, arrays: dict[str, AnyArray]) -> dict[str, Any]:
    """The layers' constructor arguments; the parameters go into ``arrays``."""
    if not isinstance(model, Sequential):
        raise InvalidTypeError(
            f"save: model must be a Sequential network; got {describe(model)}. "
            "Wrap a single layer: Sequential([layer])."
        )
    layers: list[dict[str, Any]] = []
    for position, layer in enumerate(model.layers):
        if type(layer) is Dropout:
            # The rate, and the generator of the masks in its present state (null before
            # it has one), so that training resumed from the file draws the same masks.
            rng = None if layer.rng is None else rng_record(layer.rng, arrays, f"layers/{position}/rng")
            layers.append({"class": "Dropout", "rate": layer.rate, "rng": rng})
            continue
        if type(layer) is not Dense:
            raise InvalidTypeError(
                f"save: layer {position} must be a Dense or Dropout layer, which load can rebuild; got "
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


def optimizer_record(optimizer: object, model: Sequential, arrays: dict[str, AnyArray]) -> dict[str, Any]:
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


def rng_record(rng: object, arrays: dict[str, AnyArray], prefix: str = "rng") -> dict[str, Any]:
    """The generator's bit-generator class name and state (its arrays moved into ``arrays``,
    named ``<prefix>/<k>``)."""
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
    state = _to_json(rng.bit_generator.state, [], "save: rng state", prefix, arrays, refs)
    return {"bit_generator": kind.__name__, "state": state, "arrays": refs}


def metadata_record(metadata: Mapping[str, Any] | None, arrays: dict[str, AnyArray]) -> dict[str, Any]:
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


def describe_array(array: AnyArray) -> dict[str, Any]:
    """The shape, dtype and SHA-256 digest of the bytes of ``array``, as the table records them."""
    return {"shape": list(array.shape), "dtype": array.dtype.str, "sha256": content_digest(array)}


def content_digest(array: AnyArray) -> str:
    """The SHA-256 digest of the values of ``array`` in C order (its memory layout does not matter)."""
    return hashlib.sha256(array.tobytes(order="C")).hexdigest()


def write_atomically(target: Path, arrays: dict[str, AnyArray]) -> None:
    """Write the archive to a temporary file beside ``target``, sync it, then rename it onto ``target``."""
    _remove_stale_temporaries(target)
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


def _temporary_names(target: Path) -> re.Pattern[str]:
    """The names of the temporary files of saves to ``target``: ``.<name>.<pid>.<16 hex digits>.tmp``,
    where ``<pid>`` is the writing process's id (the pattern's group 1)."""
    return re.compile(re.escape(f".{target.name}.") + r"([0-9]{1,10})\.[0-9a-f]{16}\.tmp")


def _open_temporary(target: Path) -> tuple[IO[bytes], Path]:
    """A new, hidden file in the folder of ``target``, open for writing, named as
    :func:`_temporary_names` says (a random part keeps the threads of one process apart).

    Created with mode 0o666 (less the umask), as ``open`` would create ``target`` itself:
    ``tempfile.mkstemp`` would give 0o600, which the rename would carry over.
    """
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    descriptor = os.open(temporary, flags, 0o666)
    try:
        return os.fdopen(descriptor, "wb"), temporary
    except BaseException:
        os.close(descriptor)
        os.remove(temporary)
        raise


def _remove_stale_temporaries(target: Path) -> None:
    """Remove the temporary files that saves to ``target`` left behind when they were killed
    (kill -9, a crash, a power cut): those named as :func:`_temporary_names` says whose writing
    process no longer runs.

    Why the process and not the file's age: a save in progress in another process (or thread)
    may have started long ago (a large model, a slow disk), and removing its file would make
    it fail; whether its process still runs says exactly whether it can still finish. A dead
    writer's id that another program has since taken keeps its leftover until that program
    ends, which is harmless. Process ids are per machine: two machines saving to one path in
    a shared folder at the same moment may remove each other's file (one save then fails).
    Nothing here ever makes this save fail.
    """
    names = _temporary_names(target)
    try:
        found = os.listdir(target.parent)
    except OSError:
        return
    for name in found:
        match = names.fullmatch(name)
        if match is not None and not _is_running(int(match[1])):
            with contextlib.suppress(OSError):
                os.remove(target.with_name(name))


def _is_running(pid: int) -> bool:
    """Whether a process ``pid`` runs on this machine.

    On Windows, where ``os.kill`` would end the process, only this process counts as running:
    Windows refuses to remove a file that another process holds open, so the file of a save
    in progress elsewhere survives the attempt.
    """
    if pid == os.getpid():
        return True
    if os.name == "nt":
        return False
    try:
        os.kill(pid, 0)  # signal 0 sends nothing: it only asks whether the process exists
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:  # PermissionError: it runs, as another user
        return True
    return True


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


