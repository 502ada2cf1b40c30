"""Saving and loading models: exact round trips, bit-identical resumption, refused damage.

The independent checks: the file is read back with plain ``zipfile``, ``np.load`` and
``hashlib`` (not with the module under test) to check its layout and digests; resumed
training is compared with the same training run in one go; damaged files are made by
rewriting the archive with NumPy's own ``np.savez`` or by cutting and flipping bytes.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import stat
import zipfile

import numpy as np
import pytest

import neural_network
from neural_network import SGD, Adam, AdamW, Dense, RMSprop, Sequential
from neural_network.datasets import load_breast_cancer
from neural_network.errors import (
    InvalidInputError,
    InvalidTypeError,
    NonFiniteError,
    ShapeMismatchError,
)
from neural_network.serialization import Checkpoint, load, load_checkpoint, save

ARCHITECTURES = {
    "relu-linear": [(4, 8, "relu"), (8, 1, None)],
    "gelu_tanh-leaky_relu-tanh": [(3, 5, "gelu_tanh"), (5, 5, "leaky_relu"), (5, 2, "tanh")],
    "sigmoid": [(6, 3, "sigmoid")],
    "elu-softplus-gelu": [(2, 7, "elu"), (7, 4, "softplus"), (4, 3, "gelu"), (3, 1, "identity")],
}
DTYPES = [np.float32, np.float64]


def make_model(spec, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    return Sequential([Dense(i, o, a, rng=rng, dtype=dtype) for i, o, a in spec])


def trained_model(tmp_path, dtype=np.float64):
    """A small model with non-trivial weights and biases, saved to ``tmp_path / 'model.npz'``."""
    model = make_model(ARCHITECTURES["relu-linear"], dtype)
    rng = np.random.default_rng(1)
    for parameter in model.parameters():
        parameter.value[...] = rng.normal(size=parameter.value.shape)
    path = tmp_path / "model.npz"
    model.save(path)
    return model, path


def read_npz(path):
    """Every array of the archive, read by NumPy alone."""
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def document_of(arrays):
    return json.loads(arrays["__model__.json"].tobytes().decode("utf-8"))


def with_document(arrays, document):
    return {**arrays, "__model__.json": np.frombuffer(json.dumps(document).encode("utf-8"), dtype=np.uint8)}


def rewrite(path, arrays):
    """Write ``arrays`` to ``path`` with NumPy's own np.savez (which pickles object arrays)."""
    with open(path, "wb") as file:  # a file object: np.savez appends no suffix
        np.savez(file, **arrays)


def sha256(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def refused(call, error, *words):
    """``call()`` raises exactly ``error``, with every word, and no internal exception chained."""
    with pytest.raises(Exception) as info:
        call()
    exc = info.value
    assert type(exc) is error, f"expected {error.__name__}, got {type(exc).__name__}: {exc}"
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__
    message = str(exc)
    missing = [word for word in words if word not in message]
    assert not missing, f"message lacks {missing!r}:\n{message}"
    return message


def standardized_breast_cancer():
    data = load_breast_cancer()
    X = (data.X - data.X.mean(axis=0)) / data.X.std(axis=0)
    return X, data.y


# =========================================================================== round trips


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_save_load_predicts_bit_for_bit(tmp_path, name, dtype):
    model = make_model(ARCHITECTURES[name], dtype, seed=3)
    for parameter in model.parameters():  # non-zero biases too
        parameter.value[...] = np.random.default_rng(4).normal(size=parameter.value.shape)
    X = np.random.default_rng(5).normal(size=(17, model.in_features))
    path = tmp_path / "model.npz"
    save(model, path)
    loaded = load(path)
    expected, got = model.predict(X), loaded.predict(X)
    assert got.dtype == expected.dtype == np.dtype(dtype)
    assert np.array_equal(got, expected)
    assert repr(loaded) == repr(model)
    for (name_a, a), (name_b, b) in zip(model.named_parameters(), loaded.named_parameters(), strict=True):
        assert name_a == name_b
        assert a.value.dtype == b.value.dtype
        assert np.array_equal(a.value, b.value)
    for original, rebuilt in zip(model.layers, loaded.layers, strict=True):
        assert (rebuilt.activation, rebuilt.init, rebuilt.dtype) == (
            original.activation,
            original.init,
            original.dtype,
        )


def test_the_top_level_load_and_the_method_are_this_module(tmp_path):
    assert neural_network.load is load
    model = make_model(ARCHITECTURES["sigmoid"])
    model.save(tmp_path / "a.npz")
    save(model, tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()  # also: deterministic bytes


def test_the_loaded_weights_are_writable_and_training_changes_them(tmp_path):
    _, path = trained_model(tmp_path)
    model = load(path)
    before = [p.value.copy() for p in model.parameters()]
    X = np.random.default_rng(0).normal(size=(8, 4))
    model.fit(X, X[:, 0], loss="mse_loss", optimizer=SGD(0.1), epochs=1, rng=0)
    assert all(not np.array_equal(a, p.value) for a, p in zip(before, model.parameters(), strict=True))


def test_the_file_layout_read_without_this_module(tmp_path):
    """The archive, its JSON and its digests, as zipfile, np.load, json and hashlib see them."""
    model = make_model(ARCHITECTURES["gelu_tanh-leaky_relu-tanh"], np.float32)
    optimizer = Adam(0.01)
    X = np.random.default_rng(0).normal(size=(10, 3))
    model.fit(X, np.zeros((10, 2)), loss="mse_loss", optimizer=optimizer, epochs=1, batch_size=4, rng=0)
    path = tmp_path / "model.npz"
    model.save(path, optimizer=optimizer, rng=np.random.default_rng(7), metadata={"w": np.arange(3)})

    with zipfile.ZipFile(path) as archive:
        names = sorted(archive.namelist())
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
    parameters = [f"parameters/{n}" for n, _ in model.named_parameters()]
    buffers = [f"optimizer/{i}/{b}" for i in range(6) for b in ("exp_avg", "exp_avg_sq")]
    assert names == sorted(f"{n}.npy" for n in ["__model__.json", *parameters, *buffers, "metadata/0"])

    arrays = read_npz(path)
    document = document_of(arrays)
    assert document["format"] == "neural_network.model"
    assert document["format_version"] == 1
    assert document["package_version"] == neural_network.__version__
    assert document["model"] == {
        "class": "Sequential",
        "layers": [
            {
                "class": "Dense",
                "in_features": 3,
                "out_features": 5,
                "activation": "gelu_tanh",
                "init": "glorot",
                "dtype": "float32",
            },
            {
                "class": "Dense",
                "in_features": 5,
                "out_features": 5,
                "activation": "leaky_relu",
                "init": "glorot",
                "dtype": "float32",
            },
            {
                "class": "Dense",
                "in_features": 5,
                "out_features": 2,
                "activation": "tanh",
                "init": "glorot",
                "dtype": "float32",
            },
        ],
    }
    assert sorted(document["arrays"]) == sorted(name for name in arrays if name != "__model__.json")
    for name, record in document["arrays"].items():
        assert record == {
            "shape": list(arrays[name].shape),
            "dtype": arrays[name].dtype.str,
            "sha256": sha256(arrays[name]),
        }
    for name, parameter in model.named_parameters():
        assert np.array_equal(arrays[f"parameters/{name}"], parameter.value)
    state = optimizer.state_dict()
    assert document["optimizer"]["step"] == state["step"] == 3
    assert document["optimizer"]["hyperparameters"] == state["hyperparameters"]
    for i, entry in enumerate(state["parameters"]):
        for buffer, array in entry["buffers"].items():
            assert np.array_equal(arrays[f"optimizer/{i}/{buffer}"], array)
            assert arrays[f"optimizer/{i}/{buffer}"].dtype == np.float32
    assert document["rng"]["bit_generator"] == "PCG64"
    assert document["rng"]["state"] == np.random.default_rng(7).bit_generator.state
    assert document["metadata"] == {"values": {"w": None}, "arrays": [{"path": ["w"], "array": "metadata/0"}]}


def test_save_writes_exactly_the_path_given(tmp_path):
    model = make_model(ARCHITECTURES["sigmoid"])
    model.save(tmp_path / "model")  # no suffix: none is added, unlike np.savez
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert np.array_equal(load(tmp_path / "model").predict(np.ones((1, 6))), model.predict(np.ones((1, 6))))
    assert np.array_equal(load(str(tmp_path / "model")).layers[0].weights, model.layers[0].weights)


# =========================================================================== resuming


OPTIMIZERS = {
    "Adam": lambda: Adam(0.01),
    "AdamW-amsgrad": lambda: AdamW(0.01, weight_decay=0.1, amsgrad=True),
    "SGD-nesterov": lambda: SGD(0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
    "RMSprop-centered": lambda: RMSprop(0.003, momentum=0.5, centered=True),
}


@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("optimizer_name", OPTIMIZERS)
@pytest.mark.parametrize("bit_generator", ["PCG64", "MT19937", "Philox", "SFC64"])
def test_resuming_equals_training_in_one_go(tmp_path, optimizer_name, bit_generator, dtype):
    X, y = standardized_breast_cancer()
    spec = [(30, 16, "relu"), (16, 8, "gelu_tanh"), (8, 1, None)]
    options = {"loss": "binary_cross_entropy_with_logits", "batch_size": 64}  # 569 = 8 * 64 + 57

    def generator():
        return np.random.Generator(getattr(np.random, bit_generator)(2024))

    straight = make_model(spec, dtype, seed=11)
    straight.fit(X, y, optimizer=OPTIMIZERS[optimizer_name](), epochs=5, rng=generator(), **options)

    first = make_model(spec, dtype, seed=11)
    optimizer, rng = OPTIMIZERS[optimizer_name](), generator()
    first.fit(X, y, optimizer=optimizer, epochs=3, rng=rng, **options)
    first.save(tmp_path / "run.npz", optimizer=optimizer, rng=rng, metadata={"epochs": 3})
    del first, optimizer, rng
    checkpoint = load_checkpoint(tmp_path / "run.npz")
    assert checkpoint.metadata == {"epochs": 3}
    assert checkpoint.optimizer is not None and checkpoint.rng is not None
    assert checkpoint.optimizer.step_count == 3 * 9
    assert type(checkpoint.rng.bit_generator).__name__ == bit_generator
    checkpoint.model.fit(X, y, optimizer=checkpoint.optimizer, epochs=2, rng=checkpoint.rng, **options)

    for (name, a), (_, b) in zip(
        straight.named_parameters(), checkpoint.model.named_parameters(), strict=True
    ):
        assert b.value.dtype == np.dtype(dtype)
        assert np.array_equal(a.value, b.value), name


def test_resuming_without_the_optimizer_state_differs(tmp_path):
    """The resumption test can fail: a fresh optimizer (Adam's moments lost) ends elsewhere."""
    X, y = standardized_breast_cancer()
    spec, options = (
        [(30, 8, "relu"), (8, 1, None)],
        {"loss": "binary_cross_entropy_with_logits", "batch_size": 64},
    )
    straight = make_model(spec, seed=1)
    straight.fit(X, y, optimizer=Adam(0.01), epochs=2, rng=5, **options)
    first, rng = make_model(spec, seed=1), np.random.default_rng(5)
    first.fit(X, y, optimizer=Adam(0.01), epochs=1, rng=rng, **options)
    first.save(tmp_path / "run.npz", rng=rng)
    checkpoint = load_checkpoint(tmp_path / "run.npz")
    assert checkpoint.optimizer is None
    checkpoint.model.fit(X, y, optimizer=Adam(0.01), epochs=1, rng=checkpoint.rng, **options)
    assert not np.array_equal(straight.layers[0].weights, checkpoint.model.layers[0].weights)


def test_an_optimizer_saved_before_its_first_step(tmp_path):
    X = np.random.default_rng(0).normal(size=(20, 4))
    y = X @ np.array([1.0, -2.0, 0.5, 0.0])
    model = make_model(ARCHITECTURES["relu-linear"])
    model.save(tmp_path / "m.npz", optimizer=SGD(0.05, momentum=0.9))
    checkpoint = load_checkpoint(tmp_path / "m.npz")
    assert checkpoint.optimizer is not None
    assert checkpoint.optimizer.step_count == 0
    assert repr(checkpoint.optimizer) == repr(SGD(0.05, momentum=0.9))
    model.fit(X, y, loss="mse_loss", optimizer=SGD(0.05, momentum=0.9), epochs=3, batch_size=8, rng=1)
    checkpoint.model.fit(X, y, loss="mse_loss", optimizer=checkpoint.optimizer, epochs=3, batch_size=8, rng=1)
    assert np.array_equal(model.layers[0].weights, checkpoint.model.layers[0].weights)


def test_a_checkpoint_without_optimizer_or_rng(tmp_path):
    _, path = trained_model(tmp_path)
    checkpoint = load_checkpoint(path)
    assert isinstance(checkpoint, Checkpoint)
    assert (checkpoint.optimizer, checkpoint.rng, checkpoint.metadata) == (None, None, {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        checkpoint.metadata = {}


def test_the_restored_generator_continues_the_saved_one(tmp_path):
    model = make_model(ARCHITECTURES["sigmoid"])
    for kind in (np.random.PCG64, np.random.PCG64DXSM, np.random.MT19937, np.random.Philox, np.random.SFC64):
        rng = np.random.Generator(kind(99))
        rng.random(7)  # PCG64 and others keep a half-used 32-bit word: leave one
        rng.integers(0, 10, dtype=np.uint32)
        model.save(tmp_path / "r.npz", rng=rng)
        restored = load_checkpoint(tmp_path / "r.npz").rng
        assert restored is not None
        assert np.array_equal(
            restored.integers(0, 2**32, size=50, dtype=np.uint32),
            rng.integers(0, 2**32, size=50, dtype=np.uint32),
        )
        assert np.array_equal(restored.random(20), rng.random(20))


# =========================================================================== metadata


def test_metadata_round_trip_is_exact(tmp_path):
    mean = np.random.default_rng(0).normal(size=30)
    metadata = {
        "epochs": 12,
        "learning_rate": 0.1 + 0.2,  # 0.30000000000000004, kept to the last bit
        "tiny": 5e-324,
        "huge_int": 2**80 + 1,
        "name": "breast cancer, ünïcode ✓",
        "flags": [True, False, None],
        "empty": {},
        "nested": {"list": [1, [2.5, "x"], {"deep": np.arange(4, dtype=np.int16)}]},
        "scaler": {"mean": mean, "std": np.float32([1.5, 2.5]), "cells": np.ones((2, 3), dtype=complex)},
        "mask": np.array([True, False]),
        "scalar_array": np.array(np.nan),  # a NaN is fine inside an array
        "numpy_scalar": np.float32(0.1),
        "numpy_int": np.int64(-7),
    }
    model = make_model(ARCHITECTURES["sigmoid"])
    model.save(tmp_path / "m.npz", metadata=metadata)
    got = load_checkpoint(tmp_path / "m.npz").metadata
    assert set(got) == set(metadata)
    for key in ("epochs", "learning_rate", "tiny", "huge_int", "name", "flags", "empty"):
        assert got[key] == metadata[key] and type(got[key]) is type(metadata[key])
    assert got["learning_rate"] == 0.30000000000000004
    assert got["numpy_scalar"] == float(np.float32(0.1)) and type(got["numpy_scalar"]) is float
    assert got["numpy_int"] == -7 and type(got["numpy_int"]) is int
    arrays = {
        ("nested", "list", 2, "deep"): metadata["nested"]["list"][2]["deep"],
        ("scaler", "mean"): mean,
        ("scaler", "std"): metadata["scaler"]["std"],
        ("scaler", "cells"): metadata["scaler"]["cells"],
        ("mask",): metadata["mask"],
        ("scalar_array",): metadata["scalar_array"],
    }
    for path, expected in arrays.items():
        value = got
        for step in path:
            value = value[step]
        assert type(value) is np.ndarray
        assert value.dtype == expected.dtype and value.shape == expected.shape
        assert np.array_equal(value, expected, equal_nan=True)
    assert got["nested"]["list"][:2] == [1, [2.5, "x"]]


@pytest.mark.parametrize(
    ("metadata", "error", "words"),
    [
        ({"pair": (1, 2)}, InvalidTypeError, ["metadata['pair']", "Use a list"]),
        ({"loss": float("nan")}, NonFiniteError, ["metadata['loss']", "finite", "np.array"]),
        ({"a": {"b": [1, float("-inf")]}}, NonFiniteError, ["metadata['a']['b'][1]", "-inf"]),
        ({"obj": object()}, InvalidTypeError, ["metadata['obj']", "object"]),
        ({"set": {1, 2}}, InvalidTypeError, ["metadata['set']", "set"]),
        ({"n": {1: "one"}}, InvalidTypeError, ["metadata['n']", "str keys", "1"]),
        ({"text": np.array(["a", "b"])}, InvalidTypeError, ["metadata['text']", "numeric", "<U1"]),
        ({"objs": np.array([None, 1], dtype=object)}, InvalidTypeError, ["metadata['objs']", "object"]),
        (
            {"masked": np.ma.array([1.0, 2.0], mask=[0, 1])},
            InvalidTypeError,
            ["metadata['masked']", "MaskedArray"],
        ),
        ({"c": 1 + 2j}, InvalidTypeError, ["metadata['c']", "complex"]),
    ],
)
def test_unsupported_metadata_is_refused_and_nothing_is_written(tmp_path, metadata, error, words):
    model = make_model(ARCHITECTURES["sigmoid"])
    refused(lambda: model.save(tmp_path / "m.npz", metadata=metadata), error, "save:", *words)
    assert list(tmp_path.iterdir()) == []


def test_metadata_must_be_a_mapping(tmp_path):
    model = make_model(ARCHITECTURES["sigmoid"])
    refused(
        lambda: save(model, tmp_path / "m.npz", metadata=[("a", 1)]), InvalidTypeError, "metadata", "mapping"
    )


# =========================================================================== bad arguments to save


def test_save_refuses_what_it_cannot_rebuild(tmp_path):
    model = make_model(ARCHITECTURES["relu-linear"])
    path = tmp_path / "m.npz"
    refused(lambda: save(model.layers[0], path), InvalidTypeError, "save:", "Sequential", "Dense")
    refused(lambda: save(model, path, optimizer="adam"), InvalidTypeError, "optimizer", "Adam", "str")
    refused(lambda: save(model, path, rng=42), InvalidTypeError, "rng", "Generator", "int")
    refused(lambda: save(model, path, rng=np.random.RandomState(0)), InvalidTypeError, "rng", "RandomState")
    refused(lambda: save(model, 42), InvalidTypeError, "path", "int")

    class MyAdam(Adam):
        pass

    refused(lambda: save(model, path, optimizer=MyAdam()), InvalidTypeError, "optimizer", "MyAdam")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_the_optimizer_of_another_model(tmp_path):
    model, other = make_model(ARCHITECTURES["relu-linear"]), make_model(ARCHITECTURES["sigmoid"])
    optimizer = SGD(0.1, momentum=0.9)
    other.fit(np.ones((4, 6)), np.zeros((4, 3)), loss="mse_loss", optimizer=optimizer, epochs=1, rng=0)
    refused(
        lambda: model.save(tmp_path / "m.npz", optimizer=optimizer),
        InvalidInputError,
        "optimizer",
        "this model",
    )


def test_save_refuses_non_finite_weights(tmp_path):
    model = make_model(ARCHITECTURES["relu-linear"])
    model.layers[1].bias[0] = np.inf
    refused(
        lambda: model.save(tmp_path / "m.npz"), NonFiniteError, "save:", "'1.bias'", "finite", "learning rate"
    )
    assert list(tmp_path.iterdir()) == []


def test_save_into_a_missing_folder_or_onto_a_folder(tmp_path):
    model = make_model(ARCHITECTURES["sigmoid"])
    missing = tmp_path / "runs" / "today"
    message = refused(
        lambda: model.save(missing / "m.npz"), FileNotFoundError, "save:", str(missing), "mkdir"
    )
    assert "does not exist" in message
    assert list(tmp_path.iterdir()) == []
    refused(lambda: model.save(tmp_path), IsADirectoryError, "save:", "folder", "model.npz")


# =========================================================================== atomic writing


def test_saving_over_a_file_replaces_it(tmp_path):
    path = tmp_path / "m.npz"
    path.write_bytes(b"an old file")
    model = make_model(ARCHITECTURES["sigmoid"])
    model.save(path)
    assert np.array_equal(load(path).layers[0].weights, model.layers[0].weights)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


@pytest.mark.parametrize(
    "failure", [OSError("disk full"), KeyboardInterrupt()], ids=["OSError", "KeyboardInterrupt"]
)
@pytest.mark.parametrize("where", ["os.replace", "array writer", "os.fsync"])
def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch, where, failure):
    old_model, path = trained_model(tmp_path)
    old_bytes = path.read_bytes()

    def fail(*args, **kwargs):
        if where == "array writer":  # fail half-way: something has been written
            args[0].write(b"partial")
        raise failure

    if where == "os.replace":
        monkeypatch.setattr(os, "replace", fail)
    elif where == "os.fsync":
        monkeypatch.setattr(os, "fsync", fail)
    else:
        monkeypatch.setattr(np.lib.format, "write_array", fail)
    with pytest.raises(type(failure)):
        make_model(ARCHITECTURES["relu-linear"], seed=9).save(path)
    monkeypatch.undo()
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]
    assert path.read_bytes() == old_bytes
    assert np.array_equal(load(path).layers[0].weights, old_model.layers[0].weights)


def test_the_file_is_synced_before_it_replaces_the_target(tmp_path, monkeypatch):
    calls = []
    real_fsync, real_replace = os.fsync, os.replace
    monkeypatch.setattr(os, "fsync", lambda fd: (calls.append("fsync"), real_fsync(fd))[1])
    monkeypatch.setattr(os, "replace", lambda a, b: (calls.append("replace"), real_replace(a, b))[1])
    make_model(ARCHITECTURES["sigmoid"]).save(tmp_path / "m.npz")
    assert calls[:2] == ["fsync", "replace"]


@pytest.mark.skipif(os.name == "nt", reason="POSIX permission bits")
def test_file_permissions_are_those_of_an_ordinary_file(tmp_path):
    model = make_model(ARCHITECTURES["sigmoid"])
    (tmp_path / "reference").write_bytes(b"")  # created as open() creates files: 0o666 less the umask
    model.save(tmp_path / "new.npz")
    assert stat.S_IMODE((tmp_path / "new.npz").stat().st_mode) == stat.S_IMODE(
        (tmp_path / "reference").stat().st_mode
    )
    existing = tmp_path / "existing.npz"
    existing.write_bytes(b"old")
    existing.chmod(0o640)
    model.save(existing)
    assert stat.S_IMODE(existing.stat().st_mode) == 0o640


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_saving_through_a_symbolic_link_replaces_the_file_it_points_to(tmp_path):
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "m.npz"
    target.write_bytes(b"old")
    link = tmp_path / "latest.npz"
    link.symlink_to(target)
    model = make_model(ARCHITECTURES["sigmoid"])
    model.save(link)
    assert link.is_symlink()
    assert np.array_equal(load(target).layers[0].weights, model.layers[0].weights)


# =========================================================================== damaged files


def test_a_missing_file(tmp_path):
    refused(lambda: load(tmp_path / "nothing.npz"), FileNotFoundError, "load:", str(tmp_path / "nothing.npz"))
    refused(
        lambda: load_checkpoint(tmp_path / "nothing.npz"),
        FileNotFoundError,
        "load_checkpoint:",
        "nothing.npz",
    )
    make_model(ARCHITECTURES["sigmoid"]).save(tmp_path / "model.npz")
    refused(lambda: load(tmp_path / "model"), FileNotFoundError, "Did you mean", "model.npz")
    refused(lambda: load(tmp_path), IsADirectoryError, "load:", "folder")
    refused(lambda: load(3), InvalidTypeError, "load:", "path", "int")


@pytest.mark.parametrize("keep", [0, 1, 10, 100, 0.5, -1], ids=lambda k: f"keep={k}")
def test_a_truncated_file(tmp_path, keep):
    _, path = trained_model(tmp_path)
    data = path.read_bytes()
    size = (
        keep
        if isinstance(keep, int) and keep >= 0
        else (int(len(data) * keep) if keep > 0 else len(data) - 1)
    )
    path.write_bytes(data[:size])
    refused(lambda: load(path), InvalidInputError, "load:", "not a neural_network model file or truncated")


def test_random_bytes_and_other_files(tmp_path):
    path = tmp_path / "junk.npz"
    path.write_bytes(np.random.default_rng(0).bytes(5000))
    refused(lambda: load(path), InvalidInputError, "not a neural_network model file or truncated")
    path.write_text("weights: [1, 2, 3]\n")
    refused(lambda: load(path), InvalidInputError, "not a neural_network model file or truncated")
    np.save(tmp_path / "single.npy", np.ones(3))
    refused(
        lambda: load(tmp_path / "single.npy"),
        InvalidInputError,
        "not a neural_network model file",
        ".npy array",
    )


def test_a_zip_without_the_json(tmp_path):
    path = tmp_path / "weights.npz"
    rewrite(path, {"parameters/0.weights": np.ones((6, 3))})
    refused(
        lambda: load(path),
        InvalidInputError,
        "not a neural_network model file",
        "'__model__.json'",
        "model.save",
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    refused(lambda: load(path), InvalidInputError, "'__model__.json'", "readme.txt")


def test_a_byte_flipped_in_place_is_caught(tmp_path):
    """Flip one byte of the weights inside the archive itself: zip's CRC-32 catches it."""
    model, path = trained_model(tmp_path)
    data = bytearray(path.read_bytes())
    offset = data.find(model.layers[0].weights.tobytes())
    assert offset > 0
    data[offset + 5] ^= 0x01
    path.write_bytes(bytes(data))
    refused(lambda: load(path), InvalidInputError, "'parameters/0.weights'", "corrupted")


def test_a_weight_changed_with_the_old_json_is_caught_by_its_digest(tmp_path):
    _, path = trained_model(tmp_path)
    arrays = read_npz(path)
    weights = arrays["parameters/0.weights"].copy()
    weights.view(np.uint8)[3] ^= 0x10  # one bit of one weight
    rewrite(path, {**arrays, "parameters/0.weights": weights})  # a valid zip, the old JSON
    refused(
        lambda: load(path),
        InvalidInputError,
        "'parameters/0.weights'",
        "tampered with or corrupted",
        "SHA-256",
    )


def test_edited_json_with_a_wrong_shape(tmp_path):
    _, path = trained_model(tmp_path)
    arrays = read_npz(path)
    document = document_of(arrays)
    document["model"]["layers"][0]["in_features"] = 5
    rewrite(path, with_document(arrays, document))
    refused(lambda: load(path), ShapeMismatchError, "layer 0", "(5, 8)", "(4, 8)")

    document = document_of(arrays)
    document["arrays"]["parameters/1.bias"]["shape"] = [2]
    rewrite(path, with_document(arrays, document))
    refused(lambda: load(path), ShapeMismatchError, "'parameters/1.bias'", "(1,)", "(2,)")


def test_edited_json_with_a_wrong_dtype(tmp_path):
    _, path = trained_model(tmp_path)
    arrays = read_npz(path)
    document = document_of(arrays)
    for layer in document["model"]["layers"]:
        layer["dtype"] = "float32"
    rewrite(path, with_document(arrays, document))
    refused(lambda: load(path), InvalidInputError, "'parameters/0.weights'", "float64", "float32")

    document = document_of(arrays)
    document["arrays"]["parameters/0.bias"]["dtype"] = "<f4"
    rewrite(path, with_document(arrays, document))
    refused(lambda: load(path), InvalidInputError, "'parameters/0.bias'", "'<f8'", "'<f4'")


def test_an_unknown_format_version_or_name(tmp_path):
    _, path = trained_model(tmp_path)
    arrays = read_npz(path)
    document = document_of(arrays)
    rewrite(path, with_document(arrays, {**document, "format_version": 2, "package_version": "9.0"}))
    refused(
        lambda: load(path), InvalidInputError, "format version 2", "newer", "Upgrade neural_network", "9.0"
    )
    rewrite(path, with_document(arrays, {**document, "format": "keras"}))
    refused(lambda: load(path), InvalidInputError, "not a neural_network model file", "'keras'")
    rewrite(path, with_document(arrays, {**document, "format_version": "1"}))
    refused(lambda: load(path), InvalidInputError, "'format_version'", "int", "'1'")


def test_invalid_json(tmp_path):
    _, path = trained_model(tmp_path)
    arrays = read_npz(path)
    for text in (b"{not json", b'{"format": NaN}', b"\xff\xfe", b"[1, 2]"):
        rewrite(path, {**arrays, "__model__.json": np.frombuffer(text, dtype=np.uint8)})
        refused(lambda: load(path), InvalidInputError, "load:", "JSON")
    rewrite(path, {**arrays, "__model__.json": np.zeros(3)})
    refused(lambda: load(path), InvalidInputError, "'__model__.json'", "uint8")


def test_missing_and_extra_arrays(tmp_path):
    _, path = trained_model(tmp_path)
    arrays = read_npz(path)
    rewrite(path, {name: a for name, a in arrays.items() if name != "parameters/1.bias"})
    refused(lambda: load(path), InvalidInputError, "incomplete", "'parameters/1.bias'")
    rewrite(path, {**arrays, "parameters/2.weights": np.ones((1, 1))})
    refused(lambda: load(path), InvalidInputError, "does not list", "'parameters/2.weights'")
    # An array listed in the table (with its true digest) but used by nothing.
    document = document_of(arrays)
    extra = np.ones(2)
    document["arrays"]["stray"] = {"shape": [2], "dtype": extra.dtype.str, "sha256": sha256(extra)}
    rewrite(path, {**with_document(arrays, document), "stray": extra})
    refused(lambda: load(path), InvalidInputError, "'stray'", "belong to nothing")


def test_missing_fields(tmp_path):
    _, path = trained_model(tmp_path)
    arrays = read_npz(path)
    for field in ("model", "arrays", "metadata", "optimizer", "rng"):
        document = document_of(arrays)
        del document[field]
        rewrite(path, with_document(arrays, document))
        refused(lambda: load(path), InvalidInputError, "lacks the field", repr(field))
    document = document_of(arrays)
    del document["model"]["layers"][1]["activation"]
    rewrite(path, with_document(arrays, document))
    refused(lambda: load(path), InvalidInputError, "layer 1", "'activation'")
    document = document_of(arrays)
    document["model"]["layers"][1]["activation"] = "swish"
    rewrite(path, with_document(arrays, document))
    refused(lambda: load(path), InvalidInputError, "layer 1 cannot be built", "swish")


def test_non_finite_weights_with_a_matching_digest(tmp_path):
    _, path = trained_model(tmp_path)
    arrays = read_npz(path)
    bias = arrays["parameters/0.bias"].copy()
    bias[2] = np.nan
    document = document_of(arrays)
    document["arrays"]["parameters/0.bias"]["sha256"] = sha256(bias)
    rewrite(path, {**with_document(arrays, document), "parameters/0.bias": bias})
    refused(lambda: load(path), NonFiniteError, "'parameters/0.bias'", "NaN or infinity")


def test_an_object_array_is_never_unpickled(tmp_path, monkeypatch):
    _, path = trained_model(tmp_path)
    arrays = read_npz(path)
    rewrite(
        path, {**arrays, "parameters/0.weights": np.array([{"x": 1}, None], dtype=object)}
    )  # pickled by np.savez

    import pickle

    def no_unpickling(*args, **kwargs):
        raise AssertionError("load unpickled something")

    monkeypatch.setattr(pickle, "load", no_unpickling)
    monkeypatch.setattr(pickle, "loads", no_unpickling)
    refused(lambda: load(path), InvalidInputError, "'parameters/0.weights'", "pickle")


def test_a_damaged_optimizer_or_rng_part(tmp_path):
    model = make_model(ARCHITECTURES["relu-linear"])
    optimizer = Adam(0.01)
    model.fit(np.ones((4, 4)), np.zeros(4), loss="mse_loss", optimizer=optimizer, epochs=1, rng=0)
    path = tmp_path / "m.npz"
    model.save(path, optimizer=optimizer, rng=np.random.default_rng(0))
    arrays = read_npz(path)

    document = document_of(arrays)
    document["optimizer"]["optimizer"] = "Adagrad"
    rewrite(path, with_document(arrays, document))
    refused(lambda: load_checkpoint(path), InvalidInputError, "load_checkpoint:", "optimizer", "'Adagrad'")

    document = document_of(arrays)
    document["optimizer"]["hyperparameters"]["learning_rate"] = -1.0
    rewrite(path, with_document(arrays, document))
    refused(lambda: load_checkpoint(path), InvalidInputError, "optimizer state is not valid", "learning_rate")

    document = document_of(arrays)
    document["optimizer"]["parameters"][0]["name"] = "bias"
    rewrite(path, with_document(arrays, document))
    refused(lambda: load_checkpoint(path), InvalidInputError, "optimizer state is for the parameters")

    document = document_of(arrays)
    document["rng"]["bit_generator"] = "os"
    rewrite(path, with_document(arrays, document))
    refused(lambda: load_checkpoint(path), InvalidInputError, "bit generator", "'os'")

    document = document_of(arrays)
    document["rng"]["state"]["state"]["state"] = "not a number"
    rewrite(path, with_document(arrays, document))
    refused(lambda: load_checkpoint(path), InvalidInputError, "rng state", "PCG64")


def test_a_damaged_metadata_reference(tmp_path):
    model = make_model(ARCHITECTURES["sigmoid"])
    path = tmp_path / "m.npz"
    model.save(path, metadata={"a": [1, np.zeros(2)]})
    arrays = read_npz(path)
    for bad_path in (["b"], ["a", 5], ["a", 0], [], ["a", True]):
        document = document_of(arrays)
        document["metadata"]["arrays"][0]["path"] = bad_path
        rewrite(path, with_document(arrays, document))
        refused(lambda: load(path), InvalidInputError, "load:", "metadata")
