"""Ranking: losses over lists of scores or pairs of them.

* ``_softmax``: optax's ranking softmax loss, one loss per list.
* ``_margin``: PyTorch's margin ranking loss over pairs.
"""

from neural_network.losses.ranking._margin import margin_ranking_loss as margin_ranking_loss
from neural_network.losses.ranking._margin import margin_ranking_loss_grad as margin_ranking_loss_grad
from neural_network.losses.ranking._softmax import ranking_softmax_loss as ranking_softmax_loss
from neural_network.losses.ranking._softmax import ranking_softmax_loss_grad as ranking_softmax_loss_grad

__all__ = [
    "margin_ranking_loss",
    "margin_ranking_loss_grad",
    "ranking_softmax_loss",
    "ranking_softmax_loss_grad",
]
