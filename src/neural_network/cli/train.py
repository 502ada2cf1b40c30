"""``neural-network train``: train a network on a CSV or Parquet file, or on the bundled data.

This module holds the command's options and help; the work is done by
:mod:`neural_network.cli._run_train`, imported when the command runs (building the
parser for ``--help`` imports neither NumPy's helpers nor Rich, PyArrow or Matplotlib).
"""

from __future__ import annotations

import argparse
import math

from neural_network.cli._arguments import (
    dropout_rate,
    fraction_or_zero,
    layer_sizes,
    non_negative_float,
    positive_float,
    positive_int,
    seed,
)

TASKS = ("auto", "binary", "multiclass", "regression")
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
"""The names ``neural_network.optimizers.get_optimizer`` takes (a test keeps them equal)."""

DEFAULT_EPOCHS = 500
"""The most epochs: early stopping ends almost every run well before (see README)."""
DEFAULT_PATIENCE = 10
DEFAULT_VALIDATION_SPLIT = 0.2
DEFAULT_HIDDEN = (32,)
DEFAULT_WEIGHT_DECAY = None
"""``--weight-decay auto`` (None here: the rule, applied once the training rows are counted)."""
WEIGHT_DECAY_ROWS = 364
"""The default weight decay is ``min(1, sqrt(WEIGHT_DECAY_ROWS / training rows))`` (:func:`auto_weight_decay`):
1 up to 364 training rows (breast_cancer's in the benchmark: a lower decay made it and diabetes miss the
target), shrinking as one over the square root of the rows beyond. On the benchmark's 11 tables x 5 seeds
against a constant 1 it lost nowhere and gained on digits (+0.002), health_insurance (+0.001) and wages
(+0.016 R², eight standard errors); titanic over 20 seeds: -0.0088 +- 0.0033 behind the better baseline
(decay 1: -0.0105 +- 0.0034)."""
INITS = ("auto", "glorot", "he", "torch")
"""``Dense``'s initializations."""
DEFAULT_INIT = "glorot"
"""The defaults above were chosen with ``benchmarks/bench_tabular.py`` (see README)."""

DESCRIPTION = """\
Train a network on a table and save it, with its training history and a plot.

DATA is a .csv or .parquet file with a header row; without it, the bundled
breast-cancer data (569 tumours, 30 features, diagnosis benign or malignant).
One column is the target; every other column is a feature, unless --drop
leaves it out:
  numbers            standardized (training rows' mean and standard deviation);
                     an empty cell takes the training median, and a feature
                     '<col> (missing)' marks it
  text, few values   one-hot: a 0/1 feature per value seen in the training rows
                     (an empty cell is a value of its own; a value not seen in
                     training gives all zeros)
  text, many values  left out, with a note (more than 50 distinct values, or
                     more than half the training rows: ids, names)
All of this is learned on the training rows and stored in the model.

The task is read from the target (--task auto), and said:
  text, or whole numbers with 2 values        binary classification
  text or whole numbers, 3 to 20 values       multiclass classification
  (whole numbers: fewer values than half the rows)
  other numbers                               regression
Classes are numbered in sorted order; predictions give back the labels.

Three parts of the rows (stratified by class): --test-split is held out and
measured once, at the end (--test-split 0: none, for a test file of your own,
measured with evaluate); --validation-split of the rest is measured after
every epoch, and training stops when its loss has not improved for --patience
epochs, keeping the weights of the best epoch (--epochs is the most it runs;
--no-early-stopping runs them all); the rest trains.

Files written to --out: model.npz (the network and what evaluate and predict
need), history.csv (per epoch: the training loss and metrics, measured batch by
batch during the epoch, and val_loss and val_ metrics, on the validation rows
after it), loss.png (both losses per epoch) and test-split.csv (or .parquet: the
held-out rows, to try evaluate and predict on). Losses and RMSE are in the
target's units. The final table measures the kept model on the three parts.
A run whose loss stops being a finite number saves nothing and exits with 2.
"""

EPILOG = """\
examples:
  neural-network train
  neural-network train houses.csv --target price --drop id
  neural-network train passengers.csv --target survived --class-weight balanced
  neural-network train flowers.parquet --hidden 32 --dropout 0.2 --json
"""


def auto_weight_decay(training_rows: int) -> float:
    """The weight decay of ``--weight-decay auto``: ``min(1, sqrt(364 / training_rows))``.

    In the spirit of Loshchilov & Hutter's normalized weight decay (the decay scaled by the square
    root of the batch over the rows and epochs): the more rows train, the less the weights need
    holding back.
    """
    if training_rows <= WEIGHT_DECAY_ROWS:
        return 1.0
    return math.sqrt(WEIGHT_DECAY_ROWS / training_rows)


def weight_decay(text: str) -> float | None:
    """``--weight-decay``: a finite number of at least 0, or ``auto`` (None: the rule, applied once the
    training rows are counted)."""
    if text.strip().lower() == "auto":
        return None
    try:
        return non_negative_float(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"must be a finite number of at least 0, or 'auto'; got {text!r}") from None


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "train",
        help="train a network on a CSV or Parquet file (or the bundled breast-cancer data)",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "data", nargs="?", metavar="DATA",
        help="a .csv or .parquet file with a header row (default: the bundled breast-cancer data)",
    )
    parser.add_argument(
        "--target", metavar="COL",
        help="the column to predict (default: the column named 'target' if there is one, else the last column)",
    )
    parser.add_argument(
        "--task", choices=TASKS, default="auto",
        help="what to learn (default: auto, read from the target column as described above)",
    )
    parser.add_argument(
        "--hidden", type=layer_sizes, default=DEFAULT_HIDDEN, metavar="SIZES",
        help=f"hidden layer sizes, comma-separated (default: {','.join(map(str, DEFAULT_HIDDEN))}); '' for "
        "none (a linear model)",
    )
    parser.add_argument(
        "--activation", default="relu", metavar="NAME",
        help="the hidden layers' activation: relu, leaky_relu, elu, gelu, tanh, sigmoid, softplus, "
        "... (default: relu)",
    )
    parser.add_argument("--init", choices=INITS, default=DEFAULT_INIT,
                        help="the initial weights: glorot (uniform, limit sqrt(6 / (inputs + outputs))), he "
                        "(normal, sd sqrt(2 / inputs)), torch (weights and bias uniform, limit sqrt(1 / inputs)), "
                        f"or auto (the library's choice: glorot) (default: {DEFAULT_INIT})")
    parser.add_argument(
        "--drop", action="append", default=[], metavar="COL",
        help="leave the column out of the features (repeat for more columns, or give them comma-separated)",
    )
    parser.add_argument("--epochs", type=positive_int, default=DEFAULT_EPOCHS, metavar="N",
                        help=f"the most passes over the training rows (default: {DEFAULT_EPOCHS}; early "
                        "stopping ends most runs sooner)")
    parser.add_argument("--patience", type=positive_int, default=DEFAULT_PATIENCE, metavar="N",
                        help="epochs without a lower validation loss before training stops "
                        f"(default: {DEFAULT_PATIENCE})")
    parser.add_argument("--no-early-stopping", dest="early_stopping", action="store_false",
                        help="run every epoch and keep the last one's weights")
    parser.add_argument("--batch-size", type=positive_int, default=32, metavar="N",
                        help="rows per gradient step (default: 32)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="(default: adam)")
    parser.add_argument("--learning-rate", type=positive_float, default=0.001, metavar="X",
                        help="the optimizer's step size (default: 0.001)")
    parser.add_argument("--weight-decay", type=weight_decay, default=DEFAULT_WEIGHT_DECAY, metavar="X",
                        help="decoupled weight decay, as AdamW's, for every optimizer: each step shrinks the "
                        "weights by learning rate x X; 0: none; auto: min(1, sqrt("
                        f"{WEIGHT_DECAY_ROWS} / training rows)), 1 up to {WEIGHT_DECAY_ROWS} rows to train, "
                        "less with more rows (the value used is in the notes and --json) (default: auto)")
    parser.add_argument("--dropout", type=dropout_rate, default=0.0, metavar="RATE",
                        help="the fraction of each hidden layer's units dropped at random while training, "
                        "in [0, 1) (default: 0, none)")
    parser.add_argument("--class-weight", choices=("balanced",), metavar="balanced",
                        help="classification: weigh each class by rows / (classes x its rows), so that a rare "
                        "class counts as much as a common one (default: every row alike)")
    parser.add_argument("--test-split", type=fraction_or_zero, default=0.2, metavar="F",
                        help="the fraction of rows held out to test, in [0, 1) (default: 0.2; 0: none, when "
                        "the test rows are in another file)")
    parser.add_argument("--validation-split", type=fraction_or_zero, default=DEFAULT_VALIDATION_SPLIT, metavar="F",
                        help="the fraction of the other rows that validates each epoch and drives early stopping, "
                        f"in [0, 1) (default: {DEFAULT_VALIDATION_SPLIT}; 0: none, no early stopping)")
    parser.add_argument("--seed", type=seed, default=0, metavar="N",
                        help="seeds the split, the initial weights and the shuffles: the same seed gives the "
                        "same model, bit for bit (default: 0)")
    parser.add_argument(
        "--out", metavar="DIR",
        help="the folder for the files (created if needed; the files in it are replaced). Default: a new "
        "folder runs/<data>-<n> under the working directory, never one that exists",
    )
    parser.add_argument(
        "--json", action="store_true",
        help='print one JSON object instead of the table: {"task", "loss", "epochs", "best_epoch", '
        '"weight_decay", "rows": {"train", "validation", "test"}, "metrics": {"train": {...}, '
        '"validation": {...}, "test": {...}}}; progress and notes go to standard error',
    )


def run(arguments: argparse.Namespace) -> int:
    from neural_network.cli._run_train import run_train

    return run_train(arguments)
