"""The registry of every loss of ``neural_network.losses``, for the common tests.

Each entry says how to draw valid arguments for the loss (and where its derivative
is smooth, for finite differences), which reductions it has and what its mean
divides by. ``test_loss_catalog.py`` runs the same checks over all of them, in the
spirit of scikit-learn's ``test_common``: a loss added to the package without an
entry here fails ``test_every_public_loss_is_registered``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

import neural_network.losses as losses

Arrays = tuple[np.ndarray, ...]


@dataclass(frozen=True)
class Entry:
    """One loss: its name, how to draw its arguments, and what it promises."""

    name: str
    draw: Callable[[np.random.Generator, int], Arrays]
    """``draw(rng, n)``: the positional arguments for about n elements, float64."""
    options: dict[str, Any] = field(default_factory=dict)
    reductions: tuple[str, ...] = ("mean", "sum", "none")
    mean_is_sum_over: Callable[[Arrays], float] | None = None
    """What the mean divides the sum by; None: the number of elements of the first argument."""
    differentiable_in: tuple[int, ...] = (0,)
    """Which positional arguments the gradient is taken for (a tuple of gradients if several)."""
    float_arguments: tuple[int, ...] = (0, 1)
    """Which positional arguments are floating-point data (the rest: class indices)."""
    extreme: Callable[[], Arrays] | None = None
    """Valid arguments at the edges of the domain: no warning, no NaN."""
    renormalized_axis: int | None = None
    """For a loss on log-probabilities whose gradient is taken, as PyTorch's CTC takes it,
    with respect to the logits behind them: finite differences move a logit and
    normalize again along this axis."""

    @property
    def value(self) -> Callable[..., Any]:
        return getattr(losses, self.name)

    @property
    def grad(self) -> Callable[..., Any]:
        return getattr(losses, f"{self.name}_grad")


def _real_pair(scale: float = 3.0) -> Callable[[np.random.Generator, int], Arrays]:
    def draw(rng: np.random.Generator, n: int) -> Arrays:
        return rng.standard_normal(n) * scale, rng.standard_normal(n) * scale

    return draw


def _above_minus_one(rng: np.random.Generator, n: int) -> Arrays:
    return rng.random(n) * 10, rng.random(n) * 10


def _probabilities(rng: np.random.Generator, n: int) -> Arrays:
    labels = rng.random(n)
    labels[: n // 2] = np.round(labels[: n // 2])
    return rng.uniform(0.02, 0.98, n), labels


def _logits(rng: np.random.Generator, n: int) -> Arrays:
    labels = rng.random(n)
    labels[: n // 2] = np.round(labels[: n // 2])
    return rng.standard_normal(n) * 4, labels


def _classes(rng: np.random.Generator, n: int) -> Arrays:
    samples = max(n // 4, 1)
    return rng.standard_normal((samples, 4)) * 3, rng.integers(0, 4, samples)


def _log_probabilities(rng: np.random.Generator, n: int) -> Arrays:
    logits, targets = _classes(rng, n)
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True)), targets


def _per_sample(arrays: Arrays) -> float:
    return float(arrays[0].shape[0])


def _huge_reals() -> Arrays:
    return np.array([1e300, -1e300, 0.0, 5e-324]), np.array([-1e300, 1e300, 0.0, 0.0])


ENTRIES = [
    Entry("mse_loss", _real_pair(), extreme=lambda: (np.array([1e150, -1e150, 0.0]), np.array([0.0, 0.0, 0.0]))),
    Entry("l1_loss", _real_pair(), extreme=_huge_reals),
    Entry("huber_loss", _real_pair(), options={"delta": 1.5}, extreme=_huge_reals),
    Entry("smooth_l1_loss", _real_pair(), options={"beta": 0.5}, extreme=_huge_reals),
    Entry("log_cosh", _real_pair(), extreme=_huge_reals),
    Entry("pinball_loss", _real_pair(), options={"quantile": 0.3}, extreme=_huge_reals),
    Entry("mean_absolute_percentage_error", _real_pair(), extreme=_huge_reals),
    Entry("mean_squared_log_error", _above_minus_one,
          extreme=lambda: (np.array([1e300, 0.0, -0.5]), np.array([0.0, 1e300, 1e-300]))),
    Entry("root_mean_squared_error", _real_pair(), reductions=("mean", "sum"), extreme=_huge_reals),
    Entry("root_mean_squared_log_error", _above_minus_one, reductions=("mean", "sum"),
          extreme=lambda: (np.array([1e300, 0.0]), np.array([0.0, 1e300]))),
    Entry("binary_cross_entropy", _probabilities,
          extreme=lambda: (np.array([0.0, 1.0, 1e-300, 1 - 2**-53]), np.array([0.0, 1.0, 1.0, 0.0]))),
    Entry("binary_cross_entropy_with_logits", _logits,
          extreme=lambda: (np.array([-1e300, 1e300, 745.0, -745.0]), np.array([0.0, 1.0, 0.0, 1.0]))),
    Entry("cross_entropy", _classes, mean_is_sum_over=_per_sample, float_arguments=(0,),
          extreme=lambda: (np.array([[1e300, -1e300], [-1e300, 1e300]]), np.array([0, 0]))),
    Entry("nll_loss", _log_probabilities, mean_is_sum_over=_per_sample, float_arguments=(0,),
          extreme=lambda: (np.array([[0.0, -np.inf], [-1e300, 0.0]]), np.array([0, 1]))),
]



def _signs(rng: np.random.Generator, n: int) -> Arrays:
    return rng.standard_normal(n) * 3, rng.choice([-1.0, 1.0], n)


def _ranked_pairs(rng: np.random.Generator, n: int) -> Arrays:
    return rng.standard_normal(n) * 3, rng.standard_normal(n) * 3, rng.choice([-1.0, 1.0], n)


def _huge_signs() -> Arrays:
    return np.array([1e300, -1e300, 0.0, 5e-324]), np.array([1.0, 1.0, -1.0, -1.0])


ENTRIES += [
    Entry("soft_margin_loss", _signs, extreme=_huge_signs),
    Entry("hinge_loss", _signs, extreme=_huge_signs),
    Entry("squared_hinge_loss", _signs,
          extreme=lambda: (np.array([1e150, -1e150, 0.0]), np.array([1.0, 1.0, -1.0]))),
    Entry("perceptron_loss", _signs, extreme=_huge_signs),
    Entry("hinge_embedding_loss", _signs, options={"margin": 0.5}, extreme=_huge_signs),
    Entry("margin_ranking_loss", _ranked_pairs, options={"margin": 0.25}, differentiable_in=(0, 1),
          float_arguments=(0, 1, 2),
          extreme=lambda: (np.array([1e308, -1e308, 0.0]), np.array([-1e308, 1e308, 5e-324]),
                           np.array([1.0, 1.0, -1.0]))),
]



def _counts(rng: np.random.Generator, n: int) -> Arrays:
    return rng.standard_normal(n), rng.poisson(2.0, n).astype(float)


def _positive_rates(rng: np.random.Generator, n: int) -> Arrays:
    return rng.uniform(0.1, 5, n), rng.poisson(2.0, n).astype(float)


def _gaussian(rng: np.random.Generator, n: int) -> Arrays:
    rows = max(n // 4, 1)
    return rng.standard_normal((rows, 4)), rng.standard_normal((rows, 4)), rng.uniform(0.1, 2, rows)


def _distributions(rng: np.random.Generator, n: int) -> Arrays:
    rows = max(n // 4, 1)
    logits = rng.standard_normal((rows, 4)) * 2
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return log_p, rng.dirichlet(np.ones(4), rows)


def _positive_pairs(rng: np.random.Generator, n: int) -> Arrays:
    return rng.uniform(0.2, 5, n), rng.uniform(0.2, 5, n)


def _deviance_extremes() -> Arrays:
    return np.array([1e-300, 1e300, 1.0]), np.array([1e300, 1e-300, 0.0])


ENTRIES += [
    Entry("poisson_nll_loss", _counts,
          extreme=lambda: (np.array([720.0, -800.0, 0.0, 1e300]), np.array([0.0, 1e300, 0.0, 1e308]))),
    Entry("poisson_loss", _positive_rates,
          extreme=lambda: (np.array([0.0, 1e300, 0.0]), np.array([0.0, 1e300, 5.0]))),
    Entry("gaussian_nll_loss", _gaussian, differentiable_in=(0, 2), float_arguments=(0, 1, 2),
          extreme=lambda: (np.array([[1e150, 0.0]]), np.array([[0.0, 0.0]]), np.array([0.0]))),
    Entry("kl_div", _distributions,
          extreme=lambda: (np.array([[0.0, -np.inf], [-1e300, 0.0]]), np.array([[1.0, 0.0], [0.0, 1.0]]))),
    Entry("generalized_kl_divergence", lambda rng, n: (rng.standard_normal(n), rng.uniform(0, 3, n)),
          extreme=lambda: (np.array([-1e300, 700.0, 0.0]), np.array([0.0, 1e300, 0.0]))),
    Entry("tweedie_deviance", _positive_pairs, options={"power": 1.5}, extreme=_deviance_extremes),
    Entry("poisson_deviance", lambda rng, n: (rng.uniform(0.2, 5, n), rng.poisson(2.0, n).astype(float)),
          extreme=_deviance_extremes),
    Entry("gamma_deviance", _positive_pairs,
          extreme=lambda: (np.array([1e-300, 1e300, 1.0]), np.array([1e300, 1e-300, 5e-324]))),
]



def _overlaps(rng: np.random.Generator, n: int) -> Arrays:
    rows = max(n // 8, 1)
    return rng.uniform(0.02, 0.98, (rows, 8)), np.round(rng.random((rows, 8)))


def _huge_class_scores() -> Arrays:
    return np.array([[1e300, -1e300], [-1e300, 1e300]]), np.array([0, 0])


ENTRIES += [
    Entry("binary_focal_loss", _logits, options={"gamma": 2.0, "alpha": 0.25},
          extreme=lambda: (np.array([-1e300, 1e300, 745.0, -745.0, 0.0]), np.array([0.0, 1.0, 0.0, 1.0, 0.5]))),
    Entry("brier_score_loss", _probabilities,
          extreme=lambda: (np.array([0.0, 1.0, 5e-324, 1.0]), np.array([0.0, 1.0, 1.0, 0.0]))),
    Entry("categorical_focal_loss", _classes, mean_is_sum_over=_per_sample, float_arguments=(0,),
          extreme=_huge_class_scores),
    Entry("poly_loss_cross_entropy", _classes, mean_is_sum_over=_per_sample, float_arguments=(0,),
          extreme=_huge_class_scores),
    Entry("categorical_hinge_loss", _classes, mean_is_sum_over=_per_sample, float_arguments=(0,),
          extreme=lambda: (np.array([[1e308, -1e308], [-1e308, 1e308], [0.0, 5e-324]]), np.array([0, 0, 1]))),
    Entry("dice_loss", _overlaps, options={"axis": 1}, mean_is_sum_over=_per_sample,
          extreme=lambda: (np.array([[0.0, 0.0], [1.0, 1.0], [5e-324, 0.0]]), np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0]]))),
    Entry("tversky_loss", _overlaps, options={"alpha": 0.7, "beta": 0.3}, mean_is_sum_over=lambda arrays: 1.0,
          extreme=lambda: (np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[0.0, 0.0], [1.0, 1.0]]))),
]



def _multilabel_logits(rng: np.random.Generator, n: int) -> Arrays:
    rows = max(n // 4, 1)
    labels = rng.random((rows, 4))
    labels[: rows // 2] = np.round(labels[: rows // 2])
    return rng.standard_normal((rows, 4)) * 4, labels


def _label_lists(rng: np.random.Generator, n: int) -> Arrays:
    rows = max(n // 4, 1)
    scores = rng.standard_normal((rows, 4)) * 3
    targets = np.full((rows, 4), -1, dtype=np.int64)
    for row in range(rows):
        count = int(rng.integers(0, 5))
        targets[row, :count] = rng.permutation(4)[:count]
    return scores, targets


def _huge_pair_scores() -> Arrays:
    return np.array([[1e308, -1e308], [-1e308, 1e308], [0.0, 5e-324]]), np.array([0, 0, 1])


ENTRIES += [
    Entry("multilabel_soft_margin_loss", _multilabel_logits, mean_is_sum_over=_per_sample,
          extreme=lambda: (np.array([[1e300, -1e300, 745.0, -745.0], [0.0, 5e-324, -1e300, 1e300]]),
                           np.array([[0.0, 1.0, 0.0, 1.0], [0.5, 1.0, 1.0, 0.0]]))),
    Entry("multi_margin_loss", _classes, mean_is_sum_over=_per_sample, float_arguments=(0,),
          extreme=_huge_pair_scores),
    Entry("multilabel_margin_loss", _label_lists, mean_is_sum_over=_per_sample, float_arguments=(0,),
          extreme=lambda: (np.array([[1e308, -1e308, 0.0], [-1e308, 1e308, 5e-324]]),
                           np.array([[0, -1, -1], [0, 2, -1]]))),
]


def _row_pairs(rng: np.random.Generator, n: int) -> Arrays:
    rows = max(n // 4, 1)
    return rng.standard_normal((rows, 4)), rng.standard_normal((rows, 4)), rng.choice([-1.0, 1.0], rows)


def _triplets(rng: np.random.Generator, n: int) -> Arrays:
    rows = max(n // 4, 1)
    return rng.standard_normal((rows, 4)), rng.standard_normal((rows, 4)), rng.standard_normal((rows, 4))


def _scaled_triplets() -> Arrays:
    rng = np.random.default_rng(0)
    return tuple(rng.standard_normal((3, 4)) * 1e200 for _ in range(3))


ENTRIES += [
    Entry("cosine_embedding_loss", _row_pairs, mean_is_sum_over=_per_sample, differentiable_in=(0, 1),
          float_arguments=(0, 1, 2),
          extreme=lambda: (np.full((2, 3), 1e200), np.full((2, 3), 1e200), np.array([1.0, -1.0]))),
    Entry("triplet_margin_loss", _triplets, mean_is_sum_over=_per_sample, differentiable_in=(0, 1, 2),
          float_arguments=(0, 1, 2), extreme=_scaled_triplets),
    Entry("triplet_margin_with_distance_loss", _triplets, mean_is_sum_over=_per_sample,
          differentiable_in=(0, 1, 2), float_arguments=(0, 1, 2), extreme=_scaled_triplets),
    Entry("cosine_similarity_loss", lambda rng, n: _triplets(rng, n)[:2], mean_is_sum_over=_per_sample,
          extreme=lambda: (np.array([[1e300, 1e300], [0.0, 0.0]]), np.array([[1e300, 1e300], [1.0, 2.0]]))),
]


def _ranked_lists(rng: np.random.Generator, n: int) -> Arrays:
    rows = max(n // 4, 1)
    return rng.standard_normal((rows, 4)) * 3, rng.integers(0, 4, (rows, 4)).astype(float)


def _contrastive(rng: np.random.Generator, n: int) -> Arrays:
    rows = max(n // 4, 6)
    labels = np.arange(rows) % 3  # every label at least twice: a positive for each anchor
    return rng.standard_normal((rows, 4)), labels


ENTRIES += [
    Entry("sparsemax_loss", lambda rng, n: (_classes(rng, n)[0] * 2 / 3, _classes(rng, n)[1]),
          mean_is_sum_over=_per_sample, float_arguments=(0,),
          extreme=lambda: (np.array([[1e300, -1e300, 0.0], [5.0, 5.0, 5.0]]), np.array([0, 1]))),
    Entry("ntxent_loss", _contrastive, float_arguments=(0,),
          mean_is_sum_over=lambda arrays: float(sum(np.count_nonzero(arrays[1] == label) - 1 for label in arrays[1])),
          extreme=lambda: (np.array([[1e300, 0.0], [1e300, 1e-300], [0.0, 1e-300]]), np.array([0, 0, 1]))),
    Entry("ranking_softmax_loss", _ranked_lists, mean_is_sum_over=_per_sample,
          extreme=lambda: (np.array([[40.0, 0.0], [800.0, 0.0]]), np.array([[1.0, 0.0], [1.0, 0.0]]))),
]


def _hard_labels(rng: np.random.Generator, n: int) -> Arrays:
    return rng.standard_normal(n) * 2, rng.integers(0, 2, n).astype(float)


def _probability_rows(rng: np.random.Generator, n: int) -> Arrays:
    rows = max(n // 4, 1)
    labels = rng.dirichlet(np.ones(4), rows)
    labels[: rows // 2] = np.eye(4)[rng.integers(0, 4, rows // 2)]
    return rng.standard_normal((rows, 4)) * 3, labels


def _unit_embeddings(rng: np.random.Generator, n: int) -> Arrays:
    rows = max(n // 4, 6)
    x = rng.standard_normal((rows, 4))
    # every label at least twice among three: each anchor has a positive and a negative
    return x / np.linalg.norm(x, axis=1, keepdims=True), np.arange(rows) % 3


ENTRIES += [
    Entry("multiclass_hinge_loss", _classes, mean_is_sum_over=_per_sample, float_arguments=(0,),
          extreme=_huge_pair_scores),
    Entry("multiclass_perceptron_loss", _classes, mean_is_sum_over=_per_sample, float_arguments=(0,),
          extreme=_huge_pair_scores),
    Entry("binary_sparsemax_loss", _hard_labels,
          extreme=lambda: (np.array([1e308, -1e308, 5e-324, -1.0, 1.0]), np.array([0.0, 1.0, 1.0, 0.0, 1.0]))),
    Entry("safe_softmax_cross_entropy", _probability_rows, mean_is_sum_over=_per_sample,
          extreme=lambda: (np.array([[1e300, -1e300, -np.inf], [-np.inf, 0.0, -np.inf], [40.0, 0.0, -np.inf]]),
                           np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.5, 0.5, 0.0]]))),
    Entry("circle_loss", _unit_embeddings, mean_is_sum_over=_per_sample, float_arguments=(0,),
          extreme=lambda: (np.array([[1.0, 0.0], [1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, 1e-300]]),
                           np.array([0, 0, 1, 1, 2]))),
]


def _alignments(rng: np.random.Generator, n: int) -> Arrays:
    """CTC: every sample of the same length, so that the mean divides the sum by one number."""
    samples, frames, classes, length = max(n // 20, 1), 8, 5, 3
    log_probs = rng.standard_normal((frames, samples, classes))
    log_probs -= np.logaddexp.reduce(log_probs, axis=-1, keepdims=True)
    return (log_probs, rng.integers(1, classes, size=(samples, length)), np.full(samples, frames),
            np.full(samples, length))


def _sure_alignment() -> Arrays:
    frames = 50
    log_probs = np.full((frames, 2, 3), -np.inf)
    log_probs[:, :, 0] = 0.0
    log_probs[1::2, :, 1] = 0.0
    log_probs[1::2, :, 0] = -np.inf
    return log_probs, np.ones((2, 25), int), np.full(2, frames), np.full(2, 25)


ENTRIES += [
    Entry("ctc_loss", _alignments, float_arguments=(0,), renormalized_axis=-1,
          mean_is_sum_over=lambda arrays: arrays[0].shape[1] * max(int(arrays[3][0]), 1),
          extreme=_sure_alignment),
]
SQUARED_MULTI_MARGIN = Entry(
    "multi_margin_loss", _classes, options={"p": 2, "margin": 0.5}, mean_is_sum_over=_per_sample,
    float_arguments=(0,), extreme=_huge_pair_scores,
)
"""The same loss with its other options: checked too, not a second registration."""

BY_NAME = {entry.name: entry for entry in ENTRIES}
ENTRIES.append(SQUARED_MULTI_MARGIN)
