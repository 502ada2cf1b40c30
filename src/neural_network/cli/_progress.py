"""A live progress bar for training: a :class:`~neural_network.training.Callback` drawn by Rich.

One bar over the epochs, with the latest training and validation loss and the time
spent. On a terminal it redraws as each epoch ends; into a file or a pipe, Rich writes
only the final line.
"""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from neural_network.network import Sequential
from neural_network.training import Callback


class EpochProgress(Callback):
    """Advance a bar after each epoch; use it as a context manager, so that it stops even on an error.

    ``loss_scale`` turns the losses ``fit`` reports into the units shown (the square of
    the target's scale for a regression trained on a standardized target).
    """

    def __init__(self, console: Console, epochs: int, *, enabled: bool = True, loss_scale: float = 1.0) -> None:
        self._progress = Progress(
            TextColumn("epoch"),
            MofNCompleteColumn(),
            BarColumn(),
            TextColumn("{task.fields[losses]}"),
            TimeElapsedColumn(),
            console=console,
            disable=not enabled,
        )
        self._epochs = epochs
        self._scale = loss_scale
        self._task: TaskID | None = None

    def __enter__(self) -> EpochProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._progress.stop()

    def on_train_begin(self, model: Sequential) -> None:
        self._progress.start()
        self._task = self._progress.add_task("training", total=self._epochs, losses="")

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Sequential) -> bool:
        if self._task is not None:
            losses = f"loss {logs['loss'] * self._scale:.4g}"
            if "val_loss" in logs:
                losses += f"  val_loss {logs['val_loss'] * self._scale:.4g}"
            self._progress.update(self._task, completed=epoch + 1, losses=losses)
        return False

    def on_train_end(self, model: Sequential) -> None:
        self._progress.stop()
