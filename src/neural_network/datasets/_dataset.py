"""``Dataset``: the arrays of a bundled data set, with the names that explain them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from neural_network.errors import (
    InvalidOptionError,
    InvalidTypeError,
    OutOfRangeError,
    ShapeMismatchError,
    describe,
)

Task = Literal["binary", "multiclass", "regression"]
"""What ``y`` holds: two classes, three or more classes, or real numbers."""

TASKS: tuple[Task, ...] = ("binary", "multiclass", "regression")


# eq=False: the generated __eq__ would compare arrays element-wise and fail on `bool(...)`,
# and the generated __hash__ would fail on the unhashable arrays; identity serves both.
@dataclass(frozen=True, eq=False)
class Dataset:
    """A data set as arrays: features ``X``, targets ``y``, and what they mean.

    The fields cannot be reassigned (the class is frozen). Each loader call reads the
    file again and returns new arrays, so changing them in place (to standardize ``X``,
    say) changes only your copy.

    Attributes
    ----------
    X : numpy.ndarray of float64, shape (n_samples, n_features)
        One row per sample, one column per feature, in the units of the source.
    y : numpy.ndarray, shape (n_samples,)
        int64 class indices ``0 .. len(target_names) - 1`` for ``"binary"`` and
        ``"multiclass"``; float64 values for ``"regression"``.
    feature_names : tuple of str
        The name of each column of ``X``.
    target_names : tuple of str
        Classification: the name of each class, indexed by the values of ``y``.
        Regression: a single name, that of the quantity ``y`` measures.
    task : {"binary", "multiclass", "regression"}
        The learning problem ``y`` defines.
    description : str
        A few lines on what was measured, with the source, the citation and the licence.
    name : str
        The name that :func:`~neural_network.datasets.load_dataset` takes.

    Examples
    --------
    >>> import numpy as np
    >>> data = Dataset(
    ...     X=np.array([[0.0, 1.0], [2.0, 3.0]]), y=np.array([1, 0]),
    ...     feature_names=("a", "b"), target_names=("no", "yes"), task="binary",
    ...     description="Two made-up samples.", name="tiny",
    ... )
    >>> data
    Dataset(name='tiny', task='binary', X: (2, 2) float64, y: (2,) int64, target_names=('no', 'yes'))
    """

    X: NDArray[np.float64]
    y: NDArray[np.int64] | NDArray[np.float64]
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    task: Task
    description: str
    name: str

    def __post_init__(self) -> None:
        func = "Dataset"
        if self.task not in TASKS:
            raise InvalidOptionError(
                f"{func}: task must be one of 'binary', 'multiclass' or 'regression'; got {self.task!r}."
            )
        for field, value in (("X", self.X), ("y", self.y)):
            if not isinstance(value, np.ndarray):
                raise InvalidTypeError(f"{func}: {field} must be a NumPy array; got {describe(value)}.")
        if self.X.ndim != 2 or self.X.dtype != np.float64:
            raise InvalidTypeError(
                f"{func}: X must be a 2-D float64 array (n_samples, n_features); "
                f"got shape {self.X.shape} and dtype {self.X.dtype}."
            )
        expected = np.float64 if self.task == "regression" else np.int64
        if self.y.ndim != 1 or self.y.dtype != expected:
            raise InvalidTypeError(
                f"{func}: y must be a 1-D {np.dtype(expected)} array for task={self.task!r}; "
                f"got shape {self.y.shape} and dtype {self.y.dtype}."
            )
        if self.y.shape[0] != self.X.shape[0]:
            raise ShapeMismatchError(
                f"{func}: X and y must have one row per sample; got {self.X.shape[0]} rows in X "
                f"and {self.y.shape[0]} in y."
            )
        for field, names in (("feature_names", self.feature_names), ("target_names", self.target_names)):
            if not isinstance(names, tuple) or not all(isinstance(item, str) for item in names):
                raise InvalidTypeError(f"{func}: {field} must be a tuple of str; got {describe(names)}.")
        if len(self.feature_names) != self.X.shape[1]:
            raise ShapeMismatchError(
                f"{func}: feature_names must name each of the {self.X.shape[1]} columns of X; "
                f"got {len(self.feature_names)} names."
            )
        self._check_target_names(func)

    def _check_target_names(self, func: str) -> None:
        if self.task == "regression":
            if len(self.target_names) != 1:
                raise ShapeMismatchError(
                    f"{func}: a regression data set has one target name (the quantity y measures); "
                    f"got {len(self.target_names)}: {self.target_names!r}."
                )
            return
        n_classes = len(self.target_names)
        if (self.task == "binary") != (n_classes == 2) or n_classes < 2:
            raise InvalidOptionError(
                f"{func}: task={self.task!r} does not fit {n_classes} class names {self.target_names!r}; "
                "'binary' has exactly 2 classes, 'multiclass' 3 or more."
            )
        if self.y.size and (int(self.y.min()) < 0 or int(self.y.max()) >= n_classes):
            raise OutOfRangeError(
                f"{func}: y must hold class indices in [0, {n_classes - 1}] for {n_classes} classes; "
                f"got values from {int(self.y.min())} to {int(self.y.max())}."
            )

    def __repr__(self) -> str:
        # The default repr would print every value of X: a summary is what one wants to see.
        return (
            f"Dataset(name={self.name!r}, task={self.task!r}, "
            f"X: {self.X.shape} {self.X.dtype}, y: {self.y.shape} {self.y.dtype}, "
            f"target_names={self.target_names!r})"
        )
