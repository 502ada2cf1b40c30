r"""Sequence losses: connectionist temporal classification (CTC), as PyTorch's ``F.ctc_loss``.

CTC scores an unsegmented label sequence ``y = (y_1, ..., y_L)`` against ``T`` frames of
per-class log-probabilities. An *alignment* is a path ``π`` of ``T`` symbols over the
``C`` classes (one of them the *blank*); it yields ``y`` when collapsing its repeated
symbols and then deleting the blanks gives ``y`` (``B(π) = y``). The loss of a sample is

.. math:: \ell = -\log \sum_{π \,:\, B(π) = y} \; \prod_{t=1}^{T} p_t(π_t),
          \qquad \log p_t = \text{log\_probs}[t]

computed by the forward-backward recursion over the extended sequence
``y' = (blank, y_1, blank, y_2, ..., y_L, blank)`` of length ``2L + 1``, in log space
(``np.logaddexp``), vectorized over the batch and the positions of ``y'``, with a loop
over the frames only. Every quantity is computed in float64 and rounded once to the
dtype of ``log_probs``.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from neural_network import _reduction, _validation
from neural_network._validation import NONNEGATIVE, Array, Domain
from neural_network.errors import (
    EmptyInputError,
    InvalidOptionError,
    InvalidTypeError,
    OutOfRangeError,
    ShapeMismatchError,
    describe,
)
from neural_network.losses._elementwise import Reduction

_LOG_PROBABILITY = Domain(
    "log-probabilities (values <= 0; -inf for a probability of 0)",
    high=0.0,
    allow_infinite=True,
    hint=lambda low, high: (
        " Positive values cannot be log-probabilities: these look like raw scores (logits); "
        "apply log_softmax over the class axis (the last one) first."
    ),
)

_FloatArray = np.ndarray[Any, np.dtype[np.float64]]
_IntArray = np.ndarray[Any, np.dtype[np.int64]]


class _Checked:
    """Validated CTC arguments, as NumPy arrays in batched form."""

    __slots__ = (
        "blank", "device", "dtype", "input_lengths", "labels", "log_probs", "reduction",
        "sample_weight", "target_lengths", "unbatched", "xp", "zero_infinity",
    )

    def __init__(self, **values: Any) -> None:
        for name, value in values.items():
            setattr(self, name, value)

    xp: Any
    device: Any
    dtype: Any
    log_probs: _FloatArray  # (T, N, C) float64
    labels: _IntArray  # (N, Smax) padded with the blank
    input_lengths: _IntArray  # (N,)
    target_lengths: _IntArray  # (N,)
    blank: int
    reduction: str
    zero_infinity: bool
    sample_weight: _FloatArray | None  # (N,)
    unbatched: bool


def _integers(func: str, name: str, value: object, what: str) -> _IntArray:
    """``value`` as an int64 NumPy array, or an error saying integers were expected."""
    if value is None:
        raise InvalidTypeError(f"{func}: {name} is None; expected {what}.")
    if isinstance(value, (str, bytes)):
        raise InvalidTypeError(f"{func}: {name} must hold integers ({what}); got the string {value!r}.")
    try:
        array = np.asarray(value)
    except (ValueError, TypeError):
        raise InvalidTypeError(
            f"{func}: {name} must be a rectangular array of integers ({what}); got {describe(value)}."
        ) from None
    if array.dtype.kind not in "iu":
        raise InvalidTypeError(
            f"{func}: {name} must hold integers ({what}); got an array of dtype {array.dtype}. "
            f"Convert it with {name}.astype(int) (numpy) or {name}.long() (torch) after checking "
            "that it holds whole numbers."
        )
    if array.dtype.kind == "u" and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise OutOfRangeError(f"{func}: {name} holds values beyond the int64 range.")
    return array.astype(np.int64)


def _prepare(
    func: str,
    log_probs: object,
    targets: object,
    input_lengths: object,
    target_lengths: object,
    blank: object,
    reduction: object,
    zero_infinity: object,
    sample_weight: object,
) -> _Checked:
    xp, device = _validation.namespace(
        func, log_probs=log_probs, targets=targets, input_lengths=input_lengths,
        target_lengths=target_lengths, sample_weight=sample_weight,
    )
    checked_reduction = _validation.check_reduction(func, reduction)
    if not isinstance(zero_infinity, (bool, np.bool_)):
        raise InvalidOptionError(
            f"{func}: zero_infinity must be True or False; got {describe(zero_infinity)}."
        )
    x = np.asarray(_validation.as_real_array(func, "log_probs", log_probs, xp, device))
    dtype = x.dtype
    lp = x.astype(np.float64)
    if lp.ndim not in (2, 3):
        raise ShapeMismatchError(
            f"{func}: log_probs must have shape (T, N, C) (frames, batch, classes) or unbatched (T, C); "
            f"got log_probs.shape={tuple(lp.shape)}. A (N, T, C) batch-first array must be transposed: "
            "log_probs.transpose(1, 0, 2)."
        )
    unbatched = lp.ndim == 2
    if unbatched:
        lp = lp[:, None, :]
    frames, batch, classes = lp.shape
    if classes == 0:
        raise ShapeMismatchError(f"{func}: log_probs must have at least one class (C >= 1); got C = 0.")
    _validation.check_values(func, "log_probs", lp, np, _LOG_PROBABILITY)

    if isinstance(blank, bool) or not isinstance(blank, numbers.Integral):
        raise InvalidOptionError(f"{func}: blank must be an integer class index; got {describe(blank)}.")
    blank_index = int(blank)
    if not 0 <= blank_index < classes:
        raise InvalidOptionError(
            f"{func}: blank must be a class index from 0 to {classes - 1} (log_probs has {classes} "
            f"classes); got blank={blank_index}."
        )

    il = _integers(func, "input_lengths", input_lengths, "the number of frames of each sample")
    tl = _integers(func, "target_lengths", target_lengths, "the number of labels of each sample")
    tg = _integers(func, "targets", targets, "class indices of the label sequences")
    for name, lengths in (("input_lengths", il), ("target_lengths", tl)):
        expected = ((), (1,)) if unbatched else ((batch,),)
        if tuple(lengths.shape) not in expected:
            want = "a single integer (unbatched log_probs)" if unbatched else f"shape ({batch},), one per sample"
            raise ShapeMismatchError(f"{func}: {name} must be {want}; got {name}.shape={tuple(lengths.shape)}.")
    il, tl = il.reshape(-1), tl.reshape(-1)
    if il.size and int(il.max()) > frames:
        bad = int(np.argmax(il > frames))
        raise ShapeMismatchError(
            f"{func}: input_lengths must be at most T = {frames}, the frames of log_probs (shape "
            f"{tuple(x.shape)}); got input_lengths[{bad}] = {int(il[bad])}. Is log_probs (T, N, C), "
            "time first, and are the lengths those of this batch?"
        )
    if il.size and int(il.min()) < 0:
        bad = int(np.argmax(il < 0))
        raise OutOfRangeError(
            f"{func}: input_lengths must be from 0 to T = {frames} (the frames of log_probs); got "
            f"input_lengths[{bad}] = {int(il[bad])}."
        )
    if tl.size and int(tl.min()) < 0:
        bad = int(np.argmax(tl < 0))
        raise OutOfRangeError(
            f"{func}: target_lengths must be non-negative; got target_lengths[{bad}] = {int(tl[bad])}."
        )

    longest = int(tl.max()) if tl.size else 0
    labels = np.full((batch, longest), blank_index, dtype=np.int64)
    used = np.arange(longest)[None, :] < tl[:, None]  # (N, Smax)
    if unbatched or tg.ndim == 2:
        if unbatched and tg.ndim != 1:
            raise ShapeMismatchError(
                f"{func}: with unbatched log_probs (T, C), targets must be one sequence, shape (S,); "
                f"got targets.shape={tuple(tg.shape)}."
            )
        padded = tg.reshape(1, -1) if unbatched else tg
        if padded.shape[0] != batch:
            raise ShapeMismatchError(
                f"{func}: padded targets must have shape (N, S) with N = {batch} (the batch of log_probs); "
                f"got targets.shape={tuple(tg.shape)}."
            )
        if padded.shape[1] < longest:
            raise ShapeMismatchError(
                f"{func}: targets has {padded.shape[1]} columns, fewer than the longest target_lengths "
                f"({longest}); each row must hold at least target_lengths[n] labels."
            )
        labels[used] = padded[:, :longest][used]
    elif tg.ndim == 1:
        total = int(tl.sum())
        if tg.shape[0] != total:
            raise ShapeMismatchError(
                f"{func}: 1-D targets are the label sequences concatenated, so their length must be "
                f"sum(target_lengths) = {total}; got targets.shape={tuple(tg.shape)}. For padded targets "
                "pass shape (N, S)."
            )
        labels[used] = tg
    else:
        raise ShapeMismatchError(
            f"{func}: targets must have shape (N, S) (padded) or (sum(target_lengths),) (concatenated); "
            f"got targets.shape={tuple(tg.shape)}."
        )
    if used.any():
        values = labels[used]
        low, high = int(values.min()), int(values.max())
        if low < 0 or high >= classes:
            raise OutOfRangeError(
                f"{func}: targets must hold class indices from 0 to {classes - 1} (log_probs has {classes} "
                f"classes) within target_lengths; got values from {low} to {high}. Padding beyond each "
                "target length is ignored."
            )
        if bool((values == blank_index).any()):
            where = np.argwhere(used & (labels == blank_index))[0]
            raise OutOfRangeError(
                f"{func}: targets must not contain the blank class {blank_index} within target_lengths; "
                f"got it in sample {int(where[0])} at position {int(where[1])}. The blank separates "
                "labels and is never a label itself: remap the labels, or pass blank= the index of the "
                "blank class."
            )

    weight: _FloatArray | None = None
    if sample_weight is not None:
        s = _validation.as_real_array(func, "sample_weight", sample_weight, xp, device)
        s_np = np.asarray(s, dtype=np.float64)
        if tuple(s_np.shape) != (() if unbatched else (batch,)):
            raise ShapeMismatchError(
                f"{func}: sample_weight must hold one weight per sample, shape "
                f"{'()' if unbatched else f'({batch},)'}; got sample_weight.shape={tuple(s_np.shape)}."
            )
        _validation.check_values(func, "sample_weight", s_np, np, NONNEGATIVE)
        weight = s_np.reshape(-1)
    if checked_reduction == "mean":
        if batch == 0:
            raise EmptyInputError(
                f"{func}: reduction='mean' needs at least one sample; got none. "
                "Use reduction='sum' (an empty sum is 0) or check why the batch is empty."
            )
        if weight is not None and float(weight.max()) == 0.0:
            raise EmptyInputError(
                f"{func}: reduction='mean' divides by the summed sample weights, and they are all 0; "
                "use reduction='sum' to get 0."
            )
    return _Checked(
        xp=xp, device=device, dtype=dtype, log_probs=lp, labels=labels, input_lengths=il,
        target_lengths=tl, blank=blank_index, reduction=checked_reduction,
        zero_infinity=bool(zero_infinity), sample_weight=weight, unbatched=unbatched,
    )


def _shift(a: _FloatArray, by: int) -> _FloatArray:
    """``a`` moved ``by`` positions along its last axis (right if positive), filled with -inf."""
    out = np.full_like(a, -np.inf)
    if by > 0:
        out[..., by:] = a[..., :-by]
    else:
        out[..., :by] = a[..., -by:]
    return out


def _forward_backward(checked: _Checked, gradient: bool) -> tuple[_FloatArray, _FloatArray | None]:
    """Per-sample negative log-likelihoods (N,), and the unreduced gradient (T, N, C) if asked.

    The gradient is PyTorch's: ``exp(log_probs) - occupancy`` for the frames within each
    input length (0 beyond), where the occupancy of class ``c`` at frame ``t`` is the
    posterior probability that the alignment emits ``c`` there. It is NaN for a sample
    whose loss is infinite (no alignment has a non-zero probability).
    """
    lp, labels, blank = checked.log_probs, checked.labels, checked.blank
    il, tl = checked.input_lengths, checked.target_lengths
    frames, batch, _ = lp.shape
    width = 2 * labels.shape[1] + 1
    ext = np.full((batch, width), blank, dtype=np.int64)
    ext[:, 1::2] = labels
    positions = np.arange(width)[None, :]
    valid = positions < (2 * tl + 1)[:, None]  # (N, S')
    skip = np.zeros((batch, width), dtype=bool)  # may position s be reached from s - 2?
    skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])
    rows = np.arange(batch)[:, None]
    emit = lp[:, rows, ext]  # (T, N, S'): the log-probability of each extended symbol at each frame
    minus_inf = -np.inf

    alpha = np.full((frames, batch, width), minus_inf)
    if frames:
        alpha[0, :, 0] = emit[0, :, 0]
        if width > 1:
            alpha[0, :, 1] = np.where(valid[:, 1], emit[0, :, 1], minus_inf)
    for t in range(1, frames):
        prev = alpha[t - 1]
        paths = np.logaddexp(prev, _shift(prev, 1))
        paths = np.logaddexp(paths, np.where(skip, _shift(prev, 2), minus_inf))
        alpha[t] = np.where(valid, paths + emit[t], minus_inf)

    last = np.maximum(il - 1, 0)
    end = 2 * tl
    final = alpha[last, np.arange(batch), end]
    before = np.where(tl > 0, alpha[last, np.arange(batch), np.maximum(end - 1, 0)], minus_inf)
    nll = 0.0 - np.logaddexp(final, before)  # +0.0, not -0.0, for a certain alignment
    nll = np.where(il == 0, np.where(tl == 0, 0.0, np.inf), nll)
    if not gradient:
        return nll, None

    # beta[t, n, s]: the log-probability of emitting the rest of y' from frame t + 1 on,
    # given position s at frame t (the emission at t itself excluded).
    beta = np.full((frames, batch, width), minus_inf)
    start = np.full((batch, width), minus_inf)
    start[positions == end[:, None]] = 0.0
    start[(positions == (end - 1)[:, None]) & (tl > 0)[:, None]] = 0.0
    skip_from = _shift(skip.astype(np.float64), -2) == 1.0  # may position s go on to s + 2?
    for t in range(frames - 1, -1, -1):
        if t + 1 < frames:
            ahead = beta[t + 1] + emit[t + 1]
            paths = np.logaddexp(ahead, _shift(ahead, -1))
            paths = np.where(valid, np.logaddexp(paths, np.where(skip_from, _shift(ahead, -2), minus_inf)), minus_inf)
        else:
            paths = np.full((batch, width), minus_inf)
        at_end = (il - 1 == t)[:, None]
        inside = (t < il - 1)[:, None]
        beta[t] = np.where(at_end, start, np.where(inside, paths, minus_inf))

    finite = np.isfinite(nll)
    shift = np.where(finite, nll, 0.0)
    occupancy = np.exp(alpha + beta + shift[None, :, None])  # (T, N, S'), each in [0, 1]
    occupancy = np.where(valid[None, :, :], occupancy, 0.0)
    classes = lp.shape[2]
    gathered = np.zeros((batch * classes, frames))  # one row per (sample, class)
    flat = (rows * classes + ext).reshape(-1)
    np.add.at(gathered, flat, occupancy.transpose(1, 2, 0).reshape(batch * width, frames))
    per_class = gathered.reshape(batch, classes, frames).transpose(2, 0, 1)
    within = (np.arange(frames)[:, None] < il[None, :])[:, :, None]  # (T, N, 1)
    grad = np.where(within, np.exp(lp) - per_class, 0.0)
    grad = np.where(within & ~finite[None, :, None], np.nan, grad)
    return nll, grad


def _reduce(checked: _Checked, nll: _FloatArray, grad: _FloatArray | None) -> tuple[Array, Array]:
    """The reduced loss, and the reduced gradient if ``grad`` is given, in the caller's library."""
    infinite = np.isinf(nll)
    if checked.zero_infinity:
        nll = np.where(infinite, 0.0, nll)
        if grad is not None:
            grad = np.where(infinite[None, :, None], 0.0, grad)
    per_sample = nll
    scale = np.ones_like(nll)
    if checked.reduction == "mean":
        scale = 1.0 / np.maximum(checked.target_lengths, 1).astype(np.float64)
        per_sample = nll * scale
    s = checked.sample_weight
    out_dtype = checked.dtype
    value = _reduction.reduce_values(
        np, per_sample, reduction=checked.reduction, sample_weight=s, dtype=out_dtype
    )
    if checked.unbatched and checked.reduction == "none":
        value = np.reshape(value, ())
    result_grad: Array = None
    if grad is not None:
        if s is not None:
            scale = scale * s
        if checked.reduction == "mean":
            scale = scale / float(_reduction.denominator(np, nll, s))
        factor = scale[None, :, None]
        weighted = np.where(factor == 0.0, 0.0, grad) * factor
        if checked.unbatched:
            weighted = weighted[:, 0, :]
        result_grad = weighted.astype(out_dtype)
    return _to_caller(checked, value), _to_caller(checked, result_grad)


def _to_caller(checked: _Checked, value: Array) -> Array:
    if value is None or _validation.is_numpy_namespace(checked.xp):
        return value
    return checked.xp.asarray(np.asarray(value), device=checked.device)


def ctc_loss(
    log_probs: object,
    targets: object,
    input_lengths: object,
    target_lengths: object,
    *,
    blank: int = 0,
    reduction: Reduction = "mean",
    zero_infinity: bool = False,
    sample_weight: object = None,
) -> Array:
    r"""Connectionist temporal classification loss, as PyTorch's ``F.ctc_loss``.

    For sample ``n`` with frames ``T_n = input_lengths[n]`` and labels
    ``y = targets[n, :L_n]`` (``L_n = target_lengths[n]``):

    .. math:: \ell_n = -\log \sum_{π \in \{0..C-1\}^{T_n},\; B(π) = y}
                       \exp \sum_{t < T_n} \text{log\_probs}[t, n, π_t]

    where ``B`` collapses repeated symbols, then deletes the blanks. ``"mean"`` divides
    each :math:`\ell_n` by :math:`\max(L_n, 1)` and averages over the batch (as PyTorch);
    with ``sample_weight`` ``s`` it is :math:`\sum_n s_n \ell_n / \max(L_n, 1) / \sum_n s_n`.
    ``"sum"`` is :math:`\sum_n s_n \ell_n`; ``"none"`` gives :math:`s_n \ell_n`, shape ``(N,)``.

    Parameters
    ----------
    log_probs : array_like
        Log-probabilities (``log_softmax`` over the last axis; values <= 0, ``-inf``
        allowed), shape ``(T, N, C)`` (frames, batch, classes) or unbatched ``(T, C)``.
    targets : array_like of int
        Padded ``(N, S)`` with ``S >= max(target_lengths)`` (padding is ignored), or the
        sequences concatenated, shape ``(sum(target_lengths),)``; unbatched ``(S,)``.
        Class indices in ``[0, C)``, never ``blank``.
    input_lengths, target_lengths : array_like of int
        Shape ``(N,)`` (a single integer when unbatched); ``0 <= input_lengths <= T``.
    blank : int, keyword-only
        The index of the blank class.
    reduction : {"mean", "sum", "none"}, keyword-only
    zero_infinity : bool, keyword-only
        Replace infinite losses (no alignment possible, e.g. ``T_n < L_n + repeats``, the
        number of adjacent equal labels) and their gradients by 0.
    sample_weight : array_like, optional, keyword-only
        One non-negative weight per sample, shape ``(N,)``.

    Returns
    -------
    loss : array
        A scalar for ``"mean"``/``"sum"``, else ``(N,)`` (``()`` unbatched); the dtype of
        ``log_probs``. A sample whose target cannot be aligned has loss ``inf``.

    Examples
    --------
    Two frames, target ``[1]``: the alignments ``11``, ``01``, ``10`` with probabilities
    ``0.3*0.5 + 0.7*0.5 + 0.3*0.5 = 0.65``.

    >>> import numpy as np
    >>> lp = np.log([[[0.7, 0.3]], [[0.5, 0.5]]])
    >>> print(f"{ctc_loss(lp, [[1]], [2], [1], reduction='sum'):.15f}")  # -log(0.65)
    0.430782916092454
    """
    checked = _prepare(
        "ctc_loss", log_probs, targets, input_lengths, target_lengths, blank, reduction,
        zero_infinity, sample_weight,
    )
    nll, _ = _forward_backward(checked, gradient=False)
    return _reduce(checked, nll, None)[0]


def ctc_loss_grad(
    log_probs: object,
    targets: object,
    input_lengths: object,
    target_lengths: object,
    *,
    blank: int = 0,
    reduction: Reduction = "mean",
    zero_infinity: bool = False,
    sample_weight: object = None,
) -> Array:
    r"""Gradient of :func:`ctc_loss` with respect to ``log_probs``, as PyTorch's autograd gives it.

    .. math:: \frac{\partial \ell_n}{\partial\, \text{log\_probs}[t, n, c]}
              = e^{\text{log\_probs}[t, n, c]} - γ_n(t, c) \quad (t < T_n), \qquad 0 \quad (t \ge T_n)

    with :math:`γ_n(t, c)` the posterior probability that an alignment emits class ``c``
    at frame ``t``, from the forward-backward recursion. Like PyTorch's, it treats
    ``log_probs`` as the output of a log-softmax (the ``exp`` term is the softmax's share),
    so where each frame's probabilities sum to 1 it is also the gradient with respect to
    the logits.
    Scaled as the loss by the reduction and the sample weights. A sample whose loss is
    infinite has NaN gradient over its frames (0 with ``zero_infinity``), as in PyTorch;
    where ``log_probs`` is ``-inf`` PyTorch gives NaN, and this gives the limit, 0.
    Same arguments as :func:`ctc_loss`; returns an array of the shape and dtype of ``log_probs``.

    Examples
    --------
    >>> import numpy as np
    >>> print(ctc_loss_grad(np.log([[0.5, 0.5]]), [1], 1, 1))  # T = 1 frame, one alignment: '1'
    [[ 0.5 -0.5]]
    """
    checked = _prepare(
        "ctc_loss_grad", log_probs, targets, input_lengths, target_lengths, blank, reduction,
        zero_infinity, sample_weight,
    )
    nll, grad = _forward_backward(checked, gradient=True)
    return _reduce(checked, nll, grad)[1]

