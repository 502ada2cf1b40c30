"""``Dense``'s initial weights: each scheme's distribution, reproducibility, and bad names.

The references are the schemes' definitions (He: normal with standard deviation
sqrt(2 / fan_in); Glorot: uniform in ±sqrt(6 / (fan_in + fan_out)); PyTorch's
``nn.Linear``: weights and bias uniform in ±1/sqrt(fan_in)), checked on large layers
with bounds stated in each test, scipy's Kolmogorov-Smirnov test against the named
distribution, and ``torch.nn.Linear``'s own draw.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import stats

from neural_network.errors import InvalidOptionError
from neural_network.layers import Dense
from neural_network.network import Sequential
from neural_network.serialization import load, save

FAN_IN, FAN_OUT = 400, 2500
"""A large layer: 1,000,000 weights, and 2,500 biases for ``torch``'s bias draw."""
N = FAN_IN * FAN_OUT
SIGMAS = 6.0
"""Every bound on an estimate below is this many of its standard errors: a correct draw
fails it with probability about 2e-9 (normal tails), and each test uses a fixed seed."""
KS_P_FLOOR = 1e-6
"""A Kolmogorov-Smirnov p-value below this rejects the distribution (a correct draw:
probability 1e-6 for the fixed seed)."""


def _std_bound(kurtosis: float) -> float:
    """SIGMAS standard errors of the sample standard deviation over sigma, for N draws.

    Var(s^2) ≈ sigma^4 (kurtosis - 1) / N, so s / sigma has standard error
    sqrt(kurtosis - 1) / (2 sqrt(N)) (delta method); kurtosis 3 for a normal, 9/5 for a uniform.
    """
    return SIGMAS * math.sqrt(kurtosis - 1.0) / (2.0 * math.sqrt(N))


def test_he_is_normal_with_std_sqrt_2_over_fan_in() -> None:
    layer = Dense(FAN_IN, FAN_OUT, "relu", rng=0, init="he")
    w = layer.weights.ravel()
    sigma = math.sqrt(2.0 / FAN_IN)
    assert layer.init == "he"
    assert abs(w.mean()) < SIGMAS * sigma / math.sqrt(N)
    assert abs(w.std() / sigma - 1.0) < _std_bound(3.0)
    assert stats.kstest(w, stats.norm(0.0, sigma).cdf).pvalue > KS_P_FLOOR
    np.testing.assert_array_equal(layer.bias, np.zeros(FAN_OUT))


def test_glorot_is_uniform_within_sqrt_6_over_fan_in_plus_fan_out() -> None:
    layer = Dense(FAN_IN, FAN_OUT, "tanh", rng=0, init="glorot")
    w = layer.weights.ravel()
    limit = math.sqrt(6.0 / (FAN_IN + FAN_OUT))
    assert np.all(np.abs(w) <= limit)
    # The largest |w| of N uniform draws is below limit * (1 - 2e-5) with probability e^-20.
    assert np.abs(w).max() > limit * (1.0 - 2e-5)
    assert abs(w.mean()) < SIGMAS * (limit / math.sqrt(3.0)) / math.sqrt(N)
    assert abs(w.std() / (limit / math.sqrt(3.0)) - 1.0) < _std_bound(9.0 / 5.0)
    assert stats.kstest(w, stats.uniform(-limit, 2.0 * limit).cdf).pvalue > KS_P_FLOOR
    np.testing.assert_array_equal(layer.bias, np.zeros(FAN_OUT))


def test_torch_draws_weights_and_bias_uniform_within_one_over_sqrt_fan_in() -> None:
    layer = Dense(FAN_IN, FAN_OUT, "relu", rng=0, init="torch")
    limit = 1.0 / math.sqrt(FAN_IN)
    w, b = layer.weights.ravel(), layer.bias
    assert layer.init == "torch"
    assert np.all(np.abs(w) <= limit) and np.all(np.abs(b) <= limit)
    assert np.abs(w).max() > limit * (1.0 - 2e-5)
    assert abs(w.std() / (limit / math.sqrt(3.0)) - 1.0) < _std_bound(9.0 / 5.0)
    uniform = stats.uniform(-limit, 2.0 * limit).cdf
    assert stats.kstest(w, uniform).pvalue > KS_P_FLOOR
    assert stats.kstest(b, uniform).pvalue > KS_P_FLOOR
    # Weights and bias are independent draws: their correlation over FAN_OUT columns is
    # within SIGMAS / sqrt(FAN_OUT) of 0.
    assert abs(np.corrcoef(layer.weights[0], b)[0, 1]) < SIGMAS / math.sqrt(FAN_OUT)


def test_torch_matches_torch_nn_linear_draw() -> None:
    """The same distribution as PyTorch's own default (two-sample Kolmogorov-Smirnov)."""
    torch.manual_seed(0)
    reference = torch.nn.Linear(FAN_IN, FAN_OUT, dtype=torch.float64)
    layer = Dense(FAN_IN, FAN_OUT, "relu", rng=1, init="torch")
    weight = reference.weight.detach().numpy()
    bias = reference.bias.detach().numpy()
    assert np.abs(weight).max() <= 1.0 / math.sqrt(FAN_IN)
    assert stats.ks_2samp(layer.weights.ravel(), weight.ravel()).pvalue > KS_P_FLOOR
    assert stats.ks_2samp(layer.bias, bias).pvalue > KS_P_FLOOR


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "sigmoid", "tanh", None])
def test_auto_is_glorot_for_every_activation(activation: str | None) -> None:
    """The default chosen by ``benchmarks/bench_init.py`` (see ``Dense``'s docstring)."""
    auto = Dense(30, 20, activation, rng=5)
    glorot = Dense(30, 20, activation, rng=5, init="glorot")
    assert auto.init == "glorot"
    np.testing.assert_array_equal(auto.weights, glorot.weights)
    np.testing.assert_array_equal(auto.bias, glorot.bias)


@pytest.mark.parametrize("init", ["auto", "he", "glorot", "torch"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_seeded_draws_repeat(init: str, dtype: type[np.floating]) -> None:
    first = Dense(7, 5, "relu", rng=3, init=init, dtype=dtype)
    again = Dense(7, 5, "relu", rng=np.random.default_rng(3), init=init, dtype=dtype)
    other = Dense(7, 5, "relu", rng=4, init=init, dtype=dtype)
    assert first.weights.dtype == np.dtype(dtype) and first.bias.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(first.weights, again.weights)
    np.testing.assert_array_equal(first.bias, again.bias)
    assert not np.array_equal(first.weights, other.weights)


@pytest.mark.parametrize("init", ["he", "glorot", "torch"])
def test_layers_sharing_a_generator_differ_and_repeat(init: str) -> None:
    def build() -> list[Dense]:
        rng = np.random.default_rng(11)
        return [Dense(6, 6, "relu", rng=rng, init=init) for _ in range(2)]

    first, second = build()
    assert not np.array_equal(first.weights, second.weights)
    np.testing.assert_array_equal(build()[1].weights, second.weights)


@pytest.mark.parametrize("bad", ["xavier", "kaiming", "He", "", None, 1, "torch "])
def test_unknown_init_names_argument_choices_and_value(bad: object) -> None:
    with pytest.raises(InvalidOptionError) as caught:
        Dense(3, 2, "relu", init=bad)
    message = str(caught.value)
    assert "init" in message
    for accepted in ("'auto'", "'he'", "'glorot'", "'torch'"):
        assert accepted in message
    assert f"got {bad!r}" in message


@pytest.mark.parametrize("init", ["he", "glorot", "torch"])
def test_init_survives_the_model_file(init: str, tmp_path: Path) -> None:
    model = Sequential([Dense(4, 3, "relu", rng=2, init=init), Dense(3, 1, rng=3, init=init)])
    path = tmp_path / "model.npz"
    save(model, path)
    loaded = load(path)
    for before, after in zip(model.layers, loaded.layers, strict=True):
        assert isinstance(before, Dense) and isinstance(after, Dense)
        assert after.init == init
        np.testing.assert_array_equal(after.weights, before.weights)
        np.testing.assert_array_equal(after.bias, before.bias)
