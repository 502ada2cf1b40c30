"""Hostile input to the command line: each is one message with exit status 2, never a traceback.

Files that are not UTF-8, damaged compressed files, a column name given twice, a model
file that cannot be read, a network too big for the machine, cells that only Python
would take for numbers, and the command line's libraries missing. Every test runs
``main`` in this process (or, where imports must fail, in a subprocess) on files made in
``tmp_path``, and checks the status, that the message names the file (or the option)
and says what is wrong, and that nothing else is printed: no traceback, no "bug".
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from neural_network.cli import _model_file, _training, main
from neural_network.cli._numbers import is_number

ROWS = 12


# --------------------------------------------------------------------------- helpers


def refused(capsys, *arguments: object) -> str:
    """Run the command; check it exits with status 2 and one clean message; return the message."""
    status = main([str(argument) for argument in arguments])
    _, err = capsys.readouterr()
    assert status == 2, err
    assert_one_clean_message(err)
    return err


def assert_one_clean_message(err: str) -> None:
    assert "Traceback" not in err
    assert "This is a bug" not in err
    assert "unexpected error" not in err
    assert "Exception ignored" not in err
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("neural-network ")


def write_csv(path: Path, text: bytes) -> Path:
    path.write_bytes(text)
    return path


def small_table(columns: tuple[str, ...] = ("a", "b", "target")) -> bytes:
    """A CSV of ``ROWS`` rows: numeric features, and a 0/1 target."""
    rng = np.random.default_rng(0)
    lines = [",".join(columns)]
    for row in range(ROWS):
        cells = [f"{rng.normal():.3f}" for _ in columns[:-1]] + [str(row % 2)]
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    """A model trained on columns a, b and target (one epoch: only its file matters here)."""
    folder = tmp_path_factory.mktemp("model")
    data = write_csv(folder / "train.csv", small_table())
    status = main(["train", str(data), "--epochs", "1", "--out", str(folder / "run"), "--json"])
    assert status == 0
    return folder / "run" / "model.npz"


def every_command(model: Path, data: Path) -> list[list[object]]:
    """The argument lists of the four commands, each reading ``data`` (columns a, b, target)."""
    return [
        ["train", data, "--epochs", "1", "--out", data.parent / "out"],
        ["evaluate", model, data],
        ["predict", model, data],
        ["loss", data, "--loss", "mse_loss", "--pred", "a", "--target", "target"],
    ]


COMMAND_IDS = ["train", "evaluate", "predict", "loss"]


# --------------------------------------------------------------------------- 1. text that is not UTF-8


@pytest.mark.parametrize("index", range(4), ids=COMMAND_IDS)
def test_a_latin1_header_is_refused_as_not_utf8_by_every_command(capsys, tmp_path, model, index):
    data = write_csv(tmp_path / "latin.csv", small_table(("a", "b", "target")).replace(b"b,", b"b\xe9,", 1))
    err = refused(capsys, *every_command(model, data)[index])
    assert "latin.csv is not UTF-8" in err
    assert "header (line 1)" in err and "b\\xe9" in err
    assert "Save it as UTF-8" in err


@pytest.mark.parametrize("index", range(4), ids=COMMAND_IDS)
def test_a_non_utf8_byte_in_a_data_row_is_refused_naming_its_column_and_row(capsys, tmp_path, model, index):
    lines = small_table().split(b"\n")
    lines[3] = b"0.5\xe9," + lines[3].split(b",", 1)[1]  # data row 3, column 'a'
    data = write_csv(tmp_path / "latin-row.csv", b"\n".join(lines))
    err = refused(capsys, *every_command(model, data)[index])
    assert "latin-row.csv is not UTF-8" in err
    assert "column 'a', row 3 (line 4)" in err and "0.5\\xe9" in err
    assert "Save it as UTF-8" in err


# --------------------------------------------------------------------------- 2. damaged compressed files


def test_a_truncated_gzip_file_is_refused_as_damaged(capsys, tmp_path):
    whole = gzip.compress(b"p,t\n" + b"".join(f"{x},1\n".encode() for x in np.random.default_rng(0).normal(size=50_000)))
    data = tmp_path / "cut.csv.gz"
    data.write_bytes(whole[: len(whole) // 2])
    err = refused(capsys, "loss", data, "--loss", "mse_loss", "--pred", "p", "--target", "t")
    assert "cut.csv.gz: cannot decompress it" in err
    assert "damaged or cut short" in err


def test_a_gzip_file_cut_inside_its_header_is_refused_as_damaged(capsys, tmp_path):
    data = tmp_path / "stub.csv.gz"
    data.write_bytes(gzip.compress(b"p,t\n0.5,1\n")[:20])
    err = refused(capsys, "loss", data, "--loss", "mse_loss", "--pred", "p", "--target", "t")
    assert "stub.csv.gz: cannot decompress it" in err and "damaged or cut short" in err


def test_random_bytes_named_csv_gz_are_refused_as_not_gzip(capsys, tmp_path):
    data = tmp_path / "noise.csv.gz"
    data.write_bytes(np.random.default_rng(1).bytes(300))
    err = refused(capsys, "loss", data, "--loss", "mse_loss", "--pred", "p", "--target", "t")
    assert "noise.csv.gz: cannot decompress it" in err and "not a valid .gz file" in err


# --------------------------------------------------------------------------- 3. a column name given twice


def parquet_with_repeated_name(path: Path) -> Path:
    columns = [pa.array(np.linspace(0, 1, ROWS)), pa.array(np.linspace(1, 2, ROWS)),
               pa.array(np.arange(ROWS) % 2), pa.array(np.zeros(ROWS))]
    pq.write_table(pa.Table.from_arrays(columns, names=["a", "b", "target", "a"]), path)
    return path


@pytest.mark.parametrize("index", range(4), ids=COMMAND_IDS)
def test_a_parquet_file_naming_a_column_twice_is_refused_by_every_command(capsys, tmp_path, model, index):
    data = parquet_with_repeated_name(tmp_path / "twice.parquet")
    err = refused(capsys, *every_command(model, data)[index])
    assert "twice.parquet: the column name(s) 'a' appear more than once" in err
    assert "Give every column its own name" in err


@pytest.mark.parametrize("index", range(4), ids=COMMAND_IDS)
def test_a_csv_file_naming_a_column_twice_is_refused_by_every_command(capsys, tmp_path, model, index):
    data = write_csv(tmp_path / "twice.csv", small_table(("a", "b", "a", "target")))
    err = refused(capsys, *every_command(model, data)[index])
    assert "twice.csv: the column name(s) 'a' appear more than once" in err


@pytest.mark.parametrize("name", ["twice.csv", "twice.parquet"])
def test_the_dask_engine_refuses_a_column_named_twice_too(capsys, tmp_path, model, name):
    if name.endswith(".csv"):
        data = write_csv(tmp_path / name, small_table(("a", "b", "a", "target")))
    else:
        data = parquet_with_repeated_name(tmp_path / name)
    loss = ["loss", data, "--loss", "mse_loss", "--pred", "a", "--target", "target", "--engine", "dask"]
    predict = ["predict", model, data, "--engine", "dask", "--output", tmp_path / "predictions"]
    for arguments in (loss, predict):
        err = refused(capsys, *arguments)
        assert f"{name}: the column name(s) 'a' appear more than once" in err


# --------------------------------------------------------------------------- 4. a model file that cannot be read


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads a file whatever its mode")
def test_a_model_file_without_read_permission_is_refused(capsys, tmp_path, model):
    locked = tmp_path / "locked.npz"
    locked.write_bytes(model.read_bytes())
    locked.chmod(0)
    data = write_csv(tmp_path / "data.csv", small_table())
    try:
        err = refused(capsys, "evaluate", locked, data)
    finally:
        locked.chmod(0o600)
    assert "cannot read the model file" in err and "locked.npz" in err and "Permission denied" in err


@pytest.mark.parametrize("command", ["evaluate", "predict"])
def test_a_permission_error_opening_the_model_file_is_refused(capsys, tmp_path, model, monkeypatch, command):
    """The same refusal where the test runs as root: opening the model file raises PermissionError."""
    real_open = open

    def no_permission(file, *arguments, **keywords):
        if Path(file) == model:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *arguments, **keywords)

    monkeypatch.setattr(_model_file, "open", no_permission, raising=False)
    data = write_csv(tmp_path / "data.csv", small_table())
    err = refused(capsys, command, model, data)
    assert f"cannot read the model file {str(model)!r}: Permission denied" in err
    assert "chmod u+r" in err


# --------------------------------------------------------------------------- 5. a network too big for the machine


def test_a_hidden_layer_beyond_the_machines_memory_is_refused_before_allocating(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(_training, "available_memory", lambda: 8 * 2**30)
    data = write_csv(tmp_path / "data.csv", small_table())
    err = refused(capsys, "train", data, "--hidden", "100000000", "--out", tmp_path / "out")
    assert "--hidden 100000000: training this network" in err
    assert "8.0 GiB available" in err
    assert "Use smaller layers" in err and "64,64" in err
    assert not (tmp_path / "out").exists()


def test_layers_no_machine_could_hold_are_refused_with_the_real_memory(capsys, tmp_path):
    data = write_csv(tmp_path / "data.csv", small_table())
    err = refused(capsys, "train", data, "--hidden", "100000000,100000000", "--out", tmp_path / "out")
    assert "--hidden 100000000,100000000" in err and "would need about" in err


def test_the_memory_estimate_counts_parameters_and_activations():
    parameters, activations = _training.memory_needed([3, 5, 2], batch_size=32)
    assert parameters == ((3 * 5 + 5) + (5 * 2 + 2)) * 4 * 8  # value, gradient and two moments, float64
    assert activations == 512 * (3 + 5 + 2) * 3 * 8  # a block of PREDICT_ROWS rows is the largest pass
    _training.check_memory([3, 5, 2], 32, available=parameters + activations)  # fits exactly: no error
    _training.check_memory([3, 5, 2], 32, available=None)  # unknown memory: no check


# --------------------------------------------------------------------------- 6. one definition of a number

NOT_NUMBERS = ["1_000", "0x10", "\u0661\u0662", "1,5", "1e", "NA", "true", "- 1"]
NUMBERS = {"1000": 1000.0, " 2 ": 2.0, "1e3": 1000.0, ".5": 0.5, "5.": 5.0, "+3": 3.0, "-2.5E-1": -0.25}


def one_cell_file(tmp_path: Path, cell: str) -> Path:
    """Feature ``x`` holds ``cell`` in row 3 and 1 elsewhere; ``target`` alternates 0 and 1."""
    quoted = '"' + cell + '"'
    rows = [f"{quoted if row == 2 else 1},{row % 2}" for row in range(ROWS)]
    return write_csv(tmp_path / "cells.csv", ("x,target\n" + "\n".join(rows) + "\n").encode())


@pytest.mark.parametrize("cell", NOT_NUMBERS)
def test_train_and_loss_agree_a_cell_is_not_a_number(capsys, tmp_path, cell):
    data = one_cell_file(tmp_path, cell)
    for arguments in (
        ["train", data, "--epochs", "1", "--out", tmp_path / "out"],
        ["loss", data, "--loss", "mse_loss", "--pred", "x", "--target", "target"],
    ):
        err = refused(capsys, *arguments)
        assert "cells.csv" in err and "'x'" in err and "row 3" in err and "not a number" in err


@pytest.mark.parametrize("cell", list(NUMBERS))
def test_train_and_loss_agree_a_cell_is_a_number_and_its_value(capsys, tmp_path, cell):
    from neural_network.cli._table import read_table

    data = one_cell_file(tmp_path, cell)
    assert main(["train", str(data), "--epochs", "1", "--out", str(tmp_path / "out"), "--json"]) == 0
    capsys.readouterr()
    assert read_table(str(data)).numbers("x")[2] == NUMBERS[cell]  # what train reads
    status = main(["loss", str(data), "--loss", "mse_loss", "--pred", "x", "--target", "target", "--reduction",
                   "sum", "--json"])
    out, err = capsys.readouterr()
    assert status == 0, err
    # x is 1 in every other row: rows 1, 5, 7, 9, 11 (target 0) add 1 each; row 3 (target 0) adds the cell squared.
    assert json.loads(out)["value"] == 5 + NUMBERS[cell] ** 2


@pytest.mark.parametrize("cell", [*NOT_NUMBERS, *NUMBERS, "nan", "-Infinity", "INF", "1.e5", "+.5", "\t7"])
def test_the_definition_of_a_number_is_what_pyarrow_streams_as_float64(cell):
    text = ('x\n"' + cell + '"\n').encode()
    options = pacsv.ConvertOptions(column_types={"x": pa.float64()}, null_values=[""], strings_can_be_null=False)
    try:
        pacsv.read_csv(pa.py_buffer(text), convert_options=options)
    except pa.ArrowInvalid:
        streamed = False
    else:
        streamed = True
    assert is_number(cell) == streamed


# --------------------------------------------------------------------------- 7. the cli extra not installed


@pytest.mark.parametrize(
    ("command", "library"),
    [("train", "pyarrow"), ("evaluate", "pyarrow"), ("predict", "rich"), ("loss", "pyarrow"), ("train", "matplotlib")],
)
def test_a_missing_cli_extra_says_which_extra_to_install(tmp_path, command, library):
    data = write_csv(tmp_path / "data.csv", small_table())
    arguments = {
        "train": [str(data), "--epochs", "1", "--out", str(tmp_path / "out")],
        "evaluate": [str(tmp_path / "model.npz"), str(data)],
        "predict": [str(tmp_path / "model.npz"), str(data)],
        "loss": [str(data), "--loss", "mse_loss", "--pred", "a", "--target", "target"],
    }[command]
    code = (
        f"import sys; sys.modules[{library!r}] = None\n"  # `import pyarrow` now fails as if not installed
        "from neural_network.cli import main\n"
        f"sys.exit(main({[command, *arguments]!r}))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert completed.returncode == 2, completed.stderr
    assert_one_clean_message(completed.stderr)
    assert 'pip install "neural_network[cli]"' in completed.stderr
    assert {"pyarrow": "PyArrow", "rich": "Rich", "matplotlib": "Matplotlib"}[library] in completed.stderr
