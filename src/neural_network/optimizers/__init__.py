r"""Optimizers: SGD, Adam, AdamW and RMSprop, each a small class with its update rule in view.

An optimizer turns gradients into parameter updates. Each one reads ``p.grad`` of every
:class:`~neural_network.parameters.Parameter` it is given and updates ``p.value`` in
place, so every view of the array (a layer's ``weights``) sees the new values::

    optimizer = Adam(0.001)
    for X, y in batches:
        ...                                 # forward, loss, backward fill every p.grad
        optimizer.step(network.parameters())

The update rules are those of ``torch.optim`` (PyTorch 2.13): the same formulas, the
same place for epsilon, the same bias correction and the same first step of the
momentum buffer, so a model trained here follows the same path as in PyTorch, to
rounding (the tests compare both over many steps, to 1e-12 in float64).

``weight_decay`` is PyTorch's on every optimizer: an L2 penalty added to the gradient
(``g + weight_decay * w``), except on :class:`AdamW`, whose decay is decoupled from the
gradient (``w *= 1 - learning_rate * weight_decay`` before the step). With
``decoupled_weight_decay=True``, SGD, Adam and RMSprop decay that way too (Adam then is
AdamW, as ``torch.optim.Adam(decoupled_weight_decay=True)``); the default is 0 (no decay)
everywhere but AdamW (0.01, as PyTorch). PyTorch's option names get an error that says
ours: ``SGD(lr=0.1)`` asks for ``learning_rate=``.

Per-parameter state (momentum buffers, Adam's moments) is created on the first step,
in the parameter's dtype, and stays tied to the parameters of that step, by position:
an optimizer must always be stepped with the same parameters. :meth:`Optimizer.state_dict`
saves the hyperparameters, the step count and that state; :meth:`Optimizer.load_state_dict`
restores them so that training continues exactly as if it had never stopped.

Where to read on
----------------
One module a concept: :mod:`.sgd`, :mod:`.adam` (Adam and AdamW) and :mod:`.rmsprop`
hold the update rules, each near the top of its class, below its formulas. The
machinery they share is in :mod:`._base` (the :class:`Optimizer` base class: checking
the parameters of a step, tying the state to them, saving and restoring it), with
:mod:`._state` (the saved state's checks), :mod:`._flat` (one update for all of a
model's parameters at once) and :mod:`._options` (the checks of every option).
:mod:`._registry` knows the optimizers by name (:func:`get_optimizer`).
"""

from neural_network.optimizers._base import Optimizer
from neural_network.optimizers._registry import OPTIMIZERS as OPTIMIZERS
from neural_network.optimizers._registry import get_optimizer
from neural_network.optimizers._state import Buffers as Buffers
from neural_network.optimizers.adam import Adam, AdamW
from neural_network.optimizers.rmsprop import RMSprop
from neural_network.optimizers.sgd import SGD

__all__ = ["SGD", "Adam", "AdamW", "Optimizer", "RMSprop", "get_optimizer"]
