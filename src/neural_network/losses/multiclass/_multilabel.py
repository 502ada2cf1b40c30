r"""Multi-label losses on (N, C) scores, as ``torch.nn.functional``: several classes per sample.

* :func:`multilabel_soft_margin_loss`: the per-sample mean over classes of the binary
  cross-entropy of each logit (one independent yes/no per class).
* :func:`multilabel_margin_loss`: the hinge between every target class and every
  non-target class of a sample, with PyTorch's target layout (class indices, the list
  ending at the first -1).

Each takes ``input`` of shape ``(N, C)`` (or ``(C,)``, one sample), keyword-only options
with PyTorch's names and defaults, ``reduction`` and ``sample_weight`` (one non-negative
weight per sample, applied on top of PyTorch's per-class ``weight``). The mean divides by
``N`` (by ``sum(sample_weight)`` when given), never by ``N * C`` nor by class weights:
each per-sample loss is already divided by ``C``, as PyTorch does. Their checks are
:mod:`neural_network.losses.multiclass._scores`'s, shared with ``multi_margin_loss``.

**Kinks.** PyTorch's kernel for the margin loss counts a term only where its argument is
strictly positive, in the value and in the gradient; so does this one (at an argument
exactly 0 the gradient of that term is 0), so that gradients match autograd's.
"""

from __future__ import annotations

import numpy as np

from neural_network import _blocks, _validation
from neural_network._dask import chunked_like
from neural_network._numerics import softplus_pair, two_sum
from neural_network._validation import LABEL, Array, Namespace
from neural_network.errors import (
    InvalidTypeError,
    OutOfRangeError,
    ShapeMismatchError,
)
from neural_network.losses._elementwise import Reduction
from neural_network.losses._reference import register
from neural_network.losses._rows import RowArguments, reduce_row_gradient, reduce_rows
from neural_network.losses.classification._binary import logistic_loss_derivative
from neural_network.losses.multiclass._scores import (
    check_class_weights,
    class_indices,
    hinge_argument,
    score_rows,
)


def _soft_margin_prepare(func: str, input: object, target: object, weight: object, reduction: object,
                         sample_weight: object) -> tuple[RowArguments, Array]:
    rows = score_rows(func, input, reduction, target=target, weight=weight, sample_weight=sample_weight)
    xp = rows.xp
    if target is None:
        raise InvalidTypeError(f"{func}: target is None; expected labels in [0, 1] of the input's shape.")
    t = _validation.as_real_array(func, "target", target, xp, rows.device)
    shape = (rows.classes,) if rows.class_axis == 0 else tuple(rows.scores.shape)
    if tuple(t.shape) != shape:
        hint = ""
        if t.ndim == len(shape) - 1 or (len(shape) == 2 and t.ndim == 1):
            hint = (" Class indices? This loss takes one 0/1 label per class (multi-hot rows); for one "
                    "class per sample use multi_margin_loss or cross_entropy.")
        raise ShapeMismatchError(
            f"{func}: target must have the input's shape {shape} (one label per class); got "
            f"target.shape={tuple(t.shape)}.{hint}"
        )
    _validation.check_values(func, "target", t, xp, LABEL)
    check_class_weights(rows, weight, sample_weight)
    return rows, _validation.working(xp, xp.reshape(t, tuple(rows.scores.shape)))


def multilabel_soft_margin_loss(
    input: object,
    target: object,
    *,
    weight: object = None,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Multi-label soft margin loss: ``torch.nn.functional.multilabel_soft_margin_loss``.

    .. math:: \ell_n = \frac{1}{C} \sum_{c} w_c \bigl( y_{nc}\,\operatorname{softplus}(-x_{nc})
              + (1 - y_{nc})\,\operatorname{softplus}(x_{nc}) \bigr)

    the mean over classes of the binary cross-entropy of each logit
    (``softplus(-x) = -log sigmoid(x)``).

    Parameters
    ----------
    input : array_like
        Logits, shape ``(N, C)`` or ``(C,)``; finite.
    target : array_like
        Labels of the input's shape, each 0, 1 or a soft label in between (PyTorch
        accepts any number; a label outside [0, 1] is refused here).
    weight : array_like, optional, keyword-only
        One non-negative weight per class, shape ``(C,)``.
    reduction : {"mean", "sum", "none"}, keyword-only
        The mean is over samples (divided by ``N``); ``"none"`` gives ``(N,)`` (``()``
        for a ``(C,)`` input).
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per sample, shape ``(N,)``; the mean is then
        ``sum(s * l) / sum(s)``.

    Notes
    -----
    Both tails are computed without overflow or cancellation (``softplus`` as
    ``max(x, 0) + log1p(exp(-|x|))``), so a logit of 1e4 against label 0 costs 1e4 / C,
    not ``inf``; float32 input is computed in float64 and rounded once per sample.

    Examples
    --------
    >>> print(multilabel_soft_margin_loss([[0.0, 0.0]], [[1.0, 0.0]], reduction="none"))
    [0.69314718]
    """
    func = "multilabel_soft_margin_loss"
    rows, t = _soft_margin_prepare(func, input, target, weight, reduction, sample_weight)
    xp = rows.xp
    positive, negative = softplus_pair(xp, rows.scores)  # softplus(x), softplus(-x)
    per_class = t * negative + (1.0 - t) * positive
    if rows.weight is not None:
        per_class = per_class * rows.weight[None, :]
    return reduce_rows(rows, xp.sum(per_class, axis=1) / float(rows.classes))


def multilabel_soft_margin_loss_grad(
    input: object,
    target: object,
    *,
    weight: object = None,
    reduction: Reduction = "mean",
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`multilabel_soft_margin_loss` with respect to ``input``.

    .. math:: \frac{\partial \ell_n}{\partial x_{nc}} = \frac{w_c}{C}
              \bigl( (1 - y_{nc})\,\sigma(x_{nc}) - y_{nc}\,\sigma(-x_{nc}) \bigr)

    (``sigma(x) - y``, with each sigmoid to full relative accuracy), scaled by the sample
    weights and, for ``"mean"``, divided by ``N`` (or ``sum(sample_weight)``).

    ``sigma(x) - y`` is computed element by element as
    :func:`binary_cross_entropy_with_logits_grad` computes it (for labels 0 and 1 nothing
    cancels and nothing more is done; where a soft label is close to the sigmoid, the
    sigmoid is formed in double length there only), then multiplied by ``w_c`` and
    divided by ``C``: each entry within 4 ulps (2.7 measured with class weights and ``C =
    3, 4, 7``; 1.4 on the catalog's draws, 20 before) wherever ``sigma(x)`` and ``y`` do
    not agree to 44 bits, and as that function states below that: within ``(2**-97 M +
    2**-1071) w_c / C`` absolute, ``M = max(sigma(x), y)`` (``x`` within about an ulp of
    ``logit(y)``).

    Examples
    --------
    >>> print(multilabel_soft_margin_loss_grad([[0.0, 0.0]], [[1.0, 0.0]]))
    [[-0.25  0.25]]
    """
    func = "multilabel_soft_margin_loss_grad"
    rows, t = _soft_margin_prepare(func, input, target, weight, reduction, sample_weight)
    xp = rows.xp
    # sigmoid(x) - y, each element as binary_cross_entropy_with_logits_grad computes it:
    # plain where nothing cancels (hard labels cost nothing more), the sigmoid in double
    # length where a soft label is close to it (was 20 ulps). NumPy, 1e6 elements of
    # logits N(0, 16): hard labels 73-89 ms before and 63-89 after; soft labels uniform in
    # (0, 1) 73-103 -> 224-284 ms, 0.1/0.9 68-87 -> 192-296 ms (about 30% of the elements
    # are formed in double length there: that path's own cost).
    gradient = logistic_loss_derivative(xp, rows.scores, t)
    if rows.weight is not None:
        gradient = gradient * rows.weight[None, :]
    return reduce_row_gradient(rows, gradient / float(rows.classes))


def _soft_margin_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    softplus_x, softplus_minus_x = xp.log1p(xp.exp(x)), xp.log1p(xp.exp(-x))
    return xp.sum(y * softplus_minus_x + (1 - y) * softplus_x, axis=1) / x.shape[1]


def _soft_margin_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    sigmoid_x, sigmoid_minus_x = 1 / (1 + xp.exp(-x)), 1 / (1 + xp.exp(x))
    return ((1 - y) * sigmoid_x - y * sigmoid_minus_x) / x.shape[1]  # (sigmoid(x) - y) / C


register("multilabel_soft_margin_loss", _soft_margin_reference, _soft_margin_reference_grad)


# --------------------------------------------------------------------------- multilabel margin


def _multilabel_margin_prepare(func: str, input: object, target: object, reduction: object,
                               sample_weight: object) -> tuple[RowArguments, Array, Array, Array]:
    """The rows, the (N,) number of target classes of each, the (N, C) class indices (the
    targets of row ``n`` are its first ``counts[n]`` entries, each listed once) and the
    (N, C) mask of the target classes."""
    rows = score_rows(func, input, reduction, target=target, sample_weight=sample_weight)
    xp = rows.xp
    shape = (rows.classes,) if rows.class_axis == 0 else (rows.samples, rows.classes)
    flat = class_indices(rows, "target", target, shape, -1)
    indices = xp.reshape(flat, (rows.samples, rows.classes))
    check_class_weights(rows, None, sample_weight)
    listed = xp.cumulative_sum(xp.astype(indices == -1, xp.int64), axis=1) == 0  # before the first -1
    counts = xp.sum(xp.astype(listed, xp.int64), axis=1)
    repeats = _class_counts(rows, indices, listed, counts)
    if rows.samples and int(xp.max(repeats)) > 1:
        n = int(xp.argmax(xp.max(repeats, axis=1)))
        c = int(xp.argmax(repeats[n, :]))
        raise OutOfRangeError(
            f"{func}: each row of target must list a class at most once before its first -1; got "
            f"class {c} {int(repeats[n, c])} times in target[{n}]. PyTorch counts a repeated class "
            "again, which is almost always a bug: remove the repeats (e.g. numpy.unique of the row)."
        )
    return rows, counts, indices, repeats > 0


def _class_counts(rows: RowArguments, indices: Array, listed: Array, counts: Array) -> Array:
    """(N, C): how many times each row lists each class before its first -1."""
    xp = rows.xp
    if isinstance(indices, np.ndarray):
        # One bincount over (row, class) pairs.
        row_of = np.broadcast_to(np.arange(rows.samples)[:, None], indices.shape)
        pairs = row_of[listed] * rows.classes + indices[listed]
        return np.bincount(pairs, minlength=rows.samples * rows.classes).reshape(rows.samples, rows.classes)
    positions = xp.arange(rows.classes, device=rows.device)
    repeats = xp.zeros((rows.samples, rows.classes), dtype=xp.int64, device=rows.device)
    for k in range(int(xp.max(counts)) if rows.samples else 0):  # one listed position at a time
        hot = (indices[:, k : k + 1] == positions[None, :]) & listed[:, k : k + 1]
        repeats = repeats + xp.astype(hot, xp.int64)
    return repeats


def _multilabel_margin_terms(
    rows: RowArguments, counts: Array, indices: Array, chosen: Array, *, gradient: bool
) -> Array:
    """The (N,) hinge sums ``sum_{j in T} sum_{i not in T} max(0, z_ji)``, or their (N, C)
    gradient (the number of active pairs a class is in, negated for a target class).

    ``z_ji = 1 - x_j + x_i`` is rounded once from its exact value and counts where it is
    strictly positive. One target position ``k`` at a time, over the rows that list a
    ``k``-th class: memory ``O(N C)`` (PyTorch's kernel loops the same way), where all
    pairs at once need ``O(N C^2)``. The rows are taken in decreasing order of their
    number of targets, so that those rows are always the first ``m``: slices, not copies.
    """
    xp, n, c = rows.xp, rows.samples, rows.classes
    if isinstance(rows.scores, np.ndarray) and n and float(np.max(np.abs(rows.scores))) < _NO_OVERFLOW:
        return _multilabel_margin_blocked(rows.scores, counts, indices, chosen, gradient=gradient)
    result = xp.zeros((n, c) if gradient else (n,), dtype=xp.float64, device=rows.device)
    if n == 0:
        return result
    order = xp.argsort(counts, descending=True, stable=True)
    x = xp.take(rows.scores, order, axis=0)
    targets = xp.take(indices, order, axis=0)
    others = ~xp.take(chosen, order, axis=0)
    ranked = xp.take(counts, order)
    positions = xp.arange(c, device=rows.device)
    for k in range(int(ranked[0])):
        m = int(xp.sum(xp.astype(ranked > k, xp.int64)))
        scores = x[:m, :]
        hot = targets[:m, k : k + 1] == positions[None, :]  # the k-th target of each row
        own = xp.sum(xp.where(hot, scores, 0.0), axis=1)  # one non-zero term: exact
        z = hinge_argument(xp, 1.0, own[:, None], scores)  # [n, i]: 1 - x_j + x_i
        active = (z > 0.0) & others[:m, :]
        if gradient:
            pairs = xp.astype(active, xp.float64)
            result[:m, :] = result[:m, :] + (pairs - xp.astype(hot, xp.float64) * xp.sum(pairs, axis=1)[:, None])
        else:
            result[:m] = result[:m] + xp.sum(xp.where(active, z, 0.0), axis=1)
    return xp.take(result, xp.argsort(order), axis=0)


_NO_OVERFLOW = 2.0**1021
"""Scores below this in magnitude: no ``1 - x_j + x_i`` can overflow (nor any step of its TwoSum)."""


def _multilabel_margin_blocked(
    x: Array, counts: Array, indices: Array, chosen: Array, *, gradient: bool
) -> Array:
    """:func:`_multilabel_margin_terms` for NumPy scores that cannot overflow, in cache-sized
    groups of rows, on several threads (see :mod:`neural_network._blocks`).

    Whether a pair is active is decided without forming ``z``: ``1 - x_j + x_i > 0``
    exactly when ``x_i >= g_j``, with ``g_j`` the float ``x_j - 1`` rounded (when it
    rounded up, and its successor otherwise: no float lies between ``x_j - 1`` and its
    rounding). The gradient then needs one comparison per pair, and the value adds
    ``z = (x_i + u) + (error + u_low)``, ``1 - x_j = u + u_low`` exactly (TwoSum twice,
    the rounding once at the end, as :func:`hinge_argument`).
    """
    n, c = x.shape
    order = np.argsort(-counts, kind="stable")  # most targets first: the active rows are a prefix
    x, targets, others, ranked = x[order], indices[order], ~chosen[order], counts[order]
    with np.errstate(over="ignore", invalid="ignore"):
        low, low_error = two_sum(x, -1.0)  # x_j - 1 = low + low_error
        threshold: Array = np.where(low_error < 0.0, low, np.nextafter(low, np.inf))
        u, u_error = two_sum(1.0, -x)  # 1 - x_j = u + u_error
    result = np.zeros((n, c) if gradient else n)
    group = max(_blocks.BLOCK // c, 1)  # rows per group: (group, C) arrays stay in the cache
    groups = -(-n // group)

    def task(start: int, stop: int) -> None:
        first = start // _blocks.BLOCK * group
        last = min(first + group, n)
        scores, own_rows = x[first:last], np.arange(first, last)
        for k in range(int(ranked[first])):
            m = int(np.count_nonzero(ranked[first:last] > k))
            j = targets[first : first + m, k]
            active = np.greater_equal(scores[:m], threshold[own_rows[:m], j][:, None])
            active &= others[first : first + m]
            if gradient:
                out = result[first : first + m]
                np.add(out, active, out=out)
                out[np.arange(m), j] -= np.count_nonzero(active, axis=1)
                continue
            high = u[own_rows[:m], j][:, None]
            d = np.add(scores[:m], high)  # TwoSum(x_i, u)
            b = np.subtract(d, scores[:m])
            error = np.subtract(d, b)
            np.subtract(scores[:m], error, out=error)
            np.subtract(high, b, out=b)
            np.add(error, b, out=error)
            np.add(error, u_error[own_rows[:m], j][:, None], out=error)
            np.add(d, error, out=d)
            np.multiply(d, active, out=d)
            result[first : first + m] += np.add.reduce(d, axis=1)

    # One "block" of the thread pool per group of rows: each writes only its own rows.
    _blocks.map_blocks(task, groups * _blocks.BLOCK)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(n)
    return result[inverse]


def multilabel_margin_loss(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Multi-label margin loss: ``torch.nn.functional.multilabel_margin_loss``.

    .. math:: \ell_n = \frac{1}{C} \sum_{j \in T_n} \sum_{i \notin T_n} \max\bigl(0,\ 1 - (x_{nj} - x_{ni})\bigr)

    where ``T_n`` is the set of target classes of sample ``n``.

    Parameters
    ----------
    input : array_like
        Scores, shape ``(N, C)`` or ``(C,)``; finite.
    target : array_like
        PyTorch's layout, the input's shape: each row lists its target classes (0 to
        ``C - 1``) and ends at the first -1; entries after it are ignored but must still
        be -1 to ``C - 1``. ``[3, 0, -1, 1]`` means classes 3 and 0. A row without any
        class (first entry -1) or listing every class has loss 0. Integers, or floats
        holding whole numbers.
    reduction : {"mean", "sum", "none"}, keyword-only
        The mean divides by ``N``; ``"none"`` gives ``(N,)`` (``()`` for ``(C,)``).
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per sample; the mean is then ``sum(s * l) / sum(s)``.

    Notes
    -----
    A class listed twice in a row is refused (PyTorch counts its terms twice). Each
    argument ``1 - x_j + x_i`` is rounded once from its exact value; a term counts only
    where it is strictly positive. Memory is ``O(N C)``: one position of the target lists
    at a time, as PyTorch's kernel (NumPy input in cache-sized groups of rows, on several
    threads, with the same results for any thread count).

    Examples
    --------
    >>> print(multilabel_margin_loss([[0.1, 0.2, 0.4, 0.8]], [[3, 0, -1, 1]], reduction="none"))
    [0.85]
    """
    func = "multilabel_margin_loss"
    rows, counts, indices, chosen = _multilabel_margin_prepare(func, input, target, reduction, sample_weight)
    values = _multilabel_margin_terms(rows, counts, indices, chosen, gradient=False)
    return chunked_like(reduce_rows(rows, values / float(rows.classes)), input)


def multilabel_margin_loss_grad(
    input: object, target: object, *, reduction: Reduction = "mean", sample_weight: object = None
) -> Array:
    r"""Gradient of :func:`multilabel_margin_loss` with respect to ``input``.

    Each active pair (target ``j``, non-target ``i``, ``1 - x_j + x_i > 0`` strictly, as
    PyTorch's kernel) adds ``1 / C`` at ``i`` and ``-1 / C`` at ``j``. Scaled by the
    sample weights and, for ``"mean"``, divided by ``N`` (or ``sum(sample_weight)``).

    Examples
    --------
    >>> print(multilabel_margin_loss_grad([[0.1, 0.2, 0.4, 0.8]], [[3, 0, -1, 1]], reduction="sum"))
    [[-0.5  0.5  0.5 -0.5]]
    """
    func = "multilabel_margin_loss_grad"
    rows, counts, indices, chosen = _multilabel_margin_prepare(func, input, target, reduction, sample_weight)
    gradient = _multilabel_margin_terms(rows, counts, indices, chosen, gradient=True)
    return chunked_like(reduce_row_gradient(rows, gradient / float(rows.classes)), input)


def _multilabel_margin_reference_pairs(xp: Namespace, x: Array, y: Array) -> tuple[Array, Array]:
    """``z_ji = 1 - x_j + x_i`` and the pairs that count: ``j`` a target, ``i`` not, ``z_ji > 0``."""
    positions = xp.arange(x.shape[1])
    before = xp.min(xp.where(positions[None, :, None] >= positions[None, None, :], y[:, None, :], 0), axis=2)
    listed = before >= 0  # the entries before the first -1
    target = xp.max(xp.where(listed[:, :, None] & (y[:, :, None] == positions), 1, 0), axis=1) > 0
    z = 1 - x[:, :, None] + x[:, None, :]
    return z, target[:, :, None] & ~target[:, None, :] & (z > 0)


def _multilabel_margin_reference(xp: Namespace, x: Array, y: Array, /) -> Array:
    z, counted = _multilabel_margin_reference_pairs(xp, x, y)
    return xp.sum(xp.sum(xp.where(counted, z, 0.0), axis=2), axis=1) / x.shape[1]


def _multilabel_margin_reference_grad(xp: Namespace, x: Array, y: Array, /) -> Array:
    z, counted = _multilabel_margin_reference_pairs(xp, x, y)
    pairs = xp.where(counted, xp.ones_like(z), 0.0)  # +1 at the non-target i, -1 at the target j
    return (xp.sum(pairs, axis=1) - xp.sum(pairs, axis=2)) / x.shape[1]


register("multilabel_margin_loss", _multilabel_margin_reference, _multilabel_margin_reference_grad)
