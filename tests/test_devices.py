"""Results stay on the input's device: every loss and every activation.

The package promises that an array of any array-API library gives a result of that
library, of the input's float dtype, on the input's device. The last part breaks
wherever the library makes an array without ``device=`` (``xp.asarray(0.0)``,
``xp.zeros(n)``, ``xp.arange``, ``xp.full``) or goes through NumPy: on a GPU that is
an error or a silent copy to the host. Checked here, driven by the loss registry
(``tests/loss_catalog.py``: every entry, with and without sample weights and at the
edges of its domain, every reduction, value and gradients), by the options the
registry leaves at their defaults (class weights, masks, other layouts), and by the
list of activations (with arguments across the whole float range). Floating arguments
are given in float32 and float64; integer ones (class indices, lengths) as integer
arrays of the same library on the same device:

* **array-api-strict on its second device** (``Device("device1")``): it refuses to
  combine arrays of two devices and to convert a non-CPU array to NumPy, so it finds
  every such place on a machine without a GPU. Its arithmetic is NumPy's, so its
  values must be the NumPy path's to the bit (but where NumPy has a kernel of its own).
* **PyTorch CPU tensors**: the same checks; PyTorch's own ``exp``, ``log1p``, ... may
  round differently from NumPy's by an ulp or so: the allowance of each loss is derived
  in :func:`loss_ulps`, or taken from the named fallback (:data:`UNDERIVED`, with the
  reason) where no bound is derived yet.
* **PyTorch CUDA tensors and CuPy arrays**: the same checks against the CPU (NumPy)
  result, within the same derived allowances. Skipped where there is no CUDA device (or no CuPy),
  as on CI.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import array_api_compat
import numpy as np
import pytest

import test_activations as bounds
import test_cross_entropy
import test_ctc_loss
import test_exactness
import test_focal_overlap_losses
import test_margin_losses
import test_multiclass_losses
import test_probabilistic_losses
import test_regression_losses
from error_model import U, additions, any_order
from loss_catalog import BY_NAME, ENTRIES, Entry
from neural_network import activations, losses

array_api_strict = pytest.importorskip("array_api_strict")
torch = pytest.importorskip("torch")

N = 24
"""About how many elements each loss gets: enough for every branch, fast to run."""

FLOAT_DTYPES = ("float32", "float64")

LABEL_ULPS = {"array_api_strict": 0.0, "torch": 4.0, "torch_cuda": 4.0, "cupy": 4.0}
"""The label helpers, ``y (1 - a) + a / 2`` (``a / 2`` and ``1 - a`` exact or Python's, the
same float in every library): a product and a sum of non-negative terms, 2u on each path
(one rounding with a contracted fma), 4 ulp apart; array-api-strict runs the same NumPy
operations: 0."""


# --------------------------------------------------------------------------- the libraries


def _cuda_available() -> bool:
    # Without a driver (or with a broken one) PyTorch may warn while it looks: that is no
    # error of this package, and the GPU tests are then skipped, not failed.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bool(torch.cuda.is_available())


def _cupy_module() -> Any:
    """CuPy if it is installed and sees a CUDA device, else None."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            import cupy
        except ImportError:
            return None
        try:
            return cupy if cupy.cuda.runtime.getDeviceCount() > 0 else None
        except Exception:  # CuPy's CUDARuntimeError where there is no driver: no device
            return None


CUPY = _cupy_module()
NEEDS_CUDA = pytest.mark.skipif(not _cuda_available(), reason="PyTorch sees no CUDA device")
NEEDS_CUPY = pytest.mark.skipif(CUPY is None, reason="CuPy is not installed or sees no CUDA device")

STRICT_DEVICE = array_api_strict.Device("device1")
STRICT_CPU = array_api_strict.Device("CPU_DEVICE")


@dataclass(frozen=True)
class Library:
    """How to put a NumPy array on a library's device and read a result back."""

    put: Callable[[np.ndarray], Any]
    """A NumPy array as an array of the library, on the device under test, same dtype."""
    get: Callable[[Any], np.ndarray]
    """A result back to NumPy (from any device)."""
    ulps: float
    """How far the label helpers' values may be from the NumPy path's, in ulp of the result's
    dtype (:data:`LABEL_ULPS`; the losses' and activations' allowances are derived per call)."""
    normwise: bool = True
    """Whether the allowance is also measured in ulp of the largest element of the result.
    An element formed as a difference of larger terms (a gradient ``p - y``, the
    difference of two unit vectors, ``g - sum(g s)``) keeps their absolute rounding error
    and loses its relative accuracy: a term one ulp different in another library moves
    the difference by one ulp of the term, which is many ulp of a small difference. The
    terms are about as large as the largest element, so that is the scale."""


def _torch_put(device: str) -> Callable[[np.ndarray], Any]:
    # A copy: torch.asarray shares NumPy's memory, and a read-only view would warn.
    return lambda array: torch.asarray(array.copy(), device=device)


LIBRARIES: dict[str, Library] = {
    "array_api_strict": Library(
        put=lambda array: array_api_strict.asarray(array, device=STRICT_DEVICE),
        get=lambda result: np.asarray(result.to_device(STRICT_CPU)),
        ulps=LABEL_ULPS["array_api_strict"],
        normwise=False,
    ),
    "torch": Library(_torch_put("cpu"), lambda result: result.numpy(), LABEL_ULPS["torch"]),
    "torch_cuda": Library(_torch_put("cuda"), lambda result: result.cpu().numpy(), LABEL_ULPS["torch_cuda"]),
    "cupy": Library(
        put=lambda array: CUPY.asarray(array),
        get=lambda result: CUPY.asnumpy(result),
        ulps=LABEL_ULPS["cupy"],
    ),
}
LIBRARY_MARKS = {"torch_cuda": [NEEDS_CUDA], "cupy": [NEEDS_CUPY]}


# --------------------------------------------------------------------------- the checks


def assert_within_ulps(
    actual: np.ndarray, expected: np.ndarray, ulps: float, what: str, *, normwise: bool, scale: float = 0.0
) -> None:
    """Every element of ``actual`` within ``ulps`` ulp of ``expected`` (NaN matches NaN).

    The ulp is that of the expected value, or of the smallest normal number for values
    below it, so that a result of 0 and one of 1e-320 count as equal; with ``normwise``,
    or that of the result's largest finite element or of ``scale`` (the size of the
    terms the result is formed from, where the caller knows it), if larger (see
    ``Library.normwise``).
    """
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    tiny = np.finfo(expected.dtype).tiny
    magnitude = np.abs(expected)
    if normwise:
        largest = np.max(magnitude, where=np.isfinite(magnitude), initial=scale)
        magnitude = np.maximum(magnitude, largest)
    allowed = ulps * np.spacing(np.maximum(magnitude, tiny))
    with np.errstate(invalid="ignore"):
        close = (actual == expected) | (np.abs(actual - expected) <= allowed)
    close |= np.isnan(actual) & np.isnan(expected)
    if not close.all():
        with np.errstate(invalid="ignore"):  # inf - inf where one result is infinite
            error = np.abs(actual - expected) / np.spacing(np.maximum(np.abs(expected), tiny))
        first = np.argwhere(~close)[0]
        raise AssertionError(
            f"{what}: {np.count_nonzero(~close)} of {close.size} values more than {ulps} ulp from NumPy's "
            f"(worst {np.nanmax(error):.3g} ulp; first at {tuple(first)}: {actual[tuple(first)]!r}, "
            f"expected {expected[tuple(first)]!r})"
        )


def check_result(
    library: str, inputs: Any, result: Any, expected: np.ndarray, dtype: str, what: str, scale: float = 0.0,
    ulps: float | None = None,
) -> None:
    """``result`` is an array of the input's library, dtype and device, with NumPy's values.

    ``scale``: see :func:`assert_within_ulps`; ``ulps``: the allowance derived by the caller
    (the library's own otherwise; the activations' replace normwise by their own choice).
    """
    xp = array_api_compat.array_namespace(inputs)
    device = array_api_compat.device(inputs)
    assert array_api_compat.is_array_api_obj(result), f"{what}: got {type(result)}, not an array"
    assert array_api_compat.array_namespace(result) is xp, f"{what}: got {type(result)} for {library} input"
    assert result.dtype == getattr(xp, dtype), f"{what}: dtype {result.dtype} for {dtype} input"
    assert array_api_compat.device(result) == device, (
        f"{what}: the result is on {array_api_compat.device(result)}, the input on {device}"
    )
    target = LIBRARIES[library]
    normwise = target.normwise if ulps is None else scale > 0.0
    assert_within_ulps(
        target.get(result), np.asarray(expected), target.ulps if ulps is None else ulps, what,
        normwise=normwise, scale=scale,
    )


def as_tuple(result: Any) -> tuple[Any, ...]:
    return result if isinstance(result, tuple) else (result,)


# --------------------------------------------------------------------------- the losses


@dataclass(frozen=True)
class LossCall:
    """A loss (and its ``_grad``) with NumPy arguments: the floating ones are given in the
    dtype under test, the integer and boolean ones (class indices, lengths, masks) as they are."""

    loss: str
    arguments: tuple[np.ndarray, ...]
    differentiable_in: tuple[int, ...] = (0,)
    reductions: tuple[str, ...] = ("mean", "sum", "none")
    options: dict[str, Any] = field(default_factory=dict)
    array_options: dict[str, np.ndarray] = field(default_factory=dict)
    extended: bool = False
    """Whether the results may need NumPy's extended range: where an intermediate overflows
    float64 (a sum of terms near 1e308) NumPy's path computes again in long double, which
    no other library has (``_elementwise._run``): there a result beyond 2**1000 may be inf."""

    def run(self, what: str, reduction: str, dtype: str, put: Callable[[np.ndarray], Any]) -> tuple[Any, ...]:
        """The value (``what="value"``) or the gradients, as a tuple, of the arguments converted by ``put``."""
        function = getattr(losses, self.loss if what == "value" else f"{self.loss}_grad")
        arrays = [put(in_dtype(array, dtype)) for array in self.arguments]
        array_options = {name: put(in_dtype(array, dtype)) for name, array in self.array_options.items()}
        return as_tuple(function(*arrays, **array_options, **self.options, reduction=reduction))

    def scale(self) -> float:
        """The size of the terms the results are formed from, where it exceeds the results' own.

        CTC's occupancies are ``exp(alpha + beta + nll)``, its forward and backward sums
        as large as the log-probabilities of a whole path: up to ``T max|log_probs|``. An
        ulp of those, as another ``logaddexp`` may round, is many ulp of a gradient.
        """
        if self.loss != "ctc_loss":
            return 0.0
        log_probs = self.arguments[0]
        return log_probs.shape[0] * float(np.max(np.abs(log_probs), where=np.isfinite(log_probs), initial=0.0))


def in_dtype(array: np.ndarray, dtype: str) -> np.ndarray:
    """A floating array in ``dtype``; integers and booleans unchanged."""
    return array.astype(dtype) if array.dtype.kind == "f" else array


def _entry_id(entry: Entry) -> str:
    """The loss's name; a second entry of the same loss (other options) adds them."""
    if BY_NAME[entry.name] is entry:
        return entry.name
    return entry.name + "".join(f"-{key}={value}" for key, value in entry.options.items())


def _catalog_call(entry: Entry) -> LossCall:
    arguments = tuple(
        np.asarray(array, dtype=np.float64) if position in entry.float_arguments else np.asarray(array)
        for position, array in enumerate(entry.draw(np.random.default_rng(7), N))
    )
    return LossCall(entry.name, arguments, entry.differentiable_in, entry.reductions, dict(entry.options))


def _weighted(call: LossCall) -> LossCall:
    """The same call with a sample weight per element of the ``"none"`` result (the first 0, if there are several)."""
    reduction = "none" if "none" in call.reductions else None
    shape = (
        np.shape(call.run("value", reduction, "float64", np.asarray)[0])
        if reduction
        else call.arguments[0].shape  # the root losses: one weight per element
    )
    weight = np.random.default_rng(3).uniform(0.25, 2.0, shape)
    if weight.size > 1:
        weight.reshape(-1)[0] = 0.0
    return LossCall(
        call.loss, call.arguments, call.differentiable_in, call.reductions, call.options, {"sample_weight": weight}
    )


def _option_calls() -> dict[str, LossCall]:
    """The options the catalog leaves at their defaults: array options, other layouts, other branches."""
    rng = np.random.default_rng(5)
    scores = rng.standard_normal((6, 4)) * 3
    classes = np.array([0, 3, 1, 3, 2, 1])
    simplex = rng.dirichlet(np.ones(4), 6)
    # Soft targets whose rows sum to 1 exactly in float32 too (sparsemax_loss checks the sums).
    dyadic = np.array([rng.permutation([0.5, 0.25, 0.125, 0.125]) for _ in range(6)])
    log_simplex = np.log(rng.dirichlet(np.ones(4), 6))
    probabilities = rng.uniform(0.02, 0.98, (6, 4))
    labels = np.round(rng.random((6, 4)))
    class_weight = np.array([0.5, 1.0, 2.0, 0.25])
    positive = rng.uniform(0.2, 5.0, (6, 4))
    triplets = tuple(rng.standard_normal((6, 4)) for _ in range(3))
    mask = rng.random((6, 4)) < 0.7
    mask[:, 0] = True  # every list keeps a valid item

    frames, batch, symbols = 8, 3, 5
    log_probs = rng.standard_normal((frames, batch, symbols))
    log_probs -= np.logaddexp.reduce(log_probs, axis=-1, keepdims=True)
    targets = np.array([[1, 2, 2], [3, 4, 0], [1, 1, 1]])
    target_lengths = np.array([3, 2, 3])
    input_lengths = np.array([8, 6, 4])  # the third cannot be aligned: 1, 1, 1 needs 5 frames
    concatenated = np.concatenate([row[:length] for row, length in zip(targets, target_lengths, strict=True)])

    spatial = rng.standard_normal((3, 4, 5))
    spatial_classes = rng.integers(0, 4, (3, 5))

    def call(loss: str, *arguments: np.ndarray, **options: Any) -> LossCall:
        arrays = {name: value for name, value in options.items() if isinstance(value, np.ndarray)}
        others = {name: value for name, value in options.items() if name not in arrays}
        entry = BY_NAME[loss]
        reductions = others.pop("reductions", entry.reductions)
        return LossCall(loss, arguments, entry.differentiable_in, reductions, others, arrays)

    return {
        "cross_entropy-weight-ignore-smoothing": call(
            "cross_entropy", scores, classes, weight=class_weight, ignore_index=3, label_smoothing=0.1
        ),
        "cross_entropy-probabilities": call("cross_entropy", scores, simplex, weight=class_weight),
        "cross_entropy-spatial": call("cross_entropy", spatial, spatial_classes),
        "nll_loss-weight-ignore": call("nll_loss", log_simplex, classes, weight=class_weight, ignore_index=1),
        "binary_cross_entropy_with_logits-pos_weight": call(
            "binary_cross_entropy_with_logits", scores, labels, pos_weight=class_weight
        ),
        "binary_focal_loss-probabilities": call(
            "binary_focal_loss", probabilities, labels, from_logits=False, gamma=1.5
        ),
        "categorical_focal_loss-probabilities": call(
            "categorical_focal_loss", simplex, classes, from_logits=False, alpha=0.25
        ),
        "sparsemax_loss-probabilities": call("sparsemax_loss", scores, dyadic),
        "multi_margin_loss-weight": call("multi_margin_loss", scores, classes, weight=class_weight),
        "multilabel_soft_margin_loss-weight": call(
            "multilabel_soft_margin_loss", scores, labels, weight=class_weight
        ),
        "ranking_softmax_loss-where": call("ranking_softmax_loss", scores, np.round(positive), where=mask),
        "kl_div-log_target-batchmean": call(
            "kl_div", log_simplex, np.log(simplex), log_target=True, reductions=("batchmean",)
        ),
        "poisson_nll_loss-rates-full": call(
            "poisson_nll_loss", positive, np.round(positive), log_input=False, full=True
        ),
        "gaussian_nll_loss-full": call(
            "gaussian_nll_loss", triplets[0], triplets[1], positive[:, 0], full=True
        ),
        **{
            f"tweedie_deviance-power={power}": call("tweedie_deviance", positive, positive[::-1], power=power)
            for power in (0.0, 1.0, 2.0, 3.0, -1.0)
        },
        "dice_loss-all-axes": call("dice_loss", probabilities, labels, reductions=("mean", "sum")),
        "tversky_loss-axes": call(
            "tversky_loss", probabilities.reshape(2, 3, 4), labels.reshape(2, 3, 4), axis=(1, 2)
        ),
        "cosine_embedding_loss-margin": call(
            "cosine_embedding_loss", triplets[0], triplets[1], np.array([1.0, -1, -1, 1, -1, 1]), margin=0.2
        ),
        "cosine_similarity_loss-axis=0": call("cosine_similarity_loss", triplets[0], triplets[1], axis=0),
        "triplet_margin_loss-swap-p=1": call("triplet_margin_loss", *triplets, swap=True, p=1.0),
        "triplet_margin_loss-p=3": call("triplet_margin_loss", *triplets, p=3.0, eps=0.0, margin=2.0),
        "triplet_margin_with_distance_loss-swap": call(
            "triplet_margin_with_distance_loss", *triplets, swap=True, margin=2.0
        ),
        "ctc_loss-concatenated-zero_infinity": call(
            "ctc_loss", log_probs, concatenated, input_lengths, target_lengths, zero_infinity=True
        ),
        "ctc_loss-unbatched": call("ctc_loss", log_probs[:, 0], targets[0], np.array(8), np.array(3)),
        "ctc_loss-blank=4": call(
            "ctc_loss", log_probs, np.where(targets == 4, 0, targets), np.array([8, 8, 7]), target_lengths,
            blank=4,
        ),
    }


def _extreme_call(entry: Entry) -> LossCall:
    """The entry's arguments at the edges of the domain (the branches that repair overflow and
    underflow), float64 only: their values need not be valid in float32."""
    assert entry.extreme is not None
    arguments = tuple(np.asarray(array) for array in entry.extreme())
    return LossCall(
        entry.name, arguments, entry.differentiable_in, entry.reductions, dict(entry.options), extended=True
    )


LOSS_CALLS = {_entry_id(entry): _catalog_call(entry) for entry in ENTRIES}
LOSS_CALLS |= {f"{key}-weighted": _weighted(call) for key, call in list(LOSS_CALLS.items())}
CATALOG_CALLS = set(LOSS_CALLS)
"""The catalog's calls, with and without sample weights: the options their bounds are derived for."""
LOSS_CALLS |= _option_calls()
EXTREME_CALLS = {f"{_entry_id(entry)}-extreme": _extreme_call(entry) for entry in ENTRIES if entry.extreme}
LOSS_CALLS |= EXTREME_CALLS

# --------------------------------------------------------------------------- the losses' allowances
#
# Each library runs the same formulas as NumPy, in float64, with its own libm; each path's
# element is within the bound of its loss derived in another test file (relative, in
# u = 2**-53, for any libm within 1 ulp: tests/error_model.py), so the two are within
# twice that of each other; 2k u relative is within 2k ulp of the NumPy result. CUDA's
# double-precision exp, log, log1p, expm1, tanh are within 1 ulp too (its pow within 2: no
# loss below takes one): the GPU libraries get the same allowances.

ELEMENT_ULPS: dict[str, tuple[float | None, float | None]] = {
    "mse_loss": (test_exactness.MSE, 1.0),  # gradient 2 (p - y): p - y rounded once, doubled exactly
    # gradient (p - y) / (p (1 - p)): p - y of exact inputs u, 1 - p u, the product u, the division u
    "binary_cross_entropy": (test_exactness.BCE, 4.0),
    "binary_cross_entropy_with_logits": (test_exactness.LOGISTIC_LOSS, None),  # gradient: SCALED
    "nll_loss": (0.0, 0.0),  # -log_probs[target], -1 (divided by N, below): exact
    **{name: bound for name, bound in test_regression_losses.ELEMENT_BOUNDS.items()},
    **{name: bound for name, bound in test_margin_losses.ULPS[np.float64].items()},
    "poisson_nll_loss": (test_probabilistic_losses.NLL_ULPS, None),
    "generalized_kl_divergence": (max(test_probabilistic_losses.KL_ULPS, test_probabilistic_losses.KL_FAR_ULPS), None),
    # test_margin_losses.test_margin_ranking_within_an_ulp_of_mpmath: m - y (x1 - x2) by two
    # TwoSums, rounded once, + u of the small correction: 1; its gradient -+y or 0: exact.
    "margin_ranking_loss": (1.0, 0.0),
    **dict.fromkeys(
        ("multiclass_hinge_loss", "multiclass_perceptron_loss", "categorical_hinge_loss"),
        (test_multiclass_losses.MARGIN_ULPS, 0.0),
    ),
    "binary_sparsemax_loss": test_multiclass_losses.BINARY_SPARSEMAX_ULPS,
    "safe_softmax_cross_entropy": (test_multiclass_losses.safe_ulps(4), None),  # the catalog's 4 classes
    # The catalog's gamma 2 (double-double, 1) and alpha 0.25: alpha_t = 0.25 y + 0.75 (1 - y),
    # 1 - y u, times 0.75 u, the add of two terms >= 0 u (0.25 y exact): 3u; alpha_t * value u.
    "binary_focal_loss": (test_focal_overlap_losses.BINARY_FOCAL_ULPS[2.0] + 3.0 + 1.0, None),
    "categorical_focal_loss": (test_focal_overlap_losses.CATEGORICAL_FOCAL_ULPS, None),  # 4 classes
    "poly_loss_cross_entropy": (test_focal_overlap_losses.POLY_ULPS, None),  # 4 classes
    "brier_score_loss": (test_focal_overlap_losses.BRIER_ULPS, 1.0),  # gradient 2 (p - y): as mse's
    # The catalog's powers 1.5, 1 and 2 (each path within its bound: the table-driven
    # kernel NumPy takes, the general formula elsewhere).
    # Their gradients: mu - y of exact inputs u; Poisson's 2 ((mu - y) / mu) 2u, Gamma's
    # 2 (((mu - y) / mu) / mu) 3u, the general power's 2 (mu - y) pow(mu, -p): pow 2u, the
    # product u: 4u (the doubling exact).
    "tweedie_deviance": (test_probabilistic_losses.deviance_bound(1.5), 4.0),
    "poisson_deviance": (test_probabilistic_losses.deviance_bound(1), 2.0),
    "gamma_deviance": (test_probabilistic_losses.deviance_bound(2), 3.0),
    # Root losses: k is the bound of each square (mse's, mean_squared_log_error's); see
    # root_gradient_ulps for the gradients. The value sqrt(S): S's relative error halves,
    # sqrt adds u on each path; loss_ulps counts S's full error for the value, at least
    # twice those two roundings, so it also bounds sqrt(S).
    "root_mean_squared_error": (test_exactness.MSE, None),
    "root_mean_squared_log_error": (test_regression_losses.ELEMENT_BOUNDS["mean_squared_log_error"][0], None),
    "kl_div": (None, 0.0),  # its value: see SCALED; its gradient 0 - t: exact
    # The catalog's unit rows of D = 4, 6 anchors, gamma 80 and margin 0.4: as derived there.
    "circle_loss": (test_multiclass_losses.circle_ulps(80.0), None),
    # t softplus(-x) + (1 - t) softplus(x) per class, LOGISTIC_LOSS's form and bound; the sum
    # of the C classes' terms >= 0 any_order(C) (NumPy's pairwise: no more), / C u.
    "multilabel_soft_margin_loss": (
        test_exactness.LOGISTIC_LOSS + any_order(LOSS_CALLS["multilabel_soft_margin_loss"].arguments[0].shape[1]) + 1,
        None,  # SCALED
    ),
}
"""(value, gradient) of one element on one path, in u, for the catalog's own calls (default
options but for the catalog's; sample weights allowed), each relative to the element and
derived for any libm within 1 ulp in the test file named: test_exactness's MSE, BCE and
LOGISTIC_LOSS, test_regression_losses.ELEMENT_BOUNDS, test_margin_losses.ULPS and its margin
ranking test, test_multiclass_losses's MARGIN_ULPS, BINARY_SPARSEMAX_ULPS and safe_ulps,
test_focal_overlap_losses's focal, poly and Brier bounds, test_probabilistic_losses's
NLL_ULPS, the larger of its KL bounds (the table-driven and the double-double forms) and
deviance_bound. cross_entropy, the overlap losses and the root losses' gradients: see
:func:`loss_ulps`. None: not derived (see :data:`UNDERIVED`)."""


def multi_margin_ulps(call: LossCall, what: str) -> float:
    """multi_margin_loss (the catalog's p = 1 and p = 2), one path, relative, in u.

    Each z = m - x_t + x_c is rounded once from its exact value (TwoSum, _hinge_argument): u;
    p = 2 squares it (2u + u); the C terms >= 0 summed in any order (NumPy's pairwise sum of
    fewer than 8: the same C - 1), / C u. Gradient: 1 (p = 1) or 2 z (u), the target's minus
    their sum (terms of one sign, C - 1 more), / C u.
    """
    classes = call.arguments[0].shape[1]
    power = call.options.get("p", 1)
    if what == "value":
        return (1.0 if power == 1 else 3.0) + any_order(classes) + 1
    return (0.0 if power == 1 else 1.0 + any_order(classes)) + 1


def multilabel_margin_ulps(call: LossCall, what: str) -> float:
    """multilabel_margin_loss, one path, relative, in u: each z = 1 - x_j + x_i rounded once
    (TwoSum): u; at most C^2 terms >= 0 summed in any order; / C u. Gradient: counts of active
    pairs (exact integers) / C: u."""
    classes = call.arguments[0].shape[1]
    return 1.0 + any_order(classes * classes) + 1 if what == "value" else 1.0


def ctc_ulps(call: LossCall, what: str) -> float | None:
    """ctc_loss's value, one path, relative, in u: each sample's nll within
    test_ctc_loss.ctc_rel (its frames, 2 L + 1 states, the nll; any libm within 1 ulp), the
    division by max(L, 1) of the mean u more. Its gradient: not derived (None)."""
    if what != "value":
        return None
    frames, lengths = call.arguments[2:4]
    unweighted = LossCall(call.loss, call.arguments, call.differentiable_in, call.reductions, call.options)
    nll = np.atleast_1d(unweighted.run("value", "none", "float64", np.asarray)[0])
    frames, lengths = np.atleast_1d(frames), np.atleast_1d(lengths)
    worst = max(
        (test_ctc_loss.ctc_rel(int(frames[n]), 2 * int(lengths[n]) + 1, float(nll[n])) / U
         for n in range(nll.size) if frames[n] and 0.0 < nll[n] < math.inf),
        default=0.0,
    )
    return worst + 1


ROW_ULPS: dict[str, Callable[[LossCall, str], float | None]] = {
    "multi_margin_loss": multi_margin_ulps,
    "multilabel_margin_loss": multilabel_margin_ulps,
    "ctc_loss": ctc_ulps,
}
"""Losses over rows whose bound depends on the call's classes and options (the catalog's)."""


def overlap_ulps(call: LossCall) -> float:
    """dice_loss and tversky_loss, one group of K elements, one path, in u of its value.

    test_focal_overlap_losses.overlap_bounds: ours is a ratio of sums, each term's 1 - p u,
    the sums a roundings, alpha A a + 2, + beta B, + smooth a + 4, I + numerator a + 5: the
    ratio (2 a + 10)u, no cancellation. a is NumPy's additions(K) on NumPy's path and any
    order on another library's (K - 1, the larger): 2 (K - 1) + 10.
    """
    groups = np.size(call.run("value", "none", "float64", np.asarray)[0]) if "none" in call.reductions else 1
    return 2.0 * any_order(call.arguments[0].size // groups) + 10.0


def root_gradient_ulps(call: LossCall) -> float:
    """The root losses' gradient, one path, in u of each element (``_root``: slopes times a factor).

    The slope w d d' is mean_squared_log_error's gradient (5u; for the root of mse, p - y:
    u), its weight counted by :func:`loss_ulps`; the factor sqrt(1 / (S W)) is rounded once
    (u) from S W exact in Fractions, S = sum w s with each square s within k u (k as in
    :data:`ELEMENT_ULPS`), w s u, the sum of n terms >= 0 within any_order(n) u (NumPy's
    additions(n) is no larger); S's error halves through the root, W's too (counted whole by
    :func:`loss_ulps`, as its mean's denominator); the product slope * factor u.
    """
    n = call.arguments[0].size
    squares, slope = (
        (test_exactness.MSE, 1.0) if call.loss == "root_mean_squared_error"
        else test_regression_losses.ELEMENT_BOUNDS["mean_squared_log_error"]
    )
    return slope + (squares + 1 + any_order(n)) / 2 + 1 + 1


def _kl_div_terms(call: LossCall) -> np.ndarray:
    """t (log t - x): log t 2u |t log t|, the difference u of t |log t - x|, the product u: 4u
    of T = t (|log t| + |x|) (0 where t = 0: exact), which may exceed the element (they cancel)."""
    x, t = call.arguments[:2]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(t > 0, t * (np.abs(np.log(np.where(t > 0, t, 1.0))) + np.abs(x)), 0.0)


def _poisson_terms(call: LossCall) -> np.ndarray:
    """x - t log(x + eps): x + eps u passes u absolute through log, log 2u, the product u,
    the difference u: 4u of T = |x| + t (|log(x + eps)| + 1) (the two terms cancel)."""
    x, t = call.arguments[:2]
    return np.abs(x) + t * (np.abs(np.log(x + 1e-7)) + 1)


def _poisson_slopes(call: LossCall) -> np.ndarray:
    """1 - t / (x + eps): x + eps u, the division u, the difference u: 3u of T = 1 + t / (x + eps)."""
    x, t = call.arguments[:2]
    return 1 + t / (x + 1e-7)


def _gaussian_terms(call: LossCall) -> np.ndarray:
    """(log v + d^2 / v) / 2, v = max(var, eps) exact: log 2u |log v|, d u, d d 3u, / v 4u of
    q = d^2 / v, the sum u, the half exact: 5u of T = (|log v| + q) / 2 (log v < 0 cancels)."""
    x, t, var = call.arguments[:3]
    v = np.maximum(var, 1e-6)[:, None] if var.ndim < x.ndim else np.maximum(var, 1e-6)
    return (np.abs(np.log(v)) + (x - t) ** 2 / v) / 2


def _gaussian_slopes(call: LossCall) -> np.ndarray:
    """(x - t) / v: d u, the division u: 2u of the element itself."""
    x, t, var = call.arguments[:3]
    v = np.maximum(var, 1e-6)[:, None] if var.ndim < x.ndim else np.maximum(var, 1e-6)
    return np.abs(x - t) / v


def _unit_rows(call: LossCall) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x / |x| and t / |t| of the catalog's rows (features on the last axis), and |x|."""
    x, t = call.arguments[:2]
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / norm, t / np.linalg.norm(t, axis=-1, keepdims=True), norm


COSINE_FEATURES = LOSS_CALLS["cosine_similarity_loss"].arguments[0].shape[-1]
"""D, the features of the catalog's cosine_similarity_loss rows."""


def _cosine_terms(call: LossCall) -> np.ndarray:
    """-sum x^ t^ over D features (_embedding: u = x / s exact, s a power of 2): u u u, their
    sum any_order(D) (NumPy's pairwise: the same D - 1 below 8): D u; the root D/2 + 1, each
    unit entry u / r D/2 + 2, a product of two D + 5 of itself, the sum of the D products
    D - 1 of sum |x^ t^|: (2D + 4)u of T = sum |x^ t^| (<= 1; the products cancel)."""
    x_hat, t_hat, _ = _unit_rows(call)
    return np.sum(np.abs(x_hat * t_hat), axis=-1)


def _cosine_slopes(call: LossCall) -> np.ndarray:
    """-(t^ - c x^) / r / s: c = sum x^ t^ within (2D + 4)u absolute (above), c x^ D/2 + 3
    of itself, the difference u of its size, / r (D/2 + 1) + u, / s exact: within (2D + 6)u
    of T = (|t^| + |x^| + |c x^|) / |x| (t^ - c x^ cancels)."""
    x_hat, t_hat, norm = _unit_rows(call)
    c = np.sum(x_hat * t_hat, axis=-1, keepdims=True)
    return (np.abs(t_hat) + np.abs(x_hat) + np.abs(c * x_hat)) / norm


def _exp_minus_target(call: LossCall) -> np.ndarray:
    """exp(x) - t (poisson_nll_loss's and generalized_kl_divergence's gradient): exp 2u, the
    difference u: 3u of T = exp(x) + t (they cancel near the minimum)."""
    x, t = call.arguments[:2]
    return np.exp(x) + t


def _logistic_slopes(call: LossCall) -> np.ndarray:
    """(1 - y) sigmoid(x) - y sigmoid(-x): each sigmoid 5u (test_exactness.SIGMOID), 1 - y u,
    the products u: 7u and 6u of the terms, the difference u: 8u of T = their sum."""
    x, y = call.arguments[:2]
    return (1 - y) / (1 + np.exp(-x)) + y / (1 + np.exp(x))


def _multilabel_slopes(call: LossCall) -> np.ndarray:
    """((1 - t) sigmoid(x) - t sigmoid(-x)) / C: _logistic_slopes' 8u, the division u: 9u of T / C."""
    return _logistic_slopes(call) / call.arguments[0].shape[1]


def _cosine_embedding_terms(call: LossCall) -> np.ndarray:
    """1 - cos (y = 1) or max(cos - m, 0) (y = -1), cos = u1 . u2 / a / b of rows scaled by
    powers of 2 (exact), a = sqrt(|u1|^2 + e1): the squares and their sum D u, + e1 u, the
    root (D + 1) / 2 + 1; the dot D u of C = sum |u1 u2| / (a b) (>= |cos|), the two
    divisions 2u: cos within (2D + 5)u of C; the last subtraction u |l|: (2D + 6)u of
    T = C + |l| (1 - cos cancels)."""
    x1, x2 = call.arguments[:2]
    eps = 1e-12  # PyTorch's float32 epsilon: it changes these sizes by less than 1e-12
    c = np.sum(np.abs(x1 * x2), axis=-1) / np.sqrt((np.sum(x1 * x1, axis=-1) + eps) * (np.sum(x2 * x2, axis=-1) + eps))
    unweighted = LossCall(call.loss, call.arguments, call.differentiable_in, call.reductions, call.options)
    return c + np.abs(unweighted.run("value", "none", "float64", np.asarray)[0])


TRIPLET_FEATURES = LOSS_CALLS["triplet_margin_loss"].arguments[0].shape[-1]
"""D, the features of the catalog's triplet rows (both triplet losses)."""


def _triplet_terms(call: LossCall) -> np.ndarray:
    """max(m + d(a, p) - d(a, n), 0), d = ||x1 - x2 + eps||_2 of rows scaled by a power of 2
    (the catalog's m = 1, eps = 1e-6; the default distance of both losses): each entry v_i
    of x1 - x2 + eps within u (|x1_i - x2_i| + |v_i|); the squares, their sum any_order(D)
    and the root put d within (D/2 + 3)u d + u eps sqrt(D); m + d_p and - d_n u each of
    their sizes: (D/2 + 5)u of T = m + d_p + d_n + eps sqrt(D) (d_p - d_n cancels)."""
    a, positive, negative = call.arguments[:3]
    eps = 1e-6
    d_p = np.linalg.norm(a - positive + eps, axis=-1)
    d_n = np.linalg.norm(a - negative + eps, axis=-1)
    return 1.0 + d_p + d_n + eps * math.sqrt(a.shape[-1])


RANKING_ITEMS = LOSS_CALLS["ranking_softmax_loss"].arguments[0].shape[-1]
"""L, the items of the catalog's ranking_softmax_loss lists."""


def _ranking_terms(call: LossCall) -> np.ndarray:
    """sum y_i (log1p(rest) - z_i) (_ranking: z = s - max rounded, u |z|): each exp(z_k) 2u
    and u |z_k| (|z| e^z <= 1/e), rest's L - 1 terms any_order(L), log1p (factor
    rest / ((1 + rest) log1p(rest)) <= 1) 2u, the two terms >= 0 added u: each -log p_i
    within (6 + any_order(L))u of itself + 0.37 (L - 1)u; y_i times u, the L terms >= 0
    any_order(L): within (7 + 2 any_order(L))u of T = l + sum y (0.37 (L - 1) <= that k)."""
    unweighted = LossCall(call.loss, call.arguments, call.differentiable_in, call.reductions, call.options)
    return np.abs(unweighted.run("value", "none", "float64", np.asarray)[0]) + np.sum(call.arguments[1], axis=-1)


SCALED: dict[tuple[str, str, int], tuple[float, Callable[[LossCall], np.ndarray]]] = {
    ("ranking_softmax_loss", "value", 0): (7.0 + 2 * any_order(RANKING_ITEMS), _ranking_terms),
    ("triplet_margin_loss", "value", 0): (TRIPLET_FEATURES / 2 + 5, _triplet_terms),
    ("triplet_margin_with_distance_loss", "value", 0): (TRIPLET_FEATURES / 2 + 5, _triplet_terms),
    ("cosine_embedding_loss", "value", 0): (
        2.0 * LOSS_CALLS["cosine_embedding_loss"].arguments[0].shape[-1] + 6, _cosine_embedding_terms,
    ),
    ("multilabel_soft_margin_loss", "grad", 0): (9.0, _multilabel_slopes),
    ("poisson_nll_loss", "grad", 0): (3.0, _exp_minus_target),
    ("generalized_kl_divergence", "grad", 0): (3.0, _exp_minus_target),
    ("binary_cross_entropy_with_logits", "grad", 0): (8.0, _logistic_slopes),
    ("cosine_similarity_loss", "value", 0): (2.0 * COSINE_FEATURES + 4, _cosine_terms),
    ("cosine_similarity_loss", "grad", 0): (2.0 * COSINE_FEATURES + 6, _cosine_slopes),
    ("kl_div", "value", 0): (4.0, _kl_div_terms),
    ("poisson_loss", "value", 0): (4.0, _poisson_terms),
    ("poisson_loss", "grad", 0): (3.0, _poisson_slopes),
    ("gaussian_nll_loss", "value", 0): (5.0, _gaussian_terms),
    ("gaussian_nll_loss", "grad", 0): (2.0, _gaussian_slopes),
}
"""(loss, what, argument) -> (k, T): per path each element within k u of T, the size of the
terms it is formed from (unweighted, computed from the catalog's data: the cancellation
factor T / |l| is the data's), for the catalog's calls; normwise at the largest w T, or for
a reduced value at sum w T (over sum w for the mean), where the sums' roundings count too."""


def scaled_allowance(call: LossCall, what: str, position: int, reduction: str) -> tuple[float, float]:
    """(k, scale) of a :data:`SCALED` call, ``scale`` as :func:`assert_within_ulps` takes it."""
    k, terms = SCALED[(call.loss, what, position)]
    size = np.asarray(terms(call), dtype=np.float64)
    w = call.array_options.get("sample_weight")
    w = np.ones(np.shape(call.run("value", "none", "float64", np.asarray)[0])) if w is None else np.asarray(w)
    denominator = float(np.sum(w)) if reduction in ("mean", "batchmean") else 1.0
    w = w.reshape(w.shape + (1,) * (size.ndim - w.ndim))  # one weight a row of a row-wise loss's gradient
    if what == "value" and reduction != "none":
        return k, float(np.sum(w * size)) / denominator
    return k, float(np.max(w * size)) / denominator


UNDERIVED_ULPS = 16.0
"""The fallback: the per-path allowance, in u of the result's largest element (normwise,
see ``Library.normwise``), of the calls and gradients no bound is derived for yet, each
named in :data:`UNDERIVED` with the reason. Four times the worst difference measured
(4 ulp, a triplet_margin_loss gradient); the summation terms are added as for the derived
ones. Not a derivation: a call that needs it says so in :data:`UNDERIVED`."""

UNDERIVED: dict[str, str] = {
    # gradients only (the values are derived above)
    "gaussian_nll_loss": "the gradient in var: a sum over var's broadcast axis of terms of both signs",
    "cosine_embedding_loss": "its gradients: differences of unit vectors scaled by the norms, not derived",
    "ctc_loss": "its gradient: exp(lp) minus the occupancies exp(alpha + beta + nll), not derived "
                "(normwise at CTC's scale, Library.scale)",
    "gradient": "not derived yet: the gradients of the focal and poly losses, "
                "safe_softmax_cross_entropy and the overlap losses (differences of terms that cancel)",
    "triplet_margin_loss": "its gradients: differences of unit vectors (a - p) / d, not derived",
    "triplet_margin_with_distance_loss": "its gradients: as triplet_margin_loss's (the same distance)",
    "circle_loss": "its gradient: through two log-sum-exps of weighted distances, not derived",
    "ranking_softmax_loss": "its gradient: p sum(y) - y, not derived",
    # values and gradients
    "sparsemax_loss": "the sort-and-threshold of sparsemax and its quadratic: not derived",
    "ntxent_loss": "log-sum-exp over a batch of cosine similarities: not derived for any libm",
    # calls
    "options": "the option calls (class weights, masks, smoothing, layouts, other powers and "
               "branches): the element bounds are derived for the catalog's options only",
    "extreme": "the extreme calls (overflow and underflow repairs, the extended range): "
               "their branches' bounds are not derived",
}
"""Why a call or gradient is on :data:`UNDERIVED_ULPS`, by loss, or by kind of call."""


def underived_reason(key: str, what: str) -> str:
    """The :data:`UNDERIVED` reason of a call without a derived bound."""
    if key in EXTREME_CALLS:
        return UNDERIVED["extreme"]
    if key not in CATALOG_CALLS:
        return UNDERIVED["options"]
    loss = LOSS_CALLS[key].loss
    return UNDERIVED[loss] if loss in UNDERIVED else UNDERIVED["gradient" if what == "grad" else loss]


def test_every_fallback_is_named() -> None:
    """Every call and gradient without a derived bound has its reason in UNDERIVED."""
    for key, call in LOSS_CALLS.items():
        for what in ("value", "grad"):
            for position in call.differentiable_in if what == "grad" else (0,):
                for reduction in call.reductions:
                    loss_ulps(key, "torch", "float64", reduction, what, position)


def loss_ulps(key: str, library: str, dtype: str, reduction: str, what: str, position: int = 0) -> tuple[float, float]:
    """The derived allowance of a loss call against the NumPy path: (ulps, scale).

    ``scale`` (0: element-wise) is that of :func:`assert_within_ulps`: for a reduced value,
    ``|value| sum |w l| / |sum w l|``, the size of the terms summed (the loss's own size
    where they have one sign). Per path, in u: the element's bound k (relative to each
    term); w l rounded, u; the sum of n terms, ``additions(n)`` on NumPy's pairwise path
    (n <= 2048: one block, no fsum) and ``any_order(n)`` on another library's; the mean's
    division u, and its denominator, a sum of positive weights, as long as the sum. The two
    paths add. float32: the two float64 results (within that bound, B u64) each rounded
    once: 1/2 + 1/2 ulp and B 2**-29 ulp apart.
    """
    call = LOSS_CALLS[key]
    element = ELEMENT_ULPS.get(call.loss, (None, None)) if key in CATALOG_CALLS else (None, None)
    k = element[0] if what == "value" else element[1]
    derived = k is not None
    if call.loss == "cross_entropy" and key in CATALOG_CALLS:  # class indices, no options
        classes = call.arguments[0].shape[1]
        k = (test_cross_entropy.value_ulps if what == "value" else test_cross_entropy.gradient_ulps)(classes)
        derived = True
    if call.loss in ROW_ULPS and key in CATALOG_CALLS:
        k = ROW_ULPS[call.loss](call, what)
        derived = k is not None
    if call.loss in ("dice_loss", "tversky_loss") and key in CATALOG_CALLS and what == "value":
        k, derived = overlap_ulps(call), True
    if call.loss.startswith("root_mean_squared") and key in CATALOG_CALLS and what == "grad":
        k, derived = root_gradient_ulps(call), True
    scaled = key in CATALOG_CALLS and k is None and (call.loss, what, position) in SCALED
    if scaled:
        k, scaled_scale = scaled_allowance(call, what, position, reduction)
    if library == "array_api_strict":
        # the same NumPy operations in the same order for every loss (the count losses'
        # table-driven forms included: losses/_table_kernels.py): the same bits
        return 0.0, 0.0
    if k is None:
        underived_reason(key, what)  # every fallback is named, with its reason
        k = UNDERIVED_ULPS
    weighted = "sample_weight" in call.array_options
    terms = np.asarray(call.run("value", "none", "float64", np.asarray)[0]) if "none" in call.reductions else None
    n = terms.size if terms is not None else call.arguments[0].size
    sums = additions(n) + (any_order(n) if library != "array_api_strict" else additions(n))
    per_paths = 2 * k + 2 * weighted
    if what == "value" and reduction != "none":
        per_paths += sums
    if reduction == "mean":
        per_paths += 2 + sums * weighted  # the division; the denominator (N without weights: exact)
    total = per_paths if dtype == "float64" else 1.0 + per_paths * 2.0**-29
    scale = 0.0
    if scaled:  # normwise at the size of the terms (SCALED)
        scale = max(scaled_scale, np.finfo(dtype).tiny)
    elif not derived:  # normwise: in ulp of the largest element (or of CTC's terms)
        scale = max(call.scale(), np.finfo(dtype).tiny)
    elif what == "value" and reduction != "none" and terms is not None:
        value = np.asarray(call.run("value", reduction, "float64", np.asarray)[0], dtype=np.float64)
        exact_sum = abs(float(np.sum(terms)))
        magnitude = float(np.sum(np.abs(terms)))
        scale = abs(float(value)) * magnitude / exact_sum if exact_sum else magnitude
    return total, scale


KNOWN_FAILURES: dict[tuple[str, str], tuple[str, tuple[str, ...]]] = {}
"""(call, "value" or "grad") -> (the bug, the CPU libraries it shows in), for a bug whose
fix is in a file that could not be edited with this test: marked xfail(strict) there, and
xfail (not strict) on a GPU, where a library may, for instance, move a 0-d host array
silently, so that the bug need not show."""


def _xfail(library: str, known: tuple[str, tuple[str, ...]] | None) -> list[pytest.MarkDecorator]:
    if known is None:
        return []
    reason, libraries = known
    if library in libraries:
        return [pytest.mark.xfail(strict=True, reason=reason)]
    if library in ("torch_cuda", "cupy"):
        return [pytest.mark.xfail(strict=False, reason=reason)]
    return []


def loss_cases() -> list[Any]:
    cases = []
    for library in LIBRARIES:
        for dtype in FLOAT_DTYPES:
            for key, call in LOSS_CALLS.items():
                if dtype != "float64" and key in EXTREME_CALLS:
                    continue
                for reduction in call.reductions:
                    for what in ("value", "grad"):
                        marks = LIBRARY_MARKS.get(library, []) + _xfail(library, KNOWN_FAILURES.get((key, what)))
                        cases.append(
                            pytest.param(
                                library, dtype, key, reduction, what,
                                id=f"{library}-{dtype}-{key}-{reduction}-{what}", marks=marks,
                            )
                        )
    return cases


@pytest.mark.parametrize(("library", "dtype", "call", "reduction", "what"), loss_cases())
def test_loss_stays_on_the_device(library: str, dtype: str, call: str, reduction: str, what: str) -> None:
    """Value or gradients of a loss: the input's library, dtype and device, NumPy's values."""
    loss = LOSS_CALLS[call]
    expected = loss.run(what, reduction, dtype, np.asarray)
    result = loss.run(what, reduction, dtype, LIBRARIES[library].put)
    inputs = [LIBRARIES[library].put(in_dtype(array, dtype)) for array in loss.arguments]

    # Each gradient in the dtype of the argument it is taken for; the value in the first's.
    positions = loss.differentiable_in if what == "grad" else (0,)
    assert len(result) == len(positions) == len(expected)
    for position, got, want in zip(positions, result, expected, strict=True):
        if loss.extended:
            overflowed = np.isinf(LIBRARIES[library].get(got)) & (np.abs(want) >= 2.0**1000)
            want = np.where(overflowed, np.copysign(np.inf, want), want)
        ulps, scale = loss_ulps(call, library, dtype, reduction, what, position)  # derived there
        check_result(library, inputs[position], got, want, dtype, f"{call} {what} ({reduction})", scale, ulps)


def test_every_loss_is_checked() -> None:
    """The catalog registers every public loss (test_loss_catalog checks it); all are called here."""
    assert {call.loss for call in LOSS_CALLS.values()} == set(BY_NAME)


# --------------------------------------------------------------------------- the activations


@dataclass(frozen=True)
class ActivationCall:
    """An activation (or its derivative) with its options and how many array arguments it takes."""

    function: Callable[..., Any]
    options: dict[str, Any]
    arrays: int = 1
    masked: bool = False
    """Whether some logits are -inf (masked entries, for the softmax family)."""
    extreme: bool = False
    """Whether the input spans the whole range, infinities, subnormals and signed zeros
    included (the branches for large and tiny arguments)."""


ELEMENTWISE_OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("identity", {}),
    ("sigmoid", {}),
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


def activation_calls() -> dict[str, ActivationCall]:
    calls = {}
    for name, options in ELEMENTWISE_OPTIONS:
        for suffix in ("", "_grad"):
            label = name + suffix + "".join(f"-{key}={value}" for key, value in options.items())
            calls[label] = ActivationCall(getattr(activations, name + suffix), options)
            calls[label + "-extreme"] = ActivationCall(getattr(activations, name + suffix), options, extreme=True)
    for name in ("softmax", "log_softmax"):
        for axis in (-1, 0):
            for masked in (False, True):
                label = f"-axis={axis}" + ("-masked" if masked else "")
                options = {"axis": axis}
                calls[name + label] = ActivationCall(getattr(activations, name), options, 1, masked)
                calls[name + "_grad" + label] = ActivationCall(
                    getattr(activations, name + "_grad"), options, 2, masked
                )
    return calls


ACTIVATION_CALLS = activation_calls()


EXTREME_LOGITS = [
    -math.inf, -1e300, -800.0, -40.0, -20.0, -1.0, -1e-8, -1e-300, -5e-324, -0.0, 0.0, 5e-324,
    1e-300, 1e-8, 0.5, 1.0, 3.0, 10.0, 20.0, 40.0, 100.0, 800.0, 1e300, math.inf,
]
"""Arguments across the whole float64 range (in float32: beyond it, so infinite, or 0)."""


def activation_arguments(call: ActivationCall, dtype: str) -> list[np.ndarray]:
    """Logits of both signs and several sizes (and the upstream gradient for the softmax family)."""
    rng = np.random.default_rng(11)
    z = rng.standard_normal((4, 6)) * 3
    if call.extreme:
        z = np.reshape(EXTREME_LOGITS, (4, 6))
    if call.masked:
        z[0, 1] = z[2, 5] = z[3, 0] = -math.inf  # every row and column keeps an unmasked entry
    arrays = [z, rng.standard_normal((4, 6))][: call.arrays]
    with np.errstate(over="ignore"):  # the extreme logits in float32: 1e300 is inf there
        return [array.astype(dtype) for array in arrays]


def activation_ulps(activation: str, library: str, dtype: str, n: int) -> float:
    """The derived allowance of an activation against the NumPy path, in ulp of NumPy's result.

    Relative bounds k u of each path against the exact value (tests/test_activations.py, any
    libm within 1 ulp, u = 2**-53) add: 2k u < 2k ulp of the NumPy result (its spacing
    exceeds u times itself). array-api-strict runs the same NumPy ufuncs in the same order
    (select_larger's where and maximum give the same bits; 24 elements are one piece): 0.
    float32: both are float64 results within 10u rounded once: 1 ulp apart at most. The
    softmax family along a row of n entries: s within (5 + (n + 1)(n - 1)/n)u, log_softmax
    (n + 5)u; their derivatives (normwise, G = max |g|): s (g - sum g s) to
    (3 bs + n + 4) u G, g - s sum(g) to ((bs + n + 1) n + n + 1) u G per path, bs s's bound.
    """
    if library == "array_api_strict":
        return 0.0
    if dtype == "float32":
        return bounds.FLOAT32_ULPS
    name = activation.split("-")[0]
    bs = 5 + (n + 1) * (n - 1) / n
    family = {
        "softmax": bs, "log_softmax": n + 5.0,
        "softmax_grad": 3 * bs + n + 4, "log_softmax_grad": (bs + n + 1) * n + n + 1,
    }
    if name in family:
        return math.ceil(4 * family[name]) / 2  # two paths
    elementwise = {
        "identity": (bounds.EXACT, bounds.EXACT), "relu": (bounds.EXACT, bounds.EXACT),
        "leaky_relu": (bounds.LEAKY_RELU, bounds.EXACT),
        "sigmoid": (bounds.SIGMOID, bounds.SIGMOID_GRAD),
        "tanh": (2.0, bounds.TANH_GRAD),  # libm's tanh: 1 ulp, a relative error 2u
        "elu": (2.0, 2.0) if "alpha=0.5" not in activation else bounds.ELU,  # alpha = 1: expm1, exp 2u
        "gelu": (bounds.GELU_TANH, bounds.GELU_TANH_GRAD) if "tanh" in activation else (bounds.GELU, bounds.GELU_GRAD),
        "softplus": bounds.SOFTPLUS[2.0 if "beta=2.0" in activation else 1.0],
    }
    if name.endswith("_grad"):
        return 2 * elementwise[name.removesuffix("_grad")][1]
    return 2 * elementwise[name][0]


def test_every_activation_is_checked() -> None:
    public = {name for name in activations.__all__ if callable(getattr(activations, name))} - {"get_activation"}
    checked = {call.function.__name__ for call in ACTIVATION_CALLS.values()}
    assert public == checked, f"activations without a device check: {sorted(public - checked)}"


def activation_cases() -> list[Any]:
    return [
        pytest.param(library, dtype, label, id=f"{library}-{dtype}-{label}", marks=LIBRARY_MARKS.get(library, []))
        for library in LIBRARIES
        for dtype in FLOAT_DTYPES
        for label in ACTIVATION_CALLS
    ]


@pytest.mark.parametrize(("library", "dtype", "activation"), activation_cases())
def test_activation_stays_on_the_device(library: str, dtype: str, activation: str) -> None:
    """An activation or its derivative: the input's library, dtype and device, NumPy's values."""
    call = ACTIVATION_CALLS[activation]
    arguments = activation_arguments(call, dtype)
    expected = call.function(*arguments, **call.options)
    converted = [LIBRARIES[library].put(array) for array in arguments]
    result = call.function(*converted, **call.options)
    # The softmax family's derivatives are s * (g - sum(g s)) and g - s sum(g): formed from
    # terms as large as the upstream gradient g, whatever the size of the result.
    scale = float(np.max(np.abs(arguments[1]))) if call.arrays == 2 else 0.0
    n = arguments[0].shape[call.options.get("axis", -1)]
    allowance = activation_ulps(activation, library, dtype, n)  # derived there
    check_result(library, converted[0], result, expected, dtype, activation, scale, ulps=allowance)


# --------------------------------------------------------------------------- the label helpers


LABEL_HELPERS: dict[str, tuple[Callable[..., Any], np.ndarray, dict[str, Any]]] = {
    "smooth_labels": (losses.smooth_labels, np.eye(4)[[0, 3, 1, 2, 2, 1]], {}),
    "smooth_labels-num_classes": (losses.smooth_labels, np.array([0, 3, 1, 2, 2, 1]), {"num_classes": 4}),
    "smooth_binary_labels": (losses.smooth_binary_labels, np.array([0.0, 1.0, 0.25, 1.0]), {}),
}
"""The target helpers of ``neural_network.losses``, with a smoothing of 0.2 (and their options)."""


@pytest.mark.parametrize(
    ("library", "helper"),
    [
        pytest.param(library, helper, id=f"{library}-{helper}", marks=LIBRARY_MARKS.get(library, []))
        for library in LIBRARIES
        for helper in LABEL_HELPERS
    ],
)
def test_label_helpers_stay_on_the_device(library: str, helper: str) -> None:
    """Smoothed labels: the input's library and device, float64 for class indices, NumPy's values."""
    function, labels, options = LABEL_HELPERS[helper]
    expected = function(labels, 0.2, **options)
    converted = LIBRARIES[library].put(labels)
    check_result(library, converted, function(converted, 0.2, **options), expected, "float64", helper)
