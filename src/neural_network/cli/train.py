"""``neural-network train``: train a network on a CSV or Parquet file, or on the bundled data.

This module holds the command's options and help; the work is done by
:mod:`neural_network.cli._run_train`, imported when the command runs (building the
parser for ``--help`` imports neither NumPy's helpers nor Rich, PyArrow or Matplotlib).
"""

from __future__ import annotations

import argparse

from neural_network.cli._arguments import fraction, layer_sizes, positive_float, positive_int, seed

TASKS = ("auto", "binary", "multiclass", "regression")
OPTIMIZERS = ("adam", "adamw", "rmsprop", "sgd")
"""The names ``neural_network.optimizers.get_optimizer`` takes (a test keeps them equal)."""

DESCRIPTION = """\
Train a network on a table and save it, with its training history and a plot.

DATA is a .csv or .parquet file with a header row; without it, the bundled
breast-cancer data (569 tumours, 30 features, diagnosis benign or malignant).
One column is the target, every other column a feature, which must hold numbers.

The task is read from the target (--task auto), and said:
  text, or whole numbers with 2 values        binary classification
  text or whole numbers, 3 to 20 values       multiclass classification
  (whole numbers: fewer values than half the rows)
  other numbers                               regression
Classes are numbered in sorted order; predictions give back the labels.

Features are standardized with the training rows' mean and standard deviation
(and the target too, for regression); both are stored in the model. A fraction
--test-split of the rows (stratified by class) is held out: it is the validation
data of each epoch and the test column of the final table.

Files written to --out: model.npz (the network and what evaluate and predict
need), history.csv (per epoch: the training loss and metrics, measured batch by
batch during the epoch, and val_loss and val_ metrics, on the test rows after
it), loss.png (both losses per epoch) and test-split.csv (or .parquet: the
held-out rows, to try evaluate and predict on). Losses and RMSE are in the
target's units. The final table measures the final model on both parts.
"""

EPILOG = """\
examples:
  neural-network train
  neural-network train houses.csv --target price --epochs 200
  neural-network train flowers.parquet --hidden 32 --json
"""


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
        "--hidden", type=layer_sizes, default=(64, 64), metavar="SIZES",
        help="hidden layer sizes, comma-separated (default: 64,64); '' for none (a linear model)",
    )
    parser.add_argument(
        "--activation", default="relu", metavar="NAME",
        help="the hidden layers' activation: relu, leaky_relu, elu, gelu, tanh, sigmoid, softplus, "
        "... (default: relu)",
    )
    parser.add_argument("--epochs", type=positive_int, default=50, metavar="N",
                        help="passes over the training rows (default: 50)")
    parser.add_argument("--batch-size", type=positive_int, default=32, metavar="N",
                        help="rows per gradient step (default: 32)")
    parser.add_argument("--optimizer", choices=OPTIMIZERS, default="adam", help="(default: adam)")
    parser.add_argument("--learning-rate", type=positive_float, default=0.001, metavar="X",
                        help="the optimizer's step size (default: 0.001)")
    parser.add_argument("--test-split", type=fraction, default=0.2, metavar="F",
                        help="the fraction of rows held out to test, between 0 and 1 (default: 0.2)")
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
        help='print one JSON object instead of the table: {"task", "loss", "epochs", "metrics": '
        '{"train": {...}, "test": {...}}}; progress and notes go to standard error',
    )


def run(arguments: argparse.Namespace) -> int:
    from neural_network.cli._run_train import run_train

    return run_train(arguments)
