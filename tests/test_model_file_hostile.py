"""Hostile model files: each is refused with a clear library error, before it is read.

The files are written by hand with ``zipfile`` from a real model file's entries, with one
thing changed: a ``.npy`` header declaring 10**12 elements, a zip directory declaring
gigabytes, an encrypted or compressed entry, a tampered generator state. Whether an entry
was read is seen by spying on ``np.lib.format.read_array`` (which reads an entry whole);
nothing asserts on time or memory directly. The temporary files of killed saves are
made by a real ``kill -9`` of a saving process, and by hand.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import neural_network.serialization as serialization
from neural_network import Adam, Dense, Sequential
from neural_network.errors import InvalidInputError, ShapeMismatchError
from neural_network.serialization import _archive, load, load_checkpoint
from test_serialization import refused

WEIGHTS = "parameters/0.weights.npy"
DOCUMENT = "__model__.json.npy"
GIGABYTES = 3 * 2**30


def saved(tmp_path, **extra):
    """A small trained-looking model saved to ``tmp_path / 'model.npz'``, and its path."""
    model = Sequential([Dense(4, 8, "relu", rng=0), Dense(8, 1, rng=1)])
    path = tmp_path / "model.npz"
    model.save(path, **extra)
    return model, path


def entries_of(path):
    """The raw bytes of every entry of the archive, by entry name."""
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def repack(path, entries, change=None, compress_type=zipfile.ZIP_STORED):
    """Write ``entries`` to ``path``; ``change(info)`` then edits the zip directory's record of each."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(zipfile.ZipInfo(name), data, compress_type=compress_type)
        for info in archive.infolist():
            if change is not None:
                change(info)


def npy(array):
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def npy_header(shape, dtype="<f8"):
    """A .npy header alone, declaring ``shape`` and ``dtype``."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def document_of(entries):
    return json.loads(np.load(io.BytesIO(entries[DOCUMENT])).tobytes())


def with_document(entries, document):
    return {**entries, DOCUMENT: npy(np.frombuffer(json.dumps(document).encode(), dtype=np.uint8))}


@pytest.fixture
def reads(monkeypatch):
    """The names of the archive entries read whole (by np.lib.format.read_array), in order."""
    names = []
    read_array = np.lib.format.read_array

    def spy(fp, *args, **kwargs):
        if isinstance(fp, zipfile.ZipExtFile):
            names.append(fp.name)
        return read_array(fp, *args, **kwargs)

    monkeypatch.setattr(np.lib.format, "read_array", spy)
    return names


# =========================================================================== declared sizes


def test_a_header_declaring_10_12_elements_is_refused_before_the_array_is_read(tmp_path, reads):
    _, path = saved(tmp_path)
    entries = entries_of(path)
    repack(path, {**entries, WEIGHTS: npy_header((10**12,)) + bytes(16)})
    refused(lambda: load(path), ShapeMismatchError, "'parameters/0.weights'", "(1000000000000,)", "(4, 8)")
    assert reads == [DOCUMENT]


def test_a_table_and_header_declaring_10_12_elements_are_refused_by_the_declared_size(tmp_path, reads):
    _, path = saved(tmp_path)
    entries = entries_of(path)
    document = document_of(entries)
    document["arrays"]["parameters/0.weights"]["shape"] = [10**12]
    repack(path, {**with_document(entries, document), WEIGHTS: npy_header((10**12,)) + bytes(16)})
    refused(lambda: load(path), InvalidInputError, "'parameters/0.weights'", "declares", "take 8000000000")
    assert reads == [DOCUMENT]


def test_a_layer_of_10_12_weights_in_a_small_file_is_refused_without_building_it(tmp_path, reads):
    """Layer, table and header all agree on 10**12 weights: only the entry's size gives it away."""
    _, path = saved(tmp_path)
    entries = entries_of(path)
    document = document_of(entries)
    document["model"]["layers"][0]["out_features"] = 10**6
    document["model"]["layers"][0]["in_features"] = 10**6
    document["arrays"]["parameters/0.weights"]["shape"] = [10**6, 10**6]
    repack(path, {**with_document(entries, document), WEIGHTS: npy_header((10**6, 10**6)) + bytes(16)})
    refused(lambda: load(path), InvalidInputError, "'parameters/0.weights'", "declares")
    assert reads == [DOCUMENT]


def test_a_table_disagreeing_with_the_architecture_is_refused_before_any_array_is_read(tmp_path, reads):
    """The weights are consistent with the table, but not with the layer they belong to."""
    _, path = saved(tmp_path)
    entries = entries_of(path)
    document = document_of(entries)
    weights = np.zeros((4, 9))
    document["arrays"]["parameters/0.weights"]["shape"] = [4, 9]
    repack(path, {**with_document(entries, document), WEIGHTS: npy(weights)})
    refused(lambda: load(path), ShapeMismatchError, "layer 0", "(4, 8)", "(4, 9)")
    assert reads == [DOCUMENT]


def test_optimizer_state_of_the_wrong_shape_is_refused_before_any_array_is_read(tmp_path, reads):
    model = Sequential([Dense(4, 8, "relu", rng=0), Dense(8, 1, rng=1)])
    optimizer = Adam(0.01)
    model.fit(np.ones((4, 4)), np.zeros(4), loss="mse_loss", optimizer=optimizer, epochs=1, rng=0)
    path = tmp_path / "model.npz"
    model.save(path, optimizer=optimizer)
    entries = entries_of(path)
    document = document_of(entries)
    document["arrays"]["optimizer/1/exp_avg"]["shape"] = [10**6]
    repack(path, {**with_document(entries, document), "optimizer/1/exp_avg.npy": npy(np.zeros(10**6))})
    refused(lambda: load_checkpoint(path), ShapeMismatchError, "'optimizer/1/exp_avg'", "(8,)", "(1000000,)")
    assert reads == [DOCUMENT]


def test_a_member_declaring_gigabytes_is_refused_before_it_is_read(tmp_path, reads):
    _, path = saved(tmp_path)

    def gigabytes(info):
        if info.filename == WEIGHTS:
            info.file_size = info.compress_size = GIGABYTES

    repack(path, entries_of(path), gigabytes)
    with zipfile.ZipFile(path) as archive:  # what the file declares
        assert archive.getinfo(WEIGHTS).file_size == GIGABYTES
    assert path.stat().st_size < 10_000
    refused(
        lambda: load(path), InvalidInputError, f"'{WEIGHTS}'", f"declares {GIGABYTES} bytes", "past the end"
    )
    assert reads == []


def test_a_member_declaring_more_bytes_than_it_stores_is_refused(tmp_path, reads):
    """The shape of a zip bomb: gigabytes from a few stored bytes."""
    _, path = saved(tmp_path)

    def inflated(info):
        if info.filename == WEIGHTS:
            info.file_size = GIGABYTES

    repack(path, entries_of(path), inflated)
    refused(lambda: load(path), InvalidInputError, f"'{WEIGHTS}'", f"declares {GIGABYTES} bytes but stores")
    assert reads == []


def test_members_whose_declared_sizes_overlap_are_refused(tmp_path, reads):
    """Each entry lies inside the file, but together they declare more than the file holds."""
    _, path = saved(tmp_path)
    size = len(path.read_bytes())

    def overlapping(info):
        info.header_offset = 0
        info.file_size = info.compress_size = size // 2

    repack(path, entries_of(path), overlapping)
    refused(lambda: load(path), InvalidInputError, "more than the whole file", "overlap")
    assert reads == []


def test_a_member_larger_than_its_shape_needs_is_refused_before_it_is_read(tmp_path, reads):
    _, path = saved(tmp_path)
    entries = entries_of(path)
    repack(path, {**entries, WEIGHTS: entries[WEIGHTS] + bytes(2**20)})
    message = refused(lambda: load(path), InvalidInputError, "'parameters/0.weights'", "declares")
    assert f"take {len(entries[WEIGHTS])}" in message
    assert reads == [DOCUMENT]


# =========================================================================== entries


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda e: {**e, "notes.txt": b"hello"}, ["'notes.txt'", "not a .npy array"]),
        (lambda e: {**e, "extra.npy": npy(np.ones(3))}, ["does not list", "'extra'"]),
        (lambda e: {k: v for k, v in e.items() if k != WEIGHTS}, ["incomplete", "'parameters/0.weights'"]),
    ],
    ids=["a-file-that-is-no-array", "an-array-the-table-does-not-list", "a-missing-array"],
)
def test_an_unexpected_or_missing_member_is_refused(tmp_path, reads, change, words):
    _, path = saved(tmp_path)
    repack(path, change(entries_of(path)))
    refused(lambda: load(path), InvalidInputError, *words)
    assert reads in ([], [DOCUMENT])


def test_a_member_listed_twice_is_refused(tmp_path, reads):
    _, path = saved(tmp_path)
    entries = entries_of(path)
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
        archive.writestr(WEIGHTS, npy(np.zeros((4, 8))))
    refused(lambda: load(path), InvalidInputError, "more than once", "'parameters/0.weights.npy'")
    assert reads == []


def test_a_json_member_declaring_a_terabyte_is_refused_before_it_is_read(tmp_path, reads):
    _, path = saved(tmp_path)
    repack(path, {**entries_of(path), DOCUMENT: npy_header((2**40,), "|u1") + b"{}"})
    refused(lambda: load(path), InvalidInputError, "'__model__.json'", "1099511627776 bytes", "64 MiB")
    assert reads == []


def test_the_json_member_is_bounded_by_the_same_limit_as_save(tmp_path, monkeypatch, reads):
    _, path = saved(tmp_path)
    size = np.load(io.BytesIO(entries_of(path)[DOCUMENT])).size
    monkeypatch.setattr(_archive, "MAX_DOCUMENT_BYTES", size - 1)
    refused(lambda: load(path), InvalidInputError, "'__model__.json'", f"{size} bytes", f"at most {size - 1}")
    assert reads == []


def test_save_refuses_a_json_description_larger_than_load_reads(tmp_path, monkeypatch):
    monkeypatch.setattr(serialization, "MAX_DOCUMENT_BYTES", 2000)
    model = Sequential([Dense(2, 1, rng=0)])
    refused(
        lambda: model.save(tmp_path / "model.npz", metadata={"notes": "x" * 3000}),
        InvalidInputError,
        "save:",
        "JSON",
        "np.asarray",
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("bit", "words"),
    [(0x1, ["encrypted", "password"]), (0x40, ["strongly encrypted"]), (0x20, ["a patch"])],
    ids=["encrypted", "strongly-encrypted", "patch"],
)
@pytest.mark.parametrize("entry", [WEIGHTS, DOCUMENT])
def test_an_encrypted_member_is_refused_before_zipfile_asks_for_a_password(
    tmp_path, reads, entry, bit, words
):
    """zipfile itself raises RuntimeError (password required) or NotImplementedError for these."""
    _, path = saved(tmp_path)

    def flagged(info):
        if info.filename == entry:
            info.flag_bits |= bit

    repack(path, entries_of(path), flagged)
    refused(lambda: load(path), InvalidInputError, f"'{entry}'", *words)
    assert reads == []


@pytest.mark.parametrize(
    ("method", "name"),
    [(zipfile.ZIP_DEFLATED, "deflate"), (zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "lzma")],
)
def test_a_compressed_member_is_refused_before_it_is_inflated(tmp_path, reads, method, name):
    _, path = saved(tmp_path)
    repack(path, entries_of(path), compress_type=method)
    refused(lambda: load(path), InvalidInputError, "compressed", f"({name})", "uncompressed", "model.save")
    assert reads == []


def test_a_member_of_an_unknown_compression_method_is_refused(tmp_path, reads):
    """zipfile itself raises NotImplementedError for this one."""
    _, path = saved(tmp_path)

    def unknown(info):
        if info.filename == WEIGHTS:
            info.compress_type = 99  # AES, as WinZip writes it

    repack(path, entries_of(path), unknown)
    refused(lambda: load(path), InvalidInputError, f"'{WEIGHTS}'", "compressed (method 99)")
    assert reads == []


# =========================================================================== the generator


def checkpoint_with(tmp_path, bit_generator):
    _, path = saved(tmp_path, rng=np.random.Generator(getattr(np.random, bit_generator)(7)))
    return path, entries_of(path)


def edit(path, entries, change):
    document = document_of(entries)
    change(document["rng"]["state"])
    repack(path, with_document(entries, document))


TAMPERED_STATES = {
    "PCG64-state-of-200-bits": ("PCG64", lambda s: s["state"].update(state=2**200), "['state']['state']"),
    "PCG64-negative-inc": ("PCG64", lambda s: s["state"].update(inc=-1), "['state']['inc']"),
    "PCG64-float-state": ("PCG64", lambda s: s["state"].update(state=1.5), "['state']['state']"),
    "PCG64-uinteger-of-40-bits": ("PCG64", lambda s: s.update(uinteger=2**40), "['uinteger']"),
    "PCG64-has_uint32-true": ("PCG64", lambda s: s.update(has_uint32=True), "['has_uint32']"),
    "PCG64-extra-key": ("PCG64", lambda s: s.update(extra=1), "a dict with the keys"),
    "PCG64-missing-key": ("PCG64", lambda s: s["state"].pop("inc"), "['state']"),
    "PCG64DXSM-other-name": ("PCG64DXSM", lambda s: s.update(bit_generator="PCG64"), "'PCG64DXSM'"),
    "MT19937-pos-past-the-key": ("MT19937", lambda s: s["state"].update(pos=10**6), "['state']['pos']"),
    "MT19937-negative-pos": ("MT19937", lambda s: s["state"].update(pos=-1), "['state']['pos']"),
    "Philox-negative-buffer_pos": ("Philox", lambda s: s.update(buffer_pos=-3), "['buffer_pos']"),
    "SFC64-has_uint32-2": ("SFC64", lambda s: s.update(has_uint32=2), "['has_uint32']"),
}


@pytest.mark.parametrize(("bit_generator", "change", "where"), TAMPERED_STATES.values(), ids=TAMPERED_STATES)
def test_a_tampered_generator_state_is_refused(tmp_path, bit_generator, change, where):
    """NumPy raises OverflowError for some of these, and accepts others (MT19937's pos, Philox's
    buffer_pos) only to read outside the generator's state when it draws."""
    path, entries = checkpoint_with(tmp_path, bit_generator)
    edit(path, entries, change)
    refused(lambda: load_checkpoint(path), InvalidInputError, "rng state", bit_generator, where)


def test_a_generator_key_of_the_wrong_shape_is_refused(tmp_path):
    path, entries = checkpoint_with(tmp_path, "MT19937")
    document = document_of(entries)
    key = np.zeros(10, dtype=np.uint32)
    document["arrays"]["rng/0"] = {"shape": [10], "dtype": key.dtype.str, "sha256": _sha256(key)}
    repack(path, {**with_document(entries, document), "rng/0.npy": npy(key)})
    refused(
        lambda: load_checkpoint(path), InvalidInputError, "rng state", "MT19937", "['state']['key']", "(624,)"
    )


def test_an_untampered_generator_state_still_loads(tmp_path):
    for bit_generator in ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"):
        generator = np.random.Generator(getattr(np.random, bit_generator)(7))
        generator.random(3)
        generator.integers(0, 10, dtype=np.uint32)  # leaves a buffered 32-bit half
        _, path = saved(tmp_path, rng=generator)
        assert load_checkpoint(path).rng.random(5).tolist() == generator.random(5).tolist()


def _sha256(array):
    import hashlib

    return hashlib.sha256(array.tobytes()).hexdigest()


# =========================================================================== temporary files


def leftover_name(target_name, pid):
    return f".{target_name}.{pid}.0123456789abcdef.tmp"


def dead_process_id():
    """The id of a process that has ended (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


def test_a_save_removes_the_temporary_file_a_killed_save_left(tmp_path):
    leftover = tmp_path / leftover_name("model.npz", dead_process_id())
    leftover.write_bytes(bytes(1000))
    _, path = saved(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
    assert load(path).layers[0].in_features == 4


def test_a_save_keeps_the_temporary_files_of_running_saves_and_of_other_targets(tmp_path):
    kept = [
        leftover_name("model.npz", os.getpid()),  # a save in progress in this process
        leftover_name("other.npz", dead_process_id()),  # a save to another file
        ".model.npz.tmp",  # not a name save gives
        "model.npz.123.0123456789abcdef.tmp",
    ]
    for name in kept:
        (tmp_path / name).write_bytes(b"x")
    saved(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*kept, "model.npz"])


@pytest.mark.skipif(os.name == "nt", reason="kill -9 is POSIX")
def test_a_save_killed_with_sigkill_leaves_a_file_the_next_save_removes(tmp_path):
    """A real kill -9 in the middle of a save: once the archive is written, before it is renamed."""
    script = (
        "import os, signal, sys\n"
        "from neural_network import Dense, Sequential\n"
        "os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)\n"
        "Sequential([Dense(4, 8, rng=0)]).save(sys.argv[1])\n"
    )
    process = subprocess.run([sys.executable, "-c", script, str(tmp_path / "model.npz")], check=False)
    assert process.returncode == -signal.SIGKILL
    (leftover,) = tmp_path.iterdir()
    assert re.fullmatch(r"\.model\.npz\.[0-9]+\.[0-9a-f]{16}\.tmp", leftover.name)
    assert zipfile.ZipFile(leftover).testzip() is None  # a complete archive, never renamed
    saved(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]
