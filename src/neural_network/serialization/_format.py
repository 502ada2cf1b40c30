"""What a model file is: its format name and version, and what loading returns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from neural_network.errors import InvalidInputError
from neural_network.network import Sequential
from neural_network.optimizers import Optimizer

FORMAT_NAME = "neural_network.model"
"""The ``"format"`` field of every model file."""

FORMAT_VERSION = 1
"""The version of the layout this module writes; it reads this version and older ones."""

MODEL_ENTRY = "__model__.json"
"""The name of the archive entry that holds the JSON document."""

MAX_DOCUMENT_BYTES = 64 * 2**20
"""The largest JSON document (in bytes) that :func:`save` writes and loading reads: 64 MiB.

Loading checks the size the archive declares before reading the document, so a file
cannot make it read and parse gigabytes of JSON. Large values belong in NumPy arrays,
which are stored beside the document."""

AnyArray = NDArray[Any]
JsonPath = list[str | int]
"""Where an array sits inside a JSON value: dict keys and list indices, outermost first."""


@dataclass(frozen=True)
class Source:
    """The file being read, for error messages: ``load: 'model.npz': <problem>``."""

    owner: str
    path: str

    def error(self, problem: str, kind: type[InvalidInputError] = InvalidInputError) -> InvalidInputError:
        return kind(f"{self.owner}: {self.path!r}: {problem}")


@dataclass(frozen=True, eq=False)
class Checkpoint:
    """Everything :func:`save` wrote: the model and, if they were saved, the rest.

    Attributes
    ----------
    model : Sequential
        The network, with its saved weights.
    optimizer : Optimizer or None
        A new optimizer of the saved class, hyperparameters, step count and state. Its
        state is bound to the model's parameters at its first step: pass it to
        ``checkpoint.model.fit`` (or step it with ``checkpoint.model.parameters()``).
    rng : numpy.random.Generator or None
        A generator in exactly the saved state (its bit generator is rebuilt from the
        state alone, so ``rng.spawn`` does not reproduce the original's children).
    metadata : dict
        The saved metadata: JSON values, and NumPy arrays where arrays were saved.
    """

    model: Sequential
    optimizer: Optimizer | None
    rng: np.random.Generator | None
    metadata: dict[str, Any]
