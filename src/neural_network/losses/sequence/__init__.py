"""Sequences: losses between a sequence of class scores and a shorter label sequence.

* ``_ctc``: connectionist temporal classification.
"""

from neural_network.losses.sequence._ctc import ctc_loss as ctc_loss
from neural_network.losses.sequence._ctc import ctc_loss_grad as ctc_loss_grad

__all__ = [
    "ctc_loss",
    "ctc_loss_grad",
]
