"""Decoupled weight decay on every optimizer (``decoupled_weight_decay=True``), and ``lr=``.

References: ``torch.optim.AdamW`` and ``torch.optim.Adam(decoupled_weight_decay=True)``
for Adam; for SGD and RMSprop, which PyTorch decays only through the gradient (L2), a
derivation by hand: ``w <- (1 - lr * wd) w``, then the optimizer's own step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from neural_network import load_checkpoint
from neural_network.errors import InvalidOptionError
from neural_network.layers import Dense
from neural_network.network import Sequential
from neural_network.optimizers import SGD, Adam, AdamW, RMSprop, get_optimizer
from neural_network.parameters import Parameter

W0 = [0.8, -1.5, 0.25, 2.0]
GRADIENTS = [[0.5, -0.25, 1.0, 0.1], [-0.3, 0.2, 0.4, -1.2], [0.05, 0.6, -0.7, 0.3], [1.1, -0.9, 0.0, 0.2]]


def run(optimizer, steps: int = len(GRADIENTS)) -> np.ndarray:
    w = Parameter("w", np.array(W0))
    for g in GRADIENTS[:steps]:
        w.grad[:] = g
        optimizer.step([w])
    return w.value


def run_torch(make, steps: int = len(GRADIENTS)) -> np.ndarray:
    w = torch.nn.Parameter(torch.tensor(W0, dtype=torch.float64))
    optimizer = make([w])
    for g in GRADIENTS[:steps]:
        w.grad = torch.tensor(g, dtype=torch.float64)
        optimizer.step()
    return w.detach().numpy()


def test_adam_with_decoupled_decay_is_torchs_adamw() -> None:
    ours = run(Adam(0.01, weight_decay=0.1, decoupled_weight_decay=True))
    adamw = run_torch(lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=0.1))
    decoupled_adam = run_torch(lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.1, decoupled_weight_decay=True))
    np.testing.assert_allclose(ours, adamw, rtol=1e-12, atol=0)
    np.testing.assert_allclose(ours, decoupled_adam, rtol=1e-12, atol=0)
    assert np.array_equal(ours, run(AdamW(0.01, weight_decay=0.1)))


def test_adamw_keeps_working_as_torchs() -> None:
    ours = run(AdamW(0.02, weight_decay=0.3, amsgrad=True))
    theirs = run_torch(lambda p: torch.optim.AdamW(p, lr=0.02, weight_decay=0.3, amsgrad=True))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=0)
    assert AdamW().weight_decay == 0.01 == torch.optim.AdamW([torch.zeros(1)]).defaults["weight_decay"]


def test_sgd_with_decoupled_decay_by_hand() -> None:
    lr, wd = 0.1, 0.05
    w = [float(v) for v in W0]
    for g in GRADIENTS:
        w = [(1 - lr * wd) * wi - lr * gi for wi, gi in zip(w, g, strict=True)]
    np.testing.assert_allclose(run(SGD(lr, weight_decay=wd, decoupled_weight_decay=True)), w, rtol=1e-14)


def test_sgd_momentum_with_decoupled_decay_by_hand() -> None:
    lr, wd, mu = 0.1, 0.2, 0.9
    w = [float(v) for v in W0]
    buffer: list[float] | None = None
    for g in GRADIENTS:
        w = [(1 - lr * wd) * wi for wi in w]  # the decay does not enter the momentum buffer
        buffer = list(g) if buffer is None else [mu * b + gi for b, gi in zip(buffer, g, strict=True)]
        w = [wi - lr * b for wi, b in zip(w, buffer, strict=True)]
    ours = run(SGD(lr, momentum=mu, weight_decay=wd, decoupled_weight_decay=True))
    np.testing.assert_allclose(ours, w, rtol=1e-14)


def test_sgd_default_decay_is_still_torchs_l2() -> None:
    coupled = run(SGD(0.1, weight_decay=0.05))
    np.testing.assert_allclose(coupled, run_torch(lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.05)),
                               rtol=1e-14)
    # Without momentum the two are the same update; with momentum the decay enters the
    # buffer only when coupled.
    momentum = {"momentum": 0.9, "weight_decay": 0.05}
    assert not np.allclose(run(SGD(0.1, **momentum)), run(SGD(0.1, **momentum, decoupled_weight_decay=True)),
                           rtol=1e-9)


def test_rmsprop_with_decoupled_decay_by_hand() -> None:
    lr, wd, alpha, eps = 0.01, 0.1, 0.99, 1e-8
    w = [float(v) for v in W0]
    v = [0.0] * len(w)
    for g in GRADIENTS:
        w = [(1 - lr * wd) * wi for wi in w]
        v = [alpha * vi + (1 - alpha) * gi * gi for vi, gi in zip(v, g, strict=True)]
        w = [wi - lr * gi / (math.sqrt(vi) + eps) for wi, gi, vi in zip(w, g, v, strict=True)]
    ours = run(RMSprop(lr, alpha=alpha, epsilon=eps, weight_decay=wd, decoupled_weight_decay=True))
    np.testing.assert_allclose(ours, w, rtol=1e-12)


def test_zero_gradient_only_the_decay_acts() -> None:
    w = Parameter("w", np.array([1.0, -2.0]))
    SGD(0.1, weight_decay=0.5, decoupled_weight_decay=True).step([w])
    np.testing.assert_allclose(w.value, [0.95, -1.9], rtol=1e-15)


def test_defaults_are_no_decay_but_adamws() -> None:
    for optimizer in (SGD(), Adam(), RMSprop()):
        assert optimizer.weight_decay == 0.0 and optimizer.decoupled_weight_decay is False
    assert AdamW().decoupled_weight_decay is True


@pytest.mark.parametrize("make", [SGD, Adam, RMSprop, AdamW])
def test_weight_decay_is_validated(make) -> None:
    with pytest.raises(InvalidOptionError) as caught:
        make(weight_decay=-0.1)
    assert "weight_decay" in str(caught.value) and "[0, inf)" in str(caught.value)
    with pytest.raises(InvalidOptionError, match="weight_decay"):
        make(weight_decay="0.1")


@pytest.mark.parametrize("make", [SGD, Adam, RMSprop])
def test_decoupled_flag_is_validated(make) -> None:
    with pytest.raises(InvalidOptionError, match="decoupled_weight_decay must be True or False"):
        make(decoupled_weight_decay="yes")


def test_repr_state_and_model_file_keep_the_flag(tmp_path) -> None:
    optimizer = SGD(0.1, momentum=0.9, weight_decay=0.01, decoupled_weight_decay=True)
    assert repr(optimizer) == (
        "SGD(learning_rate=0.1, momentum=0.9, nesterov=False, weight_decay=0.01, dampening=0.0, "
        "decoupled_weight_decay=True)"
    )
    assert repr(eval(repr(optimizer), {"SGD": SGD})) == repr(optimizer)
    assert "decoupled" not in repr(SGD()) and "decoupled" not in repr(AdamW())
    fresh = SGD()
    fresh.load_state_dict(optimizer.state_dict())
    assert fresh.decoupled_weight_decay is True
    back = SGD(0.1, weight_decay=0.01, decoupled_weight_decay=True)
    back.load_state_dict(SGD().state_dict())  # a state without the key: the default, coupled
    assert back.decoupled_weight_decay is False

    model = Sequential([Dense(3, 2, rng=0)])
    X = np.random.default_rng(0).normal(size=(8, 3))
    model.fit(X, X[:, :2], loss="mse_loss", optimizer=optimizer, epochs=1, rng=0)
    model.save(tmp_path / "m.npz", optimizer=optimizer)
    loaded = load_checkpoint(tmp_path / "m.npz").optimizer
    assert isinstance(loaded, SGD) and loaded.decoupled_weight_decay is True and loaded.weight_decay == 0.01


def test_decay_in_training_shrinks_the_weights() -> None:
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 10))
    y = X[:, 0] + 0.1 * rng.normal(size=200)
    norms = []
    for decay in (0.0, 0.5):
        model = Sequential([Dense(10, 32, "relu", rng=2), Dense(32, 1, rng=3)])
        model.fit(X, y, loss="mse_loss", optimizer=SGD(0.05, weight_decay=decay, decoupled_weight_decay=True),
                  epochs=20, rng=4)
        norms.append(float(np.sum(model.layers[0].weights ** 2)))
    assert norms[1] < 0.5 * norms[0]


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(lr=0.1),
        lambda: Adam(lr=0.1),
        lambda: AdamW(lr=0.1),
        lambda: RMSprop(lr=0.1),
        lambda: get_optimizer("sgd", lr=0.1),
    ],
    ids=["SGD", "Adam", "AdamW", "RMSprop", "get_optimizer"],
)
def test_lr_gets_an_error_that_says_learning_rate(make) -> None:
    with pytest.raises(InvalidOptionError) as caught:
        make()
    assert "learning_rate=" in str(caught.value) and "lr" in str(caught.value)


def test_torch_eps_and_betas_get_our_names() -> None:
    with pytest.raises(InvalidOptionError, match="epsilon="):
        Adam(eps=1e-6)
    with pytest.raises(InvalidOptionError, match="beta1= and beta2="):
        Adam(betas=(0.9, 0.99))


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "rmsprop"])
def test_every_optimizer_takes_decoupled_decay_by_name(name) -> None:
    optimizer = get_optimizer(name, learning_rate=0.01, weight_decay=0.1, decoupled_weight_decay=True)
    assert optimizer.decoupled_weight_decay is True and optimizer.weight_decay == 0.1
    w = Parameter("w", np.array([2.0]))
    w.grad[:] = 0.0
    optimizer.step([w])
    assert w.value[0] == pytest.approx(2.0 * (1 - 0.01 * 0.1), rel=1e-15)  # zero gradient: only the decay


def test_adamw_refuses_coupled_decay() -> None:
    with pytest.raises(InvalidOptionError, match="AdamW: decoupled_weight_decay must be True"):
        AdamW(decoupled_weight_decay=False)
