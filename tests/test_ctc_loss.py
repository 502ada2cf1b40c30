"""ctc_loss and ctc_loss_grad against independent references.

* PyTorch ``F.ctc_loss``: values and autograd gradients on a leaf ``log_probs`` tensor,
  float32 and float64, every reduction, zero_infinity, padded and concatenated targets,
  unbatched input, repeated labels, impossible alignments, blank other than 0.
* A brute force: every path of T symbols over C classes, collapsed, its probability
  summed in 60-digit mpmath arithmetic, on tiny cases.
* Central finite differences of the loss, for the gradient.
* Errors: the function and the argument named.

No expected value here comes from the functions under test.
"""

from __future__ import annotations

import itertools
import math
import zlib

import mpmath
import numpy as np
import pytest

from error_model import U
from mp_namespace import exact
from neural_network import losses
from neural_network.errors import (
    EmptyInputError,
    InvalidOptionError,
    InvalidTypeError,
    NonFiniteError,
    OutOfRangeError,
    ShapeMismatchError,
)
from neural_network.losses._reference import REFERENCES

torch = pytest.importorskip("torch")
F = torch.nn.functional

DTYPES = [np.float64, np.float32]
TORCH_DTYPES = {np.float64: torch.float64, np.float32: torch.float32}
UNDERIVED_TOL = {
    "gradient": {"rtol": 1e-12, "atol": 1e-13}, "float32": {"rtol": 2e-5, "atol": 1e-5},
    "weighted gradient": {"rtol": 1e-12, "atol": 1e-14}, "confident gradient": {"rtol": 1e-9, "atol": 1e-15},
    "confident value": {"atol": 1e-14},
}
"""Not derived: the gradients against torch's (exp(lp) minus the occupancies
exp(alpha + beta + nll), whose bound no file derives, on either side: tests/test_devices.py
UNDERIVED ctc_loss), float32 (torch computes in float32, where its gradient cancels), and
the long confident sequence, where torch's float64 value is 0 (absolute floors). Each keeps
the tolerance it had, named here. The float64 values: :func:`ctc_value_rtol`."""
REDUCTIONS = ["mean", "sum", "none"]

# Error model of the bounds, for any libm whose exp, log, log1p are within 1 ulp: u = 2**-53;
# a correctly rounded operation errs by <= u relative, a libm function by <= 2u; a relative
# error k u is within k ulp. Errors pass through condition numbers (absolute ones through
# logaddexp with weights summing to 1); a sum of same-sign terms adds u per addition.


def ctc_rel(frames: int, width: int, nll: float) -> float:
    """A relative bound on one sample's float64 loss ``nll`` (its frames, ``width`` = 2 L + 1).

    logaddexp(a, b) = max + log1p(exp(-d)): d's rounding u d moves it by u d sigmoid(-d)
    <= 0.28u, exp's 2u by 2u v / (1 + v) <= u, log1p's 2u of <= log 2 by 1.39u: 2.7u
    absolute, the add u |result|. Each frame: two of them and + emit, at most
    5.4u + 3u |alpha_t(s)| absolute. An error at alpha_t(s) reaches -nll times its posterior
    gamma_t(s) (summing to 1), and |alpha_t(s)| <= nll + |log gamma_t(s)| (beta <= 0), whose
    gamma-mean is <= nll + log(width). The final logaddexp: 2.7u + u nll."""
    return ((3 * frames + 1) + (frames * (5.4 + 3 * math.log(width)) + 2.7) / nll) * U


def ctc_value_rtol(lp, targets, il, tl, reduction, **options) -> float:
    """Ours against torch's float64 value, relative.

    Each sample's nll within :func:`ctc_rel` on each side (torch's max + log of a sum of 3
    exps errs by less a frame: see test_sample_weight), 0 and inf exact; "mean" divides by
    max(L, 1) (u) and averages the N samples (terms >= 0: N - 1 adds, the division by N u),
    "sum" adds them (N - 1), on each side.
    """
    per, _ = torch_reference(lp, targets, il, tl, reduction="none", **options)
    per, frames, lengths = np.atleast_1d(per), np.atleast_1d(il), np.atleast_1d(tl)
    worst = max(
        (ctc_rel(int(frames[n]), 2 * int(lengths[n]) + 1, float(per[n]))
         for n in range(per.size) if frames[n] and 0.0 < per[n] < math.inf),
        default=0.0,
    )
    extra = {"none": 0, "sum": per.size - 1, "mean": 1 + per.size}[reduction]
    return 2 * worst + 2 * extra * U


def log_softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def random_case(rng, T=12, N=4, C=5, S=4, blank=0, repeats=True, dtype=np.float64):
    """log_probs (T, N, C), padded targets (N, S), input_lengths, target_lengths; all alignable."""
    lp = log_softmax(rng.standard_normal((T, N, C)) * 2.0).astype(dtype)
    labels = [c for c in range(C) if c != blank]
    tl = rng.integers(0, S + 1, size=N)
    targets = rng.choice(labels, size=(N, S))
    if repeats:
        targets[:, 1] = targets[:, 0]  # adjacent equal labels
    need = tl + np.array([np.sum(targets[n, 1 : tl[n]] == targets[n, : max(tl[n] - 1, 0)]) for n in range(N)])
    il = np.array([rng.integers(need[n], T + 1) for n in range(N)])
    targets = np.where(np.arange(S)[None, :] < tl[:, None], targets, -1)  # padding: ignored
    targets = np.where(targets < 0, blank, targets)
    return lp, targets, il, tl


def torch_reference(lp, targets, il, tl, *, blank=0, reduction="mean", zero_infinity=False):
    x = torch.tensor(lp, requires_grad=True)
    loss = F.ctc_loss(
        x, torch.as_tensor(targets), torch.as_tensor(il), torch.as_tensor(tl), blank=blank,
        reduction=reduction, zero_infinity=zero_infinity,
    )
    (grad,) = torch.autograd.grad(loss.sum(), x)
    return loss.detach().numpy(), grad.numpy()


def ours(lp, targets, il, tl, **options):
    return (
        losses.ctc_loss(lp, targets, il, tl, **options),
        losses.ctc_loss_grad(lp, targets, il, tl, **options),
    )


# --------------------------------------------------------------------------- torch parity


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("blank", [0, 2, 4])
@pytest.mark.parametrize("layout", ["padded", "concatenated"])
def test_matches_torch(dtype, reduction, zero_infinity, blank, layout):
    rng = np.random.default_rng(zlib.crc32(repr((str(dtype), reduction, zero_infinity, blank, layout)).encode()))
    lp, targets, il, tl = random_case(rng, blank=blank, dtype=dtype)
    if layout == "concatenated":
        targets = np.concatenate([targets[n, : tl[n]] for n in range(len(tl))]).astype(np.int64)
    options = {"blank": blank, "reduction": reduction, "zero_infinity": zero_infinity}
    want_value, want_grad = torch_reference(lp, targets, il, tl, **options)
    value, grad = ours(lp, targets, il, tl, **options)
    assert np.asarray(value).dtype == dtype and grad.dtype == dtype and grad.shape == lp.shape
    if dtype == np.float64:
        rtol = ctc_value_rtol(lp, targets, il, tl, reduction, blank=blank, zero_infinity=zero_infinity)
        np.testing.assert_allclose(value, want_value, rtol=rtol)  # derived there
        np.testing.assert_allclose(grad, want_grad, **UNDERIVED_TOL["gradient"])
    else:
        np.testing.assert_allclose(value, want_value, **UNDERIVED_TOL["float32"])
        np.testing.assert_allclose(grad, want_grad, **UNDERIVED_TOL["float32"])


@pytest.mark.parametrize("dtype", DTYPES, ids=["float64", "float32"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_matches_torch(dtype, reduction):
    rng = np.random.default_rng(7)
    lp, targets, il, tl = random_case(rng, N=1, S=3, dtype=dtype)
    tl[0], il[0] = 3, 9
    targets[0] = [1, 1, 3]
    want_value, want_grad = torch_reference(lp[:, 0], targets[0], il[0], tl[0], reduction=reduction)
    value, grad = ours(lp[:, 0], targets[0], int(il[0]), int(tl[0]), reduction=reduction)
    assert np.shape(value) == () and grad.shape == lp[:, 0].shape
    if dtype == np.float64:
        rtol = ctc_value_rtol(lp[:, 0], targets[0], il[0], tl[0], reduction)  # derived there
        np.testing.assert_allclose(value, want_value, rtol=rtol)
        np.testing.assert_allclose(grad, want_grad, **UNDERIVED_TOL["gradient"])
    else:
        np.testing.assert_allclose(value, want_value, **UNDERIVED_TOL["float32"])
        np.testing.assert_allclose(grad, want_grad, **UNDERIVED_TOL["float32"])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zero_infinity", [False, True])
def test_impossible_alignments_match_torch(reduction, zero_infinity):
    rng = np.random.default_rng(3)
    lp = log_softmax(rng.standard_normal((4, 3, 4)))
    # sample 0: [1, 1] needs 3 frames, has 2; sample 1: [1, 2, 3] needs 3, has 2; sample 2 alignable.
    targets = np.array([[1, 1, 0], [1, 2, 3], [2, 2, 0]])
    il, tl = np.array([2, 2, 4]), np.array([2, 3, 2])
    options = {"reduction": reduction, "zero_infinity": zero_infinity}
    want_value, want_grad = torch_reference(lp, targets, il, tl, **options)
    value, grad = ours(lp, targets, il, tl, **options)
    np.testing.assert_allclose(value, want_value, rtol=ctc_value_rtol(lp, targets, il, tl, **options))
    np.testing.assert_allclose(grad, want_grad, **UNDERIVED_TOL["gradient"])  # NaN where torch has NaN
    if not zero_infinity:
        assert np.isnan(grad[:2, :2]).all() and (grad[2:, :2] == 0).all()


def test_minus_infinity_log_probs():
    """A class with probability 0: torch's gradient there is NaN (inf - inf), ours the limit 0."""
    rng = np.random.default_rng(5)
    lp, targets, il, tl = random_case(rng, T=6, N=2, C=4, S=2, repeats=False)
    lp[0, :, 3] = -np.inf
    lp[0] = log_softmax(np.where(np.isinf(lp[0]), -np.inf, lp[0]))
    want_value, want_grad = torch_reference(lp, targets, il, tl, reduction="sum")
    value, grad = ours(lp, targets, il, tl, reduction="sum")
    np.testing.assert_allclose(value, want_value, rtol=ctc_value_rtol(lp, targets, il, tl, "sum"))
    finite = ~np.isnan(want_grad)
    np.testing.assert_allclose(grad[finite], want_grad[finite], **UNDERIVED_TOL["gradient"])
    assert (grad[0, :, 3][il > 0] == 0.0).all()


def test_probability_zero_everywhere_gives_inf():
    """Every path blocked by -inf: the loss is inf (0 with zero_infinity), as in torch."""
    lp = np.array([[[0.0, -np.inf]], [[0.0, -np.inf]]])  # class 1 impossible at both frames
    want_value, _ = torch_reference(lp, [[1]], [2], [1], reduction="none")
    value = losses.ctc_loss(lp, [[1]], [2], [1], reduction="none")
    assert np.isinf(want_value).all() and np.isinf(value).all()
    assert losses.ctc_loss(lp, [[1]], [2], [1], reduction="none", zero_infinity=True)[0] == 0.0


def test_zero_input_length():
    lp = log_softmax(np.random.default_rng(1).standard_normal((3, 2, 3)))
    targets, il = np.array([[1], [1]]), np.array([0, 3])
    for tl in ([0, 1], [1, 1]):
        want_value, want_grad = torch_reference(lp, targets, il, tl, reduction="none")
        value, grad = ours(lp, targets, il, np.array(tl), reduction="none")
        np.testing.assert_allclose(value, want_value, rtol=ctc_value_rtol(lp, targets, il, tl, "none"))
        np.testing.assert_allclose(grad, want_grad, **UNDERIVED_TOL["gradient"])


def test_sample_weight():
    rng = np.random.default_rng(11)
    lp, targets, il, tl = random_case(rng)
    s = np.array([0.5, 2.0, 0.0, 1.5])
    per_sample, _ = torch_reference(lp, targets, il, tl, reduction="none")
    scaled = per_sample / np.maximum(tl, 1)
    # Ours and torch's per sample each within ctc_rel (torch's max + log(sum of 3 exps) errs
    # by under 7u + 2u |alpha| a frame, less); per side the weights u, / tl 2u, the sum of 4
    # same-sign terms 3u, / sum(s) 3u + u. About 1e-14.
    worst = max(ctc_rel(il[n], 2 * tl[n] + 1, per_sample[n]) for n in range(4) if il[n])
    bound = 2 * worst + 2 * (1 + 2 + 3 + 4) * U
    np.testing.assert_allclose(losses.ctc_loss(lp, targets, il, tl, reduction="sum", sample_weight=s),
                               np.sum(s * per_sample), rtol=bound)
    np.testing.assert_allclose(losses.ctc_loss(lp, targets, il, tl, sample_weight=s),
                               np.sum(s * scaled) / s.sum(), rtol=bound)
    # the gradient: torch's autograd of the weighted mean
    x = torch.tensor(lp, requires_grad=True)
    loss = F.ctc_loss(x, torch.as_tensor(targets), torch.as_tensor(il), torch.as_tensor(tl), reduction="none")
    weighted = (torch.as_tensor(s) * loss / torch.as_tensor(np.maximum(tl, 1))).sum() / s.sum()
    (want,) = torch.autograd.grad(weighted, x)
    np.testing.assert_allclose(losses.ctc_loss_grad(lp, targets, il, tl, sample_weight=s), want.numpy(),
                               **UNDERIVED_TOL["weighted gradient"])


def test_torch_tensors_in_torch_tensors_out():
    rng = np.random.default_rng(2)
    lp, targets, il, tl = random_case(rng, dtype=np.float32)
    args = [torch.as_tensor(a) for a in (lp, targets, il, tl)]
    value = losses.ctc_loss(*args)
    grad = losses.ctc_loss_grad(*args)
    assert isinstance(value, torch.Tensor) and value.dtype == torch.float32
    assert isinstance(grad, torch.Tensor) and grad.shape == args[0].shape
    want_value, want_grad = torch_reference(lp, targets, il, tl)
    np.testing.assert_allclose(value.numpy(), want_value, **UNDERIVED_TOL["float32"])
    np.testing.assert_allclose(grad.numpy(), want_grad, **UNDERIVED_TOL["float32"])


def mp_forward(lp, target, blank=0):
    """-log of the summed path probabilities by the textbook forward recursion, in 50-digit mpmath."""
    with mpmath.workdps(50):
        ext = [blank]
        for c in target:
            ext += [int(c), blank]
        P = [[mpmath.exp(mpmath.mpf(float(v))) for v in row] for row in lp]
        a = [mpmath.mpf(0)] * len(ext)
        a[0] = P[0][ext[0]]
        if len(ext) > 1:
            a[1] = P[0][ext[1]]
        for t in range(1, len(lp)):
            a = [
                (a[s] + (a[s - 1] if s >= 1 else 0)
                 + (a[s - 2] if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2] else 0)) * P[t][ext[s]]
                for s in range(len(ext))
            ]
        return -mpmath.log(a[-1] + (a[-2] if len(ext) > 1 else 0))


def test_long_confident_sequence():
    """An extreme valid input: 100 frames of near-certain predictions; the loss, about
    100 * e^-40 = 4e-16, keeps full relative accuracy (torch's float64 gives 0)."""
    T, C = 100, 3
    main = -math.log1p(2 * math.exp(-40.0))
    lp = np.full((T, 1, C), -40.0 + main)
    path = np.tile([1, 0, 2, 0], T // 4)  # collapses to [1, 2] * 25
    lp[np.arange(T), 0, path] = main
    targets = np.tile([1, 2], T // 4)[None, :]
    value, grad = ours(lp, targets, [T], [T // 2], reduction="sum")
    want = mp_forward(lp[:, 0], targets[0])
    assert 0 < want < 1e-14
    assert float(value) == pytest.approx(float(want), rel=1e-12)
    want_value, want_grad = torch_reference(lp, targets, [T], [T // 2], reduction="sum")
    np.testing.assert_allclose(value, want_value, **UNDERIVED_TOL["confident value"])
    np.testing.assert_allclose(grad, want_grad, **UNDERIVED_TOL["confident gradient"])


@pytest.mark.parametrize("seed", range(3))
def test_mpmath_forward_random(seed):
    rng = np.random.default_rng(100 + seed)
    lp, targets, il, tl = random_case(rng, T=15, N=3, C=4, S=5)
    per = losses.ctc_loss(lp, targets, il, tl, reduction="none")
    for n in range(3):
        want = mp_forward(lp[: il[n], n], targets[n, : tl[n]]) if il[n] else 0.0
        # ctc_rel (up to 56u here, 1.3u measured), the reference's rounding u
        bound = ctc_rel(int(il[n]), 2 * int(tl[n]) + 1, float(want)) + U if want else 0.0
        assert float(per[n]) == pytest.approx(float(want), rel=bound)


# --------------------------------------------------------------------------- brute force


def collapse(path, blank):
    out = []
    previous = None
    for symbol in path:
        if symbol != previous and symbol != blank:
            out.append(symbol)
        previous = symbol
    return out


def brute_force(lp, target, blank):
    """-log of the summed probabilities of every path that collapses to ``target``, in mpmath."""
    T, C = lp.shape
    with mpmath.workdps(60):
        total = mpmath.mpf(0)
        for path in itertools.product(range(C), repeat=T):
            if collapse(path, blank) == list(target):
                total += mpmath.exp(mpmath.fsum(mpmath.mpf(float(lp[t, c])) for t, c in enumerate(path)))
        return -mpmath.log(total) if total else mpmath.inf


@pytest.mark.parametrize(
    ("T", "target", "blank"),
    [(1, [], 0), (3, [], 0), (3, [1], 0), (4, [1, 1], 0), (4, [1, 2], 0), (5, [2, 1, 2], 0),
     (5, [0, 0], 2), (4, [1, 0], 2), (3, [1, 1], 0)],
)
def test_brute_force(T, target, blank):
    rng = np.random.default_rng(T * 10 + len(target))
    lp = log_softmax(rng.standard_normal((T, 3)))
    want = brute_force(lp, target, blank)
    value = losses.ctc_loss(lp, np.array(target, dtype=np.int64), T, len(target), blank=blank, reduction="sum")
    if want == mpmath.inf:
        assert value == np.inf
    else:
        # ctc_rel (11u to 47u here, 1.3u measured); the sum of one sample adds nothing, the
        # reference's rounding u.
        bound = ctc_rel(T, 2 * len(target) + 1, float(want)) + U
        assert float(value) == pytest.approx(float(want), rel=bound, abs=1e-300)


def test_brute_force_batched_mean():
    rng = np.random.default_rng(19)
    T, C = 5, 3
    lp = log_softmax(rng.standard_normal((T, 3, C)))
    targets = [[1, 2, 1], [2, 2, 0], [0, 0, 0]]
    il, tl = [5, 4, 3], [3, 2, 0]
    per = [float(brute_force(lp[: il[n], n], targets[n][: tl[n]], 0)) for n in range(3)]
    want = sum(per[n] / max(tl[n], 1) for n in range(3)) / 3
    # Each sample within ctc_rel; ours: 1 / tl and the product 2u, the sum of 3 same-sign
    # terms 2u, / 3 u; the reference: its per rounded u, / tl u, the sum 2u, / 3 u.
    worst = max(ctc_rel(il[n], 2 * tl[n] + 1, per[n]) for n in range(3))
    assert float(losses.ctc_loss(lp, targets, il, tl)) == pytest.approx(want, rel=worst + 10 * U)


# --------------------------------------------------------------------------- finite differences


def test_gradient_finite_differences():
    """The gradient is exp(log_probs) - occupancy; the occupancy is -d loss / d log_probs
    (log_probs as free inputs), and the whole is d loss / d logits through log_softmax."""
    rng = np.random.default_rng(23)
    z = rng.standard_normal((6, 2, 4))
    lp = log_softmax(z)
    targets, il, tl = np.array([[1, 1], [3, 2]]), np.array([6, 5]), np.array([2, 2])
    grad = losses.ctc_loss_grad(lp, targets, il, tl, reduction="sum")
    h = 1e-6

    def loss_of(x):
        return float(losses.ctc_loss(x, targets, il, tl, reduction="sum"))

    free = np.zeros_like(lp)
    through_softmax = np.zeros_like(lp)
    for index in np.ndindex(*lp.shape):
        step = np.zeros_like(lp)
        step[index] = h
        free[index] = (loss_of(lp + step) - loss_of(lp - step)) / (2 * h)  # every lp < -h here
        through_softmax[index] = (loss_of(log_softmax(z + step)) - loss_of(log_softmax(z - step))) / (2 * h)
    assert lp.max() < -h
    within = np.arange(6)[:, None, None] < il[None, :, None]
    np.testing.assert_allclose(free, grad - np.exp(lp) * within, atol=1e-8)  # minus the occupancy
    np.testing.assert_allclose(through_softmax, grad, atol=1e-8)


# --------------------------------------------------------------------------- errors


def _valid():
    lp = log_softmax(np.random.default_rng(0).standard_normal((4, 2, 3)))
    return lp, np.array([[1, 2], [2, 1]]), np.array([4, 4]), np.array([2, 1])


@pytest.mark.parametrize("func", [losses.ctc_loss, losses.ctc_loss_grad])
@pytest.mark.parametrize(
    ("change", "error", "words"),
    [
        (lambda a: {**a, "log_probs": np.ones((4, 2, 3))}, OutOfRangeError, "log_probs"),
        (lambda a: {**a, "log_probs": np.full((4, 2, 3), np.nan)}, NonFiniteError, "log_probs"),
        (lambda a: {**a, "log_probs": np.zeros((4, 2, 3, 1))}, ShapeMismatchError, "log_probs"),
        (lambda a: {**a, "targets": np.array([[1, 3], [2, 1]])}, OutOfRangeError, "targets"),
        (lambda a: {**a, "targets": np.array([[1, 0], [2, 1]])}, OutOfRangeError, "blank"),
        (lambda a: {**a, "targets": np.array([[1.0, 2.0], [2.0, 1.0]])}, InvalidTypeError, "targets"),
        (lambda a: {**a, "targets": np.array([[1], [2]])}, ShapeMismatchError, "targets"),
        (lambda a: {**a, "targets": np.array([1, 2])}, ShapeMismatchError, "sum(target_lengths)"),
        (lambda a: {**a, "input_lengths": np.array([5, 4])}, ShapeMismatchError, "input_lengths"),
        (lambda a: {**a, "input_lengths": np.array([-1, 4])}, OutOfRangeError, "input_lengths"),
        (lambda a: {**a, "input_lengths": np.array([4])}, ShapeMismatchError, "input_lengths"),
        (lambda a: {**a, "target_lengths": np.array([-1, 1])}, OutOfRangeError, "target_lengths"),
        (lambda a: {**a, "target_lengths": np.array([2.0, 1.0])}, InvalidTypeError, "target_lengths"),
        (lambda a: {**a, "blank": 3}, InvalidOptionError, "blank"),
        (lambda a: {**a, "blank": True}, InvalidOptionError, "blank"),
        (lambda a: {**a, "reduction": "avg"}, InvalidOptionError, "reduction"),
        (lambda a: {**a, "zero_infinity": 1}, InvalidOptionError, "zero_infinity"),
        (lambda a: {**a, "sample_weight": np.array([1.0, -1.0])}, OutOfRangeError, "sample_weight"),
        (lambda a: {**a, "sample_weight": np.array([1.0])}, ShapeMismatchError, "sample_weight"),
        (lambda a: {**a, "sample_weight": np.zeros(2)}, EmptyInputError, "sample weights"),
        (lambda a: {**a, "targets": None}, InvalidTypeError, "targets"),
    ],
)
def test_errors_name_function_and_argument(func, change, error, words):
    lp, targets, il, tl = _valid()
    arguments = change({"log_probs": lp, "targets": targets, "input_lengths": il, "target_lengths": tl})
    positional = [arguments.pop(k) for k in ("log_probs", "targets", "input_lengths", "target_lengths")]
    with pytest.raises(error) as info:
        func(*positional, **arguments)
    assert str(info.value).startswith(func.__name__ + ":") and words in str(info.value)


def test_empty_batch():
    lp = np.zeros((3, 0, 4))
    empty = np.zeros((0, 2), dtype=np.int64)
    none = np.zeros(0, dtype=np.int64)
    assert losses.ctc_loss(lp, empty, none, none, reduction="sum") == 0.0
    assert losses.ctc_loss(lp, empty, none, none, reduction="none").shape == (0,)
    with pytest.raises(EmptyInputError, match="ctc_loss: reduction='mean'"):
        losses.ctc_loss(lp, empty, none, none)


def test_padding_is_ignored():
    lp, targets, il, tl = _valid()
    padded = targets.copy()
    padded[1, 1] = -100
    assert losses.ctc_loss(lp, padded, il, tl) == losses.ctc_loss(lp, targets, il, tl)
    assert math.isfinite(float(losses.ctc_loss(lp, padded, il, tl)))


def _log_softmax_draw(seed: int, frames: int, batch: int, classes: int, scale: float) -> np.ndarray:
    logits = np.random.default_rng(seed).standard_normal((frames, batch, classes)) * scale
    return logits - np.logaddexp.reduce(logits, axis=-1, keepdims=True)


@pytest.mark.parametrize(
    "frames, classes, length, scale",
    [(50, 5, 5, 3.0), (200, 3, 5, 1.0), (120, 6, 20, 2.0), (60, 4, 12, 6.0)],
)
def test_gradient_within_its_absolute_bound(frames, classes, length, scale):
    """Every entry of sample n within 4 u (T_n + loss_n) of the exact gradient: the bound
    ctc_loss_grad states where its entries cancel (exp(log_probs) near the occupancy) and no
    ulp bound holds. Exact: the reference's recursions in probabilities, at 200 bits."""
    reference = REFERENCES["ctc_loss"]
    rng = np.random.default_rng(frames + length)
    log_probs = _log_softmax_draw(frames, frames, 3, classes, scale)
    targets = rng.integers(1, classes, (3, length))
    input_lengths = np.array([frames, frames - 7, frames // 2 + length])
    target_lengths = np.array([length, length, length - 1])
    arguments = (log_probs, targets, input_lengths, target_lengths)
    got = losses.ctc_loss_grad(*arguments, reduction="sum")
    expected = np.asarray(exact(reference.grad, *arguments), dtype=object)
    loss = np.asarray(exact(reference.value, *arguments), dtype=object)
    for n in range(3):
        error = max(abs(mpmath.mpf(float(g)) - e) for g, e in zip(got[:, n].ravel(), expected[:, n].ravel(), strict=True))
        bound = 4 * U * (int(input_lengths[n]) + float(loss[n]))
        assert float(error) <= bound, (n, float(error), bound, float(error) / (U * (input_lengths[n] + float(loss[n]))))
