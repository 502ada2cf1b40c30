"""Adam and AdamW: steps scaled by running means of the gradient and of its square.

:class:`AdamW` is :class:`Adam` with its weight decay decoupled from the gradient; both
share the Adam step (``Adam._adam_step``) and differ only in where the decay acts.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from neural_network.errors import InvalidOptionError, describe
from neural_network.optimizers._base import Optimizer, with_decoupled
from neural_network.optimizers._options import DECAY_RATE, DECOUPLED, NON_NEGATIVE, POSITIVE, flag, number
from neural_network.optimizers._state import Buffers

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    r"""Adam: steps scaled by running means of the gradient and of its square.

    With gradient :math:`g_t` at step :math:`t = 1, 2, \dots`, :math:`m_0 = v_0 = 0`:

    .. math::

        g_t &\leftarrow g_t + \lambda w_{t-1} \quad\text{(L2 weight decay, if } \lambda > 0) \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t \\
        v_t &= \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        \hat v_t &= \max(\hat v_{t-1}, v_t) \text{ (AMSGrad)}, \quad\text{else } \hat v_t = v_t \\
        w_t &= w_{t-1} - \frac{\eta}{1 - \beta_1^t} \cdot
               \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    In words: ``m`` and ``v`` are running means of ``g`` and ``g**2``; dividing by
    ``1 - beta**t`` undoes their bias toward the zeros they start from. Epsilon is added
    to the bias-corrected root, as in ``torch.optim.Adam`` (Kingma & Ba 2015, Algorithm 1).
    ``weight_decay`` adds ``weight_decay * w`` to the gradient, as PyTorch's Adam does;
    for decoupled weight decay use :class:`AdamW`.

    Parameters
    ----------
    learning_rate : float, default 0.001
        Step size :math:`\eta \ge 0` (PyTorch's ``lr``).
    beta1, beta2 : float, default 0.9 and 0.999, keyword-only
        Decay rates in [0, 1) of the two running means (PyTorch's ``betas``).
    epsilon : float, default 1e-8, keyword-only
        :math:`\epsilon > 0`, keeps the step finite where :math:`v_t = 0` (PyTorch's ``eps``).
    weight_decay : float, default 0.0, keyword-only
        L2 penalty :math:`\lambda \ge 0` added to the gradient.
    amsgrad : bool, default False, keyword-only
        Divide by the largest :math:`v` seen so far (Reddi et al. 2018).
    decoupled_weight_decay : bool, default False, keyword-only
        Decay the weights directly, ``w *= 1 - learning_rate * weight_decay`` before the
        step, instead of adding ``weight_decay * w`` to the gradient: AdamW's decoupled
        decay (Loshchilov & Hutter 2019), as :class:`AdamW` and ``torch.optim.Adam(decoupled_weight_decay=True)``. Only with
        ``weight_decay > 0`` does it change anything.

    Examples
    --------
    >>> from neural_network.parameters import Parameter
    >>> w = Parameter("w", np.array([1.0, -2.0]))
    >>> w.grad[:] = [0.5, -0.5]
    >>> Adam(0.1).step([w])   # the first step moves each weight by about learning_rate
    >>> print(w.value)
    [ 0.9 -1.9]
    """

    # The update rule, the formulas above: ``w`` and ``g`` are one parameter's values and
    # gradient (or all of a model's at once, as one flat array each), updated in place.
    def _update(self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers) -> None:
        self._adam_step(w, self._decay(w, g), state)

    def _update_into(
        self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers, out: NDArray[np.floating]
    ) -> None:
        if type(self)._update not in (Adam._update, AdamW._update):  # a subclass's own rule
            super()._update_into(w, g, state, out)
        elif self.weight_decay != 0 and self.decoupled_weight_decay:
            # the decay's w *= 1 - learning_rate * weight_decay, written into out, which is w from then on
            np.multiply(w, 1 - self.learning_rate * self.weight_decay, out=out)
            self._adam_step(out, g, state)
        else:
            self._adam_step(w, self._decay(w, g), state, out)  # L2 decay reads w and leaves it

    def _adam_step(
        self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers, out: NDArray[np.floating] | None = None
    ) -> None:
        """The step from ``w`` along ``g`` (weight decay applied), into ``out`` (None: ``w`` itself)."""
        t = self.step_count
        m, v = state["exp_avg"], state["exp_avg_sq"]
        # Each operation below is one of the formulas' own, in their order, written into
        # one work array instead of a new array each (the same roundings, so the same bits).
        work = self._work(w)
        # m moves the fraction (1 - beta1) of the way to g: the same running mean as
        # beta1 * m + (1 - beta1) * g, written as torch's lerp_ writes it:
        # m += (1 - beta1) * (g - m).
        np.subtract(g, m, out=work)
        np.multiply(work, 1 - self.beta1, out=work)
        np.add(m, work, out=m)
        # v = beta2 * v + ((1 - beta2) * g) * g
        np.multiply(v, self.beta2, out=v)
        np.multiply(g, 1 - self.beta2, out=work)
        np.multiply(work, g, out=work)
        np.add(v, work, out=v)
        if self.amsgrad:
            v_max = state["max_exp_avg_sq"]
            np.maximum(v_max, v, out=v_max)
            v = v_max
        bias_correction1 = 1 - self.beta1**t
        bias_correction2 = 1 - self.beta2**t
        step_size = self.learning_rate / bias_correction1
        # w -= step_size * (m / (sqrt(v) / sqrt(bias_correction2) + epsilon))
        np.sqrt(v, out=work)
        np.divide(work, math.sqrt(bias_correction2), out=work)
        np.add(work, self.epsilon, out=work)
        np.divide(m, work, out=work)
        np.multiply(work, step_size, out=work)
        np.subtract(w, work, out=w if out is None else out)

    def __init__(
        self,
        learning_rate: float = 0.001,
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        owner = type(self).__name__
        super().__init__(learning_rate)
        self.beta1 = number(owner, "beta1", beta1, DECAY_RATE)
        self.beta2 = number(owner, "beta2", beta2, DECAY_RATE)
        self.epsilon = number(owner, "epsilon", epsilon, POSITIVE)
        self.weight_decay = number(owner, "weight_decay", weight_decay, NON_NEGATIVE)
        self.amsgrad = flag(owner, "amsgrad", amsgrad)
        self.decoupled_weight_decay = flag(owner, DECOUPLED, decoupled_weight_decay)

    def hyperparameters(self) -> dict[str, float | bool]:
        options: dict[str, float | bool] = {
            "learning_rate": self.learning_rate,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "epsilon": self.epsilon,
            "weight_decay": self.weight_decay,
            "amsgrad": self.amsgrad,
        }
        return options if isinstance(self, AdamW) else with_decoupled(self, options)

    def _buffer_names(self) -> tuple[str, ...]:
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if self.amsgrad else ("exp_avg", "exp_avg_sq")


class AdamW(Adam):
    r"""Adam with decoupled weight decay: the weights shrink directly, not through the gradient.

    .. math::

        w_{t-1} &\leftarrow (1 - \eta \lambda)\, w_{t-1} \\
        m_t &= \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad
        v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2 \\
        w_t &= w_{t-1} - \frac{\eta}{1 - \beta_1^t} \cdot
               \frac{m_t}{\sqrt{\hat v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    In words: ``w *= 1 - learning_rate * weight_decay``, then the :class:`Adam` step
    with the plain gradient (``v_hat`` is ``v``, or its running maximum with
    ``amsgrad=True``). Unlike L2 decay, the shrinkage is not divided by
    :math:`\sqrt{v}`, so every weight decays at the same rate (Loshchilov & Hutter 2019).
    The decay is multiplied by the learning rate, as in ``torch.optim.AdamW``.

    Parameters
    ----------
    learning_rate : float, default 0.001
        Step size :math:`\eta \ge 0`.
    beta1, beta2, epsilon, amsgrad
        As for :class:`Adam`.
    weight_decay : float, default 0.01, keyword-only
        Decoupled decay :math:`\lambda \ge 0`.
    decoupled_weight_decay : True, keyword-only
        Accepted (True only) so that every optimizer can be made with
        ``decoupled_weight_decay=True``, e.g. by :func:`get_optimizer`.

    Examples
    --------
    >>> from neural_network.parameters import Parameter
    >>> w = Parameter("w", np.array([1.0, -2.0]))
    >>> AdamW(0.1, weight_decay=0.5).step([w])   # zero gradient: only the decay acts
    >>> print(w.value)
    [ 0.95 -1.9 ]
    """

    decoupled_weight_decay = True

    # The update rule, the formulas above: ``w`` and ``g`` are one parameter's values and
    # gradient (or all of a model's at once, as one flat array each), updated in place.
    def _update(self, w: NDArray[np.floating], g: NDArray[np.floating], state: Buffers) -> None:
        if self.weight_decay != 0:
            w *= 1 - self.learning_rate * self.weight_decay
        self._adam_step(w, g, state)

    def __init__(
        self,
        learning_rate: float = 0.001,
        *,
        beta1: float = 0.9,
        beta2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.01,
        amsgrad: bool = False,
        decoupled_weight_decay: bool = True,
    ) -> None:
        if decoupled_weight_decay is not True:
            raise InvalidOptionError(
                f"AdamW: decoupled_weight_decay must be True, as AdamW's decay always is (the option "
                f"exists so that every optimizer takes it); got {describe(decoupled_weight_decay)}. "
                "For L2 decay through the gradient use Adam(weight_decay=...)."
            )
        super().__init__(
            learning_rate,
            beta1=beta1,
            beta2=beta2,
            epsilon=epsilon,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            decoupled_weight_decay=True,
        )
