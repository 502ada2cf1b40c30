"""Losses over a class axis: softmax cross-entropy and the negative log-likelihood.

Unlike the element-wise losses, each sample's loss here reads a whole row of class
scores, and the target is a class index per sample (or a probability per class). The
arguments go through the same validation path, and the per-sample losses and the
gradients through the same reduction path, as every other loss. Conventions follow
PyTorch's ``F.cross_entropy`` and ``F.nll_loss`` exactly: the class axis is axis 1 of
an ``(N, C, d1, ...)`` input (axis 0 of an unbatched ``(C,)`` one), ``weight`` holds
one weight per class, and a mean over class indices divides by the summed weights of
the target classes.

NumPy input is evaluated in blocks of samples (see :mod:`neural_network._blocks`): each
block of rows is read from memory once, checked (its minimum and maximum, decided after
the pass with the messages of :func:`_validation.check_values`), widened to float64 and
carried through the whole computation while it is in the processor's cache, on several
threads for large input. For few classes a block is held transposed, one class per row
of a (C, samples) array, so that every step, the maximum and the sums over the classes
included, is a vector operation over the samples; the class sums are then formed in
exactly the order of NumPy's pairwise summation of a row (``_softmax_math._class_sums``), so each
sample's result is the same bits in either layout, whatever the block and the thread
count. Class-index targets are gathered, never expanded into a one-hot matrix. Other
array libraries take the same formulas as whole-array expressions.

The files: ``_rows`` (the row engine: the arguments, the rows, their reduction),
``_softmax_math`` (the exact log-softmax and the whole-array formulas), ``_softmax_blocks``
(the NumPy blocks), and this one (the public functions and the training loop's entry).
"""

from __future__ import annotations

import numpy as np

from neural_network._validation import REAL, Array, Namespace
from neural_network.losses._elementwise import Reduction
from neural_network.losses._reference import register
from neural_network.losses._rows import RowArguments, RowTarget, prepare, small_indices
from neural_network.losses.multiclass._softmax_blocks import (
    cross_entropy_numpy,
    cross_entropy_small,
    nll_numpy,
)
from neural_network.losses.multiclass._softmax_math import (
    array_api_gradient,
    array_api_values,
    softmax_reference_grad,
    softmax_reference_parts,
)

# --------------------------------------------------------------------------- training


def cross_entropy_mean_value_and_grad(input: Array, labels: Array) -> tuple[float, Array]:
    """The mean cross-entropy of (N, C) logits and (N,) class indices, and its gradient.

    For the training loop, which has checked the labels once, with :func:`cross_entropy`,
    before the first epoch: no class weights, nothing ignored, no smoothing. The same
    computation as the public functions, value and gradient from one log-softmax.
    """
    count, classes = input.shape
    checked = RowArguments(
        func="cross_entropy", xp=np, device=None, x=input, class_axis=1, classes=classes,
        sample_shape=(count,), target=RowTarget(indices=np.asarray(labels).astype(np.intp, copy=False)),
        weight=None, sample_weight=None, label_smoothing=0.0, reduction="mean", domain=REAL,
        deferred=True,
    )
    # No value checks: outputs that are not finite come out as a loss that is not, and
    # the training loop reports the divergence.
    value, gradient = cross_entropy_numpy(checked, value=True, gradient=True, check=False)
    return float(value), gradient


# --------------------------------------------------------------------------- public functions


def cross_entropy(
    input: object,
    target: object,
    *,
    weight: object = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
    sample_weight: object = None,
) -> Array:
    r"""Softmax cross-entropy between logits and class targets, as PyTorch's ``F.cross_entropy``.

    With class indices ``y``, class weights ``w`` and label smoothing ``ε`` over ``C`` classes:

    .. math:: \ell_n = (1 - ε)\, w_{y_n} (-\log p_{n y_n})
                       + \frac{ε}{C} \sum_c w_c (-\log p_{nc}),
              \qquad p_n = \operatorname{softmax}(x_n)

    and the mean is :math:`\sum_n s_n \ell_n / \sum_n s_n w_{y_n}` over the samples whose
    target is not ``ignore_index`` (``s`` = ``sample_weight``, 1 if not given). With class
    probabilities ``t`` (target of the input's shape), smoothed to ``(1 - ε) t + ε / C``:
    :math:`\ell_n = -\sum_c w_c t_{nc} \log p_{nc}`, and the mean divides by ``sum(s)``.

    Parameters
    ----------
    input : array_like
        Logits, shape ``(N, C)``, ``(N, C, d1, ...)`` or unbatched ``(C,)``; finite.
    target : array_like
        Class indices of shape ``(N,)`` (``(N, d1, ...)``; integers, or floats holding
        whole numbers), or class probabilities of the input's shape (rows summing to 1).
    weight : array_like, optional, keyword-only
        One non-negative weight per class, shape ``(C,)``.
    ignore_index : int, keyword-only
        A target value whose samples add nothing, to the loss or to the mean's denominator.
    reduction : {"mean", "sum", "none"}, keyword-only
        ``"none"`` returns the per-sample losses, shape ``(N, d1, ...)``.
    label_smoothing : float in [0, 1], keyword-only
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per sample, shape ``(N, d1, ...)``, on top of ``weight``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else ``(N, d1, ...)``; the input's float dtype.

    Notes
    -----
    ``log_softmax`` is computed as ``z - log1p(rest)`` with ``z = x - max(x)`` and
    ``rest`` the sum of ``exp(z)`` over all classes but one maximal one, so a confident,
    correct prediction keeps its tiny loss to full relative accuracy (logits
    ``[40, 0]`` with target 0 give 4.248354255291589e-18, not 0). Where every target is
    ignored (or weighted 0), PyTorch returns NaN for the mean; this raises
    :class:`~neural_network.errors.EmptyInputError`.

    Examples
    --------
    >>> print(f"{cross_entropy([[2.0, 0.0, 0.0]], [0]):.15f}")  # log(1 + 2 e^-2) = 0.2395447662218845049
    0.239544766221885
    """
    indices = small_indices(
        input, target, weight=weight, ignore_index=ignore_index, label_smoothing=label_smoothing,
        reduction=reduction, sample_weight=sample_weight,
    )
    if indices is not None:  # the commonest call, small: see cross_entropy_small
        result = cross_entropy_small(input, indices, reduction, gradient=False)
        if result is not None:
            return result
    checked = prepare(
        "cross_entropy", input, target, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, reduction=reduction, sample_weight=sample_weight,
        log_probabilities=False,
    )
    if checked.deferred:
        return cross_entropy_numpy(checked, value=True, gradient=False)[0]
    return array_api_values(checked, nll=False)


def cross_entropy_grad(
    input: object,
    target: object,
    *,
    weight: object = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`cross_entropy` with respect to the logits ``input``.

    .. math:: \frac{\partial \ell_n}{\partial x_{nc}}
              = (1 - ε)\, w_{y_n} (p_{nc} - [c = y_n])
                + \frac{ε}{C} \Bigl(p_{nc} \sum_k w_k - w_c\Bigr)

    (with probabilities ``t``: :math:`p_{nc} \sum_k w_k t_{nk} - w_c t_{nc}`), scaled by the
    sample weights and divided by the mean's denominator. Same arguments as
    :func:`cross_entropy`; returns an array of the input's shape and float dtype.

    Notes
    -----
    **Accuracy.** With class indices and no smoothing each entry is within 4 ulps. With
    probabilities or smoothing, ``p_k sum_c u_c - u_k`` (``u`` the smoothed, weighted
    target) cancels where the softmax nearly equals the target, and float64's ulp or two
    in ``p`` is magnified as much: 3381 ulps measured on ordinary soft targets (the budget
    registered is 3400), unbounded where a target equals the softmax to its last bit. In
    absolute terms every entry is within 4 ulps of ``p_k sum_c u_c + u_k``. A double-length
    softmax would keep 4 ulps, at 25 to 40 times the cost.

    Examples
    --------
    >>> print(cross_entropy_grad([[0.0, 0.0]], [1]))
    [[ 0.5 -0.5]]
    """
    indices = small_indices(
        input, target, weight=weight, ignore_index=ignore_index, label_smoothing=label_smoothing,
        reduction=reduction, sample_weight=sample_weight,
    )
    if indices is not None:  # the commonest call, small: see cross_entropy_small
        result = cross_entropy_small(input, indices, reduction, gradient=True)
        if result is not None:
            return result
    checked = prepare(
        "cross_entropy_grad", input, target, weight=weight, ignore_index=ignore_index,
        label_smoothing=label_smoothing, reduction=reduction, sample_weight=sample_weight,
        log_probabilities=False,
    )
    if checked.deferred:
        return cross_entropy_numpy(checked, value=False, gradient=True)[1]
    return array_api_gradient(checked, nll=False)


def _smoothed_targets(xp: Namespace, x: Array, y: Array, label_smoothing: float) -> Array:
    """The target as (N, C) class probabilities, smoothed: ``(1 - ε) t + ε / C``."""
    if y.ndim < x.ndim:  # class indices: one-hot rows
        y = xp.where(y[:, None] == xp.arange(x.shape[1])[None, :], 1.0, 0.0)
    smoothing = xp.asarray(label_smoothing)  # in xp's arithmetic: 1 - ε and ε / C exactly in mpmath's
    return (1 - smoothing) * y + smoothing / x.shape[1]


def _cross_entropy_reference(xp: Namespace, x: Array, y: Array, /, *, label_smoothing: float = 0.0) -> Array:
    nll, _, _ = softmax_reference_parts(xp, x)  # -log softmax(x)
    return xp.sum(_smoothed_targets(xp, x, y, label_smoothing) * nll, axis=1)


def _cross_entropy_reference_grad(xp: Namespace, x: Array, y: Array, /, *, label_smoothing: float = 0.0) -> Array:
    _, p, q = softmax_reference_parts(xp, x)  # softmax(x) and 1 - softmax(x)
    return softmax_reference_grad(xp, p, q, _smoothed_targets(xp, x, y, label_smoothing))  # p sum(t) - t


register(
    "cross_entropy", _cross_entropy_reference, _cross_entropy_reference_grad, grad_ulps=3400,
    why="with soft or smoothed targets the gradient p_k sum(t) - t_k cancels where the softmax nearly "
    "equals the target, magnifying the ulp or two of float64's p: 3381 ulps measured on ordinary soft "
    "targets (Dirichlet rows), 195 with label smoothing 0.9; within 4 needs p in double length (25 to 40 "
    "times the cost, measured). Absolutely, within 4 ulps of p_k sum(t) + t_k (test_multiclass_losses)",
)


def nll_loss(
    input: object,
    target: object,
    *,
    weight: object = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Negative log-likelihood of class indices under log-probabilities, as ``F.nll_loss``.

    .. math:: \ell_n = -w_{y_n}\, \text{input}_{n y_n}

    with the mean :math:`\sum_n s_n \ell_n / \sum_n s_n w_{y_n}` over samples whose target
    is not ``ignore_index``. ``cross_entropy(x, y)`` equals
    ``nll_loss(log_softmax(x), y)``; call ``cross_entropy`` on logits directly.

    Parameters
    ----------
    input : array_like
        Log-probabilities (values <= 0, ``-inf`` allowed), shape ``(N, C)``,
        ``(N, C, d1, ...)`` or ``(C,)``.
    target : array_like
        Class indices, shape ``(N, d1, ...)``.
    weight, ignore_index, reduction, sample_weight
        As in :func:`cross_entropy`.

    Examples
    --------
    >>> import math
    >>> print(nll_loss([[math.log(0.25), math.log(0.75)]], [1]))  # -log(0.75)
    0.2876820724517809
    """
    checked = prepare(
        "nll_loss", input, target, weight=weight, ignore_index=ignore_index, label_smoothing=0.0,
        reduction=reduction, sample_weight=sample_weight, log_probabilities=True,
    )
    if checked.deferred:
        return nll_numpy(checked, value=True)
    return array_api_values(checked, nll=True)


def nll_loss_grad(
    input: object,
    target: object,
    *,
    weight: object = None,
    ignore_index: int = -100,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`nll_loss` with respect to ``input``: ``-w[y]`` at each target class.

    .. math:: \frac{\partial \ell_n}{\partial \text{input}_{nc}} = -w_{y_n} [c = y_n]

    scaled by the sample weights and divided by the mean's denominator.

    Examples
    --------
    >>> print(nll_loss_grad([[-1.0, -0.5]], [1], reduction="sum"))
    [[ 0. -1.]]
    """
    checked = prepare(
        "nll_loss_grad", input, target, weight=weight, ignore_index=ignore_index, label_smoothing=0.0,
        reduction=reduction, sample_weight=sample_weight, log_probabilities=True,
    )
    if checked.deferred:
        return nll_numpy(checked, value=False)
    return array_api_gradient(checked, nll=True)


def _nll_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    return -xp.take_along_axis(x, y[:, None], axis=1)[:, 0]


def _nll_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    return xp.where(y[:, None] == xp.arange(x.shape[1])[None, :], -1.0, 0.0)


register("nll_loss", _nll_reference, _nll_reference_grad)
