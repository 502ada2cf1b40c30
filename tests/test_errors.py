"""Bad input is refused with one of our exceptions and a message that teaches.

Every row of the tables below is one classic mistake. For each, the test checks:

* the exception TYPE: the specific subclass from :mod:`neural_network.errors`, which is
  also a built-in ``ValueError`` (bad values) or ``TypeError`` (not numbers at all), so
  ``except ValueError`` keeps working;
* the KEY WORDS of the message: the argument's name, what was expected, what was
  received and, for the classic mistakes, the fix;
* that the error comes from our own check, not from deep inside NumPy or PyTorch: the
  innermost frame of the traceback is in the ``neural_network`` package and no
  library-internal exception is chained to it.

A loss and its ``_grad`` twin share one validation path, so every loss row runs against
both. Key words are matched exactly (case-sensitive), because a learner reads them
exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import neural_network
from neural_network import (
    activations,
    binary_cross_entropy,
    binary_cross_entropy_grad,
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    matrix_multiply,
    mse_loss,
    mse_loss_grad,
    normalize,
    pure,
    sigmoid,
    sigmoid_grad,
)
from neural_network.errors import (
    EmptyInputError,
    InvalidInputError,
    InvalidOptionError,
    InvalidTypeError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
)

PACKAGE_DIR = Path(neural_network.__file__).resolve().parent
NAN, INF = math.nan, math.inf


# --------------------------------------------------------------------------- the checker


def assert_refused(call: Callable[[], object], error: type[Exception], words: list[str]) -> str:
    """Run ``call``; check it raises exactly ``error`` from our code, with every key word.

    Returns the message, for the few tests that check more.
    """
    with pytest.raises(Exception) as excinfo:  # the exact type is checked below
        call()
    exc = excinfo.value
    assert type(exc) is error, f"expected {error.__name__}, got {type(exc).__name__}: {exc}"
    # Ours: defined in neural_network.errors, and still a built-in ValueError / TypeError.
    assert type(exc).__module__ == "neural_network.errors"
    builtin = TypeError if issubclass(error, InvalidTypeError) else ValueError
    assert isinstance(exc, builtin)
    message = str(exc)
    missing = [word for word in words if word not in message]
    assert not missing, f"message lacks {missing!r}:\n{message}"
    # Raised by our own check: the innermost frame is in the package, and no internal
    # NumPy/PyTorch exception is shown above it ("During handling of the above ...").
    innermost = Path(str(excinfo.traceback[-1].path)).resolve()
    assert PACKAGE_DIR in innermost.parents, f"raised from {innermost}, not from neural_network"
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__
    return message


# --------------------------------------------------------------------------- the NumPy-edition losses


@dataclass(frozen=True)
class LossPair:
    """A loss, its gradient, the name of its first argument and a valid (input, target)."""

    value: Callable[..., Any]
    grad: Callable[..., Any]
    x_name: str
    good_x: tuple[float, ...]
    good_y: tuple[float, ...]

    @property
    def name(self) -> str:
        return self.value.__name__


MSE = LossPair(mse_loss, mse_loss_grad, "y_pred", (0.5, -1.0, 2.0), (1.0, 0.0, 2.5))
BCE = LossPair(binary_cross_entropy, binary_cross_entropy_grad, "A", (0.2, 0.7, 0.9), (0.0, 1.0, 1.0))
BCE_LOGITS = LossPair(
    binary_cross_entropy_with_logits,
    binary_cross_entropy_with_logits_grad,
    "logits",
    (-1.0, 0.5, 2.0),
    (0.0, 1.0, 1.0),
)
LOSSES = [MSE, BCE, BCE_LOGITS]


@dataclass(frozen=True)
class Case:
    """One bad call of a loss.

    ``make(x, y)`` receives the loss's valid input and target (3-element lists) and
    returns the bad ``(x, y, keywords)``. In ``words``, ``{x}`` stands for the name of
    the loss's first argument (``y_pred``, ``A`` or ``logits``).
    """

    id: str
    make: Callable[[list[float], list[float]], tuple[Any, Any, dict[str, Any]]]
    error: type[Exception]
    words: list[str] = field(default_factory=list)


def col(values: list[float]) -> np.ndarray:
    """``values`` as an (n, 1) column, the shape a model's output layer gives."""
    return np.asarray(values, dtype=np.float64).reshape(-1, 1)


def with_value(values: list[float], index: int, value: object) -> list[Any]:
    copy: list[Any] = list(values)
    copy[index] = value
    return copy


SHAPE_CASES = [
    Case(
        "column-x-vs-flat-y",
        lambda x, y: (col(x), y, {}),
        ShapeMismatchError,
        [
            "{x} and y must have the same shape",
            "{x}.shape=(3, 1)",
            "y.shape=(3,)",
            "Nothing is broadcast",
            "(3, 3) result",
            "y = y.reshape(-1, 1)",
        ],
    ),
    Case(
        "flat-x-vs-column-y",
        lambda x, y: (x, col(y), {}),
        ShapeMismatchError,
        ["{x}.shape=(3,)", "y.shape=(3, 1)", "Nothing is broadcast", "y = y.reshape(-1)"],
    ),
    Case(
        "transposed-2d",
        lambda x, y: (np.reshape(x + x, (2, 3)), np.reshape(y + y, (3, 2)), {}),
        ShapeMismatchError,
        ["{x}.shape=(2, 3)", "y.shape=(3, 2)", "Nothing is broadcast", "y.reshape(2, 3)"],
    ),
    Case(
        "different-sizes",
        lambda x, y: (x, [*y, y[0]], {}),
        ShapeMismatchError,
        ["{x}.shape=(3,)", "y.shape=(4,)", "3 and 4 values", "same batch"],
    ),
    Case(
        "scalar-x-vs-vector-y",
        lambda x, y: (x[0], y, {}),
        ShapeMismatchError,
        ["{x}.shape=()", "y.shape=(3,)", "1 and 3 values"],
    ),
]

NON_FINITE_CASES = [
    Case(
        "nan-in-x",
        lambda x, y: (with_value(x, 1, NAN), y, {}),
        NonFiniteError,
        ["{x} must hold finite numbers", "got 1 NaN value", "first at {x}[1]", "drop those rows"],
    ),
    Case(
        "nan-in-y-2d",
        lambda x, y: (
            np.reshape(x + x, (2, 3)),
            np.reshape(with_value(with_value(y + y, 2, NAN), 3, NAN), (2, 3)),
            {},
        ),
        NonFiniteError,
        ["y must hold finite numbers", "got 2 NaN values", "first at y[0, 2]"],
    ),
    Case(
        "inf-in-x",
        lambda x, y: (with_value(x, 2, INF), y, {}),
        NonFiniteError,
        ["{x} must hold finite numbers", "got 1 infinite value", "first at {x}[2]"],
    ),
    Case(
        "minus-inf-in-y",
        lambda x, y: (x, with_value(y, 0, -INF), {}),
        NonFiniteError,
        ["y must hold finite numbers", "1 infinite value", "first at y[0]"],
    ),
    Case(
        "nan-python-scalar",
        lambda x, y: (NAN, y[0], {}),
        NonFiniteError,
        ["{x} must hold finite numbers", "1 NaN value"],
    ),
    Case(
        "nan-in-float32",
        lambda x, y: (
            np.asarray(with_value(x, 0, NAN), dtype=np.float32),
            np.asarray(y, dtype=np.float32),
            {},
        ),
        NonFiniteError,
        ["{x} must hold finite numbers", "1 NaN value", "first at {x}[0]"],
    ),
]

EMPTY_CASES = [
    Case(
        "empty-mean",
        lambda x, y: ([], [], {}),
        EmptyInputError,
        ["reduction='mean' needs at least one element", "{x}.shape=(0,)", "reduction='sum'"],
    ),
    Case(
        "empty-2d-mean",
        lambda x, y: (np.zeros((0, 3)), np.zeros((0, 3)), {"reduction": "mean"}),
        EmptyInputError,
        ["at least one element", "{x}.shape=(0, 3)"],
    ),
    # An empty batch is still an empty batch when (empty) weights come with it.
    Case(
        "empty-mean-with-empty-weights",
        lambda x, y: ([], [], {"sample_weight": []}),
        EmptyInputError,
        ["at least one element", "{x}.shape=(0,)"],
    ),
]

TYPE_CASES = [
    Case(
        "string-x",
        lambda x, y: ("0.5", y[0], {}),
        InvalidTypeError,
        ["{x} must be numeric", "the string '0.5'", "float(text)"],
    ),
    Case(
        "list-of-strings-y",
        lambda x, y: (x, ["0", "1", "1"], {}),
        InvalidTypeError,
        ["y must be numeric", "['0', '1', '1']", "text", "Convert every entry to a number"],
    ),
    Case(
        "string-array-y",
        lambda x, y: (x, np.asarray(["0", "1", "1"]), {}),
        InvalidTypeError,
        ["y must be numeric", "dtype <U1", "dtype=float"],
    ),
    Case(
        "none-x",
        lambda x, y: (None, y, {}),
        InvalidTypeError,
        ["{x} is None", "expected an array or a number", "forget to return"],
    ),
    Case(
        "none-y",
        lambda x, y: (x, None, {}),
        InvalidTypeError,
        ["y is None", "forget to return"],
    ),
    Case(
        "list-with-none-y",
        lambda x, y: (x, with_value(y, 1, None), {}),
        InvalidTypeError,
        ["y must be numeric", "None", "Convert every entry to a number"],
    ),
    Case(
        "object-array-x",
        lambda x, y: (np.asarray(with_value(x, 0, None), dtype=object), y, {}),
        InvalidTypeError,
        ["{x} must be numeric", "dtype object"],
    ),
    Case(
        "complex-list-x",
        lambda x, y: (with_value(x, 0, complex(x[0], 1.0)), y, {}),
        InvalidTypeError,
        ["{x} must be real", "complex", "real part"],
    ),
    Case(
        "complex-array-y",
        lambda x, y: (x, np.asarray(y, dtype=np.complex128), {}),
        InvalidTypeError,
        ["y must be real", "complex array (dtype complex128)", "x.real"],
    ),
    Case(
        "ragged-y",
        lambda x, y: (x, [y[:2], y[2:]], {}),
        InvalidTypeError,
        ["y must be a rectangular array of numbers", "ragged", "same length"],
    ),
    Case(
        "torch-and-numpy-mixed",
        lambda x, y: (torch.tensor(x), np.asarray(y), {}),
        InvalidTypeError,
        ["one array library", "torch.Tensor", "numpy.ndarray", "torch.as_tensor"],
    ),
]

REDUCTION_CASES = [
    Case(
        "reduction-average",
        lambda x, y: (x, y, {"reduction": "average"}),
        InvalidOptionError,
        [
            "reduction must be one of 'mean', 'sum' or 'none'",
            "got 'average'",
            "Did you mean reduction='mean'?",
        ],
    ),
    Case(
        "reduction-total",
        lambda x, y: (x, y, {"reduction": "total"}),
        InvalidOptionError,
        ["'mean', 'sum' or 'none'", "got 'total'", "Did you mean reduction='sum'?"],
    ),
    Case(
        "reduction-None",
        lambda x, y: (x, y, {"reduction": None}),
        InvalidOptionError,
        ["'mean', 'sum' or 'none'", "got None", "pass the string 'none', not None"],
    ),
    Case(
        "reduction-unknown-word",
        lambda x, y: (x, y, {"reduction": "median"}),
        InvalidOptionError,
        ["'mean', 'sum' or 'none'", "got 'median'"],
    ),
    Case(
        "reduction-number",
        lambda x, y: (x, y, {"reduction": 0}),
        InvalidOptionError,
        ["'mean', 'sum' or 'none'", "got 0"],
    ),
]

SAMPLE_WEIGHT_CASES = [
    Case(
        "weight-negative",
        lambda x, y: (x, y, {"sample_weight": [-1.0, 1.0, 2.0]}),
        OutOfRangeError,
        [
            "sample_weight must hold finite non-negative weights",
            "from -1 to 2",
            "1 of them outside",
            "sample_weight[0] = -1",
            "cannot be negative",
        ],
    ),
    Case(
        "weight-nan",
        lambda x, y: (x, y, {"sample_weight": [1.0, NAN, 1.0]}),
        NonFiniteError,
        ["sample_weight must hold finite numbers", "1 NaN value", "first at sample_weight[1]"],
    ),
    Case(
        "weight-inf",
        lambda x, y: (x, y, {"sample_weight": [1.0, 1.0, INF]}),
        NonFiniteError,
        ["sample_weight must hold finite numbers", "1 infinite value", "sample_weight[2]"],
    ),
    Case(
        "weight-wrong-size",
        lambda x, y: (x, y, {"sample_weight": [1.0, 2.0]}),
        ShapeMismatchError,
        ["{x} and sample_weight must have the same shape", "sample_weight.shape=(2,)", "3 and 2 values"],
    ),
    Case(
        "weight-column",
        lambda x, y: (x, y, {"sample_weight": col([1.0, 2.0, 3.0])}),
        ShapeMismatchError,
        ["sample_weight.shape=(3, 1)", "Nothing is broadcast", "sample_weight = sample_weight.reshape(-1)"],
    ),
    Case(
        "weight-scalar",
        lambda x, y: (x, y, {"sample_weight": 2.0}),
        ShapeMismatchError,
        ["sample_weight.shape=()"],
    ),
    Case(
        "weights-all-zero-mean",
        lambda x, y: (x, y, {"sample_weight": [0.0, 0.0, 0.0]}),
        OutOfRangeError,
        ["sample_weight must have a positive sum for reduction='mean'", "are all 0", "reduction='sum'"],
    ),
    Case(
        "weight-string",
        lambda x, y: (x, y, {"sample_weight": "balanced"}),
        InvalidTypeError,
        ["sample_weight must be numeric", "'balanced'"],
    ),
]

LABEL_CASES = [  # binary_cross_entropy and binary_cross_entropy_with_logits
    Case(
        "labels-regression-targets",
        lambda x, y: (x, [0.5, 2.7, 10.0], {}),
        OutOfRangeError,
        ["y must hold labels in [0, 1]", "from 0.5 to 10", "2 of them outside", "y[1] = 2.7", "Use mse_loss"],
    ),
    Case(
        "labels-minus-one-plus-one",
        lambda x, y: (x, [-1.0, 1.0, 1.0], {}),
        OutOfRangeError,
        ["y must hold labels in [0, 1]", "from -1 to 1", "y[0] = -1", "(y + 1) / 2"],
    ),
    Case(
        "labels-class-indices",
        lambda x, y: (x, [0.0, 1.0, 2.0], {}),
        OutOfRangeError,
        ["y must hold labels in [0, 1]", "y[2] = 2", "mse_loss", "one-hot"],
    ),
    Case(
        "labels-slightly-negative",
        lambda x, y: (x, [-0.25, 0.5, 1.0], {}),
        OutOfRangeError,
        ["y must hold labels in [0, 1]", "y[0] = -0.25", "mse_loss"],
    ),
]

PROBABILITY_CASES = [  # binary_cross_entropy only
    Case(
        "logits-passed-as-probabilities",
        lambda x, y: ([2.0, -1.0, 0.5], y, {}),
        OutOfRangeError,
        [
            "A must hold probabilities in [0, 1]",
            "from -1 to 2",
            "2 of them outside",
            "A[0] = 2",
            "logits",
            "binary_cross_entropy_with_logits",
        ],
    ),
    Case(
        "probability-just-above-one",
        lambda x, y: ([0.5, 1.0 + 2.0**-52, 0.5], y, {}),
        OutOfRangeError,
        [
            "A must hold probabilities in [0, 1]",
            "1 of them outside",
            "A[1]",
            "binary_cross_entropy_with_logits",
        ],
    ),
]

POS_WEIGHT_CASES = [  # binary_cross_entropy_with_logits only
    Case(
        "pos-weight-negative",
        lambda x, y: (x, y, {"pos_weight": -1.0}),
        OutOfRangeError,
        ["pos_weight must hold finite non-negative weights", "pos_weight = -1", "cannot be negative"],
    ),
    Case(
        "pos-weight-nan",
        lambda x, y: (x, y, {"pos_weight": [1.0, NAN, 1.0]}),
        NonFiniteError,
        ["pos_weight must hold finite numbers", "1 NaN value", "pos_weight[1]"],
    ),
    Case(
        "pos-weight-inf",
        lambda x, y: (x, y, {"pos_weight": INF}),
        NonFiniteError,
        ["pos_weight must hold finite numbers", "1 infinite value"],
    ),
    Case(
        "pos-weight-not-broadcastable",
        lambda x, y: (x, y, {"pos_weight": [1.0, 2.0]}),
        ShapeMismatchError,
        ["pos_weight must broadcast against y", "pos_weight.shape=(2,)", "y.shape=(3,)", "shape (C,)"],
    ),
    Case(
        "pos-weight-would-enlarge-y",
        lambda x, y: (x, y, {"pos_weight": np.ones((2, 3))}),
        ShapeMismatchError,
        ["pos_weight must broadcast against y without changing its shape", "pos_weight.shape=(2, 3)"],
    ),
    Case(
        "pos-weight-column-vs-flat-y",
        lambda x, y: (x, y, {"pos_weight": col([1.0, 2.0, 3.0])}),
        ShapeMismatchError,
        ["pos_weight.shape=(3, 1)", "y.shape=(3,)"],
    ),
    Case(
        "pos-weight-string",
        lambda x, y: (x, y, {"pos_weight": "balanced"}),
        InvalidTypeError,
        ["pos_weight must be numeric", "'balanced'"],
    ),
]

COMMON_CASES = (
    SHAPE_CASES + NON_FINITE_CASES + EMPTY_CASES + TYPE_CASES + REDUCTION_CASES + SAMPLE_WEIGHT_CASES
)

LOSS_CASES = (
    [(loss, case) for loss in LOSSES for case in COMMON_CASES]
    + [(loss, case) for loss in (BCE, BCE_LOGITS) for case in LABEL_CASES]
    + [(BCE, case) for case in PROBABILITY_CASES]
    + [(BCE_LOGITS, case) for case in POS_WEIGHT_CASES]
)


@pytest.mark.parametrize("which", ["value", "grad"])
@pytest.mark.parametrize(
    ("loss", "case"), LOSS_CASES, ids=[f"{loss.name}-{case.id}" for loss, case in LOSS_CASES]
)
def test_loss_refuses_bad_input(loss: LossPair, case: Case, which: str) -> None:
    """The loss and its gradient refuse the same bad input with the same teaching message."""
    x, y, keywords = case.make(list(loss.good_x), list(loss.good_y))
    func = loss.value if which == "value" else loss.grad
    words = [loss.name, *(word.replace("{x}", loss.x_name) for word in case.words)]
    assert_refused(lambda: func(x, y, **keywords), case.error, words)


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: loss.name)
def test_grad_error_names_the_function_called(loss: LossPair) -> None:
    """An error raised by ``name_grad`` starts with ``name_grad:``, the function the user called.

    (Every message begins with the function's name; sigmoid_grad and the pure edition's
    ``_grad`` functions name themselves, so the losses' gradients must too.)
    """
    message = assert_refused(
        lambda: loss.grad(col(list(loss.good_x)), list(loss.good_y)), ShapeMismatchError, []
    )
    assert message.startswith(f"{loss.grad.__name__}: "), message


@pytest.mark.parametrize(
    ("x", "y"),
    [
        (torch.zeros(3, 1, dtype=torch.float64), torch.zeros(3, dtype=torch.float64)),
        (torch.tensor([0.5, NAN, 0.5]), torch.zeros(3)),
    ],
    ids=["torch-shape-mismatch", "torch-nan"],
)
def test_torch_input_gets_our_errors(x: torch.Tensor, y: torch.Tensor) -> None:
    """PyTorch tensors meet the same checks: our exception, not a torch RuntimeError."""
    error = ShapeMismatchError if x.shape != y.shape else NonFiniteError
    for func in (mse_loss, mse_loss_grad, binary_cross_entropy_with_logits):
        assert_refused(
            lambda func=func: func(x, y), error, ["logits" if "logits" in func.__name__ else "y_pred"]
        )


# --------------------------------------------------------------------------- edge cases that must succeed


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: loss.name)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_empty_sum_is_zero_and_empty_none_is_empty(loss: LossPair, dtype: type) -> None:
    """An empty sum is 0 (not an error) and ``"none"`` of nothing is an empty array.

    Only the mean of nothing is undefined; the gradients of ``"sum"`` and ``"none"``
    are empty arrays of the input's shape.
    """
    for shape in [(0,), (0, 3)]:
        x, y = np.zeros(shape, dtype=dtype), np.zeros(shape, dtype=dtype)
        total = loss.value(x, y, reduction="sum")
        assert total.shape == () and total.dtype == dtype and total == 0.0
        assert not np.signbit(total)
        per_element = loss.value(x, y, reduction="none")
        assert per_element.shape == shape and per_element.dtype == dtype
        for reduction in ("sum", "none"):
            gradient = loss.grad(x, y, reduction=reduction)
            assert gradient.shape == shape and gradient.dtype == dtype
        # empty weights are fine too when no mean is asked
        assert loss.value(x, y, reduction="sum", sample_weight=np.zeros(shape)) == 0.0


@pytest.mark.parametrize("loss", LOSSES, ids=lambda loss: loss.name)
def test_all_zero_weights_are_fine_for_sum(loss: LossPair) -> None:
    """Weights that are all 0 give a sum of 0 and a zero gradient; only the mean is undefined."""
    x, y, w = list(loss.good_x), list(loss.good_y), [0.0, 0.0, 0.0]
    assert loss.value(x, y, reduction="sum", sample_weight=w) == 0.0
    assert np.array_equal(loss.value(x, y, reduction="none", sample_weight=w), np.zeros(3))
    assert np.array_equal(loss.grad(x, y, reduction="sum", sample_weight=w), np.zeros(3))


def test_pos_weight_per_column_is_accepted() -> None:
    """The documented broadcast, one pos_weight per column of an (N, C) target, is not refused."""
    logits, y = np.zeros((4, 3)), np.ones((4, 3))
    for func in (binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_grad):
        result = func(logits, y, pos_weight=np.array([1.0, 2.0, 3.0]), reduction="none")
        assert result.shape == (4, 3)


# ------------------------------------------------------------------- sigmoid, normalize, matrix_multiply


@pytest.mark.parametrize("func", [sigmoid, sigmoid_grad], ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("Z", "error", "words"),
    [
        ([0.0, NAN], NonFiniteError, ["Z must hold finite numbers", "1 NaN value", "first at Z[1]"]),
        (NAN, NonFiniteError, ["Z must hold finite numbers", "1 NaN value"]),
        (None, InvalidTypeError, ["Z is None", "forget to return"]),
        ("1.0", InvalidTypeError, ["Z must be numeric", "the string '1.0'"]),
        ([1.0, None], InvalidTypeError, ["Z must be numeric", "None"]),
        ([1j], InvalidTypeError, ["Z must be real", "complex"]),
    ],
    ids=["nan", "nan-scalar", "none", "string", "list-with-none", "complex"],
)
def test_sigmoid_refuses(
    func: Callable[..., Any], Z: object, error: type[Exception], words: list[str]
) -> None:
    """sigmoid and sigmoid_grad refuse NaN and non-numbers (a NaN would poison a whole batch)."""
    assert_refused(lambda: func(Z), error, [func.__name__, *words])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_of_infinities_is_exact(dtype: type) -> None:
    """±inf are allowed: sigmoid gives exactly 0 and 1, its derivative exactly 0, no warning."""
    Z = np.array([-INF, INF], dtype=dtype)
    s = sigmoid(Z)
    assert s.dtype == dtype and s[0] == 0.0 and s[1] == 1.0
    ds = sigmoid_grad(Z)
    assert ds.dtype == dtype and np.array_equal(ds, [0.0, 0.0])


@pytest.mark.parametrize(
    ("X", "axis", "error", "words"),
    [
        ([], None, EmptyInputError, ["X must hold at least one value", "shape (0,)"]),
        (np.zeros((0, 3)), 0, EmptyInputError, ["at least one value", "shape (0, 3)"]),
        ([1.0, NAN, 2.0], None, NonFiniteError, ["X must hold finite numbers", "1 NaN value", "X[1]"]),
        ([[1.0, INF]], 0, NonFiniteError, ["X must hold finite numbers", "1 infinite value", "X[0, 1]"]),
        (
            [[1.0, 2.0]],
            2,
            InvalidOptionError,
            ["axis must be None or an integer in [-2, 1]", "(1, 2)", "got axis=2"],
        ),
        ([[1.0, 2.0]], -3, InvalidOptionError, ["[-2, 1]", "got axis=-3"]),
        ([1.0, 2.0], True, InvalidOptionError, ["axis must be None or an integer", "got axis=True"]),
        ([1.0, 2.0], 0.0, InvalidOptionError, ["got axis=0.0"]),
        ([1.0, 2.0], "0", InvalidOptionError, ["got axis='0'"]),
        (None, None, InvalidTypeError, ["X is None"]),
        (["a", "b"], None, InvalidTypeError, ["X must be numeric"]),
    ],
    ids=[
        "empty",
        "empty-rows-axis0",
        "nan",
        "inf",
        "axis-too-big",
        "axis-too-negative",
        "axis-bool",
        "axis-float",
        "axis-string",
        "none",
        "strings",
    ],
)
def test_normalize_refuses(X: object, axis: object, error: type[Exception], words: list[str]) -> None:
    """normalize refuses empty input (its mean is undefined), NaN/inf, and an axis the array lacks."""
    assert_refused(lambda: normalize(X, axis=axis), error, ["normalize", *words])


@pytest.mark.parametrize(
    ("x_shape", "w_shape", "words", "transposed"),
    [
        ((4, 3), (2, 5), ["X.shape=(4, 3)", "(3 columns)", "W.shape=(2, 5)", "(2 rows)"], False),
        (
            (4, 3),
            (2, 3),
            ["X.shape=(4, 3)", "W.shape=(2, 3)", "W looks transposed", "matrix_multiply(X, W.T)"],
            True,
        ),
        ((4, 3), (2,), ["W.shape=(2,)", "(2 rows)"], False),
        ((4, 3), (), ["at least one dimension", "W.shape=()", "X * w"], False),
    ],
    ids=["inner-mismatch", "transposed-W", "vector-W", "scalar-W"],
)
def test_matrix_multiply_refuses(
    x_shape: tuple[int, ...], w_shape: tuple[int, ...], words: list[str], transposed: bool
) -> None:
    """The inner dimensions must agree; a transposed W gets the hint ``W.T`` (and only then)."""
    message = assert_refused(
        lambda: matrix_multiply(np.ones(x_shape), np.ones(w_shape)),
        ShapeMismatchError,
        ["matrix_multiply", *words],
    )
    assert ("W.T" in message) == transposed


def test_matrix_multiply_refuses_non_numbers() -> None:
    """None and text are type errors naming the argument."""
    assert_refused(lambda: matrix_multiply(None, np.ones((3, 2))), InvalidTypeError, ["X is None"])
    assert_refused(lambda: matrix_multiply(np.ones((2, 3)), [["a"]]), InvalidTypeError, ["W must be numeric"])


# --------------------------------------------------------------------------- the pure edition


@dataclass(frozen=True)
class PurePair:
    """A pure-edition loss and its gradient (argument order: y_true, y_pred)."""

    value: Callable[..., Any]
    grad: Callable[..., Any]

    @property
    def name(self) -> str:
        return self.value.__name__


PURE_MSE = PurePair(pure.mean_squared_error, pure.mean_squared_error_grad)
PURE_BCE = PurePair(pure.binary_cross_entropy, pure.binary_cross_entropy_grad)
GOOD_TRUE, GOOD_PRED = [1.0, 0.0, 1.0], [0.9, 0.2, 0.6]


@dataclass(frozen=True)
class PureCase:
    """One bad call ``func(y_true, y_pred, **keywords)`` of the pure edition."""

    id: str
    y_true: Any
    y_pred: Any
    error: type[Exception]
    words: list[str]
    keywords: dict[str, Any] = field(default_factory=dict)


PURE_COMMON_CASES = [
    PureCase(
        "length-mismatch",
        GOOD_TRUE,
        GOOD_PRED[:2],
        ShapeMismatchError,
        ["y_true and y_pred must have the same length", "got 3 and 2 values", "same examples"],
    ),
    PureCase(
        "number-vs-sequence",
        1.0,
        [0.9],
        ShapeMismatchError,
        [
            "both be numbers or both be sequences",
            "y_true = 1.0",
            "y_pred = [0.9]",
            "Wrap the number in a list",
        ],
    ),
    PureCase(
        "sequence-vs-number",
        GOOD_TRUE,
        0.9,
        ShapeMismatchError,
        ["both be numbers or both be sequences", "y_pred = 0.9", "Wrap the number in a list"],
    ),
    PureCase(
        "none-true-with-sequence",
        None,
        GOOD_PRED,
        InvalidTypeError,
        ["y_true is None", "expected a number or a sequence of numbers"],
    ),
    PureCase("none-pred-with-sequence", GOOD_TRUE, None, InvalidTypeError, ["y_pred is None"]),
    # None and strings are not sequences: the message must say so, not suggest wrapping a number.
    PureCase("none-pred-with-number", 1.0, None, InvalidTypeError, ["y_pred is None"]),
    PureCase("string-true-with-number", "1.0", 0.9, InvalidTypeError, ["y_true", "'1.0'"]),
    PureCase("complex-pred-with-number", 1.0, 0.9 + 0.1j, InvalidTypeError, ["y_pred", "(0.9+0.1j)"]),
    PureCase(
        "string-true-with-sequence",
        "101",
        GOOD_PRED,
        InvalidTypeError,
        ["y_true must be a number or a sequence of numbers", "got '101'"],
    ),
    PureCase(
        "string-in-list",
        [1.0, "0", 1.0],
        GOOD_PRED,
        InvalidTypeError,
        ["y_true must hold numbers only", "'0' (type str) at index 1"],
    ),
    PureCase(
        "none-in-list",
        GOOD_TRUE,
        [0.9, None, 0.6],
        InvalidTypeError,
        ["y_pred must hold numbers only", "None", "at index 1"],
    ),
    PureCase(
        "nested-list",
        [[1.0], [0.0], [1.0]],
        GOOD_PRED,
        InvalidTypeError,
        ["y_true must hold numbers only", "a nested sequence at index 0", "flatten", "NumPy edition"],
    ),
    PureCase(
        "generator",
        (v for v in GOOD_TRUE),
        GOOD_PRED,
        InvalidTypeError,
        ["y_true must be a number or a sequence of numbers", "generator"],
    ),
    PureCase(
        "nan-in-pred",
        GOOD_TRUE,
        [0.9, NAN, 0.6],
        NonFiniteError,
        ["y_pred must hold finite numbers", "nan at index 1"],
    ),
    PureCase(
        "inf-in-true",
        [1.0, 0.0, INF],
        GOOD_PRED,
        NonFiniteError,
        ["y_true must hold finite numbers", "inf at index 2"],
    ),
    PureCase("nan-numbers", NAN, 0.5, NonFiniteError, ["y_true must hold finite numbers", "nan at index 0"]),
    PureCase("empty", [], [], EmptyInputError, ["at least one value", "two empty sequences"]),
]

PURE_BCE_CASES = [
    PureCase(
        "probability-above-one",
        GOOD_TRUE,
        [0.9, 1.5, 0.6],
        OutOfRangeError,
        ["y_pred must hold probabilities in [0, 1]", "got 1.5 at index 1", "logits", "sigmoid"],
    ),
    PureCase(
        "probability-negative",
        1,
        -0.2,
        OutOfRangeError,
        ["y_pred must hold probabilities in [0, 1]", "got -0.2 at index 0"],
    ),
    PureCase(
        "label-minus-one",
        [1.0, -1.0, 1.0],
        GOOD_PRED,
        OutOfRangeError,
        ["y_true must hold labels in [0, 1]", "got -1.0 at index 1"],
    ),
    PureCase(
        "label-regression-target",
        [3.5, 0.0, 1.0],
        GOOD_PRED,
        OutOfRangeError,
        ["y_true must hold labels in [0, 1]", "got 3.5 at index 0", "mean_squared_error"],
    ),
    *[
        PureCase(
            f"epsilon-{name}",
            GOOD_TRUE,
            GOOD_PRED,
            InvalidOptionError,
            ["epsilon must be a number in (0, 0.5)", f"got {epsilon!r}"],
            {"epsilon": epsilon},
        )
        for name, epsilon in [
            ("zero", 0.0),
            ("half", 0.5),
            ("negative", -1e-9),
            ("nan", NAN),
            ("inf", INF),
            ("string", "1e-9"),
            ("bool", True),
            ("none", None),
            ("big", 0.75),
        ]
    ],
]

PURE_CASES = [(loss, case) for loss in (PURE_MSE, PURE_BCE) for case in PURE_COMMON_CASES] + [
    (PURE_BCE, case) for case in PURE_BCE_CASES
]


@pytest.mark.parametrize("which", ["value", "grad"])
@pytest.mark.parametrize(
    ("loss", "case"), PURE_CASES, ids=[f"{loss.name}-{case.id}" for loss, case in PURE_CASES]
)
def test_pure_edition_refuses_bad_input(loss: PurePair, case: PureCase, which: str) -> None:
    """The pure edition's loss and gradient refuse the same mistakes, with the same care."""
    func = loss.value if which == "value" else loss.grad
    assert_refused(
        lambda: func(case.y_true, case.y_pred, **case.keywords),
        case.error,
        [f"{func.__name__}: ", *case.words],
    )


def test_error_classes_are_builtin_errors() -> None:
    """``except ValueError`` / ``except TypeError`` keep working for code written before this package."""
    for error in (ShapeMismatchError, NonFiniteError, OutOfRangeError, EmptyInputError, InvalidOptionError):
        assert issubclass(error, InvalidInputError) and issubclass(error, ValueError)
        assert not issubclass(error, TypeError)
    assert issubclass(InvalidTypeError, TypeError) and not issubclass(InvalidTypeError, ValueError)
    # the pure edition raises the very same classes (one hierarchy for both editions)
    assert pure.ShapeMismatchError is ShapeMismatchError


# --------------------------------------------------------------------------- the other activations
#
# sigmoid and sigmoid_grad have their table above; the same mistakes for every other
# activation and its derivative. (tests/test_activations.py checks a few messages with
# ``match``; here every function meets every row, with the exception's exact type and
# origin checked by ``assert_refused``.)

ELEMENTWISE_PAIRS = [
    (activations.identity, activations.identity_grad),
    (activations.tanh, activations.tanh_grad),
    (activations.relu, activations.relu_grad),
    (activations.leaky_relu, activations.leaky_relu_grad),
    (activations.elu, activations.elu_grad),
    (activations.gelu, activations.gelu_grad),
    (activations.softplus, activations.softplus_grad),
]
ELEMENTWISE_FUNCTIONS = [f for pair in ELEMENTWISE_PAIRS for f in pair]

ELEMENTWISE_Z_CASES = [
    ([0.0, NAN], NonFiniteError, ["Z must hold finite numbers", "1 NaN value", "first at Z[1]"]),
    ([[0.0, 1.0], [NAN, NAN]], NonFiniteError, ["2 NaN values", "first at Z[1, 0]"]),
    (NAN, NonFiniteError, ["Z must hold finite numbers", "1 NaN value"]),
    (np.asarray([1.0, NAN], dtype=np.float32), NonFiniteError, ["1 NaN value", "first at Z[1]"]),
    (torch.tensor([NAN, 0.0]), NonFiniteError, ["1 NaN value", "first at Z[0]"]),
    (None, InvalidTypeError, ["Z is None", "forget to return"]),
    ("1.0", InvalidTypeError, ["Z must be numeric", "the string '1.0'"]),
    (np.asarray(["1", "2"]), InvalidTypeError, ["Z must be numeric", "dtype <U1"]),
    ([1.0, None], InvalidTypeError, ["Z must be numeric", "None"]),
    (np.asarray([1.0, None], dtype=object), InvalidTypeError, ["Z must be numeric", "dtype object"]),
    ([1j], InvalidTypeError, ["Z must be real", "complex"]),
    (np.asarray([1.0, 2.0], dtype=np.complex128), InvalidTypeError, ["Z must be real", "complex128"]),
    ([[1.0], [1.0, 2.0]], InvalidTypeError, ["Z must be a rectangular array of numbers", "ragged"]),
]
ELEMENTWISE_Z_IDS = [
    "nan", "nan-2d", "nan-scalar", "nan-float32", "nan-torch", "none", "string", "string-array",
    "list-with-none", "object-array", "complex", "complex-array", "ragged",
]


@pytest.mark.parametrize("func", ELEMENTWISE_FUNCTIONS, ids=lambda f: f.__name__)
@pytest.mark.parametrize(("Z", "error", "words"), ELEMENTWISE_Z_CASES, ids=ELEMENTWISE_Z_IDS)
def test_elementwise_activations_refuse(
    func: Callable[..., Any], Z: object, error: type[Exception], words: list[str]
) -> None:
    """Every element-wise activation and derivative refuses NaN and non-numbers, naming itself."""
    message = assert_refused(lambda: func(Z), error, words)
    assert message.startswith(f"{func.__name__}: "), message


@pytest.mark.parametrize("func", ELEMENTWISE_FUNCTIONS, ids=lambda f: f.__name__)
def test_elementwise_activations_accept_infinities_and_empty_input(func: Callable[..., Any]) -> None:
    """+-inf are valid input (their limits are returned, see test_activations); so is an empty array."""
    out = func(np.asarray([-INF, INF]))
    assert out.shape == (2,) and not np.isnan(out).any()
    assert func(np.zeros((0, 3))).shape == (0, 3)


# Each row: the function, the bad keyword option, the key words. Each runs against the
# function and its _grad twin (they share the option's check).
ACTIVATION_OPTION_CASES = [
    *[
        pytest.param(pair, {"negative_slope": bad}, words, id=f"negative_slope-{name}")
        for pair in [(activations.leaky_relu, activations.leaky_relu_grad)]
        for name, bad, words in [
            ("string", "0.1", ["negative_slope must be a real number", "got '0.1'", "negative_slope=float(value)"]),
            ("bool", True, ["negative_slope must be a real number", "got True"]),
            ("none", None, ["negative_slope must be a real number", "got None"]),
            ("nan", NAN, ["negative_slope must be a finite number", "got nan"]),
            ("inf", INF, ["negative_slope must be a finite number", "got inf"]),
            ("list", [0.1], ["negative_slope must be a real number", "got [0.1]"]),
        ]
    ],
    *[
        pytest.param((activations.elu, activations.elu_grad), {"alpha": bad}, words, id=f"alpha-{name}")
        for name, bad, words in [
            ("string", "1", ["alpha must be a real number", "got '1'", "alpha=float(value)"]),
            ("bool", False, ["alpha must be a real number", "got False"]),
            ("nan", NAN, ["alpha must be a finite number", "got nan"]),
            ("minus-inf", -INF, ["alpha must be a finite number", "got -inf"]),
        ]
    ],
    *[
        pytest.param((activations.softplus, activations.softplus_grad), {"beta": bad}, words, id=f"beta-{name}")
        for name, bad, words in [
            ("zero", 0.0, ["beta must be a positive finite number", "got 0.0"]),
            ("negative", -2.0, ["beta must be a positive finite number", "got -2.0"]),
            ("nan", NAN, ["beta must be a positive finite number", "got nan"]),
            ("inf", INF, ["beta must be a positive finite number", "got inf"]),
            ("string", "2", ["beta must be a real number", "got '2'", "beta=float(value)"]),
            ("none", None, ["beta must be a real number", "got None"]),
            ("tensor", torch.tensor(2.0), ["beta must be a real number", "beta=float(value)"]),
        ]
    ],
    *[
        pytest.param((activations.gelu, activations.gelu_grad), {"approximate": bad}, words, id=f"approximate-{name}")
        for name, bad, words in [
            ("true", True, ["approximate must be 'none' (the exact GELU) or 'tanh'", "got True", "approximate='tanh' here"]),
            ("false", False, ["got False", "approximate='none' here"]),
            ("erf", "erf", ["got 'erf'", "For the exact GELU (with erf) pass approximate='none'"]),
            ("exact", "exact", ["got 'exact'", "pass approximate='none'"]),
            ("none-object", None, ["approximate must be 'none' (the exact GELU) or 'tanh'", "got None"]),
            ("sigmoid", "sigmoid", ["approximate must be 'none' (the exact GELU) or 'tanh'", "got 'sigmoid'"]),
        ]
    ],
]


@pytest.mark.parametrize("which", ["value", "grad"])
@pytest.mark.parametrize(("pair", "options", "words"), ACTIVATION_OPTION_CASES)
def test_activation_options_are_checked(
    pair: tuple[Callable[..., Any], Callable[..., Any]], options: dict[str, Any], words: list[str], which: str
) -> None:
    """A bad option is an InvalidOptionError naming the function called, the option and the value."""
    func = pair[0] if which == "value" else pair[1]
    message = assert_refused(lambda: func([0.5, -1.0], **options), InvalidOptionError, words)
    assert message.startswith(f"{func.__name__}: "), message


# softmax, log_softmax and their vector-Jacobian products: the same mistakes, and those
# of their own (an axis, +inf, a fully masked row, a scalar, the upstream gradient).

SOFTMAX_FAMILY = {
    "softmax": lambda Z, g, **kw: activations.softmax(Z, **kw),
    "log_softmax": lambda Z, g, **kw: activations.log_softmax(Z, **kw),
    "softmax_grad": activations.softmax_grad,
    "log_softmax_grad": activations.log_softmax_grad,
}
GOOD_LOGITS = [[1.0, -2.0, 0.5], [0.0, 3.0, -1.0]]
GOOD_GRAD = [[0.5, -1.0, 0.0], [1.0, 0.25, -0.5]]

SOFTMAX_Z_CASES = [
    pytest.param([[1.0, NAN, 0.0], [0.0, 0.0, 0.0]], {}, NonFiniteError,
                 ["Z must hold finite numbers", "1 NaN value", "first at Z[0, 1]"], id="nan"),
    pytest.param([[1.0, INF, 0.0], [0.0, 0.0, 0.0]], {}, NonFiniteError,
                 ["Z must not contain +inf", "(-inf is allowed: it masks an entry out.)"], id="plus-inf"),
    pytest.param([[1.0, 0.0, 0.0], [-INF, -INF, -INF]], {}, NonFiniteError,
                 ["every entry of Z[1, :] is -inf", "1 such row along axis 1", "no probability distribution"],
                 id="masked-row"),
    pytest.param([[1.0, -INF, 0.0], [0.0, -INF, 0.0]], {"axis": 0}, NonFiniteError,
                 ["every entry of Z[:, 1] is -inf", "along axis 0"], id="masked-column-axis-0"),
    pytest.param(None, {}, InvalidTypeError, ["Z is None", "forget to return"], id="none"),
    pytest.param("1.0", {}, InvalidTypeError, ["Z must be numeric", "the string '1.0'"], id="string"),
    pytest.param([[1.0, None, 0.0], [0.0, 0.0, 0.0]], {}, InvalidTypeError, ["Z must be numeric", "None"],
                 id="list-with-none"),
    pytest.param([[1j, 0.0, 0.0], [0.0, 0.0, 0.0]], {}, InvalidTypeError, ["Z must be real", "complex"],
                 id="complex"),
    pytest.param(2.0, {}, InvalidOptionError, ["Z is a scalar (0-d)", "at least one dimension", "Z.reshape(1)"],
                 id="scalar"),
    pytest.param(GOOD_LOGITS, {"axis": 2}, InvalidOptionError,
                 ["axis=2 is out of range for a 2-d Z", "expected -2 <= axis < 2"], id="axis-too-big"),
    pytest.param(GOOD_LOGITS, {"axis": -3}, InvalidOptionError, ["axis=-3 is out of range"], id="axis-too-negative"),
    pytest.param(GOOD_LOGITS, {"axis": True}, InvalidOptionError, ["axis must be an integer", "got True"],
                 id="axis-bool"),
    pytest.param(GOOD_LOGITS, {"axis": 1.0}, InvalidOptionError, ["axis must be an integer", "got 1.0"],
                 id="axis-float"),
    pytest.param(GOOD_LOGITS, {"axis": None}, InvalidOptionError, ["axis must be an integer", "got None"],
                 id="axis-none"),
    pytest.param(GOOD_LOGITS, {"axis": "1"}, InvalidOptionError, ["axis must be an integer", "got '1'"],
                 id="axis-string"),
]


def grad_for(Z: object) -> object:
    """A valid upstream gradient of ``Z``'s shape (the good one when ``Z`` is None or text)."""
    if Z is None or isinstance(Z, str):
        return GOOD_GRAD
    shape = np.shape(Z)
    return np.ones(shape) if shape else 1.0


@pytest.mark.parametrize("name", list(SOFTMAX_FAMILY))
@pytest.mark.parametrize(("Z", "options", "error", "words"), SOFTMAX_Z_CASES)
def test_softmax_family_refuses(name: str, Z: object, options: dict[str, Any], error: type[Exception],
                                words: list[str]) -> None:
    """softmax, log_softmax and their gradients refuse the same bad logits and axes, naming themselves."""
    func = SOFTMAX_FAMILY[name]
    message = assert_refused(lambda: func(Z, grad_for(Z), **options), error, words)
    assert message.startswith(f"{name}: "), message


GRAD_OUTPUT_CASES = [
    pytest.param(
        None, InvalidTypeError, ["grad_output is None", "forget to return"], id="none",
    ),
    pytest.param("1.0", InvalidTypeError, ["grad_output must be numeric", "the string '1.0'"], id="string"),
    pytest.param([[0.0, NAN, 0.0], [0.0, 0.0, 0.0]], NonFiniteError,
                 ["grad_output must hold finite numbers", "1 NaN value", "first at grad_output[0, 1]"], id="nan"),
    pytest.param([[0.0, 0.0, 0.0], [0.0, 0.0, -INF]], NonFiniteError,
                 ["grad_output must hold finite numbers", "1 infinite value", "grad_output[1, 2]"], id="inf"),
    pytest.param([1.0, 0.0, 0.0], ShapeMismatchError,
                 ["Z and grad_output must have the same shape"], id="flat-vs-2d"),
    pytest.param(np.ones((3, 2)), ShapeMismatchError, ["Z and grad_output must have the same shape"],
                 id="transposed"),
    pytest.param(torch.ones(2, 3, dtype=torch.float64), InvalidTypeError,
                 ["one array library", "torch.Tensor", "numpy.ndarray"], id="torch-with-numpy"),
]


@pytest.mark.parametrize("name", ["softmax_grad", "log_softmax_grad"])
@pytest.mark.parametrize(("grad_output", "error", "words"), GRAD_OUTPUT_CASES)
def test_softmax_gradients_check_grad_output(name: str, grad_output: object, error: type[Exception],
                                             words: list[str]) -> None:
    """The upstream gradient meets the same checks as the logits (None included)."""
    func = SOFTMAX_FAMILY[name]
    Z = np.asarray(GOOD_LOGITS)
    message = assert_refused(lambda: func(Z, grad_output), error, words)
    assert message.startswith(f"{name}: "), message
