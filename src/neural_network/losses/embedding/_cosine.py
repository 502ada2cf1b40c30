r"""Embedding losses over rows of features: cosine embedding, cosine similarity (and the triplet losses).

The triplet losses live in :mod:`neural_network.losses.embedding._triplet` and are imported here
too; the rows' checks and scaling, shared by all, in :mod:`neural_network.losses.embedding._feature_rows`.

Each loss compares vectors along the last axis (``axis`` for
:func:`cosine_similarity_loss`) and gives one value per row; ``reduction="mean"``
divides by the number of rows (by ``sum(sample_weight)`` with weights), never by the
number of features. ``sample_weight`` holds one non-negative weight per row.

**Norms without overflow or underflow.** Every norm is taken of the row scaled by a
power of two near its largest magnitude (an exact scaling), so rows of ``1e200`` or
``1e-200`` give the same cosines and distances as rows of ``1`` (PyTorch squares them
first: ``inf / inf`` is NaN, ``0 / 0`` is NaN or the epsilon decides). Everything is
computed in float64 and rounded once to the inputs' dtype; float32 stays float32.

**Gradients at the kinks** follow PyTorch's autograd: ``clamp_min(z, 0)`` passes the
gradient at ``z == 0``, and ``minimum(d_neg, d_swap)`` splits it in half at a tie.

The computation goes through the inputs' array namespace: arrays of another library
(PyTorch tensors, CuPy arrays) are computed in that library, on their device, never
through NumPy. The operations are the same element by element, so array-api-strict's
results are NumPy's to the bit.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from neural_network._numerics import two_sum
from neural_network._validation import Array, Namespace
from neural_network.errors import InvalidOptionError, describe
from neural_network.losses._common import indicator, real_option
from neural_network.losses._elementwise import Reduction
from neural_network.losses._reference import register
from neural_network.losses.embedding._feature_rows import (
    FeatureRows,
    Float64,
    cosine_double,
    cosine_gradient_double,
    scaled_rows,
)
from neural_network.losses.embedding._triplet import (
    triplet_margin_with_distance_loss as triplet_margin_with_distance_loss,
)
from neural_network.losses.embedding._triplet import (
    triplet_margin_with_distance_loss_grad as triplet_margin_with_distance_loss_grad,
)

TORCH_COSINE_EPSILON = float(np.float32(1e-12))
"""What PyTorch's ``cosine_embedding_loss`` adds to each squared norm: its C++ constant
``EPSILON = 1e-12`` is a ``float``, so the value is float32's 1e-12,
9.999999960041972e-13 (a float64 1e-12 would differ in the 11th digit for tiny rows)."""

_SQRT_EPSILON = math.sqrt(TORCH_COSINE_EPSILON)

KERAS_EPSILON = 1e-7
"""Keras's ``backend.epsilon()``: the floor of each norm in ``CosineSimilarity``."""



# --------------------------------------------------------------------------- cosine embedding


def _cosine_parts(xp: Namespace, x1: Float64, x2: Float64) -> tuple[Float64, ...]:
    """PyTorch's cosine ``x1.x2 / sqrt((|x1|^2 + e)(|x2|^2 + e))`` from scaled rows, and its pieces."""
    u1, s1 = scaled_rows(xp, x1)
    u2, s2 = scaled_rows(xp, x2)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        # a = sqrt(|x1|^2 + e) / s1. For rows below about 1e-160, e / s1^2 overflows, and
        # |x1|^2 is below 1e-300 e: a is sqrt(e) / s1 (to 1e-300), finite down to about 1e-300.
        e1 = TORCH_COSINE_EPSILON / s1[:, 0] / s1[:, 0]
        e2 = TORCH_COSINE_EPSILON / s2[:, 0] / s2[:, 0]
        a = xp.sqrt(xp.sum(u1 * u1, axis=1) + e1)
        b = xp.sqrt(xp.sum(u2 * u2, axis=1) + e2)
        a = xp.where(xp.isfinite(e1), a, _SQRT_EPSILON / s1[:, 0])
        b = xp.where(xp.isfinite(e2), b, _SQRT_EPSILON / s2[:, 0])
        cos = xp.sum(u1 * u2, axis=1) / a / b
        # The cosine again in double length, for 1 - cos and cos - margin, where they cancel
        # (rows above about 1e-36: e / s^2 below 2**200, the range cosine_double takes).
        double = (e1 < 2.0**200) & (e2 < 2.0**200)
        parts = cosine_double(xp, u1, u2, xp.where(double, e1, 0.0), xp.where(double, e2, 0.0))
    tiny = ~xp.isfinite(e1) | ~xp.isfinite(e2)
    return cos, u1, s1, u2, s2, a, b, tiny, double, parts


def _cosine_embedding_values(
    xp: Namespace, y: Float64, margin: float, cos: Float64, double: Float64, c: Float64, c_low: Float64
) -> tuple[Float64, Float64]:
    """The losses ``1 - cos`` (``y = 1``) or ``max(cos - margin, 0)`` (``y = -1``), and ``cos - margin``.

    Where the cosine is in double length, ``1 - c`` is exact (Sterbenz) or rounded once
    from a result of at least 1/2, and ``c - margin`` exact by TwoSum: each loss is
    rounded once or twice from ``2**-100``-close pieces, whatever the cancellation.
    """
    gap, gap_error = two_sum(c, xp.full_like(c, -margin))
    above = xp.where(double, gap + (gap_error + c_low), cos - margin)
    parallel = xp.where(double, (1.0 - c) - c_low, 1.0 - cos)
    return xp.where(y > 0.0, parallel, xp.maximum(above, 0.0)), above


def _cosine_embedding_prepare(
    func: str,
    input1: object,
    input2: object,
    target: object,
    margin: object,
    reduction: object,
    sample_weight: object,
) -> tuple[FeatureRows, float]:
    m = real_option(func, "margin", margin, meaning="a finite real number", low=-math.inf, low_included=False)
    rows = FeatureRows(
        func,
        {"input1": input1, "input2": input2},
        target=target,
        reduction=reduction,
        sample_weight=sample_weight,
    )
    return rows, m


def cosine_embedding_loss(
    input1: object,
    input2: object,
    target: object,
    *,
    margin: float = 0.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Cosine embedding loss: ``torch.nn.functional.cosine_embedding_loss``.

    .. math:: \ell_i = \begin{cases} 1 - \cos(x^{(1)}_i, x^{(2)}_i) & y_i = 1 \\
              \max\bigl(0,\ \cos(x^{(1)}_i, x^{(2)}_i) - \text{margin}\bigr) & y_i = -1 \end{cases}
              \qquad \cos(a, b) = \frac{a \cdot b}{\sqrt{(\lVert a\rVert^2 + \epsilon)(\lVert b\rVert^2 + \epsilon)}}

    with PyTorch's :math:`\epsilon` = float32's 1e-12 (:data:`TORCH_COSINE_EPSILON`).

    Parameters
    ----------
    input1, input2 : array_like
        Vectors along the last axis: shape ``(N, D)`` or ``(D,)`` (more leading axes are
        accepted too), the same shape; finite.
    target : array_like
        Labels -1 or +1, one per row: shape ``(N,)`` (``()`` for a single vector). 0/1
        labels are refused with the hint ``2 * y - 1``.
    margin : float, keyword-only
        A finite real number (default 0.0, as in PyTorch; values in [-1, 1] make sense).
    reduction : {"mean", "sum", "none"}, keyword-only
        The mean is over rows.
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per row; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the target's shape; the float dtype of the inputs.

    Notes
    -----
    The norms are taken of rows scaled by a power of two (exact), and ``epsilon`` scaled
    alike: the same value as PyTorch's to within an ulp or two in float64, but finite
    where PyTorch's squares overflow (a row of 1e200: PyTorch gives NaN, here the true
    cosine). PyTorch accepts other labels (they give 0); here only -1 and +1 are.
    Accuracy: every value and gradient entry within 4 ulp of the exact result (measured:
    1.2 at most), nearly parallel rows included. The cosine is formed in double length
    (exact products, TwoSum row sums, square roots and quotients corrected by their
    remainders, within about ``2**-100``), so ``1 - cos`` (``y = 1``) and ``cos - margin``
    (``y = -1``), which cancel for nearly parallel rows and at the margin, are rounded
    about once; so is each gradient entry, a difference of two terms that cancel for
    nearly parallel rows. It costs 3 to 10 times the plain sums' time. Rows below about
    1e-36 (whose squares ``epsilon`` dominates) take the plain sums.

    Examples
    --------
    >>> x1 = [[1.0, 0.0], [1.0, 1.0]]
    >>> x2 = [[0.0, 1.0], [2.0, 2.0]]
    >>> print(cosine_embedding_loss(x1, x2, [1, -1], reduction="none"))
    [1. 1.]
    """
    rows, m = _cosine_embedding_prepare(
        "cosine_embedding_loss", input1, input2, target, margin, reduction, sample_weight
    )
    x1, x2 = rows.arrays
    y = rows.target
    assert y is not None
    cos, *_, double, parts = _cosine_parts(rows.xp, x1, x2)
    return rows.reduce(_cosine_embedding_values(rows.xp, y, m, cos, double, parts[0], parts[1])[0])


def cosine_embedding_loss_grad(
    input1: object,
    input2: object,
    target: object,
    *,
    margin: float = 0.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> tuple[Array, Array]:
    r"""Gradient of :func:`cosine_embedding_loss`: the pair (d/d ``input1``, d/d ``input2``).

    .. math:: \frac{\partial \cos}{\partial x^{(1)}} = \frac{x^{(2)}}{\sqrt{AB}} - \cos \frac{x^{(1)}}{A},
              \qquad A = \lVert x^{(1)}\rVert^2 + \epsilon,\ B = \lVert x^{(2)}\rVert^2 + \epsilon

    (and symmetrically for ``input2``), times -1 for ``y = 1``, times 1 for ``y = -1``
    where ``cos - margin >= 0`` (the kink included, as PyTorch's autograd), else 0.
    Scaled by the weights and, for ``"mean"``, divided by the number of rows (``sum(w)``).
    Both arrays have the inputs' shape and dtype.

    Examples
    --------
    >>> g1, g2 = cosine_embedding_loss_grad([[1.0, 0.0]], [[0.0, 1.0]], [1])
    >>> print(g1, g2)
    [[-0. -1.]] [[-1. -0.]]
    """
    rows, m = _cosine_embedding_prepare(
        "cosine_embedding_loss_grad", input1, input2, target, margin, reduction, sample_weight
    )
    x1, x2 = rows.arrays
    y = rows.target
    assert y is not None
    xp = rows.xp
    cos, u1, s1, u2, s2, a, b, tiny, double, parts = _cosine_parts(xp, x1, x2)
    above = _cosine_embedding_values(xp, y, m, cos, double, parts[0], parts[1])[1]
    coefficient = xp.where(y > 0.0, -1.0, indicator(xp, above >= 0.0))[:, None]
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        ab = (a * b)[:, None]
        g1 = (u2 / ab - cos[:, None] * u1 / (a * a)[:, None]) / s1
        g2 = (u1 / ab - cos[:, None] * u2 / (b * b)[:, None]) / s2
        g1 = xp.where(xp.isfinite(ab), g1, 0.0)  # a norm beyond range: the cosine is 0 and flat
        g2 = xp.where(xp.isfinite(ab), g2, 0.0)
        # A row below about 1e-160 (a or b is sqrt(e) / s, large): the same terms divided in
        # another order, a s = sqrt(A) and b s = sqrt(B) in range, where the above under- or overflows.
        a_, b_, c_, tiny = a[:, None], b[:, None], cos[:, None], tiny[:, None]
        g1 = xp.where(tiny, (u2 / a_) / (b_ * s1) - (c_ * u1 / a_) / (a_ * s1), g1)
        g2 = xp.where(tiny, (u1 / b_) / (a_ * s2) - (c_ * u2 / b_) / (b_ * s2), g2)
        # Rows in double_length's range: each gradient's two terms in double length (they
        # cancel for nearly parallel rows), rounded once.
        swapped = (parts[0], parts[1], parts[4], parts[5], parts[2], parts[3])
        g1 = xp.where(double[:, None], cosine_gradient_double(xp, u1, u2, parts) / s1, g1)
        g2 = xp.where(double[:, None], cosine_gradient_double(xp, u2, u1, swapped) / s2, g2)
    return rows.reduce_gradient(coefficient * g1), rows.reduce_gradient(coefficient * g2)


def _cosine_reference(xp: Namespace, x1: Array, x2: Array) -> tuple[Array, ...]:
    a = xp.sum(x1 * x1, axis=-1) + TORCH_COSINE_EPSILON
    b = xp.sum(x2 * x2, axis=-1) + TORCH_COSINE_EPSILON
    return xp.sum(x1 * x2, axis=-1) / xp.sqrt(a * b), a, b


def _cosine_embedding_reference(
    xp: Namespace, x1: Array, x2: Array, y: Array, /, *, margin: float = 0.0
) -> Array:
    cos = _cosine_reference(xp, x1, x2)[0]
    return xp.where(y > 0, 1 - cos, xp.maximum(cos - margin, 0.0))


def _cosine_embedding_reference_grad(
    xp: Namespace, x1: Array, x2: Array, y: Array, /, *, margin: float = 0.0
) -> tuple[Array, Array]:
    cos, a, b = _cosine_reference(xp, x1, x2)
    factor = xp.where(y > 0, -1.0, xp.where(cos >= margin, 1.0, 0.0))[:, None]  # the kink included
    root, cos = xp.sqrt(a * b)[:, None], cos[:, None]
    return factor * (x2 / root - cos * x1 / a[:, None]), factor * (x1 / root - cos * x2 / b[:, None])


register("cosine_embedding_loss", _cosine_embedding_reference, _cosine_embedding_reference_grad)


# --------------------------------------------------------------------------- cosine similarity (Keras)


def _axis(func: str, axis: object) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise InvalidOptionError(f"{func}: axis must be an integer (the feature axis); got {describe(axis)}.")
    return int(axis)


def _unit(xp: Namespace, x: Float64) -> tuple[Float64, ...]:
    """Keras's ``x / max(||x||, 1e-7)`` of each row, whether ``||x|| <= 1e-7`` (a column), and the
    scaled row ``u = x / s``, ``s`` and ``||u||`` (:func:`scaled_rows`)."""
    u, s = scaled_rows(xp, x)
    r = xp.sqrt(xp.sum(u * u, axis=1))[:, None]
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        small = s * r <= KERAS_EPSILON
        unit = xp.where(small, x / KERAS_EPSILON, u / xp.where(r > 0.0, r, 1.0))
    return unit, small, u, s, r


def cosine_similarity_loss(
    input: object,
    target: object,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Cosine similarity loss: Keras's ``CosineSimilarity`` (``keras.losses.cosine_similarity``).

    .. math:: \ell_i = -\frac{x_i}{\max(\lVert x_i\rVert, \epsilon)} \cdot
                        \frac{t_i}{\max(\lVert t_i\rVert, \epsilon)}, \qquad \epsilon = 10^{-7}

    A number in [-1, 1]: -1 for vectors pointing the same way, 0 if either is zero.
    Keras's ``epsilon`` (``backend.epsilon()``, 1e-7) floors each norm, as in
    ``keras.ops.normalize``. optax's ``cosine_distance`` is ``1 + `` this loss (it
    floors each norm at its own ``epsilon=0``).

    Parameters
    ----------
    input : array_like
        Predictions (Keras's ``y_pred``); finite.
    target : array_like
        Targets (Keras's ``y_true``), the same shape. Note the order: ours is
        ``(input, target)``, Keras's ``(y_true, y_pred)``.
    axis : int, keyword-only
        The feature axis (default -1).
    reduction : {"mean", "sum", "none"}, keyword-only
        The mean is over the other axes' positions (rows).
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per row (the input's shape without ``axis``); mean =
        ``sum(w * l) / sum(w)`` (Keras's ``"sum_over_batch_size"`` divides by the row
        count instead).

    Notes
    -----
    Accuracy: every value and gradient entry within 4 ulp of the exact result (measured:
    0.6 at most), nearly orthogonal and nearly parallel rows included: where both norms
    exceed ``epsilon``, the loss is ``-cos(x, t)``, formed in double length (exact
    products, TwoSum row sums, corrected square roots and quotients) and rounded once,
    and each gradient entry's two terms (which cancel for nearly parallel rows) likewise.
    It costs 4 to 7 times the plain sums' time.

    Examples
    --------
    >>> print(cosine_similarity_loss([[1.0, 0.0], [1.0, 1.0], [-1.0, -1.0]],
    ...                              [[0.0, 1.0], [1.0, 1.0], [1.0, 1.0]], reduction="none"))
    [-0. -1.  1.]
    """
    func = "cosine_similarity_loss"
    rows = FeatureRows(
        func,
        {"input": input, "target": target},
        reduction=reduction,
        sample_weight=sample_weight,
        axis=_axis(func, axis),
    )
    xp = rows.xp
    x, t = rows.arrays
    x_hat, x_small, u, *_ = _unit(xp, x)
    t_hat, t_small, v, *_ = _unit(xp, t)
    values = -xp.sum(x_hat * t_hat, axis=1)
    # Both norms above epsilon: -x^.t^ is -cos(x, t), in double length (it cancels for
    # nearly orthogonal rows), rounded once.
    regular = ~(x_small | t_small)[:, 0]
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        c, c_low, *_ = cosine_double(xp, u, v, 0.0, 0.0)
    values = xp.where(regular, -(c + c_low), values)
    return rows.reduce(values)


def cosine_similarity_loss_grad(
    input: object,
    target: object,
    *,
    axis: int = -1,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`cosine_similarity_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell}{\partial x} = -\frac{\hat t - (\hat x \cdot \hat t)\,\hat x}{\lVert x\rVert}
              \quad (\lVert x\rVert > \epsilon), \qquad -\frac{\hat t}{\epsilon} \quad \text{otherwise}

    with :math:`\hat x = x / \max(\lVert x\rVert, \epsilon)`. Scaled by the weights
    and, for ``"mean"``, divided by the number of rows (``sum(w)``).

    Examples
    --------
    >>> print(cosine_similarity_loss_grad([[2.0, 0.0]], [[0.0, 3.0]]))
    [[-0.  -0.5]]
    """
    func = "cosine_similarity_loss_grad"
    rows = FeatureRows(
        func,
        {"input": input, "target": target},
        reduction=reduction,
        sample_weight=sample_weight,
        axis=_axis(func, axis),
    )
    xp = rows.xp
    x, t = rows.arrays
    x_hat, small, u, s, r = _unit(xp, x)
    t_hat, t_small, v, *_ = _unit(xp, t)
    c = xp.sum(x_hat * t_hat, axis=1)[:, None]
    with np.errstate(over="ignore", under="ignore", divide="ignore", invalid="ignore"):
        regular = -((t_hat - c * x_hat) / xp.where(r > 0.0, r, 1.0)) / s
        # Both norms above epsilon: -(t^ - c x^) / |x| = -(v / (|u| |v|) - c u / |u|^2) / s
        # (u, v the scaled rows), in double length: it cancels for nearly parallel rows.
        double = cosine_gradient_double(xp, u, v, cosine_double(xp, u, v, 0.0, 0.0))
        regular = xp.where(t_small, regular, -double / s)
        gradient = xp.where(small, -t_hat / KERAS_EPSILON, regular)
    return rows.reduce_gradient(gradient)


def _keras_unit(xp: Namespace, x: Array, axis: int) -> tuple[Array, Array]:
    norm = xp.sqrt(xp.sum(x * x, axis=axis, keepdims=True))
    return x / xp.maximum(norm, KERAS_EPSILON), norm


def _cosine_similarity_reference(xp: Namespace, x: Array, t: Array, /, *, axis: int = -1) -> Array:
    return -xp.sum(_keras_unit(xp, x, axis)[0] * _keras_unit(xp, t, axis)[0], axis=axis)


def _cosine_similarity_reference_grad(xp: Namespace, x: Array, t: Array, /, *, axis: int = -1) -> Array:
    (x_hat, norm), t_hat = _keras_unit(xp, x, axis), _keras_unit(xp, t, axis)[0]
    c = xp.sum(x_hat * t_hat, axis=axis, keepdims=True)
    return xp.where(norm > KERAS_EPSILON, -(t_hat - c * x_hat) / norm, -t_hat / KERAS_EPSILON)


register("cosine_similarity_loss", _cosine_similarity_reference, _cosine_similarity_reference_grad)
