"""The pure edition, ``neural_network.pure``: the first article's losses, standard library only.

Argument order is ``(y_true, y_pred)`` as in that article. Two numbers give the loss of
one prediction; two sequences of equal length give the mean. Expected values come from
hand derivations with exact fractions, from mpmath at 50 digits, or from finite
differences -- never from the module itself.
"""

from __future__ import annotations

import math
import subprocess
import sys
from fractions import Fraction

import mpmath
import pytest

from neural_network.errors import (
    EmptyInputError,
    InvalidOptionError,
    InvalidTypeError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
)
from neural_network.pure import (
    binary_cross_entropy,
    binary_cross_entropy_grad,
    mean_squared_error,
    mean_squared_error_grad,
)

DIGITS = 50
DEFAULT_EPSILON = 1e-9


# Error model: u = 2**-53; +, -, *, / round with relative error <= u; math.log and
# math.log1p within 1 ulp: <= 2u; math.fsum is exact, then rounded once. k u is k ulp.


def ulps_from(actual: float, exact: mpmath.mpf) -> float:
    """Distance of ``actual`` from the exact value, in units in the last place of the latter."""
    with mpmath.workdps(DIGITS):
        return float(abs(mpmath.mpf(actual) - exact) / math.ulp(float(exact)))


def exact_bce(y: float, p: float) -> mpmath.mpf:
    """-(y log p + (1 - y) log(1 - p)) of the float64 values y and p, at 50 digits."""
    with mpmath.workdps(DIGITS):
        y, p = mpmath.mpf(y), mpmath.mpf(p)
        return -(y * mpmath.log(p) + (1 - y) * mpmath.log(1 - p))


# --------------------------------------------------------------------------- standard library only


def test_importing_the_pure_edition_does_not_import_numpy():
    """A learner without NumPy can use it: importing (and calling) it never loads numpy."""
    code = (
        "import sys\n"
        "import neural_network.pure as pure\n"
        "pure.mean_squared_error([1.0, 2.0], [1.5, 2.5])\n"
        "pure.binary_cross_entropy_grad(1, 0.5)\n"
        "assert 'numpy' not in sys.modules, sorted(m for m in sys.modules if 'numpy' in m)\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr


def test_the_exact_one_liner_from_the_brief():
    completed = subprocess.run(
        [sys.executable, "-c", "import neural_network.pure, sys; assert 'numpy' not in sys.modules"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr


# --------------------------------------------------------------------------- mean squared error


@pytest.mark.parametrize(
    ("y_true", "y_pred", "expected"),
    [
        (3.0, 2.5, Fraction(1, 4)),  # the article's example: (1/2)^2
        (3, 1, Fraction(4)),  # ints: (3 - 1)^2
        (-1.5, 0.25, Fraction(49, 16)),  # (-7/4)^2
        (0.5, 0.5, Fraction(0)),
    ],
)
def test_mse_of_one_prediction(y_true, y_pred, expected):
    """Exact in binary floating point, so the result must be exactly the fraction."""
    loss = mean_squared_error(y_true, y_pred)
    assert type(loss) is float
    assert loss == float(expected)


@pytest.mark.parametrize("container", [list, tuple], ids=["list", "tuple"])
def test_mse_of_sequences_is_the_mean(container):
    """[3, 1, 0] vs [2.5, 1, 2]: errors 1/2, 0, 2; squares 1/4, 0, 4; mean 17/12."""
    loss = mean_squared_error(container([3.0, 1.0, 0.0]), container([2.5, 1.0, 2.0]))
    assert type(loss) is float
    assert loss == float(Fraction(17, 12))


def test_mse_mixes_lists_tuples_and_ints():
    assert mean_squared_error([1, 2], (1.5, 2)) == float(Fraction(1, 8))  # (1/4 + 0) / 2


def test_mse_mean_is_accumulated_without_rounding_error():
    """One error of 1 and fifteen of 1e-8: the fifteen squares (1e-16 each) must not be lost.

    Adding 1e-16 to 1.0 one by one rounds back to 1.0 every time (the spacing of floats
    at 1 is 2.2e-16), so a naive ``sum`` drops them; ``math.fsum`` (and mpmath) keeps
    them. The reference is the 50-digit mean of the float64 squares; with n = 16 the
    division is exact, so the correctly rounded sum gives the correctly rounded mean.
    """
    y_true = [1.0] + [1e-8] * 15
    y_pred = [0.0] * 16
    squares = [(t - p) ** 2 for t, p in zip(y_true, y_pred, strict=True)]
    with mpmath.workdps(DIGITS):
        exact = mpmath.fsum(mpmath.mpf(s) for s in squares) / 16
    assert math.fsum(squares) / 16 == float(exact)  # the fsum reference agrees with mpmath
    assert sum(squares) / 16 != float(exact)  # and a naive sum would not: the test can fail
    assert mean_squared_error(y_true, y_pred) == float(exact)


def test_mse_of_long_sequences_matches_fsum_reference():
    """1000 values in [0, 1): the mean equals math.fsum of the squares divided by n."""
    y_true = [((i * 7919) % 1000) / 1000 for i in range(1000)]
    y_pred = [((i * 104729) % 997) / 997 for i in range(1000)]
    reference = math.fsum((t - p) ** 2 for t, p in zip(y_true, y_pred, strict=True)) / 1000
    assert mean_squared_error(y_true, y_pred) == reference


def test_mse_gradient_of_one_prediction():
    """d/dp (t - p)^2 = 2 (p - t): t = 3, p = 2.5 gives -1."""
    grad = mean_squared_error_grad(3.0, 2.5)
    assert type(grad) is float
    assert grad == -1.0


def test_mse_gradient_of_sequences_is_divided_by_n():
    """The mean of n squares: each derivative 2 (p - t) / n. [3, 1, 0] vs [2.5, 1, 1]: [-1/3, 0, 2/3]."""
    grad = mean_squared_error_grad([3.0, 1.0, 0.0], [2.5, 1.0, 1.0])
    assert isinstance(grad, list)
    assert all(type(g) is float for g in grad)
    assert grad == [float(Fraction(-1, 3)), 0.0, float(Fraction(2, 3))]


def test_mse_gradient_of_a_one_element_sequence_is_a_list():
    assert mean_squared_error_grad([3.0], [2.5]) == [-1.0]


# --------------------------------------------------------------------------- binary cross-entropy


@pytest.mark.parametrize(
    ("y_true", "y_pred"),
    [
        (1, 0.9),  # the article's example, -ln 0.9 ~ 0.105
        (0, 0.1),
        (1, 0.5),  # ln 2
        (0, 0.999),
        (0.3, 0.6),  # a soft label
        (1, 1e-5),
    ],
)
def test_bce_of_one_prediction(y_true, y_pred):
    """-(y ln p + (1 - y) ln(1 - p)) within one ulp of mpmath where the clip is not involved."""
    loss = binary_cross_entropy(y_true, y_pred)
    assert type(loss) is float
    # Hard label: one log or log1p (1 ulp), times 1, plus an exact 0. Soft label: y log(p)
    # 2u + u, (1 - y) u, log1p 2u, the product u; the sum (same signs) u: 5 ulp.
    assert ulps_from(loss, exact_bce(y_true, y_pred)) <= (1 if y_true in (0, 1) else 5)


@pytest.mark.parametrize("container", [list, tuple], ids=["list", "tuple"])
def test_bce_of_sequences_is_the_mean(container):
    """The mean of the per-prediction losses, within an ulp of the 50-digit mean."""
    y_true = [1, 0, 1, 0.25]
    y_pred = [0.9, 0.2, 0.6, 0.5]
    with mpmath.workdps(DIGITS):
        exact = mpmath.fsum(exact_bce(t, p) for t, p in zip(y_true, y_pred, strict=True)) / 4
    loss = binary_cross_entropy(container(y_true), container(y_pred))
    assert type(loss) is float
    # Elements (all > 0): 2u for hard labels; y = 0.25: y log(p) 3u, log1p(-p) 2u times the exact
    # 0.75 u, their sum u: 4u. fsum rounds once, / 4 is exact: 5 ulp.
    assert ulps_from(loss, exact) <= 5


def test_bce_perfect_hard_predictions_are_clipped_not_zero_or_infinite():
    """y = 1 with p = 0 is clipped to p = 1e-9: loss -ln(1e-9) ~ 20.72, finite (the article's rule)."""
    with mpmath.workdps(DIGITS):
        exact = -mpmath.log(mpmath.mpf(DEFAULT_EPSILON))
    # Hard labels, here and in the clip tests below: the clip is exact, then one math.log or
    # math.log1p (1 ulp) times 1, plus an exact 0, fsum of one, / 1: 1 ulp.
    assert ulps_from(binary_cross_entropy(1, 0.0), exact) <= 1
    assert ulps_from(binary_cross_entropy(1, 1e-12), exact) <= 1  # below epsilon: clipped too
    assert binary_cross_entropy(1, 0.0) == binary_cross_entropy(1, 1e-12)


def test_bce_clip_at_the_top():
    """y = 0 with p = 1 is clipped to p = 1 - 1e-9 (as the float 1 - 1e-9): loss -ln(1 - (1 - 1e-9))."""
    top = 1 - DEFAULT_EPSILON
    with mpmath.workdps(DIGITS):
        exact = -mpmath.log(1 - mpmath.mpf(top))
    assert ulps_from(binary_cross_entropy(0, 1.0), exact) <= 1


def test_bce_clip_applies_to_right_predictions_too():
    """y = 0 with p = 0 is clipped to 1e-9: loss -ln(1 - 1e-9) ~ 1e-9, not 0 (and y = 1, p = 1 alike)."""
    with mpmath.workdps(DIGITS):
        bottom = -mpmath.log(1 - mpmath.mpf(DEFAULT_EPSILON))
        top = -mpmath.log(mpmath.mpf(1 - DEFAULT_EPSILON))
    assert ulps_from(binary_cross_entropy(0, 0.0), bottom) <= 1
    assert ulps_from(binary_cross_entropy(1, 1.0), top) <= 1


def test_bce_custom_epsilon():
    """epsilon = 0.1 clips to [0.1, 0.9]: p = 0.05 counts as 0.1, p = 0.5 is untouched."""
    with mpmath.workdps(DIGITS):
        clipped = -mpmath.log(mpmath.mpf(0.1))
        half = mpmath.log(2)
        upper = -mpmath.log(1 - mpmath.mpf(1 - 0.1))
    assert ulps_from(binary_cross_entropy(1, 0.05, epsilon=0.1), clipped) <= 1
    assert ulps_from(binary_cross_entropy(1, 0.0, 0.1), clipped) <= 1  # positional, as in the article
    assert ulps_from(binary_cross_entropy(1, 0.5, epsilon=0.1), half) <= 1
    assert ulps_from(binary_cross_entropy(0, 0.95, epsilon=0.1), upper) <= 1
    # A smaller epsilon lets the same prediction cost more.
    assert binary_cross_entropy(1, 0.0, epsilon=1e-15) > binary_cross_entropy(1, 0.0)


@pytest.mark.parametrize("epsilon", [0.0, -1e-9, 0.5, 1.0, math.nan, True, "1e-9", None])
def test_bce_refuses_a_meaningless_epsilon(epsilon):
    """epsilon must be a number in (0, 0.5): otherwise the clip interval is empty or does nothing."""
    with pytest.raises(InvalidOptionError):
        binary_cross_entropy(1, 0.5, epsilon=epsilon)
    with pytest.raises(InvalidOptionError):
        binary_cross_entropy_grad(1, 0.5, epsilon=epsilon)


# --------------------------------------------------------------------------- its gradient


@pytest.mark.parametrize(
    ("y_true", "y_pred", "expected"),
    [
        # (p - y) / (p (1 - p)): y = 1 gives -1/p, y = 0 gives 1/(1 - p).
        (1, 0.5, Fraction(-2)),
        (0, 0.75, Fraction(4)),
        (1, 0.25, Fraction(-4)),
        (0, 0.5, Fraction(2)),
    ],
)
def test_bce_gradient_by_hand(y_true, y_pred, expected):
    """Values where every step is exact in binary floating point."""
    grad = binary_cross_entropy_grad(y_true, y_pred)
    assert type(grad) is float
    assert grad == float(expected)


@pytest.mark.parametrize(("y_true", "y_pred"), [(1, 0.9), (0, 0.1), (0.3, 0.6), (1, 1e-5), (0, 0.999)])
def test_bce_gradient_matches_the_derivative(y_true, y_pred):
    """(p - y) / (p (1 - p)) in mpmath, and a central finite difference of the loss."""
    with mpmath.workdps(DIGITS):
        p, y = mpmath.mpf(y_pred), mpmath.mpf(y_true)
        exact = (p - y) / (p * (1 - p))
    grad = binary_cross_entropy_grad(y_true, y_pred)
    # p - y, 1 - p, the product and the division round once each (no libm): 4u < 1e-14.
    assert grad == pytest.approx(float(exact), rel=1e-14)
    h = y_pred * 1e-6
    difference = (binary_cross_entropy(y_true, y_pred + h) - binary_cross_entropy(y_true, y_pred - h)) / (
        2 * h
    )
    assert grad == pytest.approx(difference, rel=1e-6)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "epsilon"),
    [
        (1, 0.0, DEFAULT_EPSILON),
        (0, 1.0, DEFAULT_EPSILON),
        (1, 1e-12, DEFAULT_EPSILON),
        (0, 1.0 - 1e-12, DEFAULT_EPSILON),
        (1, 0.05, 0.1),
        (0, 0.95, 0.1),
    ],
)
def test_bce_gradient_is_zero_where_the_clip_is_active(y_true, y_pred, epsilon):
    """The clipped loss is flat there (nearby predictions give the same loss), so its derivative is 0."""
    assert binary_cross_entropy_grad(y_true, y_pred, epsilon=epsilon) == 0.0
    nudged = y_pred * 0.5 if y_pred < 0.5 else 1 - (1 - y_pred) * 0.5
    assert binary_cross_entropy(y_true, nudged, epsilon=epsilon) == binary_cross_entropy(
        y_true, y_pred, epsilon=epsilon
    )


def test_bce_gradient_of_sequences_is_divided_by_n():
    """[1, 0] vs [0.5, 0.75]: per prediction -2 and 4, each divided by n = 2: [-1, 2]."""
    grad = binary_cross_entropy_grad([1, 0], [0.5, 0.75])
    assert isinstance(grad, list)
    assert all(type(g) is float for g in grad)
    assert grad == [-1.0, 2.0]


def test_bce_gradient_of_sequences_with_a_clipped_prediction():
    """[1, 1, 0] vs (0, 0.5, 0.5): the clipped first one gets 0; the others -2/3 and 2/3."""
    grad = binary_cross_entropy_grad((1, 1, 0), (0.0, 0.5, 0.5))
    assert grad == [0.0, float(Fraction(-2, 3)), float(Fraction(2, 3))]


def test_bce_gradient_of_sequences_matches_finite_differences():
    """Each component is the partial derivative of the mean loss (central differences)."""
    y_true = [1, 0, 0.4, 1]
    y_pred = [0.7, 0.2, 0.55, 0.95]
    grad = binary_cross_entropy_grad(y_true, y_pred)
    for i, p in enumerate(y_pred):
        h = 1e-6
        up, down = list(y_pred), list(y_pred)
        up[i], down[i] = p + h, p - h
        difference = (binary_cross_entropy(y_true, up) - binary_cross_entropy(y_true, down)) / (2 * h)
        assert grad[i] == pytest.approx(difference, rel=1e-6)


# --------------------------------------------------------------------------- results and errors


@pytest.mark.parametrize(
    "call",
    [
        lambda: mean_squared_error(Fraction(1, 2), Fraction(1, 4)),
        lambda: mean_squared_error(True, 0),
        lambda: binary_cross_entropy(1, Fraction(1, 2)),
        lambda: mean_squared_error([1, 2], [2, 3]),
        lambda: binary_cross_entropy((1, 0), (1, 0)),
        lambda: mean_squared_error_grad(1, 2),
        lambda: binary_cross_entropy_grad(1, 1),
    ],
)
def test_results_are_python_floats(call):
    """Any real numbers in, a built-in float out (never an int, Fraction or a NumPy scalar)."""
    assert type(call()) is float


@pytest.mark.parametrize(
    ("call", "error"),
    [
        pytest.param(lambda: mean_squared_error(1.0, [1.0]), ShapeMismatchError, id="number-vs-list"),
        pytest.param(lambda: mean_squared_error([1.0, 2.0], [1.0]), ShapeMismatchError, id="lengths"),
        pytest.param(lambda: mean_squared_error([], []), EmptyInputError, id="empty"),
        pytest.param(lambda: mean_squared_error([[1.0]], [[1.0]]), InvalidTypeError, id="nested"),
        pytest.param(lambda: mean_squared_error("12", "12"), InvalidTypeError, id="strings"),
        pytest.param(lambda: mean_squared_error(None, None), InvalidTypeError, id="none-both"),
        pytest.param(lambda: mean_squared_error(None, 1.0), InvalidTypeError, id="none-vs-number"),
        pytest.param(lambda: mean_squared_error([math.nan], [1.0]), NonFiniteError, id="nan"),
        pytest.param(lambda: mean_squared_error(1.0, math.inf), NonFiniteError, id="inf"),
        pytest.param(lambda: binary_cross_entropy(1, 1.5), OutOfRangeError, id="probability-above-1"),
        pytest.param(lambda: binary_cross_entropy(1, -2.0), OutOfRangeError, id="logit-passed"),
        pytest.param(lambda: binary_cross_entropy(2, 0.5), OutOfRangeError, id="label-above-1"),
        pytest.param(lambda: binary_cross_entropy_grad([1, 0], [0.5, 3.0]), OutOfRangeError, id="grad-range"),
    ],
)
def test_bad_input_raises_a_clear_error(call, error):
    """Bad input raises the package's ValueError / TypeError subclasses, never a bare exception."""
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, (ValueError, TypeError))
    assert str(info.value)  # a message, not an empty exception
