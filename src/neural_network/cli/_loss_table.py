"""The losses ``neural-network loss`` offers, and how it streams one of them.

Every loss the command knows is one :class:`LossEntry` in :data:`LOSSES`, with the
layout of its columns and how it is called on a batch; :class:`Columns` are the columns
a run reads, and :class:`Sums` the exact running sums a run (in one process, or one
per Dask partition) accumulates. The command (``loss``) and its Dask engine
(``_dask_engine``) both import this table; neither imports the other's internals.
"""

from __future__ import annotations

import difflib
import inspect
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from neural_network import losses
from neural_network._exact_sum import StreamingSum
from neural_network.cli._errors import CommandError

Floats = np.ndarray[Any, np.dtype[np.float64]]

IGNORE_INDEX = -100
"""The class index that ``cross_entropy`` and ``nll_loss`` ignore by default (PyTorch's)."""

Layout = Literal["elementwise", "classes"]


# --------------------------------------------------------------------------- the losses


@dataclass(frozen=True)
class LossEntry:
    """How the command calls one loss of the package.

    ``elementwise``: ``--pred`` and ``--target`` name the same number of columns, paired
    in order; the loss is taken element by element and the mean is over every element
    (weighted by the row's ``--weight``). ``classes``: ``--pred`` names one column per
    class (logits or log-probabilities), ``--target`` one column of class indices; the
    mean is over the rows whose target is not ``-100`` (PyTorch's ``ignore_index``).
    """

    name: str
    function: Callable[..., Any]
    layout: Layout
    pred: str
    """What the ``--pred`` columns hold, for the help."""
    target: str
    """What the ``--target`` column holds, for the help."""
    ignore_index: bool = False
    """A ``classes`` loss that ignores rows whose target is -100 (PyTorch's ``ignore_index``)."""
    options: tuple[tuple[str, object], ...] = ()
    """The ``--option`` values, passed to the function as keywords."""

    def values(self, pred: Floats, target: Floats, weight: Floats | None) -> Floats:
        """The weighted per-element losses ``w * l`` of a batch, in the library's row-major order.

        ``pred`` and ``target`` are ``(rows, columns)``; ``weight`` is one weight per row.
        """
        options = dict(self.options)
        if self.layout == "elementwise":
            sample_weight = None if weight is None else np.broadcast_to(weight[:, None], pred.shape)
            result: Floats = self.function(pred, target, reduction="none", sample_weight=sample_weight, **options)
        else:
            result = self.function(pred, target[:, 0], reduction="none", sample_weight=weight, **options)
        return result

    def counted(self, pred: Floats, target: Floats, weight: Floats | None) -> Floats | None:
        """What each element adds to the mean's denominator, or None for one each."""
        if self.layout == "elementwise":
            return None if weight is None else np.broadcast_to(weight[:, None], pred.shape)
        if not self.ignore_index:
            return None if weight is None else weight
        kept = target[:, 0] != IGNORE_INDEX
        return kept.astype(np.float64) if weight is None else np.where(kept, weight, 0.0)


LOSSES: dict[str, LossEntry] = {
    entry.name: entry
    for entry in (
        LossEntry("mse_loss", losses.mse_loss, "elementwise", "predictions", "targets"),
        LossEntry(
            "binary_cross_entropy", losses.binary_cross_entropy, "elementwise",
            "probabilities in [0, 1]", "labels in [0, 1]",
        ),
        LossEntry(
            "binary_cross_entropy_with_logits", losses.binary_cross_entropy_with_logits, "elementwise",
            "logits (raw scores)", "labels in [0, 1]",
        ),
        LossEntry("l1_loss", losses.l1_loss, "elementwise", "predictions", "targets"),
        LossEntry("huber_loss", losses.huber_loss, "elementwise", "predictions", "targets (delta 1)"),
        LossEntry("smooth_l1_loss", losses.smooth_l1_loss, "elementwise", "predictions", "targets (beta 1)"),
        LossEntry("log_cosh", losses.log_cosh, "elementwise", "predictions", "targets"),
        LossEntry(
            "mean_squared_log_error", losses.mean_squared_log_error, "elementwise",
            "predictions above -1", "targets above -1",
        ),
        LossEntry(
            "mean_absolute_percentage_error", losses.mean_absolute_percentage_error, "elementwise",
            "predictions", "targets (a fraction, not a percentage)",
        ),
        LossEntry("pinball_loss", losses.pinball_loss, "elementwise", "predictions", "targets (quantile 0.5)"),
        LossEntry(
            "poisson_nll_loss", losses.poisson_nll_loss, "elementwise",
            "log-rates (log_input=True)", "counts >= 0",
        ),
        LossEntry("poisson_loss", losses.poisson_loss, "elementwise", "rates >= 0", "counts >= 0"),
        LossEntry("poisson_deviance", losses.poisson_deviance, "elementwise", "rates > 0", "counts >= 0"),
        LossEntry("gamma_deviance", losses.gamma_deviance, "elementwise", "predictions > 0", "targets > 0"),
        LossEntry("tweedie_deviance", losses.tweedie_deviance, "elementwise", "predictions", "targets (power 0)"),
        LossEntry(
            "brier_score_loss", losses.brier_score_loss, "elementwise",
            "probabilities in [0, 1]", "labels in [0, 1]",
        ),
        LossEntry(
            "binary_focal_loss", losses.binary_focal_loss, "elementwise",
            "logits (gamma 2)", "labels in [0, 1]",
        ),
        LossEntry("soft_margin_loss", losses.soft_margin_loss, "elementwise", "scores", "labels -1 or +1"),
        LossEntry("hinge_loss", losses.hinge_loss, "elementwise", "scores", "labels -1 or +1"),
        LossEntry("squared_hinge_loss", losses.squared_hinge_loss, "elementwise", "scores", "labels -1 or +1"),
        LossEntry("perceptron_loss", losses.perceptron_loss, "elementwise", "scores", "labels -1 or +1"),
        LossEntry(
            "hinge_embedding_loss", losses.hinge_embedding_loss, "elementwise",
            "distances (margin 1)", "labels -1 or +1",
        ),
        LossEntry("kl_div", losses.kl_div, "elementwise", "log-probabilities <= 0", "probabilities in [0, 1]"),
        LossEntry(
            "generalized_kl_divergence", losses.generalized_kl_divergence, "elementwise",
            "log-predictions", "non-negative measures",
        ),
        LossEntry("binary_sparsemax_loss", losses.binary_sparsemax_loss, "elementwise", "scores", "labels 0 or 1"),
        LossEntry(
            "cross_entropy", losses.cross_entropy, "classes",
            "one column of logits per class", "class indices 0 to C-1", ignore_index=True,
        ),
        LossEntry(
            "nll_loss", losses.nll_loss, "classes",
            "one column of log-probabilities per class", "class indices 0 to C-1", ignore_index=True,
        ),
        *(
            LossEntry(name, getattr(losses, name), "classes", what, "class indices 0 to C-1")
            for name, what in (
                ("categorical_focal_loss", "one column of logits per class (gamma 2)"),
                ("poly_loss_cross_entropy", "one column of logits per class (epsilon 2)"),
                ("sparsemax_loss", "one column of scores per class"),
                ("multi_margin_loss", "one column of scores per class (p 1, margin 1)"),
                ("multiclass_hinge_loss", "one column of scores per class"),
                ("multiclass_perceptron_loss", "one column of scores per class"),
                ("categorical_hinge_loss", "one column of scores per class"),
            )
        ),
    )
}
"""The losses the command knows, by the name of the library function."""

ALIASES = {
    "mse": "mse_loss",
    "mean_squared_error": "mse_loss",
    "bce": "binary_cross_entropy",
    "log_loss": "binary_cross_entropy",
    "bce_with_logits": "binary_cross_entropy_with_logits",
    "bcewithlogits": "binary_cross_entropy_with_logits",
    "ce": "cross_entropy",
    "categorical_crossentropy": "cross_entropy",
    "sparse_categorical_crossentropy": "cross_entropy",
    "nll": "nll_loss",
}
"""Other libraries' names, suggested (never silently accepted) when given to ``--loss``."""


def find_loss(name: str) -> LossEntry:
    """The entry for ``--loss NAME`` (dashes may stand for underscores), or a usage error."""
    key = name.strip().lower().replace("-", "_")
    if key in LOSSES:
        return LOSSES[key]
    known = ", ".join(LOSSES)
    suggestion = ALIASES.get(key) or next(iter(difflib.get_close_matches(key, list(LOSSES), n=1, cutoff=0.6)), None)
    hint = f" Did you mean {suggestion!r}?" if suggestion else ""
    raise CommandError(f"unknown loss {name!r}.{hint} The losses are: {known}.")


# --------------------------------------------------------------------------- the command


_RESERVED = frozenset({"reduction", "sample_weight", "input", "target"})
"""Keywords the command itself passes (or the columns give): not options."""


def parse_options(entry: LossEntry, texts: Sequence[str]) -> tuple[tuple[str, object], ...]:
    """``--option NAME=VALUE`` texts as keywords of ``entry``'s function.

    VALUE is ``true``/``false``, a whole number, a number (the one number syntax of every
    command, :mod:`neural_network.cli._numbers`), or else the text itself; the library
    checks the value and says what it expects. NAME must be a keyword-only option of the
    function (its signature says which).
    """
    from neural_network.cli._numbers import is_number

    allowed = [
        name for name, parameter in inspect.signature(entry.function).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY and name not in _RESERVED
    ]
    options: dict[str, object] = {}
    for text in texts:
        name, equals, raw = text.partition("=")
        name, raw = name.strip(), raw.strip()
        if not equals or not name:
            raise CommandError(f"--option takes NAME=VALUE, e.g. --option power=1.5; got {text!r}.")
        if name not in allowed:
            choices = ", ".join(allowed) if allowed else "none"
            raise CommandError(f"{entry.name} has no option {name!r}; its options: {choices}.")
        if name in options:
            raise CommandError(f"--option {name} is given twice; give each option once.")
        value: object
        if raw.lower() in ("true", "false"):
            value = raw.lower() == "true"
        elif re.fullmatch(r"[+-]?[0-9]+", raw):
            value = int(raw)
        elif is_number(raw):
            value = float(raw)
        else:
            value = raw
        options[name] = value
    return tuple(options.items())



@dataclass(frozen=True)
class Columns:
    """The columns the command reads, resolved against the first file's header."""

    pred: list[str]
    target: list[str]
    weight: str | None

    def options(self) -> list[tuple[str, str]]:
        """``(option, column)`` for every column, for the messages."""
        pairs = [("--pred", name) for name in self.pred] + [("--target", name) for name in self.target]
        return pairs + ([("--weight", self.weight)] if self.weight else [])

    def all(self) -> list[str]:
        return list(dict.fromkeys(name for _, name in self.options()))



class Sums:
    """A loss's running sums over batches: the weighted losses, and what the mean divides by.

    Both sums are :class:`StreamingSum` s; the divisor is the summed weights of the counted
    elements where the loss counts by weight (``LossEntry.counted``), else their number.
    """

    def __init__(self) -> None:
        self.total = StreamingSum()
        self.denominator = StreamingSum()
        self.elements = 0
        self.weighted = False

    def add(self, entry: LossEntry, pred: Floats, target: Floats, weight: Floats | None, reduction: str) -> None:
        """Add one batch (raises what the library raises for a value it refuses)."""
        values = entry.values(pred, target, weight)
        self.total.add(values)
        if reduction != "mean":
            return
        counted = entry.counted(pred, target, weight)
        if counted is None:
            self.elements += values.size
        else:
            self.denominator.add(counted)
            self.weighted = True

    def divisor(self, reduction: str) -> float:
        """What the mean divides by (NaN for a sum)."""
        if reduction == "sum":
            return math.nan
        return self.denominator.value() if self.weighted else float(self.elements)
