"""The margin ranking loss, ``torch.nn.functional.margin_ranking_loss``, with its gradient.

Labels -1 and +1 (``_signs``), the kink's gradient taken as every margin loss takes it
(see ``_margin.py``). The argument ``margin - y (x1 - x2)`` is rounded once from its exact
value; large NumPy arrays are evaluated block by block, on several threads.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from neural_network import _blocks, _reduction, _validation
from neural_network._numerics import two_sum
from neural_network._validation import EXTENDED_REAL, NONNEGATIVE, REAL, Array, Namespace
from neural_network.errors import InvalidInputError, InvalidTypeError
from neural_network.losses._elementwise import ElementwiseLoss, Operand, Reduction
from neural_network.losses._reference import register
from neural_network.losses.classification._signs import SIGN, check_signs, indicator, margin_option


def _ranking(xp: Namespace, v: Array, y: Array, /) -> Array:
    # v = margin - y (x1 - x2), already formed exactly (see _ranking_argument).
    return xp.maximum(v, 0.0)


def _ranking_derivative(xp: Namespace, v: Array, y: Array, /) -> Array:
    # d/dx1 = -y where v >= 0 (the kink included, as PyTorch's clamp_min), else 0.
    return 0.0 - y * indicator(xp, v >= 0.0)


_RANKING = ElementwiseLoss(
    name="margin_ranking_loss",
    # The engine sees v = margin - y (input1 - input2), formed after input1 and input2
    # are checked: v is inf only where the loss itself exceeds the float64 range.
    input=Operand("input1", EXTENDED_REAL),
    target=Operand("target", SIGN),
    value=_ranking,
    derivative=_ranking_derivative,
)


def _ranking_argument(xp: Namespace, x1: Array, x2: Array, y: Array, margin: float) -> Array:
    """``margin - y (x1 - x2)``, rounded once from its exact value (float64 arrays).

    The difference is carried exactly (TwoSum) because the margin may cancel it: with
    ``x1 - x2`` rounded first, ``(1.0000000000000002 - 1e-17) - 1`` (``y = -1``,
    ``margin = -1``) would lose the whole 1e-17 of its 2.1e-16. ``x1 - x2`` overflows for finite inputs far apart (1e308 and -1e308): there
    the same is computed from the halves (exact at that size) and doubled, which is inf
    only where the loss itself is beyond the float64 range.
    """
    d, d_error = two_sum(x1, -x2)
    s, s_error = two_sum(margin, -y * d)
    v = s + (s_error - y * d_error)
    overflow = xp.isinf(d)
    if not bool(xp.any(overflow)):
        return v
    h, h_error = two_sum(x1 * 0.5, -(x2 * 0.5))
    s, s_error = two_sum(0.5 * margin, -y * h)
    halved = s + (s_error - y * h_error)
    return xp.where(overflow, 2.0 * halved, v)


def _ranking_arrays(
    func: str, input1: object, input2: object, target: object, sample_weight: object, margin: object
) -> tuple[float, Namespace, Any, Array, Array, Array]:
    """The margin, the namespace and device, and ``input1``, ``input2`` and ``target`` as
    arrays of one shape (their values not checked yet)."""
    m = margin_option(func, margin)
    xp, device = _validation.namespace(
        func, input1=input1, input2=input2, target=target, sample_weight=sample_weight
    )
    x1 = _validation.as_real_array(func, "input1", input1, xp, device)
    x2 = _validation.as_real_array(func, "input2", input2, xp, device)
    y = _validation.as_real_array(func, "target", target, xp, device)
    _validation.check_same_shape(func, "input1", x1, "input2", x2)
    _validation.check_same_shape(func, "input1", x1, "target", y)
    return m, xp, device, x1, x2, y


def _ranking_prepare(func: str, xp: Namespace, x1: Array, x2: Array, y: Array, m: float) -> Array:
    """Check the values of ``input1``, ``input2`` and ``target``; return ``v``."""
    _validation.check_values(func, "input1", x1, xp, REAL)
    _validation.check_values(func, "input2", x2, xp, REAL)
    _validation.check_values(func, "target", y, xp, SIGN)
    check_signs(func, "target", y)
    with np.errstate(over="ignore", invalid="ignore"):
        return _ranking_argument(
            xp, _validation.working(xp, x1), _validation.working(xp, x2), _validation.working(xp, y), m
        )


# The blocked evaluation. Forming v over whole arrays and handing it to the loss engine
# writes and reads about twenty full-size temporaries (TwoSum twice, the overflow check)
# in main memory, and the engine reads v and y once more. Here every block of input1,
# input2 and target is read once and everything else happens in the cache, on several
# threads (see neural_network._blocks); the blocks' results are the unblocked ones, bit
# for bit, whatever the thread count.
#
# Nothing is refused here. Each block proves its arguments valid on the way: the labels
# by min |y| = max |y| = 1 (NaN fails both), input1 and input2 by a finite sum of v,
# which is NaN or infinite wherever either is (and where x1 - x2 overflows, which the
# whole-array path repairs from the halves). Any block that proves less sends the call
# through the whole-array path, which checks everything in the documented order and
# raises the documented errors; so do reductions and sample weights it would refuse.


def _ranking_weights(
    func: str, x1: Array, sample_weight: object, reduction: str, device: Any
) -> tuple[Array | None, float] | None:
    """The sample weights in the working precision and what a mean divides by, as the loss
    engine prepares them; None where the engine would refuse them (it then explains why)."""
    if sample_weight is None:
        return None, float(x1.size)
    try:
        w = _validation.as_real_array(func, "sample_weight", sample_weight, np, device)
        _validation.check_same_shape(func, "input1", x1, "sample_weight", w)
        _, largest = _validation.check_values(func, "sample_weight", w, np, NONNEGATIVE)
    except (InvalidInputError, InvalidTypeError):
        return None
    if not isinstance(w, np.ndarray) or (reduction == "mean" and largest == 0.0):
        return None
    w = np.reshape(_validation.working(np, w), -1)
    if reduction != "mean":
        return w, 1.0
    w = _reduction.scale_weights(w, largest, x1.size)
    return w, float(_reduction.total(np, w))


def _ranking_block(x1: Array, x2: Array, y: Array, margin: float) -> Array:
    """``_ranking_argument`` of float64 blocks where ``x1 - x2`` does not overflow, bit for
    bit, in place in three scratch arrays.

    For ``margin == 0`` the argument is ``y (x2 - x1)``, a single rounding (the TwoSum
    terms vanish; a zero comes out +0 either way once the loss takes ``max(v, 0)``, and
    its derivative tests ``v >= 0``). Otherwise the same operations as TwoSum, reordered
    only where a result could change the sign of a zero, which ``s + ...`` with ``s``
    nonzero or +0 absorbs (``margin - y d`` is exactly 0 only as +0).
    """
    if margin == 0.0:
        d = np.subtract(x2, x1)
        return np.multiply(d, y, out=d)
    d = np.subtract(x1, x2)  # x1 + (-x2)
    b = np.subtract(d, x1)  # TwoSum(x1, -x2): b_virtual
    e = np.subtract(d, b)
    np.subtract(x1, e, out=e)
    np.add(b, x2, out=b)
    np.subtract(e, b, out=e)  # the error of d: (x1 - (d - b)) + (-x2 - b)
    np.multiply(d, y, out=d)  # y d, exact
    np.multiply(e, y, out=e)  # y d_error, exact
    s = np.subtract(margin, d)  # TwoSum(margin, -y d)
    bv = np.subtract(s, margin)
    np.add(bv, d, out=d)  # -(-y d - b_virtual)
    np.subtract(s, bv, out=bv)
    np.subtract(margin, bv, out=bv)
    np.subtract(bv, d, out=bv)  # s_error
    np.subtract(bv, e, out=bv)  # s_error - y d_error
    return np.add(s, bv, out=s)


def _ranking_active(x1: Array, x2: Array, y: Array, yd: Array, margin: float) -> Array:
    """Where ``margin - y (x1 - x2) >= 0`` exactly (as ``v >= 0``), from ``yd = y fl(x1 - x2)``.

    Rounding is monotone and ``margin`` a float, so ``yd < margin`` and ``yd > margin``
    decide it; only at ``yd == margin`` does the rounding error of ``x1 - x2`` (TwoSum)
    matter. The gradient needs no more than that sign: no ``v``.
    """
    active = np.less_equal(yd, margin)
    ties = np.flatnonzero(yd == margin)
    if ties.size:
        p, q = x1[ties], x2[ties]
        d = p - q
        b = d - p
        error = (p - (d - b)) - (q + b)  # x1 - x2 = d + error
        active[ties] = y[ties] * error <= 0.0
    return active


def _ranking_blocked(
    func: str,
    x1: Array,
    x2: Array,
    y: Array,
    margin: float,
    reduction: object,
    sample_weight: object,
    device: Any,
    *,
    gradient: bool,
) -> Array | tuple[Array, Array] | None:
    """The loss (or both gradients) of large NumPy arrays, block by block; None where the
    whole-array path must decide (see the comment above)."""
    if not (isinstance(x1, np.ndarray) and x1.size > _blocks.BLOCK) or reduction not in ("mean", "sum", "none"):
        return None
    prepared = _ranking_weights(func, x1, sample_weight, str(reduction), device)
    if prepared is None:
        return None
    w, denominator = prepared
    mean, reduced = reduction == "mean", reduction != "none" and not gradient
    shape, size = tuple(x1.shape), x1.size
    dtype = np.result_type(x1.dtype, x2.dtype)
    a, b, t = np.reshape(x1, -1), np.reshape(x2, -1), np.reshape(y, -1)
    first = np.empty(0 if reduced else size, dtype=dtype)
    second = np.empty(size if gradient else 0, dtype=dtype)

    def task(start: int, stop: int) -> tuple[bool, list[float]]:
        # The floating-point error state belongs to each thread: set it here, in the thread.
        with np.errstate(over="ignore", invalid="ignore"):
            labels = _to_float64(t[start:stop])
            magnitude = np.abs(labels)
            x1, x2 = _to_float64(a[start:stop]), _to_float64(b[start:stop])
            if gradient and margin != 0.0:
                v = np.subtract(x1, x2)
                np.multiply(v, labels, out=v)  # y (x1 - x2), rounded once
            else:
                v = _ranking_block(x1, x2, labels, margin)
            valid = (
                float(np.minimum.reduce(magnitude)) == 1.0 == float(np.maximum.reduce(magnitude))
                and math.isfinite(np.add.reduce(v))
            )
            if not valid:
                return False, []
            if gradient:
                active = _ranking_active(x1, x2, labels, v, margin) if margin != 0.0 else np.greater_equal(v, 0.0)
                # Into a scratch array: a float64 block of the labels is the caller's memory.
                values = np.multiply(labels, active, out=magnitude)
                values = np.subtract(0.0, values, out=values)  # 0.0 - y [v >= 0], as _ranking_derivative
            else:
                values = np.maximum(v, 0.0, out=v)
            if w is not None:
                values = _reduction.apply_sample_weight(np, values, w[start:stop])
            if reduced:
                return True, _reduction.partials(values)
            part = first[start:stop]
            if mean and gradient:
                np.divide(values, denominator, out=part)
            else:
                np.copyto(part, values, casting="same_kind")
            if gradient:
                np.subtract(0.0, part, out=second[start:stop])
            return True, []

    pieces = _blocks.map_blocks(task, size)
    if not all(valid for valid, _ in pieces):
        return None
    if gradient:
        return np.reshape(first, shape), np.reshape(second, shape)
    if not reduced:
        return np.reshape(first, shape)
    total = _reduction.combine([partial for _, partials in pieces for partial in partials])
    value = total / denominator if mean else total
    if not math.isfinite(value):  # the engine redoes an overflow in the extended range
        return None
    return np.asarray(value, dtype=dtype)[()]


def _to_float64(array: Array) -> Array:
    return array.astype(np.float64, copy=False)


def _in_dtype(xp: Namespace, result: Array, dtype: Any) -> Array:
    """``result`` (float64) rounded once to ``dtype``; a NumPy scalar stays a scalar."""
    if isinstance(result, (np.ndarray, np.generic)):
        return np.asarray(result, dtype=dtype)[()]
    return xp.astype(result, dtype)


def margin_ranking_loss(
    input1: object,
    input2: object,
    target: object,
    *,
    margin: float = 0.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Margin ranking loss: ``torch.nn.functional.margin_ranking_loss``.

    .. math:: \ell_i = \max\bigl(0,\ -y_i\,(x^{(1)}_i - x^{(2)}_i) + \text{margin}\bigr)

    ``y = 1`` says ``input1`` should rank above ``input2`` by at least ``margin``,
    ``y = -1`` the reverse.

    Parameters
    ----------
    input1, input2 : array_like
        Scores of the two items of each pair, the same shape.
    target : array_like
        Labels -1 or +1, the same shape.
    margin : float, keyword-only
        A finite real number (default 0.0, as in PyTorch).
    reduction : {"mean", "sum", "none"}, keyword-only
    sample_weight : array_like, optional, keyword-only
        Non-negative weights, same shape as ``input1``; mean = ``sum(w * l) / sum(w)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else the shape of ``input1``; the float dtype
        of ``input1`` and ``input2`` together (float64 for integers and lists).

    See Also
    --------
    margin_ranking_loss_grad : its gradient, a pair (d/d input1, d/d input2).

    Notes
    -----
    Each element is rounded once from the exact ``margin - y (x1 - x2)``: PyTorch
    rounds ``x1 - x2`` first, so the two agree to the last bit except where the margin
    cancels the difference (then PyTorch's result can be off by the rounding of the
    difference). Where ``x1 - x2`` overflows although both are finite (1e308 and
    -1e308) it is taken from the halves; a loss beyond the float64 range is ``inf``,
    and so is any reduction over it (PyTorch's as well). Large NumPy arrays are evaluated
    block by block, on several threads (see :func:`neural_network.set_num_threads`), with
    the same results to the last bit.

    Examples
    --------
    >>> print(margin_ranking_loss([2.0, 1.0, 0.0], [1.0, 1.0, 1.0], [1, 1, -1], margin=0.5, reduction="none"))
    [0.  0.5 0. ]
    """
    func = "margin_ranking_loss"
    m, xp, device, x1, x2, y = _ranking_arrays(func, input1, input2, target, sample_weight, margin)
    blocked = _ranking_blocked(func, x1, x2, y, m, reduction, sample_weight, device, gradient=False)
    if blocked is not None:
        return blocked
    v = _ranking_prepare(func, xp, x1, x2, y, m)
    result = _RANKING(v, y, reduction=reduction, sample_weight=sample_weight)
    return _in_dtype(xp, result, xp.result_type(x1.dtype, x2.dtype))


def margin_ranking_loss_grad(
    input1: object,
    input2: object,
    target: object,
    *,
    margin: float = 0.0,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> tuple[Array, Array]:
    r"""Gradient of :func:`margin_ranking_loss`: the pair (d/d ``input1``, d/d ``input2``).

    .. math:: \frac{\partial \ell_i}{\partial x^{(1)}_i} = -\frac{\partial \ell_i}{\partial x^{(2)}_i}
              = \begin{cases} -y_i & -y_i (x^{(1)}_i - x^{(2)}_i) + \text{margin} \ge 0 \\
                              0 & \text{otherwise} \end{cases}

    At the kink (the argument exactly 0) the gradient is taken, as PyTorch's autograd
    does. Scaled by the weights and, for ``"mean"``, divided by ``sum(w)``. Both arrays
    have ``input1``'s shape and the dtype of :func:`margin_ranking_loss`.

    Examples
    --------
    >>> g1, g2 = margin_ranking_loss_grad([2.0, 1.0], [1.0, 1.0], [1, 1], reduction="none")
    >>> print(g1, g2)
    [ 0. -1.] [0. 1.]
    """
    func = "margin_ranking_loss_grad"
    m, xp, device, x1, x2, y = _ranking_arrays(func, input1, input2, target, sample_weight, margin)
    blocked = _ranking_blocked(func, x1, x2, y, m, reduction, sample_weight, device, gradient=True)
    if isinstance(blocked, tuple):
        return blocked
    v = _ranking_prepare(func, xp, x1, x2, y, m)
    dtype = xp.result_type(x1.dtype, x2.dtype)
    first = _RANKING.grad(v, y, reduction=reduction, sample_weight=sample_weight)
    return _in_dtype(xp, first, dtype), _in_dtype(xp, 0.0 - first, dtype)


def _ranking_reference(xp: Namespace, x1: Array, x2: Array, y: Array, /, *, margin: float = 0.0) -> Array:
    return xp.maximum(-y * (x1 - x2) + margin, 0.0)


def _ranking_reference_grad(
    xp: Namespace, x1: Array, x2: Array, y: Array, /, *, margin: float = 0.0
) -> tuple[Array, Array]:
    first = xp.where(-y * (x1 - x2) + margin >= 0, -y, 0.0)  # the kink included
    return first, -first


register("margin_ranking_loss", _ranking_reference, _ranking_reference_grad)
