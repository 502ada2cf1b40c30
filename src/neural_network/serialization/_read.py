"""Loading: every check between the bytes on disk and a :class:`Checkpoint`."""


from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, NamedTuple

import numpy as np

from neural_network import __version__
from neural_network.errors import (
    InvalidInputError,
    InvalidTypeError,
    NonFiniteError,
    ShapeMismatchError,
    describe,
)
from neural_network.layers import Dense, Dropout, Layer
from neural_network.network import Sequential
from neural_network.optimizers import OPTIMIZERS, Optimizer, get_optimizer
from neural_network.serialization._archive import Archive, not_a_model
from neural_network.serialization._format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MODEL_ENTRY,
    AnyArray,
    Checkpoint,
    Source,
)
from neural_network.serialization._write import content_digest

# =========================================================================== loading


class _Record(NamedTuple):
    """An array's entry in the document's table: what saving recorded of it."""

    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    sha256: str


class _Arrays:
    """The archive's arrays, each handed out once; any left over is reported."""

    def __init__(self, source: Source, arrays: dict[str, AnyArray]) -> None:
        self._source = source
        self._arrays = arrays

    def take(self, name: object, where: str) -> AnyArray:
        if not isinstance(name, str) or name not in self._arrays:
            raise self._source.error(
                f"{where} refers to the array {name!r}, which the file does not hold (or which is "
                "used twice). The file is damaged or was not written by save."
            )
        return self._arrays.pop(name)

    def check_all_taken(self) -> None:
        if self._arrays:
            raise self._source.error(
                f"the arrays {sorted(self._arrays)} are listed in the file's table but belong to "
                "nothing in it. The file is damaged or was not written by save."
            )


def read_checkpoint(path: object, owner: str) -> Checkpoint:
    """Open, check and rebuild everything in the model file at ``path``."""
    if not isinstance(path, (str, os.PathLike)) or not isinstance(os.fspath(path), str):
        raise InvalidTypeError(f"{owner}: path must be a str or a pathlib.Path; got {describe(path)}.")
    source = Source(owner, str(os.fspath(path)))
    # Everything the file declares is checked before any array is read (see _archive).
    with _open(source) as file, Archive(source, file) as archive:
        document = _read_document(source, archive.read_document())
        records = _records(source, document, archive.names - {MODEL_ENTRY})
        for name, record in records.items():
            archive.check(name, record.shape, record.dtype)
        _check_architecture(source, document, records)
        values = {
            name: _checked(source, name, record, archive.read(name)) for name, record in records.items()
        }
    arrays = _Arrays(source, values)
    model = _build_model(source, _field(source, document, "model", dict, "the document"), arrays)
    if "loss" in document:  # absent in files of models that were not trained with fit
        model.loss = _field(source, document, "loss", str, "the document")
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


@contextlib.contextmanager
def _open(source: Source) -> Iterator[IO[bytes]]:
    """The file at ``source.path``, open for reading, once it looks like a zip archive."""
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
        start = file.read(4)
        file.seek(0)
        if start != b"PK\x03\x04":  # every zip archive (and so every .npz) starts so
            if start.startswith(b"\x93NUM"):
                raise not_a_model(source, "it holds a single .npy array, not an .npz archive")
            raise not_a_model(source, f"it begins with {start!r}, not as a zip archive (.npz) does")
        yield file


# --------------------------------------------------------------------------- the JSON document


def _read_document(source: Source, text: bytes) -> dict[str, Any]:
    """The JSON document, checked for its format name and version."""
    try:
        document = json.loads(text.decode("utf-8"), parse_constant=_refuse_constant)
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


def _field(source: Source, mapping: object, key: str, kind: type | tuple[type, ...], where: str) -> Any:
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


def _records(source: Source, document: dict[str, Any], names: set[str]) -> dict[str, _Record]:
    """The document's table of arrays, which must list exactly the arrays in the archive."""
    table = _field(source, document, "arrays", dict, "the document")
    missing, extra = sorted(set(table) - names), sorted(names - set(table))
    if missing:
        raise source.error(
            f"the file is incomplete: the arrays {missing} are listed in its table but absent."
        )
    if extra:
        raise source.error(
            f"the file holds arrays its table does not list: {extra}. It was altered after it was saved."
        )
    return {name: _record(source, name, record) for name, record in table.items()}


def _record(source: Source, name: str, record: object) -> _Record:
    where = f"the table entry of {name!r}"
    shape = _shape(source, _field(source, record, "shape", list, where), where)
    text = _field(source, record, "dtype", str, where)
    try:
        dtype = np.dtype(text)
    except (TypeError, ValueError):
        dtype = None
    if dtype is None or dtype.kind not in "biufc" or dtype.str != text:
        raise source.error(
            f"{where}: the dtype must be a NumPy numeric type as save records it, such as '<f8'; "
            f"got {text!r}. The file was altered after it was saved."
        )
    return _Record(shape, dtype, _field(source, record, "sha256", str, where))


def _check_architecture(source: Source, document: dict[str, Any], records: dict[str, _Record]) -> None:
    """Refuse, before any array is read, a table whose weights, biases or optimizer buffers
    do not have the shapes (and weights the dtypes) that the layers described need."""
    layers = _layers(source, _field(source, document, "model", dict, "the document"))
    shapes = []  # the parameters' shapes, in the order of Sequential.parameters()
    for position, spec in enumerate(layers):
        if _is_dropout(source, position, spec):
            continue  # no parameters: its rate and generator are checked as it is built
        in_features, out_features, dtype = _layer_spec(source, position, spec)
        where = f"layer {position}, Dense({in_features}, {out_features}),"
        for kind, shape in (("weights", (in_features, out_features)), ("bias", (out_features,))):
            name = f"parameters/{position}.{kind}"
            if name not in records:
                raise source.error(
                    f"{where} needs the array {name!r}, which the file does not hold. The file is "
                    "damaged or was not written by save."
                )
            if records[name].shape != shape:
                raise source.error(
                    f"{where} needs {kind} of shape {shape}; the array {name!r} has shape "
                    f"{records[name].shape}. The file was altered after it was saved.",
                    ShapeMismatchError,
                )
            if records[name].dtype.name != dtype:  # by name: either byte order will do
                raise source.error(
                    f"the array {name!r} has dtype {records[name].dtype.name} but its layer is {dtype}. "
                    "The file was altered after it was saved."
                )
            shapes.append(shape)
    for name, record in records.items():
        folder, _, rest = name.partition("/")
        if folder != "optimizer":
            continue
        index = rest.partition("/")[0]  # the writer names buffers optimizer/<parameter>/<buffer>
        if index not in {str(i) for i in range(len(shapes))}:
            raise source.error(
                f"the array {name!r} is named as optimizer state of parameter {index!r}, but the "
                f"model has parameters 0 to {len(shapes) - 1}. The file was altered after it was saved."
            )
        if record.shape != shapes[int(index)]:
            raise source.error(
                f"the optimizer state {name!r} must have its parameter's shape {shapes[int(index)]}; "
                f"it has {record.shape}. The file was altered after it was saved.",
                ShapeMismatchError,
            )


def _checked(source: Source, name: str, record: _Record, array: AnyArray) -> AnyArray:
    """``array``, once its values are checked against the digest recorded when it was saved."""
    digest = content_digest(array)
    if digest != record.sha256:
        raise source.error(
            f"the array {name!r} was tampered with or corrupted: its SHA-256 digest is "
            f"{digest[:16]}..., not the {record.sha256[:16]}... recorded when it was saved. "
            "Use an intact copy of the file."
        )
    return array


def _shape(source: Source, value: list[Any], where: str) -> tuple[int, ...]:
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in value):
        raise source.error(f"{where}: the shape must be a list of integers >= 0; got {value!r}.")
    return tuple(value)


# --------------------------------------------------------------------------- the model


def _layers(source: Source, part: dict[str, Any]) -> list[Any]:
    """The layers' descriptions in the model's part of the document."""
    if part.get("class") != "Sequential":
        raise source.error(f"the model must be a 'Sequential'; got {part.get('class')!r}.")
    specs: list[Any] = _field(source, part, "layers", list, "the model")
    if not specs:
        raise source.error("the model has no layers; a Sequential needs at least one.")
    return specs


def _build_model(source: Source, part: dict[str, Any], arrays: _Arrays) -> Sequential:
    """The layers rebuilt from their constructor arguments, then the saved values copied in."""
    layers = [_build_layer(source, position, spec, arrays) for position, spec in enumerate(_layers(source, part))]
    try:
        model = Sequential(layers)
    except InvalidInputError as exc:
        raise source.error(f"the layers do not form a network: {exc}", _file_error_kind(exc)) from None
    for name, parameter in model.named_parameters():
        value = arrays.take(f"parameters/{name}", "the model")  # its shape and dtype are checked
        if not np.all(np.isfinite(value)):
            raise source.error(
                f"the array 'parameters/{name}' holds NaN or infinity; a model with non-finite "
                "weights predicts NaN. Save the model again from a state before training diverged.",
                NonFiniteError,
            )
        parameter.value[...] = value  # in place: the layer keeps its own Parameter objects
    return model


def _is_dropout(source: Source, position: int, spec: object) -> bool:
    return bool(_field(source, spec, "class", str, f"layer {position}") == "Dropout")


def _layer_spec(source: Source, position: int, spec: object) -> tuple[int, int, str]:
    """A layer's class (Dense), numbers of inputs and outputs, and dtype name."""
    where = f"layer {position}"
    kind = _field(source, spec, "class", str, where)
    if kind != "Dense":
        raise source.error(f"{where} must be a 'Dense' or 'Dropout' layer; got {kind!r}.")
    in_features = _field(source, spec, "in_features", int, where)
    out_features = _field(source, spec, "out_features", int, where)
    dtype = _field(source, spec, "dtype", str, where)
    if dtype not in ("float32", "float64"):
        raise source.error(f"{where}: dtype must be 'float32' or 'float64'; got {dtype!r}.")
    return in_features, out_features, dtype


def _build_layer(source: Source, position: int, spec: object, arrays: _Arrays) -> Layer:
    """A new layer as described (the sizes were checked against the arrays before any was read)."""
    where = f"layer {position}"
    if _is_dropout(source, position, spec):
        rate = _field(source, spec, "rate", (int, float), where)
        rng_part = _field(source, spec, "rng", (dict, type(None)), where)
        try:
            layer = Dropout(rate)
        except InvalidInputError as exc:
            raise source.error(f"{where} cannot be built: {exc}", _file_error_kind(exc)) from None
        if rng_part is not None:
            layer.rng = _build_rng(source, rng_part, arrays)
        return layer
    in_features, out_features, dtype = _layer_spec(source, position, spec)
    activation = _field(source, spec, "activation", str, where)
    init = _field(source, spec, "init", str, where)
    try:
        return Dense(in_features, out_features, activation, rng=0, init=init, dtype=np.dtype(dtype))
    except InvalidInputError as exc:
        raise source.error(f"{where} cannot be built: {exc}", _file_error_kind(exc)) from None


def _file_error_kind(exc: InvalidInputError) -> type[InvalidInputError]:
    """A constructor's error, as a problem of the file: shapes stay shape errors, the rest is bad input
    (an unknown activation in a file is no InvalidOptionError of the caller)."""
    return ShapeMismatchError if isinstance(exc, ShapeMismatchError) else InvalidInputError


# --------------------------------------------------------------------------- the optimizer


def _build_optimizer(source: Source, part: dict[str, Any], model: Sequential, arrays: _Arrays) -> Optimizer:
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


def _optimizer_entry(source: Source, i: int, entry: object, arrays: _Arrays) -> dict[str, Any]:
    """One parameter's entry of the state, with its buffers' array names replaced by the arrays."""
    where = f"the optimizer's parameter {i}"
    buffers = _field(source, entry, "buffers", dict, where)
    return {
        "name": _field(source, entry, "name", str, where),
        "shape": _shape(source, _field(source, entry, "shape", list, where), where),
        "buffers": {key: arrays.take(name, where) for key, name in buffers.items()},
    }


def _check_optimizer_matches(source: Source, entries: list[dict[str, Any]], model: Sequential) -> None:
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


_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_RNG_LIMITS = {"pos": 624, "buffer_pos": 4, "has_uint32": 1, "uinteger": 2**32 - 1}
"""The largest value of each integer in a bit generator's state; the others are 128-bit."""


def _build_rng(source: Source, part: dict[str, Any], arrays: _Arrays) -> np.random.Generator:
    """A generator whose bit generator has exactly the saved state."""
    name = _field(source, part, "bit_generator", str, "the rng")
    if name not in _BIT_GENERATORS:
        raise source.error(
            f"the rng's bit generator must be one of NumPy's {list(_BIT_GENERATORS)}; got {name!r}."
        )
    bit_generator = getattr(np.random, name)(0)  # any seed: the state is replaced at once
    state = _restore_json(source, part, "rng", arrays)
    _check_rng_state(source, name, bit_generator.state, state, "state", "state")
    try:
        bit_generator.state = state
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        raise source.error(f"the rng state is not a valid {name} state ({exc!r}).") from None
    return np.random.Generator(bit_generator)


def _check_rng_state(
    source: Source, name: str, template: object, value: object, key: str, where: str
) -> None:
    """Refuse a state that differs in layout from ``template`` (a fresh generator's), or holds an
    integer out of range. NumPy would raise OverflowError for some, and accept others (MT19937's
    ``pos``, Philox's ``buffer_pos``) only to read outside the generator's state when drawing."""
    if isinstance(template, dict):
        if isinstance(value, dict) and set(value) == set(template):
            for k in template:
                _check_rng_state(source, name, template[k], value[k], k, f"{where}[{k!r}]")
            return
        expected = f"a dict with the keys {sorted(template)}"
    elif isinstance(template, np.ndarray):
        if isinstance(value, np.ndarray) and value.shape == template.shape and value.dtype == template.dtype:
            return
        expected = f"an array of shape {template.shape} and dtype {template.dtype}"
    elif isinstance(template, int):
        limit = _RNG_LIMITS.get(key, 2**128 - 1)
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= limit:
            return
        expected = f"an integer from 0 to {limit}"
    else:  # the bit generator's name
        if value == template:
            return
        expected = repr(template)
    raise source.error(
        f"the rng state is not a valid {name} state: {where} must be {expected}; got {describe(value)}. "
        "The file was altered after it was saved; use an intact copy."
    )


# --------------------------------------------------------------------------- JSON with arrays


def _restore_json(source: Source, part: dict[str, Any], what: str, arrays: _Arrays) -> Any:
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


def _put(source: Source, root: Any, path: list[Any], array: AnyArray, what: str) -> None:
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
