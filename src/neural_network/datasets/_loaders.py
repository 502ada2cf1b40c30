"""The loaders of the bundled data sets, and ``load_dataset`` to pick one by name.

Each data set is one CSV file in ``data/``: a header row with the feature names and
the target's name, then one row per sample; class targets are written as class names,
so the file can be read on its own. Nothing is read at import time: a loader opens its
file when it is called. ``data/SOURCES.md`` gives the origin, citation and licence of
each file and how it was converted.
"""

from __future__ import annotations

import csv
import difflib
import io
from dataclasses import dataclass
from importlib import resources

import numpy as np
from numpy.typing import NDArray

from neural_network.datasets._dataset import Dataset, Task
from neural_network.errors import InvalidOptionError


@dataclass(frozen=True)
class _Spec:
    file: str
    task: Task
    target_names: tuple[str, ...]
    shape: tuple[int, int]
    description: str


_BREAST_CANCER = """\
Wisconsin Diagnostic Breast Cancer (WDBC): 569 breast masses sampled by fine-needle
aspiration, 212 malignant and 357 benign. A digitized image of each sample shows its
cell nuclei; ten measurements of the nuclei (radius, texture, perimeter, area,
smoothness, compactness, concavity, concave points, symmetry, fractal dimension) are
summarized three ways (mean, standard error, and 'worst' = mean of the three largest),
giving 30 features with very different scales.
Target: 0 = malignant, 1 = benign (the coding scikit-learn uses).
Source: W. H. Wolberg, W. N. Street and O. L. Mangasarian (1995), Breast Cancer
Wisconsin (Diagnostic), UCI Machine Learning Repository, https://doi.org/10.24432/C5DW2B.
Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)."""

_DIABETES = """\
Diabetes progression: 442 patients with diabetes, ten measurements taken at baseline:
age (years), sex (coded 1 and 2), body-mass index, mean blood pressure, and six blood
serum measurements s1..s6. The target is a quantitative measure of disease progression
one year later (whole numbers from 25 to 346, stored as float64).
These are the raw values, not the centered and scaled columns of scikit-learn's default
load_diabetes(): standardize X before training.
Source: B. Efron, T. Hastie, I. Johnstone and R. Tibshirani (2004), Least Angle
Regression, Annals of Statistics 32(2), 407-499, https://doi.org/10.1214/009053604000000067;
data file: https://www4.stat.ncsu.edu/~boos/var.select/diabetes.html.
Licence: none stated by the authors, who published the data with the paper; they are
redistributed, with this citation, as in the R package lars and in scikit-learn."""

_WINE = """\
Wine recognition: chemical analysis of 178 wines grown in the same region of Italy
from three cultivars (59, 71 and 48 wines). The 13 features (alcohol, malic acid, ash,
alcalinity of ash, magnesium, total phenols, flavanoids, nonflavanoid phenols,
proanthocyanins, colour intensity, hue, OD280/OD315 of diluted wines, proline) differ
in scale by three orders of magnitude, so standardize X before training.
Target: 0, 1, 2 = cultivars 1, 2, 3 of the source.
Source: S. Aeberhard and M. Forina (1991), Wine, UCI Machine Learning Repository,
https://doi.org/10.24432/C5PC7J (from the PARVUS package of M. Forina et al., Genoa).
Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)."""

_IRIS = """\
Fisher's iris flowers: 150 flowers, 50 of each species (Iris setosa, versicolor and
virginica), with four measurements in centimetres: sepal length, sepal width, petal
length and petal width. Setosa is linearly separable from the other two; versicolor
and virginica overlap a little.
Target: 0 = setosa, 1 = versicolor, 2 = virginica.
Samples 35 and 38 carry the values of Fisher's paper, which differ from the UCI file
in three numbers.
Source: R. A. Fisher (1936), The use of multiple measurements in taxonomic problems,
Annals of Eugenics 7(2), 179-188; UCI Machine Learning Repository,
https://doi.org/10.24432/C56C76.
Licence: CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/)."""

_SPECS: dict[str, _Spec] = {
    "breast_cancer": _Spec("breast_cancer.csv", "binary", ("malignant", "benign"), (569, 30), _BREAST_CANCER),
    "diabetes": _Spec("diabetes.csv", "regression", ("disease_progression",), (442, 10), _DIABETES),
    "iris": _Spec("iris.csv", "multiclass", ("setosa", "versicolor", "virginica"), (150, 4), _IRIS),
    "wine": _Spec("wine.csv", "multiclass", ("cultivar_1", "cultivar_2", "cultivar_3"), (178, 13), _WINE),
}

DATASET_NAMES: tuple[str, ...] = tuple(sorted(_SPECS))
"""The names :func:`load_dataset` accepts."""


def _load(name: str) -> Dataset:
    spec = _SPECS[name]
    path = resources.files("neural_network.datasets") / "data" / spec.file
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="ascii"))))
    header, body = rows[0], rows[1:]
    n_samples, n_features = spec.shape
    if (
        len(header) != n_features + 1
        or len(body) != n_samples
        or any(len(row) != len(header) for row in body)
    ):
        # Only a damaged installation gets here: the files are tested against references.
        raise RuntimeError(
            f"load_{name}: the bundled file data/{spec.file} should hold {n_samples} rows of "
            f"{n_features} features and a target; it does not. Reinstall neural-network."
        )
    X = np.array([row[:-1] for row in body], dtype=np.float64)
    labels = [row[-1] for row in body]
    y: NDArray[np.int64] | NDArray[np.float64]
    if spec.task == "regression":
        y = np.array(labels, dtype=np.float64)
    else:
        index = {label: k for k, label in enumerate(spec.target_names)}
        unknown = sorted(set(labels) - set(index))
        if unknown:
            raise RuntimeError(
                f"load_{name}: the bundled file data/{spec.file} holds unknown classes {unknown}; "
                "reinstall neural-network."
            )
        y = np.array([index[label] for label in labels], dtype=np.int64)
    return Dataset(
        X=X,
        y=y,
        feature_names=tuple(header[:-1]),
        target_names=spec.target_names,
        task=spec.task,
        description=spec.description,
        name=name,
    )


def load_breast_cancer() -> Dataset:
    """Load the Wisconsin diagnostic breast-cancer data: binary classification, 569 x 30.

    Each row describes the cell nuclei of one breast mass; the task is to tell a
    malignant mass (``y == 0``) from a benign one (``y == 1``). The coding follows
    scikit-learn's ``load_breast_cancer``, so the class numbered 1 is the *benign*
    one: a model of :math:`P(y = 1)` estimates the probability of benign. The 30
    features span values from below 0.001 to above 4000: standardize them first.

    Returns
    -------
    Dataset
        ``X`` float64 (569, 30); ``y`` int64 (569,), 212 zeros and 357 ones;
        ``target_names == ("malignant", "benign")``; ``task == "binary"``.

    References
    ----------
    W. H. Wolberg, W. N. Street and O. L. Mangasarian (1995), Breast Cancer Wisconsin
    (Diagnostic), UCI Machine Learning Repository, https://doi.org/10.24432/C5DW2B
    (CC BY 4.0).

    Examples
    --------
    >>> data = load_breast_cancer()
    >>> data.X.shape, data.y.dtype
    ((569, 30), dtype('int64'))
    >>> data.target_names, int(data.y.sum())
    (('malignant', 'benign'), 357)
    """
    return _load("breast_cancer")


def load_diabetes() -> Dataset:
    """Load the diabetes-progression data of Efron et al. (2004): regression, 442 x 10.

    The ten features are age, sex, body-mass index, mean blood pressure and six blood
    serum measurements, in their original units (the *raw* data, as scikit-learn's
    ``load_diabetes(scaled=False)``, not its default centered and scaled version); the
    target is a measure of disease progression one year later.

    Returns
    -------
    Dataset
        ``X`` float64 (442, 10); ``y`` float64 (442,), whole numbers from 25 to 346;
        ``target_names == ("disease_progression",)``; ``task == "regression"``.

    References
    ----------
    B. Efron, T. Hastie, I. Johnstone and R. Tibshirani (2004), Least Angle Regression,
    Annals of Statistics 32(2), 407-499, https://doi.org/10.1214/009053604000000067.

    Examples
    --------
    >>> data = load_diabetes()
    >>> data.X.shape, data.feature_names[:4]
    ((442, 10), ('age', 'sex', 'bmi', 'bp'))
    >>> float(data.y.min()), float(data.y.max())
    (25.0, 346.0)
    """
    return _load("diabetes")


def load_wine() -> Dataset:
    """Load the wine-recognition data: three-class classification, 178 x 13.

    Thirteen results of a chemical analysis identify which of three cultivars a wine
    comes from. The features span magnesium and proline in the hundreds to hue near 1,
    which makes this a good first example of why inputs are standardized.

    Returns
    -------
    Dataset
        ``X`` float64 (178, 13); ``y`` int64 (178,) with 59, 71 and 48 samples of the
        classes 0, 1, 2; ``target_names == ("cultivar_1", "cultivar_2", "cultivar_3")``;
        ``task == "multiclass"``.

    References
    ----------
    S. Aeberhard and M. Forina (1991), Wine, UCI Machine Learning Repository,
    https://doi.org/10.24432/C5PC7J (CC BY 4.0).

    Examples
    --------
    >>> data = load_wine()
    >>> data.X.shape, data.task
    ((178, 13), 'multiclass')
    >>> [int((data.y == k).sum()) for k in range(3)]
    [59, 71, 48]
    """
    return _load("wine")


def load_iris() -> Dataset:
    """Load Fisher's iris data: three-class classification, 150 x 4.

    Four measurements of a flower (sepal and petal, length and width, in cm) identify
    its species. Small enough to print, and one class is linearly separable: the
    classic first multiclass example.

    Returns
    -------
    Dataset
        ``X`` float64 (150, 4); ``y`` int64 (150,), 50 samples of each class;
        ``target_names == ("setosa", "versicolor", "virginica")``; ``task == "multiclass"``.

    References
    ----------
    R. A. Fisher (1936), The use of multiple measurements in taxonomic problems, Annals
    of Eugenics 7(2), 179-188; UCI Machine Learning Repository,
    https://doi.org/10.24432/C56C76 (CC BY 4.0).

    Examples
    --------
    >>> data = load_iris()
    >>> data.feature_names[0], data.X[0].tolist()
    ('sepal length (cm)', [5.1, 3.5, 1.4, 0.2])
    >>> data.target_names[int(data.y[0])]
    'setosa'
    """
    return _load("iris")


def load_dataset(name: str) -> Dataset:
    """Load a bundled data set by name.

    Parameters
    ----------
    name : str
        One of :data:`DATASET_NAMES`: ``"breast_cancer"``, ``"diabetes"``, ``"iris"``,
        ``"wine"``.

    Returns
    -------
    Dataset
        What ``load_<name>()`` returns.

    Raises
    ------
    InvalidOptionError
        If ``name`` is not one of the names above; the message lists them.

    Examples
    --------
    >>> load_dataset("wine")
    Dataset(name='wine', task='multiclass', X: (178, 13) float64, y: (178,) int64, target_names=('cultivar_1', 'cultivar_2', 'cultivar_3'))
    """
    if isinstance(name, str) and name in _SPECS:
        return _load(name)
    names = ", ".join(repr(known) for known in DATASET_NAMES)
    message = f"load_dataset: name must be one of {names}; got {name!r}."
    if isinstance(name, str):
        spelled = name.strip().lower().replace("-", "_").replace(" ", "_")
        close = difflib.get_close_matches(spelled, DATASET_NAMES, n=1, cutoff=0.6)
        if spelled in _SPECS:
            close = [spelled]
        if close:
            message += f" Did you mean {close[0]!r}?"
    raise InvalidOptionError(message)
