"""The class-axis losses' math: exact class sums, the log-softmax, and the whole-array formulas."""


from __future__ import annotations

import array_api_compat
import numpy as np

from neural_network import _reduction
from neural_network._validation import Array, Namespace
from neural_network.losses._rows import RowArguments, RowLayout, mean_weight_array, row_layout

# --------------------------------------------------------------------------- class sums


def class_sums(a: Array, axis: int) -> Array:
    """The sums of ``a`` over the class axis, keeping it (as length 1).

    For (M, C) rows this is ``np.add.reduce(a, axis=1)``. For a transposed (C, M) block
    the same sums are formed from whole rows (one vector operation per class), in the
    order NumPy's pairwise summation adds the entries of a row: so every sample's sum is
    the same bits in both layouts, and as accurate.
    """
    if axis == 1:
        return np.add.reduce(a, axis=1, keepdims=True)
    total = _pairwise(a, 0, a.shape[0])
    total += 0.0  # NumPy adds the row to its identity, +0.0: -0.0 becomes +0.0 there too
    return total[None, :]


def _pairwise(a: Array, start: int, count: int) -> Array:
    """NumPy's ``pairwise_sum`` of rows ``start:start + count`` of ``a`` (a new array):
    one by one below 8 terms; 8 running sums, combined pairwise, up to 128; halves beyond."""
    if count < 8:
        total = a[start] + a[start + 1] if count > 1 else a[start].copy()
        for i in range(start + 2, start + count):
            total += a[i]
        return total
    if count <= 128:
        whole = count - count % 8
        running = a[start : start + 8]
        if whole > 8:
            running = running.copy()
            for i in range(start + 8, start + whole, 8):
                running += a[i : i + 8]
        pairs = running[0::2] + running[1::2]  # r0 + r1, r2 + r3, r4 + r5, r6 + r7
        total = (pairs[0] + pairs[1]) + (pairs[2] + pairs[3])
        for i in range(start + whole, start + count):
            total += a[i]
        return total
    half = count // 2
    half -= half % 8
    return _pairwise(a, start, half) + _pairwise(a, start + half, count - half)


# --------------------------------------------------------------------------- log-softmax, exactly


def log_softmax_parts(xp: Namespace, logits: Array) -> tuple[Array, Array, Array, Array]:
    """``-log p`` for every class, ``e = exp(z)``, ``rest`` and the one-hot of the first maximum.

    ``log p = z - log1p(rest)`` with ``z = x - max`` and ``rest`` the sum of ``exp(z)``
    over every class but one maximal one (whose term is exactly 1). ``log1p(rest)`` keeps
    full accuracy when the prediction is confident (rest ~ 1e-30), where ``log(sum)``
    would round to 0; and ``-log p = log1p(rest) - z`` adds two non-negative terms.
    The subtraction ``x - max`` is rounded, and ``exp`` would pass that error on as
    ``|z|/2`` units in the last place, so its exact error ``d`` (TwoSum) is carried along:
    ``exp(z + d) = e + e * d`` to first order.

    This is the whole-array form, for the array libraries other than NumPy; the NumPy
    evaluation (:class:`_Parts`) makes the same operations on each element, block by block.
    """
    top = xp.argmax(logits, axis=1)
    # The class positions on the logits' device: a library that keeps arrays on several
    # devices (a GPU's) refuses to compare them with positions made on its default one.
    positions = xp.arange(logits.shape[1], device=array_api_compat.device(logits))
    first_max = xp.astype(top[:, None] == positions[None, :], xp.float64)
    shift = -xp.max(logits, axis=1, keepdims=True)
    z = logits + shift
    # Where x - max overflows to -inf (logits spanning more than the float64 range), the
    # error term is inf - inf; it is discarded, and NumPy's warning about it silenced.
    with np.errstate(invalid="ignore"):
        back = z - logits
        d = (logits - (z - back)) + (shift - back)
    d = xp.where(xp.isfinite(z), d, 0.0)
    e = xp.exp(z)
    e = e + e * d
    rest = xp.sum(xp.where(first_max > 0, 0.0, e), axis=1, keepdims=True)
    nll = (xp.log1p(rest) - z) - d
    return nll, e, rest, first_max


# --------------------------------------------------------------------------- references' pieces


def _except(xp: Namespace, a: Array) -> Array:
    """``sum_{k != c} a[..., c, k]`` for every class ``c``: ``a`` of shape (N, C or 1, C), the
    sum over the last axis leaving out the diagonal."""
    classes = a.shape[-1]
    other = xp.arange(classes)[:, None] != xp.arange(classes)[None, :]
    return xp.sum(xp.where(other, a, 0.0), axis=2)


def softmax_reference_parts(xp: Namespace, x: Array) -> tuple[Array, Array, Array]:
    """``-log p``, ``p`` and ``1 - p`` of every class of (N, C) logits, ``p = softmax(x)``.

    All three from ``S_c = sum_{k != c} exp(x_k - x_c)`` (``-log p_c = log1p(S_c)``,
    ``p_c = 1 / (1 + S_c)``, ``1 - p_c = S_c / (1 + S_c)``): nothing cancels at any gap
    between the logits, which is what lets a reference stay exact on confident rows.
    """
    rest = _except(xp, xp.exp(x[:, None, :] - x[:, :, None]))
    return xp.log1p(rest), 1 / (1 + rest), xp.where(xp.isfinite(rest), rest / (1 + rest), 1.0)


def softmax_reference_grad(xp: Namespace, p: Array, q: Array, u: Array) -> Array:
    """``p_k sum_c u_c - u_k`` (the gradient through the softmax of ``sum_c u_c (-log p_c)``-like
    row losses, ``u_c`` their weights), as ``p_k sum_{c != k} u_c - (1 - p_k) u_k``."""
    return p * _except(xp, u[:, None, :]) - q * u


# --------------------------------------------------------------------------- array-API formulas


def weighted_sum(xp: Namespace, coefficient: Array, values: Array) -> Array:
    """Row sums of ``coefficient * values``, where a zero coefficient contributes 0 even
    against an infinite value (IEEE would give 0 * inf = NaN)."""
    return xp.sum(coefficient * xp.where(coefficient > 0, values, 0.0), axis=1)


def _cross_entropy_values(batch: RowLayout, label_smoothing: float) -> Array:
    xp, w = batch.xp, batch.weight[None, :]
    nll, _, _, _ = log_softmax_parts(xp, batch.scores)  # -log p, every entry >= 0
    if batch.probabilities is not None:
        return weighted_sum(xp, w * batch.probabilities, nll)
    loss = (1.0 - label_smoothing) * weighted_sum(xp, batch.onehot * w, nll)
    if label_smoothing:
        counted = xp.sum(batch.onehot, axis=1)  # 0 for an ignored sample
        loss = loss + (label_smoothing / batch.scores.shape[1]) * counted * weighted_sum(xp, w, nll)
    return loss


def _cross_entropy_gradient(batch: RowLayout, label_smoothing: float) -> Array:
    xp, w = batch.xp, batch.weight[None, :]
    _, e, rest, first_max = log_softmax_parts(xp, batch.scores)
    p = e / (1.0 + rest)
    complement = rest / (1.0 + rest)  # 1 - p of the top class, exact even where p rounds to 1
    if batch.probabilities is not None:
        t = w * batch.probabilities
        total = xp.sum(t, axis=1, keepdims=True)
        # p T - t, but at the top class as (T - t_top) - T (1 - p_top), without the
        # cancellation of two numbers near T when p_top rounds to 1.
        others = xp.sum(xp.where(first_max > 0, 0.0, t), axis=1, keepdims=True)
        return xp.where(first_max > 0, others - total * complement, p * total - t)
    # p - onehot at the target class is -(1 - p); when the target is the top class that is
    # -complement. Elsewhere p <= 0.5 and p - 1 is exact enough.
    target_is_top = xp.sum(batch.onehot * first_max, axis=1, keepdims=True)
    difference = xp.where((batch.onehot * target_is_top) > 0, -complement, p - batch.onehot)
    counted = xp.sum(batch.onehot, axis=1, keepdims=True)
    target_weight = xp.sum(batch.onehot * w, axis=1, keepdims=True)
    gradient = (1.0 - label_smoothing) * target_weight * difference
    if label_smoothing:
        smooth = xp.sum(w, axis=1, keepdims=True) * p - w
        gradient = gradient + (label_smoothing / batch.scores.shape[1]) * counted * smooth
    return gradient


def _nll_values(batch: RowLayout) -> Array:
    # -w[y] * input[y], gathered by the one-hot mask; a log-probability of -inf in a
    # class with coefficient 0 (another class, an ignored sample, a zero weight) adds 0.
    return weighted_sum(batch.xp, batch.onehot * batch.weight[None, :], 0.0 - batch.scores)


def _nll_gradient(batch: RowLayout) -> Array:
    return 0.0 - batch.onehot * batch.weight[None, :]


def array_api_values(checked: RowArguments, nll: bool) -> Array:
    xp, batch = checked.xp, row_layout(checked)
    with np.errstate(over="ignore", divide="ignore"):
        values = _nll_values(batch) if nll else _cross_entropy_values(batch, checked.label_smoothing)
        if checked.reduction == "none":
            values = xp.reshape(values, checked.sample_shape)
        s = checked.sample_weight
        if s is not None and checked.reduction == "none":
            s = xp.reshape(s, checked.sample_shape)
        return _reduction.reduce_values(
            xp,
            values,
            reduction=checked.reduction,
            sample_weight=s,
            dtype=checked.x.dtype,
            mean_weight=mean_weight_array(checked),
        )


def array_api_gradient(checked: RowArguments, nll: bool) -> Array:
    xp, batch = checked.xp, row_layout(checked)
    with np.errstate(over="ignore", divide="ignore"):
        gradient = _nll_gradient(batch) if nll else _cross_entropy_gradient(batch, checked.label_smoothing)
        s = checked.sample_weight
        reduced = _reduction.reduce_derivatives(
            xp,
            gradient,
            reduction=checked.reduction,
            sample_weight=None if s is None else s[:, None],
            dtype=checked.x.dtype,
            mean_weight=mean_weight_array(checked),
        )
    laid_out = xp.reshape(reduced, (*checked.sample_shape, checked.classes))
    return xp.moveaxis(laid_out, -1, checked.class_axis)
