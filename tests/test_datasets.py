"""The bundled data sets: every value against scikit-learn's loaders, and their provenance.

scikit-learn is the independent reference: its loaders parse their own copies of the
files with their own code, and the values must agree bit for bit.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import subprocess
import sys
import textwrap
from fnmatch import fnmatch
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import sklearn.datasets

from neural_network.datasets import (
    DATASET_NAMES,
    Dataset,
    _loaders,
    load_breast_cancer,
    load_dataset,
    load_diabetes,
    load_iris,
    load_wine,
)
from neural_network.errors import InvalidOptionError, InvalidTypeError, OutOfRangeError, ShapeMismatchError

# name: (our loader, scikit-learn's loader, task, shape, samples per class or None)
CASES = {
    "breast_cancer": (
        load_breast_cancer,
        sklearn.datasets.load_breast_cancer,
        "binary",
        (569, 30),
        [212, 357],
    ),
    "diabetes": (
        load_diabetes,
        lambda: sklearn.datasets.load_diabetes(scaled=False),
        "regression",
        (442, 10),
        None,
    ),
    "iris": (load_iris, sklearn.datasets.load_iris, "multiclass", (150, 4), [50, 50, 50]),
    "wine": (load_wine, sklearn.datasets.load_wine, "multiclass", (178, 13), [59, 71, 48]),
}
NAMES = sorted(CASES)
DATA_FILES = {"breast_cancer.csv", "diabetes.csv", "iris.csv", "wine.csv"}
DOIS = {
    "breast_cancer": "10.24432/C5DW2B",
    "diabetes": "10.1214/009053604000000067",
    "iris": "10.24432/C56C76",
    "wine": "10.24432/C5PC7J",
}
DATA_DIR = resources.files("neural_network.datasets") / "data"


@pytest.fixture(scope="module", params=NAMES)
def case(request):
    name = request.param
    ours, reference, task, shape, counts = CASES[name]
    return name, ours(), reference(), task, shape, counts


# --------------------------------------------------------------------------- contents


def test_shapes_dtypes_and_task(case):
    name, data, _, task, (n, d), _ = case
    assert isinstance(data, Dataset)
    assert data.name == name
    assert data.task == task
    assert data.X.shape == (n, d) and data.X.dtype == np.float64
    assert data.y.shape == (n,)
    assert data.y.dtype == (np.float64 if task == "regression" else np.int64)
    assert len(data.feature_names) == d
    assert all(isinstance(feature, str) for feature in data.feature_names)


def test_values_equal_scikit_learn(case):
    _, data, reference, *_ = case
    # Bit for bit: the files keep the source's decimal text, so parsing gives the same doubles.
    np.testing.assert_array_equal(data.X, reference.data, strict=True)
    np.testing.assert_array_equal(data.y, reference.target.astype(data.y.dtype), strict=True)
    assert np.array_equal(data.y, reference.target)


def test_feature_names_equal_scikit_learn(case):
    _, data, reference, *_ = case
    assert data.feature_names == tuple(str(feature) for feature in reference.feature_names)


def test_no_missing_or_infinite_values(case):
    _, data, *_ = case
    assert np.isfinite(data.X).all()
    assert np.isfinite(data.y).all()


@pytest.mark.parametrize("name", [name for name in NAMES if CASES[name][4] is not None])
def test_class_counts(name):
    loader, _, task, _, counts = CASES[name]
    data = loader()
    assert np.bincount(data.y).tolist() == counts
    assert len(data.target_names) == len(counts)
    assert (task == "binary") == (len(counts) == 2)


def test_class_names():
    # Wine's classes are numbered in the source; they are named by cultivar rather than
    # scikit-learn's class_0..class_2, so only the two named ones are compared with it.
    assert load_breast_cancer().target_names == ("malignant", "benign")
    assert load_breast_cancer().target_names == tuple(sklearn.datasets.load_breast_cancer().target_names)
    assert load_iris().target_names == tuple(sklearn.datasets.load_iris().target_names)
    assert load_wine().target_names == ("cultivar_1", "cultivar_2", "cultivar_3")
    assert load_diabetes().target_names == ("disease_progression",)


def test_breast_cancer_coding_matches_the_known_first_sample():
    # The first sample of the UCI file (ID 842302) is malignant with mean radius 17.99.
    data = load_breast_cancer()
    assert data.X[0, 0] == 17.99
    assert data.target_names[data.y[0]] == "malignant"


def test_diabetes_target_is_whole_numbers_from_25_to_346():
    y = load_diabetes().y
    assert y.min() == 25.0 and y.max() == 346.0
    np.testing.assert_array_equal(y, np.round(y))


def test_diabetes_is_the_raw_data_of_scikit_learns_scaled_version():
    # scikit-learn's default version centers each column and scales it to unit sum of
    # squares; applied to our raw columns this must give it back (to rounding).
    X = load_diabetes().X
    centered = X - X.mean(axis=0)
    scaled = centered / np.sqrt((centered**2).sum(axis=0))
    np.testing.assert_allclose(scaled, sklearn.datasets.load_diabetes().data, rtol=0, atol=1e-15)
    assert set(np.unique(X[:, 1]).tolist()) == {1.0, 2.0}


def test_iris_has_the_values_of_fishers_paper():
    X = load_iris().X
    np.testing.assert_array_equal(X[34], [4.9, 3.1, 1.5, 0.2])
    np.testing.assert_array_equal(X[37], [4.9, 3.6, 1.4, 0.1])


def test_wine_scales_differ_enough_to_need_standardization():
    spread = load_wine().X.std(axis=0)
    assert spread.max() / spread.min() > 1000


# --------------------------------------------------------------------------- API


@pytest.mark.parametrize("name", NAMES)
def test_load_dataset_matches_the_named_loader(name):
    direct, by_name = CASES[name][0](), load_dataset(name)
    assert by_name.name == name
    np.testing.assert_array_equal(by_name.X, direct.X, strict=True)
    np.testing.assert_array_equal(by_name.y, direct.y, strict=True)
    assert by_name.feature_names == direct.feature_names


def test_dataset_names():
    assert tuple(NAMES) == DATASET_NAMES


@pytest.mark.parametrize("bad", ["mnist", "", "Wine ", None, 3, ["wine"]])
def test_load_dataset_rejects_an_unknown_name_and_lists_the_names(bad):
    with pytest.raises(InvalidOptionError) as info:
        load_dataset(bad)
    message = str(info.value)
    assert message.startswith("load_dataset: name must be one of")
    assert all(repr(name) in message for name in NAMES)
    assert repr(bad) in message
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("bad", "hint"),
    [
        ("breast-cancer", "breast_cancer"),
        ("Breast Cancer", "breast_cancer"),
        ("cancer", "breast_cancer"),
        ("wines", "wine"),
        ("IRIS", "iris"),
        ("diabetis", "diabetes"),
    ],
)
def test_load_dataset_suggests_the_close_name(bad, hint):
    with pytest.raises(InvalidOptionError, match=re.escape(f"Did you mean {hint!r}?")):
        load_dataset(bad)


def test_each_call_returns_new_arrays():
    first, second = load_wine(), load_wine()
    assert not np.shares_memory(first.X, second.X)
    first.X[:] = 0.0
    assert load_wine().X[0, 0] == 14.23


def test_dataset_is_frozen():
    data = load_iris()
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.X = np.zeros((1, 4))


def test_repr_is_a_summary():
    text = repr(load_breast_cancer())
    assert text == (
        "Dataset(name='breast_cancer', task='binary', X: (569, 30) float64, y: (569,) int64, "
        "target_names=('malignant', 'benign'))"
    )


def _dataset(**changes):
    fields = {
        "X": np.zeros((3, 2)),
        "y": np.array([0, 1, 2]),
        "feature_names": ("a", "b"),
        "target_names": ("p", "q", "r"),
        "task": "multiclass",
        "description": "test",
        "name": "test",
    }
    fields.update(changes)
    return Dataset(**fields)


@pytest.mark.parametrize(
    ("changes", "error", "fragment"),
    [
        ({"task": "classification"}, InvalidOptionError, "task must be one of"),
        ({"X": [[0.0, 0.0]] * 3}, InvalidTypeError, "X must be a NumPy array"),
        ({"X": np.zeros((3, 2), dtype=np.float32)}, InvalidTypeError, "2-D float64"),
        ({"X": np.zeros(3)}, InvalidTypeError, "2-D float64"),
        ({"y": np.array([0.0, 1.0, 2.0])}, InvalidTypeError, "1-D int64"),
        ({"y": np.array([0, 1])}, ShapeMismatchError, "one row per sample"),
        ({"feature_names": ("a",)}, ShapeMismatchError, "feature_names must name each"),
        ({"feature_names": ["a", "b"]}, InvalidTypeError, "tuple of str"),
        ({"y": np.array([0, 1, 3])}, OutOfRangeError, "class indices in [0, 2]"),
        ({"task": "binary"}, InvalidOptionError, "'binary' has exactly 2 classes"),
        ({"task": "regression", "y": np.zeros(3)}, ShapeMismatchError, "one target name"),
    ],
)
def test_dataset_checks_its_fields(changes, error, fragment):
    with pytest.raises(error, match=re.escape(fragment)):
        _dataset(**changes)


def test_a_damaged_file_is_reported(monkeypatch):
    spec = _loaders._SPECS["wine"]
    monkeypatch.setitem(_loaders._SPECS, "wine", dataclasses.replace(spec, shape=(177, 13)))
    with pytest.raises(RuntimeError, match=r"data/wine\.csv .* Reinstall neural-network"):
        load_wine()


def test_importing_the_package_reads_no_data_file():
    # An audit hook sees every open(); the same hook must see the file once a loader runs,
    # so the first check cannot pass merely because the hook saw nothing.
    code = textwrap.dedent(
        """
        import sys
        opened = []
        sys.addaudithook(lambda event, args: event == "open" and opened.append(str(args[0])))
        import neural_network, neural_network.datasets
        before = [path for path in opened if path.endswith(".csv")]
        neural_network.datasets.load_wine()
        after = [path for path in opened if path.endswith(".csv")]
        print(len(before), len(after), after[-1].replace("\\\\", "/").endswith("datasets/data/wine.csv"))
        """
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["0", "1", "True"]


# --------------------------------------------------------------------------- provenance


def test_data_folder_holds_the_files_and_their_sources():
    names = {entry.name for entry in DATA_DIR.iterdir() if not entry.name.startswith((".", "__"))}
    assert names == DATA_FILES | {"SOURCES.md"}


def test_sources_name_the_origin_citation_and_licence_of_every_file():
    text = (DATA_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for name, doi in DOIS.items():
        section = text.split(f"## `{name}.csv`")[1].split("\n## ")[0]
        assert doi in section
        assert "Licence:" in section and "Citation:" in section
    assert text.count("Creative Commons Attribution 4.0 International (CC BY 4.0)") == 3
    assert "Licence: **none stated.**" in text


def test_sources_record_the_checksum_of_every_file():
    text = (DATA_DIR / "SOURCES.md").read_text(encoding="utf-8")
    for file in sorted(DATA_FILES):
        digest = hashlib.sha256((DATA_DIR / file).read_bytes()).hexdigest()
        assert f"| `{file}` | `{digest}` |" in text


@pytest.mark.parametrize("name", NAMES)
def test_description_gives_source_and_licence(name):
    description = CASES[name][0]().description
    assert DOIS[name] in description
    assert "Licence:" in description and "Source:" in description
    assert ("CC BY 4.0" in description) == (name != "diabetes")


def test_the_csv_header_names_the_target():
    targets = {
        "breast_cancer": "diagnosis",
        "diabetes": "disease_progression",
        "iris": "species",
        "wine": "cultivar",
    }
    for name, target in targets.items():
        header = (DATA_DIR / f"{name}.csv").read_text(encoding="ascii").split("\n", 1)[0].split(",")
        assert header[-1] == target
        assert tuple(header[:-1]) == load_dataset(name).feature_names


def test_pyproject_installs_the_data_files():
    tomllib = pytest.importorskip("tomllib")
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    package_data = config["tool"]["setuptools"]["package-data"]
    patterns = [f"datasets/{p}" for p in package_data.get("neural_network.datasets", [])]
    patterns += package_data.get("neural_network", [])
    for file in sorted(DATA_FILES | {"SOURCES.md"}):
        assert any(fnmatch(f"datasets/data/{file}", pattern) for pattern in patterns), file
