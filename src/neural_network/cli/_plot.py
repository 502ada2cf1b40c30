"""The plot ``train`` saves: training and validation loss per epoch, as a PNG.

Drawn with Matplotlib's object-oriented API on a :class:`~matplotlib.figure.Figure` of
its own, which renders with the Agg backend: no window, no display needed, and
nothing changes Matplotlib's global state (``pyplot`` is never imported).
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator


def plot_losses(
    path: str, loss: Sequence[float], val_loss: Sequence[float], *, title: str, loss_name: str,
    best_epoch: int | None = None,
) -> None:
    """Save the loss curves to ``path`` (a PNG of 800 x 500 pixels; a logarithmic loss axis
    where the loss falls by more than a factor 50), with a line at the epoch kept, if given."""
    figure = Figure(figsize=(8, 5), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    epochs = range(1, len(loss) + 1)
    marker = "o" if len(loss) <= 30 else None
    axes.plot(epochs, loss, marker=marker, markersize=3, label="training (during each epoch)")
    if val_loss:
        axes.plot(epochs, val_loss, marker=marker, markersize=3, label="validation (validation split)")
    if best_epoch is not None:
        axes.axvline(best_epoch, color="grey", linestyle="--", linewidth=1, label=f"kept: epoch {best_epoch}")
    axes.set_xlabel("epoch")
    axes.set_ylabel(loss_name)
    axes.set_title(title)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    values = [*loss, *val_loss]
    if min(values) > 0 and max(values) > 50 * min(values):
        axes.set_yscale("log")  # a loss that falls by orders of magnitude
    axes.grid(alpha=0.3)
    axes.legend()
    figure.savefig(path, format="png")
