"""Tabular benchmark: ``neural-network train`` with its defaults against scikit-learn's first tries.

    pip install -e ".[bench]"
    python benchmarks/bench_tabular.py [--tables iris,titanic,...] [--seeds 3] [--ours-args "--patience 10"]
        [--command "python -m neural_network"] [--baselines-from FILE] [--keep DIR] [--json FILE] [--list]

The measuring stick for the command's defaults (issue 13, item 5). For every table of
the suite (``_tables.py``: 11 public tables, 150 to 20,000 rows, loaded from files on
this disk) and every seed, one 80/20 split (stratified by class for classification) is
written as ``train.csv`` and ``test.csv``; then, on exactly those rows:

* ours: ``neural-network train train.csv --target COL --seed SEED --out DIR --json``
  plus ``--ours-args``, then ``neural-network evaluate DIR/model.npz test.csv --json``:
  the command line only, as a user runs it. Whatever ``train`` does inside ``train.csv``
  (hold out rows to validate or to stop early) is its own business; ``test.csv`` is
  seen once, by ``evaluate``. So ``train`` gets ``--test-split 0`` (it holds out no
  test rows of its own: ``test.csv`` is the test), unless ``--ours-args`` gives another
  ``--test-split``; it still carves its validation rows (``--validation-split``) out of
  ``train.csv``, so ours fits its weights on fewer rows than the baselines do, which is
  part of what is measured.
* linear: ``LogisticRegression(max_iter=1000)`` or ``Ridge()``;
* MLP: ``MLPClassifier()`` or ``MLPRegressor()`` with the target standardized
  (``TransformedTargetRegressor``), scikit-learn's defaults otherwise (100 ReLU units,
  Adam, 200 epochs), seeded with the seed;

each baseline in a ``Pipeline`` with what a practitioner puts first: numeric columns
imputed with the median plus a missing-indicator column, then ``StandardScaler``; text
columns one-hot (``handle_unknown="ignore"``, an empty cell its own category).
A text column with more than 50 distinct values, or distinct values in more than half
the training rows (names, ids), is left out of the baselines. The metric is accuracy
for classification and R² for regression, on ``test.csv``.

The printed table (Markdown, to paste into the README) gives, per table, the mean ± sd
over the seeds of ours on the test rows (and its mean on the rows it trained on, as
``train --json`` reports them), of the two baselines, ours minus the better baseline
(the one with the higher mean) with the standard error of that mean difference (from
the differences seed by seed, on the same split: the spread between splits, larger
than the models' difference on small tables, cancels out), and whether ours meets the
issue's target: at least the better baseline minus 0.01 accuracy or 0.03 R² ("by less
than 1 SE" marks a miss smaller than its standard error: within noise; run more
``--seeds`` on that table to tell). The column "epoch kept/run" gives, per seed, the epoch that
``train --json`` says it kept (keys
such as ``best_epoch``) out of those it ran; where the JSON has none, the epoch of the
lowest ``val_loss`` in ``history.csv``, marked ``*`` (the model saved is then the last
epoch's). The last column is the mean wall time of one run: ours' train and evaluate
processes (start-up included), the MLP's fit. A run of ours that fails says why, below
the table.

Flags that ``train`` does not have yet go through ``--ours-args``; ``--command`` runs
another copy of the command (e.g. ``"env PYTHONPATH=/tmp/head/src python -m
neural_network"`` for a checkout of another commit). The baselines do not change while
ours is tuned: ``--baselines-from`` reuses those of an earlier ``--json`` file for the
splits that are byte for byte the same. Every process gets ``--threads`` BLAS threads.

A benchmark, not a test: the full run (11 tables x 3 seeds, 66 processes of the command
and 66 scikit-learn fits) took 5 to 8 minutes on 2 shared cores, most of it the
command's start-up (about 3 s a process) and the large tables' MLPs; for a quick look,
``--tables`` with one or two tables and ``--seeds 1``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

from _tables import SUITE, Table, by_name
from _timing import write_json

TOLERANCE = {"accuracy": 0.01, "r2": 0.03}
"""The issue's target: ours at least the better baseline minus this."""

BEST_EPOCH_KEYS = ("best_epoch", "kept_epoch", "epoch_kept", "restored_epoch")
"""Where ``train --json`` may say which epoch's weights it kept (searched at any depth)."""

MAX_CATEGORIES = 50
"""A text column with more distinct values than this (or than half the rows) is a name or id."""


def metric_of(table: Table) -> str:
    return "r2" if table.task == "regression" else "accuracy"


# ----------------------------------------------------------------------------------------------
# The split


def write_split(table: Table, frame: Any, seed: int, folder: Path) -> str:
    """``train.csv`` and ``test.csv`` in ``folder``: an 80/20 split, stratified for classification.

    Returns a fingerprint of the two files (SHA-256), which ``--baselines-from`` matches.
    """
    from sklearn.model_selection import train_test_split

    stratify = None if table.task == "regression" else frame[table.target]
    train, test = train_test_split(frame, test_size=0.2, random_state=seed, stratify=stratify)
    digest = hashlib.sha256()
    for part, name in ((train, "train.csv"), (test, "test.csv")):
        part.to_csv(folder / name, index=False)
        digest.update((folder / name).read_bytes())
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------------
# Ours, through the command line


def run_command(command: list[str], timeout: float, env: dict[str, str]) -> tuple[int, str, str]:
    """Exit status, standard output and standard error of ``command`` (status -1 on a timeout)."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        return -1, "", f"timed out after {timeout:g} s"
    return done.returncode, done.stdout, done.stderr


def last_json(text: str) -> dict[str, Any]:
    """The JSON object that ``--json`` prints: the last line of standard output that parses as one."""
    for line in reversed(text.strip().splitlines()):
        try:
            document = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(document, dict):
            return document
    raise ValueError(f"no JSON object in the output: {text[-300:]!r}")


def why_failed(code: int, stderr: str) -> str:
    """The command's message: its last non-empty line of standard error, plainly."""
    lines = [line.strip() for line in re.sub(r"\x1b\[[0-9;]*m", "", stderr).splitlines() if line.strip()]
    return f"exit {code}: {lines[-1] if lines else '(no message)'}"


def find_key(document: object, keys: tuple[str, ...]) -> object:
    """The first value under one of ``keys`` anywhere in a JSON document, or None."""
    if isinstance(document, dict):
        for key in keys:
            if key in document:
                return document[key]
        for value in document.values():
            found = find_key(value, keys)
            if found is not None:
                return found
    elif isinstance(document, list):
        for value in document:
            found = find_key(value, keys)
            if found is not None:
                return found
    return None


def lowest_val_loss_epoch(history: Path) -> int | None:
    """The epoch (from 1) of the lowest ``val_loss`` in ``history.csv``, if the file has that column."""
    import csv

    try:
        with history.open(newline="", encoding="utf-8") as file:
            rows = list(csv.DictReader(file))
    except OSError:
        return None
    losses = []
    for number, row in enumerate(rows, start=1):
        try:
            losses.append((float(row["val_loss"]), int(row.get("epoch") or number)))
        except (KeyError, TypeError, ValueError):
            return None
    finite = [pair for pair in losses if math.isfinite(pair[0])]
    return min(finite)[1] if finite else None


def run_ours(table: Table, seed: int, folder: Path, arguments: argparse.Namespace, env: dict[str, str]) -> dict[str, Any]:
    """Train on ``train.csv`` and evaluate on ``test.csv`` through the command; the scores and epochs."""
    metric, out = metric_of(table), folder / "ours"
    base = shlex.split(arguments.command)
    extra = shlex.split(arguments.ours_args)
    # test.csv is the test: train holds out no rows of its own, unless --ours-args says otherwise.
    held_out = [] if any(word.split("=")[0] == "--test-split" for word in extra) else ["--test-split", "0"]
    train = [*base, "train", str(folder / "train.csv"), "--target", table.target, "--seed", str(seed),
             "--out", str(out), "--json", *held_out, *extra]
    start = time.perf_counter()
    code, stdout, stderr = run_command(train, arguments.timeout, env)
    result: dict[str, Any] = {"train_command": shlex.join(train), "seconds": time.perf_counter() - start}
    if code != 0:
        return result | {"error": why_failed(code, stderr.replace(f"{folder}{os.sep}", ""))}
    try:
        document = last_json(stdout)
        result["train_json"] = document
        result["train"] = document["metrics"]["train"][metric]
        model = out / "model.npz"
        if not model.exists():  # another name for the model file: take the one .npz written
            model = next(iter(sorted(out.glob("*.npz"))))
    except (ValueError, KeyError, TypeError, StopIteration) as error:
        return result | {"error": f"unexpected output of train: {error!r}"}
    evaluate = [*base, "evaluate", str(model), str(folder / "test.csv"), "--json"]
    code, stdout, stderr = run_command(evaluate, arguments.timeout, env)
    result["seconds"] = time.perf_counter() - start
    if code != 0:
        return result | {"error": "evaluate " + why_failed(code, stderr.replace(f"{folder}{os.sep}", ""))}
    try:
        result["test"] = float(last_json(stdout)["metrics"][metric])
    except (ValueError, KeyError, TypeError) as error:
        return result | {"error": f"unexpected output of evaluate: {error!r}"}
    best = find_key(document, BEST_EPOCH_KEYS)
    epochs = document.get("epochs")
    result["epochs"] = epochs if isinstance(epochs, int) else None
    if isinstance(best, int):
        result["best_epoch"], result["best_epoch_from"] = best, "json"
    else:
        result["best_epoch"], result["best_epoch_from"] = lowest_val_loss_epoch(out / "history.csv"), "history"
    return result


# ----------------------------------------------------------------------------------------------
# The baselines


def preprocessing(frame: Any, target: str) -> tuple[Any, list[str]]:
    """The practitioner's ColumnTransformer for the features of ``frame``, and the columns it leaves out."""
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    features = [column for column in frame.columns if column != target]
    numeric = [column for column in features if pd.api.types.is_numeric_dtype(frame[column])]
    text: list[str] = []
    left_out: list[str] = []
    for column in (column for column in features if column not in numeric):
        distinct = frame[column].nunique(dropna=True)
        (left_out if distinct > MAX_CATEGORIES or distinct > len(frame) / 2 else text).append(column)
    parts = [("numbers", make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler()),
              numeric)]
    if text:
        parts.append(("text", make_pipeline(
            SimpleImputer(strategy="constant", fill_value="(empty)"),
            OneHotEncoder(handle_unknown="ignore", sparse_output=False),
        ), text))
    return ColumnTransformer(parts, remainder="drop"), left_out


def run_baselines(table: Table, seed: int, folder: Path) -> dict[str, Any]:
    """The linear model's and the MLP's scores, test and train, on the rows of ``train.csv``/``test.csv``."""
    import pandas as pd
    from sklearn.base import clone
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.neural_network import MLPClassifier, MLPRegressor
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train, test = pd.read_csv(folder / "train.csv"), pd.read_csv(folder / "test.csv")
    prepare, left_out = preprocessing(train, table.target)
    X, y = train.drop(columns=[table.target]), train[table.target]
    X_test, y_test = test.drop(columns=[table.target]), test[table.target]
    models: dict[str, Any]
    if table.task == "regression":
        score = r2_score
        models = {
            "linear": make_pipeline(clone(prepare), Ridge()),
            "mlp": TransformedTargetRegressor(make_pipeline(clone(prepare), MLPRegressor(random_state=seed)),
                                              transformer=StandardScaler()),
        }
    else:
        score = accuracy_score
        models = {
            "linear": make_pipeline(clone(prepare), LogisticRegression(max_iter=1000)),
            "mlp": make_pipeline(clone(prepare), MLPClassifier(random_state=seed)),
        }
    result: dict[str, Any] = {"left_out": left_out}
    for name, model in models.items():
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # the MLP's 200 epochs: the default, as tried
            model.fit(X, y)
        result[name] = {"test": float(score(y_test, model.predict(X_test))),
                        "train": float(score(y, model.predict(X))), "seconds": time.perf_counter() - start}
    return result


def reusable_baselines(path: str | None) -> dict[tuple[str, int, str], dict[str, Any]]:
    """The baselines of an earlier ``--json`` file, by (table, seed, split fingerprint)."""
    if path is None:
        return {}
    with open(path, encoding="utf-8") as file:
        document = json.load(file)
    return {(run["table"], run["seed"], run["split"]): run["baselines"]
            for run in document["results"]["runs"] if "baselines" in run}


# ----------------------------------------------------------------------------------------------
# The table


def mean_sd(values: list[float]) -> str:
    if not values:
        return "—"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def summarize(table: Table, frame: Any, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One line of the printed table, as numbers and as text."""
    metric = metric_of(table)
    ours = [run["ours"] for run in runs if "test" in run["ours"]]
    tests = [run["test"] for run in ours]
    linear = [run["baselines"]["linear"]["test"] for run in runs]
    mlp = [run["baselines"]["mlp"]["test"] for run in runs]
    summary: dict[str, Any] = {
        "table": table.name, "rows": len(frame), "features": frame.shape[1] - 1, "task": table.task,
        "metric": metric, "ours": tests, "ours_train": [run["train"] for run in ours], "linear": linear, "mlp": mlp,
        "failures": [run["ours"]["error"] for run in runs if "error" in run["ours"]],
    }
    better = mlp if statistics.mean(mlp) > statistics.mean(linear) else linear
    best = statistics.mean(better)
    summary["better_baseline"] = best
    if tests:
        summary["difference"] = statistics.mean(tests) - best
        # Paired by seed (the same split): the seed-to-seed spread of the splits cancels out.
        paired = [run["ours"]["test"] - score for run, score in zip(runs, better, strict=True) if "test" in run["ours"]]
        summary["difference_se"] = statistics.stdev(paired) / math.sqrt(len(paired)) if len(paired) > 1 else None
        summary["meets_target"] = bool(summary["difference"] >= -TOLERANCE[metric] - 1e-12 and not summary["failures"])
    kept = [(run["best_epoch"], run["epochs"], run["best_epoch_from"]) for run in ours]
    summary["epochs"] = [[best_epoch, epochs] for best_epoch, epochs, _ in kept]
    summary["best_epoch_from"] = sorted({source for _, _, source in kept})
    summary["seconds"] = {"ours": statistics.mean(run["ours"]["seconds"] for run in runs),
                          "mlp": statistics.mean(run["baselines"]["mlp"]["seconds"] for run in runs)}
    return summary


def row_text(summary: dict[str, Any], seeds: int) -> list[str]:
    metric = "accuracy" if summary["metric"] == "accuracy" else "R²"
    tests, failures = summary["ours"], summary["failures"]
    if tests:
        ours = f"{mean_sd(tests)} ({statistics.mean(summary['ours_train']):.3f})"
        if failures:
            ours += f", {len(tests)}/{seeds} ran"
        se = summary.get("difference_se")
        difference = f"{summary['difference']:+.3f}" + ("" if se is None else f" ± {se:.3f}")
        target = "yes" if summary["meets_target"] else "**no**"
        shortfall = -TOLERANCE[summary["metric"]] - summary["difference"]
        if not summary["meets_target"] and not failures and se is not None and shortfall <= se:
            target += " (by less than 1 SE)"
    else:
        ours, difference, target = "failed" if not failures[0].startswith("exit 2") else "refused", "—", "**no**"
    epochs = []
    for best, ran in summary["epochs"]:
        mark = "*" if summary["best_epoch_from"] == ["history"] else ""
        epochs.append(f"{'?' if best is None else best}{mark}/{'?' if ran is None else ran}")
    return [summary["table"], f"{summary['rows']:,} x {summary['features']}", f"{summary['task']}, {metric}", ours,
            mean_sd(summary["linear"]), mean_sd(summary["mlp"]), difference, target, " ".join(epochs) or "—",
            f"{summary['seconds']['ours']:.1f} / {summary['seconds']['mlp']:.1f}"]


def print_table(summaries: list[dict[str, Any]], seeds: int) -> None:
    header = ["table", "rows x features", "task, metric", "ours: test (train)", "linear", "MLP",
              "ours - better ± SE", "target met", "epoch kept/run", "s: ours / MLP"]
    rows = [header, ["---"] * len(header), *(row_text(summary, seeds) for summary in summaries)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    for row in rows:
        cells = [cell.ljust(width) if cell != "---" else "-" * width for cell, width in zip(row, widths, strict=True)]
        print("| " + " | ".join(cells) + " |")


# ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tables", default=",".join(table.name for table in SUITE),
                        help="comma-separated names from the suite (default: all; see --list)")
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1: one split and one run each (default: 3)")
    parser.add_argument("--ours-args", default="", metavar="ARGS",
                        help='more options for `neural-network train`, one string, e.g. "--patience 10 --epochs 500"')
    parser.add_argument("--command", default=f"{shlex.quote(sys.executable)} -m neural_network",
                        help="how to run the command (default: this Python's `-m neural_network`)")
    parser.add_argument("--baselines-from", metavar="FILE", help="reuse the baselines of an earlier --json file")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads of every process (default: 1)")
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds allowed to one train or evaluate")
    parser.add_argument("--keep", metavar="DIR", help="keep the splits and ours' files in DIR (default: a temp folder)")
    parser.add_argument("--json", metavar="FILE", help="write the settings, every run and the summaries as JSON")
    parser.add_argument("--list", action="store_true", help="print the suite and exit")
    arguments = parser.parse_args()

    suite = by_name()
    unknown = [name for name in arguments.tables.split(",") if name not in suite]
    if unknown:
        parser.error(f"unknown table(s) {', '.join(unknown)}; the suite: {', '.join(suite)}")
    tables = [suite[name] for name in arguments.tables.split(",")]
    if arguments.list:
        for table in tables:
            frame = table.load()
            print(f"{table.name:<17}{len(frame):>7,} x {frame.shape[1] - 1:<3} {table.task:<11}{table.source}: {table.why}")
        return

    threads = str(arguments.threads)
    env = os.environ | {name: threads for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    from threadpoolctl import threadpool_limits

    reuse = reusable_baselines(arguments.baselines_from)
    runs: list[dict[str, Any]] = []
    summaries = []
    started = time.perf_counter()
    with threadpool_limits(arguments.threads), tempfile.TemporaryDirectory(prefix="bench_tabular-") as temporary:
        root = Path(arguments.keep) if arguments.keep else Path(temporary)
        for table in tables:
            frame = table.load()
            table_runs = []
            for seed in range(arguments.seeds):
                folder = root / f"{table.name}-seed{seed}"
                folder.mkdir(parents=True, exist_ok=True)
                split = write_split(table, frame, seed, folder)
                ours = run_ours(table, seed, folder, arguments, env)
                baselines = reuse.get((table.name, seed, split)) or run_baselines(table, seed, folder)
                run = {"table": table.name, "seed": seed, "split": split, "ours": ours, "baselines": baselines}
                table_runs.append(run)
                shown = f"{ours['test']:.3f}" if "test" in ours else ours["error"][:100]
                print(f"{table.name} seed {seed}: ours {shown} ({ours['seconds']:.1f} s), linear "
                      f"{baselines['linear']['test']:.3f}, MLP {baselines['mlp']['test']:.3f}", file=sys.stderr)
            runs += table_runs
            summaries.append(summarize(table, frame, table_runs))
    elapsed = time.perf_counter() - started

    held_out = "" if "--test-split" in arguments.ours_args else " --test-split 0"
    print(f"ours: {arguments.command} train TRAIN --target COL --seed SEED{held_out} {arguments.ours_args}".rstrip())
    print(f"{arguments.seeds} seeds; test metric mean ± sd over the seeds, ours' train metric in parentheses; "
          "ours - better: mean ± standard error of the differences seed by seed; "
          f"target: ours ≥ better baseline - {TOLERANCE['accuracy']} accuracy / {TOLERANCE['r2']} R²\n")
    print_table(summaries, arguments.seeds)
    if any(summary["best_epoch_from"] == ["history"] for summary in summaries):
        print("\n* the JSON of train names no kept epoch: the epoch of the lowest val_loss in history.csv "
              "(the model saved is the last epoch's)")
    for summary in summaries:
        if summary["failures"]:
            count = len(summary["failures"])
            print(f"{summary['table']}: ours failed on {count} of {arguments.seeds} seeds; the first: "
                  f"{summary['failures'][0]}")
    met = sum(bool(summary.get("meets_target")) for summary in summaries)
    print(f"\ntarget met on {met} of {len(summaries)} tables; {elapsed:.0f} s")
    if arguments.json:
        write_json(arguments.json, arguments, {"runs": runs, "summaries": summaries, "seconds": elapsed})


if __name__ == "__main__":
    main()
