"""RMSprop (:class:`RMSprop`): steps divided by the root of a running mean of the squared gradient."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from neural_network.optimizers._base import Optimizer, with_decoupled
from neural_network.optimizers._options import DECAY_RATE, DECOUPLED, NON_NEGATIVE, POSITIVE, flag, number
from neural_network.optimizers._state import Buffers

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSprop: steps divided by the root of a running mean of the squared gradient.

    With :math:`v_0 = \bar g_0 = b_0 = 0`:

    .. math::

        g_t &\leftarrow g_t + \lambda w_{t-1} \\
        v_t &= \alpha v_{t-1} + (1 - \alpha) g_t^2 \\
        \bar g_t &= \alpha \bar g_{t-1} + (1 - \alpha) g_t, \quad
        r_t = \sqrt{v_t - \bar g_t^2} + \epsilon \text{ (centered)}, \quad
        \text{else } r_t = \sqrt{v_t} + \epsilon \\
        b_t &= \mu b_{t-1} + g_t / r_t, \quad w_t = w_{t-1} - \eta b_t
              \quad\text{(momentum)}, \quad\text{else } w_t = w_{t-1} - \eta\, g_t / r_t

    In words: each weight's step is its gradient divided by the root of the recent mean
    of its squared gradient (centered: of its variance); epsilon is added after the root,
    as in ``torch.optim.RMSprop`` (Hinton, Lecture 6e; centered: Graves 2013).

    Parameters
    ----------
    learning_rate : float, default 0.01
        Step size :math:`\eta \ge 0` (PyTorch's ``lr``).
    alpha : float, default 0.99, keyword-only
        Decay rate in [0, 1) of the running means.
    epsilon : float, default 1e-8, keyword-only
        :math:`\epsilon > 0`, keeps the step finite where :math:`v_t = 0` (PyTorch's ``eps``).
    momentum : float, default 0.0, keyword-only
        :math:`\mu \in [0, 1)`.
    centered : bool, default False, keyword-only
        Divide by an estimate of the standard deviation of the gradient instead of its
        root mean square.
    weight_decay : float, default 0.0, keyword-only
        L2 penalty :math:`\lambda \ge 0` added to the gradient.
    decoupled_weight_decay : bool, default False, keyword-only
        Decay the weights directly, ``w *= 1 - learning_rate * weight_decay`` before the
        step, instead of adding ``weight_decay * w`` to the gradient: AdamW's decoupled
        decay (Loshchilov & Hutter 2019), for this optimizer too. Only with
        ``weight_decay > 0`` does it change anything.

    Examples
    --------
    >>> from neural_network.parameters import Parameter
    >>> w = Parameter("w", np.array([1.0, -2.0]))
    >>> w.grad[:] = [0.5, -0.5]
    >>> RMSprop(0.01).step([w])   # first step: g / (sqrt(0.01 g^2) + epsilon), about 10 sign(g)
    >>> print(w.value.round(6))
    [ 0.9 -1.9]
    """

    # The update rule, the formulas above: ``w`` and ``g`` are one parameter's values and
    # gradient (or all of a model's at once, as one flat array each), updated in place.
    def _update(self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers) -> None:
        g = self._decay(w, g)
        v = state["square_avg"]
        v *= self.alpha
        v += (1 - self.alpha) * g * g
        if self.centered:
            g_avg = state["grad_avg"]
            g_avg += (1 - self.alpha) * (g - g_avg)  # torch's lerp_, as in Adam
            # v - g_avg^2 >= 0 in exact arithmetic, but after a long run of equal gradients
            # it is a difference of nearly equal numbers and can round below 0; the clamp
            # keeps the root real (torch would return NaN there), and changes nothing else.
            root = np.sqrt(np.maximum(v - g_avg * g_avg, 0)) + self.epsilon
        else:
            root = np.sqrt(v) + self.epsilon
        if self.momentum != 0:
            b = state["momentum_buffer"]
            b *= self.momentum
            b += g / root
            w -= self.learning_rate * b
        else:
            w -= self.learning_rate * (g / root)

    def __init__(
        self,
        learning_rate: float = 0.01,
        *,
        alpha: float = 0.99,
        epsilon: float = 1e-8,
        momentum: float = 0.0,
        centered: bool = False,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
    ) -> None:
        owner = type(self).__name__
        super().__init__(learning_rate)
        self.alpha = number(owner, "alpha", alpha, DECAY_RATE)
        self.epsilon = number(owner, "epsilon", epsilon, POSITIVE)
        self.momentum = number(owner, "momentum", momentum, DECAY_RATE)
        self.centered = flag(owner, "centered", centered)
        self.weight_decay = number(owner, "weight_decay", weight_decay, NON_NEGATIVE)
        self.decoupled_weight_decay = flag(owner, DECOUPLED, decoupled_weight_decay)

    def hyperparameters(self) -> dict[str, float | bool]:
        return with_decoupled(self, {
            "learning_rate": self.learning_rate,
            "alpha": self.alpha,
            "epsilon": self.epsilon,
            "momentum": self.momentum,
            "centered": self.centered,
            "weight_decay": self.weight_decay,
        })

    def _buffer_names(self) -> tuple[str, ...]:
        names: tuple[str, ...] = ("square_avg",)
        if self.centered:
            names += ("grad_avg",)
        if self.momentum != 0:
            names += ("momentum_buffer",)
        return names
