"""PyTorch tensors that require grad pass through every loss and activation without a warning.

The checks read a tensor's minimum and maximum as Python floats; on a tensor that
requires grad PyTorch warns ("Converting a tensor with requires_grad=True to a scalar"),
and this project's tests turn every warning into an error, as a user's ``-W error``
does. The values must also still carry the autograd graph: a caller may backpropagate
through them.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import neural_network.activations as activations
from loss_catalog import ENTRIES, Entry


@pytest.fixture(autouse=True)
def _warn_every_time():
    # PyTorch gives this warning once a process unless told to warn always.
    before = torch.is_warn_always_enabled()
    torch.set_warn_always(True)
    yield
    torch.set_warn_always(before)


def _tensors(entry: Entry, arrays: tuple[np.ndarray, ...]) -> list[object]:
    out: list[object] = []
    for position, array in enumerate(arrays):
        tensor = torch.as_tensor(array)
        if position in entry.float_arguments and tensor.is_floating_point():
            tensor = tensor.clone().requires_grad_(True)
        out.append(tensor)
    return out


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_every_loss_takes_tensors_that_require_grad_without_a_warning(entry: Entry):
    arguments = _tensors(entry, entry.draw(np.random.default_rng(0), 24))
    for reduction in entry.reductions:
        value = entry.value(*arguments, reduction=reduction, **entry.options)
        entry.grad(*arguments, reduction=reduction, **entry.options)
        assert isinstance(value, torch.Tensor)
    if entry.extreme is not None:
        entry.value(*_tensors(entry, entry.extreme()), reduction=entry.reductions[0], **entry.options)


ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "softplus", "softmax", "log_softmax"]


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_takes_a_tensor_that_requires_grad_without_a_warning(name: str):
    Z = torch.linspace(-5, 5, 12, dtype=torch.float64).reshape(3, 4).requires_grad_(True)
    value = getattr(activations, name)(Z)
    if name in ("softmax", "log_softmax"):
        getattr(activations, f"{name}_grad")(Z, torch.ones_like(Z))
    else:
        getattr(activations, f"{name}_grad")(Z)
    value.sum().backward()  # the graph is still there
    assert Z.grad is not None
