"""Embeddings: losses over rows of features (similarities, distances, contrastive batches).

* ``_feature_rows``: the shared checks, and norms and cosines without overflow, in double length.
* ``_cosine``: cosine embedding and cosine similarity.
* ``_triplet``: the triplet margin losses.
* ``_ntxent``: NT-Xent (SimCLR's contrastive loss).
* ``_circle``: the circle loss (Keras's).
"""

from neural_network.losses.embedding._circle import circle_loss as circle_loss
from neural_network.losses.embedding._circle import circle_loss_grad as circle_loss_grad
from neural_network.losses.embedding._cosine import cosine_embedding_loss as cosine_embedding_loss
from neural_network.losses.embedding._cosine import cosine_embedding_loss_grad as cosine_embedding_loss_grad
from neural_network.losses.embedding._cosine import cosine_similarity_loss as cosine_similarity_loss
from neural_network.losses.embedding._cosine import cosine_similarity_loss_grad as cosine_similarity_loss_grad
from neural_network.losses.embedding._ntxent import ntxent_loss as ntxent_loss
from neural_network.losses.embedding._ntxent import ntxent_loss_grad as ntxent_loss_grad
from neural_network.losses.embedding._triplet import triplet_margin_loss as triplet_margin_loss
from neural_network.losses.embedding._triplet import triplet_margin_loss_grad as triplet_margin_loss_grad
from neural_network.losses.embedding._triplet import (
    triplet_margin_with_distance_loss as triplet_margin_with_distance_loss,
)
from neural_network.losses.embedding._triplet import (
    triplet_margin_with_distance_loss_grad as triplet_margin_with_distance_loss_grad,
)

__all__ = [
    "circle_loss",
    "circle_loss_grad",
    "cosine_embedding_loss",
    "cosine_embedding_loss_grad",
    "cosine_similarity_loss",
    "cosine_similarity_loss_grad",
    "ntxent_loss",
    "ntxent_loss_grad",
    "triplet_margin_loss",
    "triplet_margin_loss_grad",
    "triplet_margin_with_distance_loss",
    "triplet_margin_with_distance_loss_grad",
]
