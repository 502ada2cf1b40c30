"""Both source articles, run against this package.

The package grew out of two tutorials:

* *Neural Networks From Scratch (pure Python), Article #5: Loss Functions* -- the
  pure edition, ``neural_network.pure``;
* *Learn Deep Learning with NumPy, Part 2.1: Loss Functions* -- the NumPy edition at
  the package top.

Here their worked examples and exercises are run with this library. The article code
is copied *unchanged* into the strings below (only the article's own ``def`` lines are
replaced by an import from ``neural_network``), which proves that a learner's code keeps
working against the package.

No expected value is copied from the articles (one of them is wrong). Each one is
derived independently: by hand with exact fractions where the arithmetic is exact,
otherwise with mpmath at 50 digits from the very float64 inputs the code sees.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import mpmath
import numpy as np
import pytest

from neural_network import binary_cross_entropy, matrix_multiply, mse_loss, normalize, sigmoid

DIGITS = 50
"""Working precision of every mpmath reference."""

ARTICLE_VALUE = 0.1731486847
"""What the NumPy article prints for its BCE example; its own code does not give it."""

# --------------------------------------------------------------------------- the article code, verbatim

PURE_IMPORTS = "from neural_network.pure import mean_squared_error, binary_cross_entropy\n"

# Pure article, "Example" under "Implementing MSE in Python".
PURE_MSE_EXAMPLE = """\
y_true = 3.0
y_pred = 2.5
loss = mean_squared_error(y_true, y_pred)
print(loss)
"""

# Pure article, "Example" under "Implementing Binary Cross-Entropy in Python".
PURE_BCE_EXAMPLE = """\
y_true = 1
y_pred = 0.9
loss = binary_cross_entropy(y_true, y_pred)
print(loss)
"""

# What the NumPy article tells the reader to write once its toolkit is a library
# ("You can now import these functions ... from neural_network import ...").
NUMPY_IMPORTS = """\
import numpy as np
from neural_network import mse_loss, binary_cross_entropy, sigmoid, normalize, matrix_multiply
"""

# NumPy article, the MSE code block after its ``def mse_loss`` (which the import replaces).
NUMPY_MSE_EXAMPLE = """\
# Example: Synthetic regression data (y = 2x + 1)
X = np.array([[1.0], [2.0], [3.0], [4.0]]) # Input (4 samples, 1 feature)
W = np.array([[2.0]]) # Weight (approximating the true slope)
b = 1.0 # Bias (approximating the true intercept)
y_pred = X @ W + b # Predicted values
y_true = np.array([[3.0], [5.0], [7.0], [9.0]]) # True values (y = 2x + 1)
print("Input X (4x1):\\n", X)
print("Predicted y_pred (4x1):\\n", y_pred)
print("True y_true (4x1):\\n", y_true)
loss_mse = mse_loss(y_pred, y_true)
print("MSE Loss:", loss_mse)
"""

# NumPy article, the BCE code block after its ``def binary_cross_entropy``.
NUMPY_BCE_EXAMPLE = """\
# Example: Synthetic binary classification data
# Raw outputs (logits) before sigmoid
Z = np.array([[2.0], [-1.0], [3.0], [-2.0]])
# Predicted probabilities after sigmoid
A = 1 / (1 + np.exp(-Z))
# True binary labels (0 or 1)
y_true = np.array([[1.0], [0.0], [1.0], [0.0]])
print("Raw outputs Z (4x1):\\n", Z)
print("Predicted probabilities A (4x1):\\n", A)
print("True labels y_true (4x1):\\n", y_true)
loss_bce = binary_cross_entropy(A, y_true)
print("Binary Cross-Entropy Loss:", loss_bce)
"""

# NumPy article, the four exercises ("# Your code here" blocks), unchanged.
EXERCISE_1 = """\
# Your code here
X = np.array([[1.0], [2.0], [3.0]])
W = np.array([[1.5]])
b = 0.5
y_pred = X @ W + b
y_true = np.array([[2.0], [3.5], [5.0]])
loss = mse_loss(y_pred, y_true)
print("Input X (3x1):\\n", X)
print("Predicted y_pred (3x1):\\n", y_pred)
print("True y_true (3x1):\\n", y_true)
print("MSE Loss:", loss)
"""

EXERCISE_2 = """\
# Your code here
Z = np.array([[1.0], [-1.0], [2.0]])
A = sigmoid(Z)
y_true = np.array([[1.0], [0.0], [1.0]])
loss = binary_cross_entropy(A, y_true)
print("Raw outputs Z (3x1):\\n", Z)
print("Predicted probabilities A (3x1):\\n", A)
print("True labels y_true (3x1):\\n", y_true)
print("Binary Cross-Entropy Loss:", loss)
"""

EXERCISE_3 = """\
# Your code here
X = np.array([[1.0], [2.0], [3.0]])
W = np.array([[1.0]])
b = 0.5
y_pred = X @ W + b
y_true = np.array([[2.0], [3.5], [5.0]])
loss = mse_loss(y_pred, y_true)
print("Input X (3x1):\\n", X)
print("Predicted y_pred (3x1):\\n", y_pred)
print("True y_true (3x1):\\n", y_true)
print("MSE Loss:", loss)
"""

EXERCISE_4 = """\
# Your code here
Z = np.array([[-2.0], [2.0], [-1.0]])
A = sigmoid(Z)
y_true = np.array([[1.0], [0.0], [1.0]])
loss = binary_cross_entropy(A, y_true)
print("Raw outputs Z (3x1):\\n", Z)
print("Predicted probabilities A (3x1):\\n", A)
print("True labels y_true (3x1):\\n", y_true)
print("Binary Cross-Entropy Loss:", loss)
"""

# The NumPy article's own toolkit (its ``neural_network.py``; the web page lost the
# indentation, restored here). It is the reference for everything the blocks print
# besides the loss, and the source of the article code's 0.15392626529447628.
ARTICLE_TOOLKIT = """\
import numpy as np

def normalize(X):
    mean = np.mean(X)
    std = np.std(X)
    if std == 0: # Avoid division by zero
        return X - mean
    return (X - mean) / std

def matrix_multiply(X, W):
    return np.matmul(X, W)

def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))

def mse_loss(y_pred, y):
    return np.mean((y_pred - y) ** 2)

def binary_cross_entropy(A, y):
    epsilon = 1e-15
    return -np.mean(y * np.log(A + epsilon) + (1 - y) * np.log(1 - A + epsilon))
"""


# --------------------------------------------------------------------------- helpers


def run_article_code(preamble: str, block: str, capsys: pytest.CaptureFixture[str]) -> tuple[dict, str]:
    """Execute ``preamble + block`` as a script; return its variables and what it printed."""
    namespace: dict = {"__name__": "__article__"}
    capsys.readouterr()  # discard anything printed before
    exec(compile(preamble + block, "<article>", "exec"), namespace)
    return namespace, capsys.readouterr().out


def printed_value(output: str, label: str) -> str:
    """The text printed after ``label`` by ``print(label, value)``."""
    match = re.search(rf"^{re.escape(label)} (\S+)$", output, flags=re.MULTILINE)
    assert match, f"no line {label!r} in:\n{output}"
    return match.group(1)


def without_line(output: str, label: str) -> str:
    return "\n".join(line for line in output.splitlines() if not line.startswith(label))


def exact_bce(A, y) -> mpmath.mpf:
    """Mean binary cross-entropy of the float64 values ``A`` (labels ``y``), at 50 digits."""
    with mpmath.workdps(DIGITS):
        terms = [
            -(mpmath.mpf(t) * mpmath.log(mpmath.mpf(p)) + (1 - mpmath.mpf(t)) * mpmath.log(1 - mpmath.mpf(p)))
            for p, t in zip(np.ravel(A).tolist(), np.ravel(y).tolist(), strict=True)
        ]
        return mpmath.fsum(terms) / len(terms)


def exact_softplus_mean(logits) -> mpmath.mpf:
    """mean(log(1 + e^-z)): the cross-entropy of sigmoid(z) against label 1, from the logits."""
    with mpmath.workdps(DIGITS):
        terms = [mpmath.log1p(mpmath.exp(-mpmath.mpf(z))) for z in logits]
        return mpmath.fsum(terms) / len(terms)


# Error model for the bounds below: u = 2**-53; +, -, *, / and sqrt round with relative
# error <= u; libm's exp, log, log1p within 1 ulp: <= 2u (the package's log(1 - p), from
# _numerics.log1p: 3 ulp, <= 6u). A relative error k u is within k ulp.
SIGMOID_ULPS = 5
"""The package's sigmoid (tests/test_exactness.py, SIGMOID): exp 2u (x1 into e/(1 + e)),
1/(1 + e) rounded twice, e * 1/(1 + e) once; 3 ulp for z >= 0, 5 below."""
BCE_MEAN_ULPS = 10
"""The package's mean BCE of 3 or 4 hard labels: -log(p) 2u, -log1p(-p) 6u; NumPy's pairwise
sum of the elements rounds at most 3 times on a term's way (all >= 0); the mean's division u."""


def ulps_from(actual: float, exact: mpmath.mpf) -> float:
    """Distance of ``actual`` from the exact value, in units in the last place of the latter."""
    with mpmath.workdps(DIGITS):
        return float(abs(mpmath.mpf(float(actual)) - exact) / math.ulp(float(exact)))


def article_sigmoid(Z: np.ndarray) -> np.ndarray:
    """The NumPy article's sigmoid, 1 / (1 + exp(-Z)), in plain NumPy."""
    return 1 / (1 + np.exp(-Z))


def assert_within_bound_of_exact_sigmoid(A: np.ndarray, Z: np.ndarray) -> None:
    """Each probability is within SIGMOID_ULPS of 1 / (1 + e^-z) computed at 50 digits."""
    for a, z in zip(np.ravel(A).tolist(), np.ravel(Z).tolist(), strict=True):
        with mpmath.workdps(DIGITS):
            exact = 1 / (1 + mpmath.exp(-mpmath.mpf(z)))
        assert ulps_from(a, exact) <= SIGMOID_ULPS, (z, a)


# --------------------------------------------------------------------------- pure-Python article


def test_pure_mse_example_runs_unchanged(capsys):
    """(3.0 - 2.5)^2 = (1/2)^2 = 1/4, exact in binary floating point: printed as 0.25."""
    namespace, output = run_article_code(PURE_IMPORTS, PURE_MSE_EXAMPLE, capsys)
    expected = float(Fraction(3) - Fraction(5, 2)) ** 2
    assert expected == float(Fraction(1, 4))
    assert namespace["loss"] == expected
    assert type(namespace["loss"]) is float
    assert output == f"{expected!r}\n"


def test_pure_bce_example_runs_unchanged(capsys):
    """y = 1, p = 0.9: the loss is -ln(0.9), within an ulp; the article's '~0.105' holds."""
    namespace, output = run_article_code(PURE_IMPORTS, PURE_BCE_EXAMPLE, capsys)
    with mpmath.workdps(DIGITS):
        exact = -mpmath.log(mpmath.mpf(0.9))
    loss = namespace["loss"]
    assert type(loss) is float
    # -(1 * log(0.9) + 0 * log1p(-0.9)): one libm log, the rest exact (fsum of one, / 1): 1 ulp.
    assert ulps_from(loss, exact) <= 1
    assert output == f"{loss!r}\n"
    assert round(loss, 3) == 0.105  # the article's "~0.105"


# --------------------------------------------------------------------------- NumPy article: examples


def test_numpy_mse_example_runs_unchanged(capsys):
    """W = 2, b = 1 reproduce y = 2x + 1 exactly, so every residual and the loss are 0."""
    namespace, output = run_article_code(NUMPY_IMPORTS, NUMPY_MSE_EXAMPLE, capsys)
    _, reference_output = run_article_code(ARTICLE_TOOLKIT, NUMPY_MSE_EXAMPLE, capsys)

    # Hand derivation: 2x + 1 for x = 1..4 is 3, 5, 7, 9, all exact; residuals 0.
    assert namespace["y_pred"].tolist() == [[3.0], [5.0], [7.0], [9.0]]
    assert float(namespace["loss_mse"]) == 0.0
    assert printed_value(output, "MSE Loss:") == "0.0"
    assert output == reference_output  # every step prints as with the article's own code


def test_numpy_bce_example_runs_unchanged(capsys):
    """Z = [2, -1, 3, -2], y = [1, 0, 1, 0]: the loss is the exact loss of those probabilities.

    The probabilities come from the article's own line ``A = 1 / (1 + np.exp(-Z))``
    (plain NumPy); the package is only asked for the loss of those float64 values, which
    it returns within BCE_MEAN_ULPS (correctly rounded with this machine's libm).
    """
    namespace, output = run_article_code(NUMPY_IMPORTS, NUMPY_BCE_EXAMPLE, capsys)
    _, reference_output = run_article_code(ARTICLE_TOOLKIT, NUMPY_BCE_EXAMPLE, capsys)

    exact = exact_bce(namespace["A"], namespace["y_true"])
    loss = namespace["loss_bce"]
    assert ulps_from(loss, exact) <= BCE_MEAN_ULPS
    assert printed_value(output, "Binary Cross-Entropy Loss:") == repr(float(loss))
    # Z, A and y print exactly as with the article's own code; only the loss differs.
    label = "Binary Cross-Entropy Loss:"
    assert without_line(output, label) == without_line(reference_output, label)


def test_numpy_bce_example_is_close_to_the_loss_of_the_exact_probabilities():
    """The loss of the exact sigmoid(Z) is mean(log(1 + e^-2), log(1 + e^-1), log(1 + e^-3), log(1 + e^-2)).

    (For y = 1, -log sigmoid(z) = log(1 + e^-z); for y = 0, -log(1 - sigmoid(z)) =
    log(1 + e^z), and z = -1, -2 there.) Rounding the probabilities to float64 first moves
    the loss by a few units in the 16th digit only.
    """
    Z = np.array([[2.0], [-1.0], [3.0], [-2.0]])
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    from_logits = exact_softplus_mean([2.0, 1.0, 3.0, 2.0])  # -z where y = 0
    loss = float(binary_cross_entropy(sigmoid(Z), y))
    # sigmoid's error on A (3u for z > 0, 5u below; times e**z in -log(1 - A) for y = 0)
    # moves the mean (0.154) by 2.2u, 14u of it; BCE_MEAN_ULPS 10u more: 24u < 3e-15.
    assert loss == pytest.approx(float(from_logits), rel=3e-15)


def test_numpy_article_printed_value_is_wrong():
    """The article prints 0.1731486847 for its BCE example; neither it nor we give that.

    * our value is the exact loss of the probabilities (50-digit mpmath), correctly rounded;
    * the article's own code adds 1e-15 inside both logs: that formula, evaluated exactly in
      mpmath on the same float64 probabilities, is what its code prints (0.15392626529447628),
      and it differs from the exact loss by the first-order shift
      -1e-15 * mean(y / A + (1 - y) / (1 - A)), which is where that number comes from.
    """
    Z = np.array([[2.0], [-1.0], [3.0], [-2.0]])
    y = np.array([[1.0], [0.0], [1.0], [0.0]])
    A = article_sigmoid(Z)
    ours = float(binary_cross_entropy(A, y))
    exact = exact_bce(A, y)

    assert ulps_from(ours, exact) <= BCE_MEAN_ULPS
    assert abs(ours - ARTICLE_VALUE) > 0.01  # not a rounding of the article's figure

    article_namespace: dict = {}
    exec(ARTICLE_TOOLKIT, article_namespace)
    article_code_value = float(article_namespace["binary_cross_entropy"](A, y))

    epsilon = 1e-15
    with mpmath.workdps(DIGITS):
        eps = mpmath.mpf(epsilon)
        pairs = list(zip(A.ravel().tolist(), y.ravel().tolist(), strict=True))
        with_epsilon = -mpmath.fsum(
            t * mpmath.log(mpmath.mpf(p) + eps) + (1 - t) * mpmath.log(1 - mpmath.mpf(p) + eps)
            for p, t in pairs
        ) / len(pairs)
        first_order_shift = -eps * mpmath.fsum(
            t / mpmath.mpf(p) + (1 - t) / (1 - mpmath.mpf(p)) for p, t in pairs
        )
        first_order_shift /= len(pairs)
        shift = with_epsilon - exact

    # The article's code = its formula. Per term: A + 1e-15 (or 1 - A, then + 1e-15) rounds,
    # u absolute each in the log, the log 2u of it; np.mean's 3 roundings: about 2.3u absolute
    # on 0.154, whose ulp is u / 4: 10 ulp.
    assert ulps_from(article_code_value, with_epsilon) <= 10
    assert repr(float(with_epsilon)) == "0.15392626529447628"  # the value the article's code prints
    assert float(shift) == pytest.approx(float(first_order_shift), rel=1e-6)
    assert ours != article_code_value  # we do not add the epsilon


# --------------------------------------------------------------------------- NumPy article: exercises


def test_exercise_1_perfect_fit_gives_zero(capsys):
    """W = 1.5, b = 0.5 on x = 1, 2, 3 give 2, 3.5, 5 exactly: the targets, so the loss is 0."""
    namespace, output = run_article_code(NUMPY_IMPORTS, EXERCISE_1, capsys)
    _, reference_output = run_article_code(ARTICLE_TOOLKIT, EXERCISE_1, capsys)
    assert namespace["y_pred"].tolist() == [[2.0], [3.5], [5.0]]
    assert float(namespace["loss"]) == 0.0
    assert printed_value(output, "MSE Loss:") == "0.0"
    assert output == reference_output


def test_exercise_2_mostly_right_predictions(capsys):
    """Z = [1, -1, 2], y = [1, 0, 1]: loss = mean(log(1+e^-1), log(1+e^-1), log(1+e^-2)) ~ 0.2512."""
    namespace, output = run_article_code(NUMPY_IMPORTS, EXERCISE_2, capsys)
    _, reference_output = run_article_code(ARTICLE_TOOLKIT, EXERCISE_2, capsys)
    A, y, loss = namespace["A"], namespace["y_true"], namespace["loss"]

    assert_within_bound_of_exact_sigmoid(A, namespace["Z"])
    assert ulps_from(loss, exact_bce(A, y)) <= BCE_MEAN_ULPS
    # sigmoid's error on A moves the mean (0.251) by 2.6u, 10.4u of it; BCE 10u: 21u < 3e-15.
    assert float(loss) == pytest.approx(float(exact_softplus_mean([1.0, 1.0, 2.0])), rel=3e-15)
    assert printed_value(output, "Binary Cross-Entropy Loss:") == repr(float(loss))
    label = "Binary Cross-Entropy Loss:"
    assert without_line(output, label) == without_line(reference_output, label)


def test_exercise_3_imperfect_weight(capsys):
    """W = 1: predictions 1.5, 2.5, 3.5 against 2, 3.5, 5; errors 1/2, 1, 3/2; loss (1/4 + 1 + 9/4)/3 = 7/6."""
    namespace, output = run_article_code(NUMPY_IMPORTS, EXERCISE_3, capsys)
    _, reference_output = run_article_code(ARTICLE_TOOLKIT, EXERCISE_3, capsys)
    errors = [Fraction(1, 2), Fraction(1), Fraction(3, 2)]
    expected = sum(e * e for e in errors) / len(errors)
    assert expected == Fraction(7, 6)
    assert namespace["y_pred"].tolist() == [[1.5], [2.5], [3.5]]
    assert float(namespace["loss"]) == float(expected)  # correctly rounded 7/6
    assert printed_value(output, "MSE Loss:") == repr(float(expected))
    assert output == reference_output


def test_exercise_4_poor_predictions_cost_more(capsys):
    """Z = [-2, 2, -1], y = [1, 0, 1]: loss = mean(log(1+e^2), log(1+e^2), log(1+e^1)) ~ 1.856."""
    namespace, output = run_article_code(NUMPY_IMPORTS, EXERCISE_4, capsys)
    _, reference_output = run_article_code(ARTICLE_TOOLKIT, EXERCISE_4, capsys)
    A, y, loss = namespace["A"], namespace["y_true"], namespace["loss"]

    assert_within_bound_of_exact_sigmoid(A, namespace["Z"])
    assert ulps_from(loss, exact_bce(A, y)) <= BCE_MEAN_ULPS
    # sigmoid's error on A (x e**2 for z = 2, y = 0) moves the mean (1.86) by 11u, 6u of it;
    # BCE 10u: 16u < 3e-15.
    assert float(loss) == pytest.approx(float(exact_softplus_mean([-2.0, -2.0, -1.0])), rel=3e-15)
    assert printed_value(output, "Binary Cross-Entropy Loss:") == repr(float(loss))
    label = "Binary Cross-Entropy Loss:"
    assert without_line(output, label) == without_line(reference_output, label)
    # The article's point: confident wrong predictions cost more than exercise 2's.
    assert float(loss) > float(exact_softplus_mean([1.0, 1.0, 2.0]))


@pytest.mark.parametrize("z", [2.0, -1.0, 3.0, -2.0, 1.0])
def test_sigmoid_of_the_articles_logits(z):
    """sigmoid(z) = 1 / (1 + e^-z) within SIGMOID_ULPS of the 50-digit value.

    exp 2u, halved into 1/(1 + e^-|z|); that reciprocal rounds twice: 3 ulp for z >= 0;
    below, e^-|z| times it rounds once more and exp's 2u passes whole: 5 ulp.
    """
    with mpmath.workdps(DIGITS):
        exact = 1 / (1 + mpmath.exp(-mpmath.mpf(z)))
    assert ulps_from(float(sigmoid(np.array([z]))[0]), exact) <= (3 if z >= 0 else SIGMOID_ULPS)


# --------------------------------------------------------------------------- normalize, matrix_multiply


def test_normalize_uses_the_global_mean_and_std():
    """[[1], [2], [3], [4]]: mean 5/2, population variance 5/4, so (x - 5/2) / (sqrt(5)/2) = (2x - 5)/sqrt(5)."""
    result = normalize(np.array([[1.0], [2.0], [3.0], [4.0]]))
    assert result.shape == (4, 1)
    assert result.dtype == np.float64
    with mpmath.workdps(DIGITS):
        expected = [(2 * x - 5) / mpmath.sqrt(5) for x in (1, 2, 3, 4)]
    for got, exact in zip(result.ravel().tolist(), expected, strict=True):
        # mean 5/2, the differences, squares and their mean 5/4 are exact; sqrt and the
        # division round once each (u): 2 ulp, with no libm function involved.
        assert ulps_from(got, exact) <= 2


def test_normalize_is_global_not_per_column():
    """[[1, 2], [3, 4]]: one mean (5/2) and one std (sqrt(5)/2) over all four values.

    Per column it would be [[-1, -1], [1, 1]]; globally it is [[-3, -1], [1, 3]] / sqrt(5).
    """
    result = normalize(np.array([[1.0, 2.0], [3.0, 4.0]]))
    with mpmath.workdps(DIGITS):
        expected = [[(2 * x - 5) / mpmath.sqrt(5) for x in row] for row in ((1, 2), (3, 4))]
    for got_row, exact_row in zip(result.tolist(), expected, strict=True):
        for got, exact in zip(got_row, exact_row, strict=True):
            assert ulps_from(got, exact) <= 2  # as above: only sqrt and the division round


def test_normalize_gives_mean_zero_and_std_one():
    """Whatever the data, the result has mean 0 and (population) standard deviation 1."""
    X = np.array([[0.5, -3.0, 7.25], [2.0, 11.0, -0.125]])
    result = normalize(X)
    assert float(np.mean(result)) == pytest.approx(0.0, abs=1e-15)
    assert float(np.std(result)) == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize(
    "constant",
    [
        pytest.param([[5.0], [5.0]], id="exact-mean"),
        pytest.param([[3.0, 3.0], [3.0, 3.0]], id="2d"),
        pytest.param([0.1, 0.1, 0.1], id="0.1-three-times"),
        pytest.param([0.7] * 10, id="0.7-ten-times"),
    ],
)
def test_normalize_constant_input_is_only_shifted(constant):
    """The article's rule: where std == 0 the result is X - mean, that is all zeros.

    A constant array has standard deviation exactly 0 and mean equal to the constant,
    so the result is 0 everywhere, whatever the constant (also 0.1, whose float64 sum
    0.1 + 0.1 + 0.1 is not 3 * 0.1).
    """
    result = normalize(np.array(constant))
    np.testing.assert_array_equal(result, np.zeros_like(np.array(constant)))


def test_normalize_accepts_integers_and_lists():
    """A list of ints is computed in float64: [1, 3] -> (x - 2) / 1 = [-1, 1]."""
    result = normalize([1, 3])
    assert result.dtype == np.float64
    assert result.tolist() == [-1.0, 1.0]


def test_matrix_multiply_by_hand():
    """[[1, 2, 3], [4, 5, 6]] @ [[7, 8], [9, 10], [11, 12]] = [[58, 64], [139, 154]].

    58 = 1*7 + 2*9 + 3*11, 64 = 1*8 + 2*10 + 3*12, 139 = 4*7 + 5*9 + 6*11, 154 = 4*8 + 5*10 + 6*12.
    """
    X = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    W = [[7.0, 8.0], [9.0, 10.0], [11.0, 12.0]]
    result = matrix_multiply(np.array(X), np.array(W))
    assert result.shape == (2, 2)
    assert result.tolist() == [[58.0, 64.0], [139.0, 154.0]]


def test_matrix_multiply_integers_give_float64():
    result = matrix_multiply([[1, 2]], [[3], [4]])
    assert result.dtype == np.float64
    assert result.tolist() == [[11.0]]  # 1*3 + 2*4


def test_article_forward_pass_with_matrix_multiply():
    """The MSE example's forward pass written with the toolkit: X @ W + b = 2x + 1 = [3, 5, 7, 9]."""
    X = np.array([[1.0], [2.0], [3.0], [4.0]])
    W = np.array([[2.0]])
    y_pred = matrix_multiply(X, W) + 1.0
    assert y_pred.tolist() == [[3.0], [5.0], [7.0], [9.0]]
    assert float(mse_loss(y_pred, np.array([[3.0], [5.0], [7.0], [9.0]]))) == 0.0
    # An off-by-one bias gives residuals of 1 everywhere, so an MSE of exactly 1.
    assert float(mse_loss(matrix_multiply(X, W), np.array([[3.0], [5.0], [7.0], [9.0]]))) == 1.0
