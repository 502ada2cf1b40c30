"""Data to learn from, as plain lists: toy problems, and the package's bundled data sets.

Every function returns ``(X, y)`` or a :class:`Dataset` whose ``X`` is a list of rows
(one per sample) and ``y`` a list: class indices (ints) for classification, floats for
regression. The toy problems:

* :func:`make_xor` -- the four points of XOR, which no single neuron can separate;
* :func:`make_moons` -- two interleaving half circles;
* :func:`make_spiral` -- the spiral of *Neural Networks from Scratch* (Kinsley and
  Kukieła): arms of points winding around the origin, one per class.

The bundled data sets (iris, wine, breast cancer, diabetes) are the CSV files of
:mod:`neural_network.datasets`, read here with the ``csv`` module: the same numbers,
without NumPy. Their descriptions, sources and licences are in that module.
"""

from __future__ import annotations

import csv
import io
import math
import random
from dataclasses import dataclass
from importlib import resources

from neural_network.pure import _checks
from neural_network.pure._checks import Matrix

__all__ = [
    "DATASET_NAMES",
    "Dataset",
    "load_breast_cancer",
    "load_dataset",
    "load_diabetes",
    "load_iris",
    "load_wine",
    "make_moons",
    "make_spiral",
    "make_xor",
]


# --------------------------------------------------------------------------- toy problems


def make_xor() -> tuple[Matrix, list[int]]:
    """The four inputs of XOR and their labels: 1 where exactly one input is 1.

    >>> make_xor()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    X = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    return X, [int(a != b) for a, b in X]


def _linspace(start: float, stop: float, count: int) -> list[float]:
    """``count`` evenly spaced numbers from ``start`` to ``stop``, both included (NumPy's linspace)."""
    if count == 1:
        return [start]
    step = (stop - start) / (count - 1)
    return [start + k * step for k in range(count - 1)] + [stop]


def make_moons(
    samples: int = 100, *, noise: float = 0.0, rng: random.Random | int | None = None
) -> tuple[Matrix, list[int]]:
    """Two interleaving half circles: class 0 the upper one, class 1 the lower, shifted.

    Parameters
    ----------
    samples : int
        The total; the upper moon gets the extra one when it is odd.
    noise : float, keyword-only
        The standard deviation of Gaussian noise added to each coordinate (>= 0).
    rng : int or random.Random, optional, keyword-only
        For the noise; a seed gives the same points every time.

    >>> X, y = make_moons(4)
    >>> [[round(v, 3) for v in row] for row in X]
    [[1.0, 0.0], [-1.0, 0.0], [0.0, 0.5], [2.0, 0.5]]
    >>> y
    [0, 0, 1, 1]
    """
    samples = _checks.positive_integer("make_moons", "samples", samples)
    noise = _checks.real_option("make_moons", "noise", noise, low=0.0)
    generator = _checks.generator("make_moons", rng)
    upper, lower = samples - samples // 2, samples // 2
    X = [[math.cos(t), math.sin(t)] for t in _linspace(0.0, math.pi, upper)]
    X += [[1.0 - math.cos(t), 0.5 - math.sin(t)] for t in _linspace(0.0, math.pi, lower)]
    if noise > 0.0:
        X = [[v + generator.gauss(0.0, noise) for v in row] for row in X]
    return X, [0] * upper + [1] * lower


def make_spiral(
    samples_per_class: int = 100, classes: int = 3, *, rng: random.Random | int | None = None
) -> tuple[Matrix, list[int]]:
    """The spiral data of *Neural Networks from Scratch*: one arm of points per class.

    For class ``j`` the radius grows evenly from 0 to 1 while the angle
    ``t = 2.5 * (4j ... 4(j + 1) + noise)`` turns, noise being Gaussian with standard
    deviation 0.2; the point is ``(r sin t, r cos t)``. The arms wind around each other,
    so no straight line separates the classes: a hidden layer is needed.

    Returns
    -------
    X : list of rows
        ``samples_per_class * classes`` points, class by class.
    y : list of int
        The class of each point, 0 to ``classes - 1``.

    >>> X, y = make_spiral(5, 3, rng=0)
    >>> len(X), y[:6]
    (15, [0, 0, 0, 0, 0, 1])
    >>> X[0]  # the centre: radius 0
    [0.0, 0.0]
    """
    samples_per_class = _checks.positive_integer("make_spiral", "samples_per_class", samples_per_class)
    classes = _checks.positive_integer("make_spiral", "classes", classes)
    generator = _checks.generator("make_spiral", rng)
    X: Matrix = []
    y: list[int] = []
    for j in range(classes):
        radii = _linspace(0.0, 1.0, samples_per_class)
        angles = [t + generator.gauss(0.0, 1.0) * 0.2 for t in _linspace(j * 4.0, (j + 1) * 4.0, samples_per_class)]
        X += [[r * math.sin(t * 2.5), r * math.cos(t * 2.5)] for r, t in zip(radii, angles, strict=True)]
        y += [j] * samples_per_class
    return X, y


# --------------------------------------------------------------------------- bundled data sets


@dataclass(frozen=True)
class Dataset:
    """A bundled data set as lists.

    Attributes
    ----------
    X : list of rows of floats
    y : list of int (classification) or of float (regression)
    feature_names, target_names : tuple of str
        The columns of ``X``; the classes that ``y`` indexes (or the regression target's name).
    task : str
        ``"binary"``, ``"multiclass"`` or ``"regression"``.
    name : str
    """

    X: Matrix
    y: list[int] | list[float]
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    task: str
    name: str

    def __repr__(self) -> str:
        return (
            f"Dataset(name={self.name!r}, task={self.task!r}, X: {len(self.X)} x {len(self.X[0])}, "
            f"target_names={self.target_names!r})"
        )


_SPECS: dict[str, tuple[str, tuple[str, ...]]] = {
    "breast_cancer": ("binary", ("malignant", "benign")),
    "diabetes": ("regression", ("disease_progression",)),
    "iris": ("multiclass", ("setosa", "versicolor", "virginica")),
    "wine": ("multiclass", ("cultivar_1", "cultivar_2", "cultivar_3")),
}

DATASET_NAMES: tuple[str, ...] = tuple(sorted(_SPECS))
"""The names :func:`load_dataset` accepts."""


def load_dataset(name: str) -> Dataset:
    """Read a bundled data set by name (see :data:`DATASET_NAMES`) from its CSV file.

    >>> data = load_dataset("iris")
    >>> data.X[0], data.target_names[data.y[0]]
    ([5.1, 3.5, 1.4, 0.2], 'setosa')
    """
    name = _checks.choice("load_dataset", "name", name, DATASET_NAMES)
    task, target_names = _SPECS[name]
    # The file is found from the top package: importing neural_network.datasets would import NumPy.
    path = resources.files("neural_network") / "datasets" / "data" / f"{name}.csv"
    header, *body = csv.reader(io.StringIO(path.read_text(encoding="ascii")))
    X = [[float(value) for value in row[:-1]] for row in body]
    y: list[int] | list[float]
    if task == "regression":
        y = [float(row[-1]) for row in body]
    else:
        y = [target_names.index(row[-1]) for row in body]
    return Dataset(X, y, tuple(header[:-1]), target_names, task, name)


def load_breast_cancer() -> Dataset:
    """Breast masses, malignant (0) or benign (1): 569 samples, 30 features."""
    return load_dataset("breast_cancer")


def load_diabetes() -> Dataset:
    """Disease progression of 442 patients from 10 measurements (regression, raw units)."""
    return load_dataset("diabetes")


def load_iris() -> Dataset:
    """Fisher's iris flowers: 150 samples, 4 measurements, 3 species."""
    return load_dataset("iris")


def load_wine() -> Dataset:
    """Wines of three cultivars: 178 samples, 13 chemical measurements."""
    return load_dataset("wine")
