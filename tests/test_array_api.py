"""Any array library in, the same library out.

Every public function accepts arrays of any library that follows the array API
standard. Checked here for NumPy, array-api-strict (a minimal implementation of the
standard, which catches any use of a NumPy-only feature) and PyTorch CPU tensors:

* the result belongs to the input's library (``array_api_compat.array_namespace``)
  and keeps its float dtype (float32 stays float32, float64 stays float64);
* its values are those of the NumPy path, for every reduction;
* Python lists and scalars give NumPy float64; integer arrays give float64 arrays of
  their own library;
* arrays of two libraries in one call are refused with an ``InvalidTypeError`` that
  names both arguments;
* invalid input raises the same exception, with the same message, in every library.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import array_api_compat
import array_api_strict
import numpy as np
import pytest
import torch

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
    sigmoid,
    sigmoid_grad,
)
from neural_network.errors import (
    InvalidOptionError,
    InvalidTypeError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
)

REDUCTIONS = ("mean", "sum", "none")
LIBRARIES = ("numpy", "array_api_strict", "torch")
FLOAT_DTYPES = ("float32", "float64")

# --------------------------------------------------------------------------- conversions


def to_library(library: str, values: Any, dtype: str | None = None) -> Any:
    """``values`` as an array of ``library`` (built from NumPy, so every library gets the same numbers).

    ``library="python"`` gives nested Python lists.
    """
    array = np.asarray(values, dtype=dtype)
    if library == "python":
        return array.tolist()
    if library == "numpy":
        return array
    if library == "array_api_strict":
        return array_api_strict.asarray(array)
    return torch.asarray(array.copy())


def to_numpy(array: Any) -> np.ndarray:
    """Any result back to NumPy, to compare values."""
    if isinstance(array, torch.Tensor):
        return array.numpy()
    return np.asarray(array)


def namespace_of(array: Any) -> Any:
    return array_api_compat.array_namespace(array)


# --------------------------------------------------------------------------- the calls


@dataclass(frozen=True)
class Call:
    """A public function with its array arguments (as NumPy data) and its other options."""

    function: Callable[..., Any]
    arrays: tuple[Any, ...]
    array_options: dict[str, Any] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)

    def run(self, library: str, dtype: str | None = None) -> Any:
        """Call the function with every array converted to ``library`` (and ``dtype``)."""
        arrays = [to_library(library, a, dtype) for a in self.arrays]
        array_options = {k: to_library(library, v, dtype) for k, v in self.array_options.items()}
        return self.function(*arrays, **array_options, **self.options)


PREDICTIONS = [[0.5, -1.25, 2.0], [3.0, 0.0, -0.75]]
TARGETS = [[1.0, -1.0, 2.5], [2.0, 0.25, -0.75]]
PROBABILITIES = [[0.1, 0.8, 0.35], [0.999, 0.02, 0.5]]
LABELS = [[0.0, 1.0, 0.3], [1.0, 0.0, 1.0]]
LOGITS = [[-2.0, 1.5, 0.25], [7.0, -4.0, 0.0]]
WEIGHTS = [[1.0, 0.5, 0.0], [2.0, 1.0, 0.25]]
POS_WEIGHT = [0.5, 2.0, 3.0]
MATRIX = [[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]]
WEIGHT_MATRIX = [[0.5, 1.0], [-1.5, 2.0], [0.25, -0.75]]
MASKED_LOGITS = [[-2.0, 1.5, -float("inf")], [7.0, -4.0, 0.0]]  # -inf masks an entry (softmax family)
ACTIVATION_OPTIONS = [
    ("identity", {}),
    ("tanh", {}),
    ("relu", {}),
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("softplus", {}),
    ("softplus", {"beta": 2.0}),
]

LOSS_FUNCTIONS = {
    "mse_loss": (mse_loss, PREDICTIONS, TARGETS),
    "mse_loss_grad": (mse_loss_grad, PREDICTIONS, TARGETS),
    "binary_cross_entropy": (binary_cross_entropy, PROBABILITIES, LABELS),
    "binary_cross_entropy_grad": (binary_cross_entropy_grad, PROBABILITIES, LABELS),
    "binary_cross_entropy_with_logits": (binary_cross_entropy_with_logits, LOGITS, LABELS),
    "binary_cross_entropy_with_logits_grad": (binary_cross_entropy_with_logits_grad, LOGITS, LABELS),
}


def all_calls() -> dict[str, Call]:
    """Every public function, the losses with every reduction, with and without weights."""
    calls = {}
    for name, (function, x, y) in LOSS_FUNCTIONS.items():
        for reduction in REDUCTIONS:
            options = {"reduction": reduction}
            calls[f"{name}-{reduction}"] = Call(function, (x, y), options=options)
            weights = {"sample_weight": WEIGHTS}
            if "with_logits" in name:
                weights["pos_weight"] = POS_WEIGHT
            calls[f"{name}-{reduction}-weighted"] = Call(function, (x, y), weights, options)
    calls["sigmoid"] = Call(sigmoid, (LOGITS,))
    calls["sigmoid_grad"] = Call(sigmoid_grad, (LOGITS,))
    calls["normalize"] = Call(normalize, (MATRIX,))
    calls["normalize-axis=0"] = Call(normalize, (MATRIX,), options={"axis": 0})
    calls["matrix_multiply"] = Call(matrix_multiply, (MATRIX, WEIGHT_MATRIX))
    # the activations: every element-wise one and its derivative, with default and other options
    for name, options in ACTIVATION_OPTIONS:
        for suffix in ("", "_grad"):
            function = getattr(activations, name + suffix)
            label = name + suffix + "".join(f"-{key}={value}" for key, value in options.items())
            calls[label] = Call(function, (LOGITS,), options=options)
    for name in ("softmax", "log_softmax"):
        for axis in (-1, 0):
            calls[f"{name}-axis={axis}"] = Call(getattr(activations, name), (MASKED_LOGITS,), options={"axis": axis})
            calls[f"{name}_grad-axis={axis}"] = Call(
                getattr(activations, f"{name}_grad"), (MASKED_LOGITS, PREDICTIONS), options={"axis": axis}
            )
    return calls


CALLS = all_calls()

TOLERANCE = {"float32": {"rtol": 1e-6, "atol": 1e-7}, "float64": {"rtol": 1e-14, "atol": 1e-16}}
"""Other libraries may round a few operations differently (their own exp, log1p, sums,
matmul order): a few ulps of the dtype at most."""


# --------------------------------------------------------------------------- same library out


@pytest.mark.parametrize("call", list(CALLS), ids=str)
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
@pytest.mark.parametrize("library", LIBRARIES)
def test_same_library_dtype_and_values_out(library, dtype, call):
    """The result is an array of the input's library and dtype, with the NumPy path's values."""
    result = CALLS[call].run(library, dtype)
    xp = namespace_of(to_library(library, [1.0], dtype))

    assert namespace_of(result) is xp, f"{call}: got {type(result)} for {library} input"
    assert result.dtype == getattr(xp, dtype), f"{call}: got dtype {result.dtype} for {dtype} input"

    expected = CALLS[call].run("numpy", dtype)
    assert to_numpy(result).shape == np.shape(expected)
    np.testing.assert_allclose(to_numpy(result), expected, **TOLERANCE[dtype])


@pytest.mark.parametrize("call", list(CALLS), ids=str)
def test_lists_give_numpy_float64(call):
    """Nested Python lists (no array library at all) give NumPy float64."""
    result = CALLS[call].run("python")
    assert namespace_of(result) is namespace_of(np.empty(0))
    assert result.dtype == np.float64
    np.testing.assert_allclose(result, CALLS[call].run("numpy", "float64"), rtol=0, atol=0)


@pytest.mark.parametrize(
    ("function", "arguments", "expected"),
    [
        (mse_loss, (2.0, 0.5), 2.25),
        (mse_loss_grad, (2, 1), 2.0),
        (binary_cross_entropy, (0.5, 1), 0.6931471805599453),  # log 2
        (binary_cross_entropy_grad, (0.25, 0), 4.0 / 3.0),  # 1 / (1 - A)
        (binary_cross_entropy_with_logits, (0.0, 1), 0.6931471805599453),
        (binary_cross_entropy_with_logits_grad, (0, 0), 0.5),  # sigmoid(0) - 0
        (sigmoid, (0,), 0.5),
        (sigmoid_grad, (0.0,), 0.25),
        (normalize, (3.0,), 0.0),  # one value: std 0, so only shifted
        (activations.identity, (3,), 3.0),
        (activations.identity_grad, (-2.5,), 1.0),
        (activations.tanh, (0,), 0.0),
        (activations.tanh_grad, (0.0,), 1.0),  # 1 - tanh(0)**2
        (activations.relu, (-2,), 0.0),
        (activations.relu_grad, (0.5,), 1.0),
        (activations.leaky_relu, (-2.0,), -0.02),  # default slope 0.01
        (activations.leaky_relu_grad, (-1,), 0.01),
        (activations.elu, (-0.6931471805599453,), -0.5),  # e**(-log 2) - 1
        (activations.elu_grad, (-0.6931471805599453,), 0.5),  # e**(-log 2)
        (activations.gelu, (1.0,), 0.8413447460685429),  # 1 * Phi(1), from tables of the normal CDF
        (activations.gelu_grad, (0,), 0.5),  # Phi(0) + 0 * phi(0)
        (activations.softplus, (0,), 0.6931471805599453),  # log 2
        (activations.softplus_grad, (0.0,), 0.5),  # sigmoid(0)
    ],
    ids=lambda v: getattr(v, "__name__", None),
)
def test_python_scalars_give_numpy_float64(function, arguments, expected):
    """Python numbers (int or float) give a NumPy float64 scalar with the hand-computed value."""
    result = function(*arguments)
    assert namespace_of(result) is namespace_of(np.empty(0))
    assert result.dtype == np.float64 and np.shape(result) == ()
    assert float(result) == pytest.approx(expected, rel=1e-15)


INTEGER_CALLS = {
    "mse_loss": Call(mse_loss, ([[3, -1], [0, 2]], [[1, 1], [0, 5]])),
    "mse_loss_grad": Call(mse_loss_grad, ([[3, -1], [0, 2]], [[1, 1], [0, 5]]), options={"reduction": "sum"}),
    "binary_cross_entropy": Call(binary_cross_entropy, ([[1, 0], [0, 1]], [[1, 0], [0, 1]])),
    "binary_cross_entropy_grad": Call(binary_cross_entropy_grad, ([[1, 0], [0, 1]], [[1, 0], [0, 1]])),
    "binary_cross_entropy_with_logits": Call(
        binary_cross_entropy_with_logits, ([[2, -3], [0, 1]], [[1, 0], [0, 1]])
    ),
    "binary_cross_entropy_with_logits_grad": Call(
        binary_cross_entropy_with_logits_grad, ([[2, -3], [0, 1]], [[1, 0], [0, 1]])
    ),
    "sigmoid": Call(sigmoid, ([[2, -3], [0, 1]],)),
    "sigmoid_grad": Call(sigmoid_grad, ([[2, -3], [0, 1]],)),
    "normalize": Call(normalize, ([[2, -3], [0, 1]],)),
    "matrix_multiply": Call(matrix_multiply, ([[2, -3], [0, 1]], [[1, 4], [5, -2]])),
    **{
        name: Call(getattr(activations, name), ([[2, -3], [0, 1]],))
        for name in (
            "identity", "identity_grad", "tanh", "tanh_grad", "relu", "relu_grad", "leaky_relu", "leaky_relu_grad",
            "elu", "elu_grad", "gelu", "gelu_grad", "softplus", "softplus_grad", "softmax", "log_softmax",
        )
    },
    "softmax_grad": Call(activations.softmax_grad, ([[2, -3], [0, 1]], [[1, 0], [0, 1]])),
    "log_softmax_grad": Call(activations.log_softmax_grad, ([[2, -3], [0, 1]], [[1, 0], [0, 1]])),
}


@pytest.mark.parametrize("call", list(INTEGER_CALLS), ids=str)
@pytest.mark.parametrize("dtype", ["int32", "int64"])
@pytest.mark.parametrize("library", LIBRARIES)
def test_integer_arrays_give_float64(library, dtype, call):
    """Integer arrays are computed in float64 and stay in their library."""
    result = INTEGER_CALLS[call].run(library, dtype)
    xp = namespace_of(to_library(library, [1], dtype))
    assert namespace_of(result) is xp
    assert result.dtype == xp.float64
    # The same values as float64 input of the same numbers.
    expected = INTEGER_CALLS[call].run("numpy", "float64")
    np.testing.assert_allclose(to_numpy(result), expected, **TOLERANCE["float64"])


# --------------------------------------------------------------------------- mixing libraries


def mixed_calls() -> list[Any]:
    """(function, arguments, keyword arguments, the two names the message must give)."""
    t = torch.asarray([[0.25, 0.5]], dtype=torch.float64)
    n = np.array([[0.0, 1.0]])
    s = array_api_strict.asarray([[0.0, 1.0]], dtype=array_api_strict.float64)
    cases = [
        ("mse_loss", mse_loss, (t, n), {}, ("y_pred", "torch"), ("y", "numpy")),
        ("mse_loss_grad", mse_loss_grad, (n, t), {}, ("y_pred", "numpy"), ("y", "torch")),
        ("bce", binary_cross_entropy, (t, n), {}, ("A", "torch"), ("y", "numpy")),
        ("bce_grad", binary_cross_entropy_grad, (n, t), {}, ("A", "numpy"), ("y", "torch")),
        ("bce_logits", binary_cross_entropy_with_logits, (t, n), {}, ("logits", "torch"), ("y", "numpy")),
        (
            "bce_logits_grad",
            binary_cross_entropy_with_logits_grad,
            (n, t),
            {},
            ("logits", "numpy"),
            ("y", "torch"),
        ),
        (
            "sample_weight",
            mse_loss,
            (n, n),
            {"sample_weight": t},
            ("y_pred", "numpy"),
            ("sample_weight", "torch"),
        ),
        (
            "pos_weight",
            binary_cross_entropy_with_logits,
            (t, t),
            {"pos_weight": np.array([1.0, 2.0])},
            ("logits", "torch"),
            ("pos_weight", "numpy"),
        ),
        ("matrix_multiply", matrix_multiply, (t, n.T), {}, ("X", "torch"), ("W", "numpy")),
        ("strict_with_numpy", mse_loss, (s, n), {}, ("y_pred", "array_api_strict"), ("y", "numpy")),
        (
            "softmax_grad",
            activations.softmax_grad,
            (t, n),
            {},
            ("Z", "torch"),
            ("grad_output", "numpy"),
        ),
        (
            "log_softmax_grad",
            activations.log_softmax_grad,
            (n, t),
            {},
            ("Z", "numpy"),
            ("grad_output", "torch"),
        ),
        (
            "log_softmax_grad_strict",
            activations.log_softmax_grad,
            (s, n),
            {},
            ("Z", "array_api_strict"),
            ("grad_output", "numpy"),
        ),
    ]
    return [pytest.param(*case[1:], id=case[0]) for case in cases]


def names_argument_with_library(message: str, argument: str, library: str) -> bool:
    """The message names ``argument`` (as a word) and, in the same clause, its ``library``."""
    return re.search(rf"(?<![\w.]){re.escape(argument)}\b[^,;]*?\b{library}\b", message) is not None


@pytest.mark.parametrize(("function", "arguments", "options", "first", "second"), mixed_calls())
def test_mixing_libraries_is_refused(function, arguments, options, first, second):
    """Arrays of two libraries in one call: InvalidTypeError (a TypeError) naming both arguments."""
    with pytest.raises(InvalidTypeError) as caught:
        function(*arguments, **options)
    assert isinstance(caught.value, TypeError)
    message = str(caught.value)
    # The message starts with the function (a gradient's message may name its loss).
    assert message.startswith(function.__name__.removesuffix("_grad")), message
    for argument, library in (first, second):
        assert names_argument_with_library(message, argument, library), (argument, library, message)


# --------------------------------------------------------------------------- errors everywhere alike


NAN = float("nan")
INVALID_CALLS = {
    "NaN prediction": (mse_loss, ([1.0, NAN, 2.0], [1.0, 1.0, 1.0]), {}, NonFiniteError),
    "NaN label": (binary_cross_entropy, ([0.5, 0.5], [1.0, NAN]), {}, NonFiniteError),
    "infinite logit": (
        binary_cross_entropy_with_logits_grad,
        ([0.0, float("inf")], [1.0, 0.0]),
        {},
        NonFiniteError,
    ),
    "NaN in sigmoid": (sigmoid, ([[0.0, NAN]],), {}, NonFiniteError),
    "NaN in normalize": (normalize, ([[0.0, NAN]],), {}, NonFiniteError),
    "column against flat": (mse_loss, ([[1.0], [2.0]], [1.0, 2.0]), {}, ShapeMismatchError),
    "shape mismatch in bce": (
        binary_cross_entropy_grad,
        ([0.5, 0.5, 0.5], [1.0, 0.0]),
        {},
        ShapeMismatchError,
    ),
    "transposed weights": (matrix_multiply, ([[1.0, 2.0, 3.0]], [[1.0, 2.0, 3.0]]), {}, ShapeMismatchError),
    "probability above 1": (binary_cross_entropy, ([0.5, 1.5], [1.0, 0.0]), {}, OutOfRangeError),
    "negative sample weight": (
        mse_loss,
        ([1.0, 2.0], [1.0, 1.0]),
        {"sample_weight": [1.0, -1.0]},
        OutOfRangeError,
    ),
    "NaN in relu": (activations.relu, ([[0.0, NAN]],), {}, NonFiniteError),
    "NaN in gelu_grad": (activations.gelu_grad, ([[1.0], [NAN]],), {}, NonFiniteError),
    "NaN in softplus": (activations.softplus, ([NAN, 0.0],), {}, NonFiniteError),
    "NaN in identity": (activations.identity, ([NAN],), {}, NonFiniteError),
    "NaN in softmax": (activations.softmax, ([[0.0, 1.0], [NAN, 0.0]],), {}, NonFiniteError),
    "+inf logit in log_softmax": (activations.log_softmax, ([[0.0, float("inf")]],), {}, NonFiniteError),
    "fully masked row in softmax": (
        activations.softmax,
        ([[0.0, 1.0], [-float("inf"), -float("inf")]],),
        {},
        NonFiniteError,
    ),
    "NaN upstream gradient": (
        activations.softmax_grad,
        ([[0.0, 1.0]], [[NAN, 1.0]]),
        {},
        NonFiniteError,
    ),
    "upstream gradient of another shape": (
        activations.log_softmax_grad,
        ([[0.0, 1.0]], [0.0, 1.0]),
        {},
        ShapeMismatchError,
    ),
    "scalar logits": (activations.softmax, (2.0,), {}, InvalidOptionError),
}


@pytest.mark.parametrize("library", ["array_api_strict", "torch"])
@pytest.mark.parametrize("case", list(INVALID_CALLS))
def test_errors_are_the_same_in_every_library(case, library):
    """Bad input raises the same exception, with the same message, as for NumPy input."""
    function, arguments, options, error = INVALID_CALLS[case]

    def call(lib: str) -> str:
        converted = [to_library(lib, a, "float64") for a in arguments]
        converted_options = {k: to_library(lib, v, "float64") for k, v in options.items()}
        with pytest.raises(error) as caught:
            function(*converted, **converted_options)
        assert type(caught.value) is error
        return str(caught.value)

    assert call(library) == call("numpy")
