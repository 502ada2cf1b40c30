"""Stochastic gradient descent (:class:`SGD`), with momentum, Nesterov momentum and weight decay."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from neural_network.errors import InvalidOptionError
from neural_network.optimizers._base import Optimizer, with_decoupled
from neural_network.optimizers._options import DECAY_RATE, DECOUPLED, FRACTION, NON_NEGATIVE, flag, number
from neural_network.optimizers._state import Buffers

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.

    With gradient :math:`g_t`, weights :math:`w`, learning rate :math:`\eta`, momentum
    :math:`\mu`, dampening :math:`\tau` and weight decay :math:`\lambda`:

    .. math::

        g_t &\leftarrow g_t + \lambda w_{t-1} \\
        b_1 &= g_1, \qquad b_t = \mu b_{t-1} + (1 - \tau) g_t \\
        d_t &= g_t + \mu b_t \text{ (Nesterov)}, \quad\text{else } d_t = b_t
              \quad (d_t = g_t \text{ without momentum}) \\
        w_t &= w_{t-1} - \eta d_t

    In words: ``g += weight_decay * w``; ``b = g`` at the first step, then
    ``b = momentum * b + (1 - dampening) * g``; ``w -= learning_rate * (g + momentum * b)``
    with Nesterov, else ``w -= learning_rate * b``. This is ``torch.optim.SGD`` exactly,
    including the undamped first buffer (Sutskever et al. 2013 scale ``lr`` into the
    buffer instead; the two agree for a constant learning rate).

    Parameters
    ----------
    learning_rate : float, default 0.01
        Step size :math:`\eta \ge 0` (PyTorch's ``lr``, whose default is 1e-3; 0.01 is Keras's).
    momentum : float, default 0.0, keyword-only
        Fraction :math:`\mu \in [0, 1)` of the previous step kept.
    nesterov : bool, default False, keyword-only
        Nesterov momentum: look ahead along the buffer. Needs ``momentum > 0`` and
        ``dampening == 0``.
    weight_decay : float, default 0.0, keyword-only
        L2 penalty :math:`\lambda \ge 0` added to the gradient.
    dampening : float, default 0.0, keyword-only
        :math:`\tau \in [0, 1]`, scales down each new gradient in the buffer.
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
    >>> SGD(0.1).step([w])
    >>> print(w.value)
    [ 0.95 -1.95]
    """

    # The update rule, the formulas above: ``w`` and ``g`` are one parameter's values and
    # gradient (or all of a model's at once, as one flat array each), updated in place.
    def _update(self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers) -> None:
        self._rule(w, self._decay(w, g), state, w)

    def _update_into(
        self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers, out: NDArray[np.floating]
    ) -> None:
        if type(self)._update is not SGD._update:  # a subclass's own rule: copy, then update
            super()._update_into(w, g, state, out)
        elif self.weight_decay != 0 and self.decoupled_weight_decay:
            # _decay's w *= 1 - learning_rate * weight_decay, written into out, which is w from then on
            np.multiply(w, 1 - self.learning_rate * self.weight_decay, out=out)
            self._rule(out, g, state, out)
        else:
            self._rule(w, self._decay(w, g), state, out)  # L2 decay reads w and leaves it

    def _rule(
        self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers, out: NDArray[np.floating]
    ) -> None:
        """The step from ``w`` along ``g`` (weight decay applied), written into ``out``."""
        if self.momentum != 0:
            if "momentum_buffer" not in state:
                # np.array, not g.copy(): for a 0-d parameter, g may be a NumPy scalar,
                # and the buffer must be an array to be updated in place.
                state["momentum_buffer"] = np.array(g, dtype=w.dtype)
            else:
                b = state["momentum_buffer"]
                b *= self.momentum
                b += (1 - self.dampening) * g
            b = state["momentum_buffer"]
            g = g + self.momentum * b if self.nesterov else b
        # w -= learning_rate * g, the product written into a work array rather than a new one
        np.subtract(w, np.multiply(g, self.learning_rate, out=self._work(w)), out=out)

    def __init__(
        self,
        learning_rate: float = 0.01,
        *,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
        dampening: float = 0.0,
        decoupled_weight_decay: bool = False,
    ) -> None:
        owner = type(self).__name__
        super().__init__(learning_rate)
        self.momentum = number(owner, "momentum", momentum, DECAY_RATE)
        self.nesterov = flag(owner, "nesterov", nesterov)
        self.weight_decay = number(owner, "weight_decay", weight_decay, NON_NEGATIVE)
        self.dampening = number(owner, "dampening", dampening, FRACTION)
        self.decoupled_weight_decay = flag(owner, DECOUPLED, decoupled_weight_decay)
        if self.nesterov and (self.momentum == 0 or self.dampening != 0):
            raise InvalidOptionError(
                f"{owner}: nesterov=True needs momentum > 0 and dampening = 0; got momentum={momentum!r}, "
                f"dampening={dampening!r}. Nesterov momentum looks ahead along the momentum buffer: "
                "pass e.g. momentum=0.9, or nesterov=False."
            )

    def hyperparameters(self) -> dict[str, float | bool]:
        return with_decoupled(self, {
            "learning_rate": self.learning_rate,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
            "dampening": self.dampening,
        })

    def _buffer_names(self) -> tuple[str, ...]:
        return ("momentum_buffer",) if self.momentum != 0 else ()

    def _new_buffers(self, value: NDArray[np.floating]) -> Buffers:
        return {}  # the momentum buffer starts as the first gradient, in _update
