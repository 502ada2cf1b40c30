"""Dropout: inverted dropout in training only, seeded, and saved with the model.

References: ``torch.nn.functional.dropout`` (its kept values, bit for bit, and its
identity out of training), and the definition (kept fraction, expected value).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neural_network import Dropout, load_checkpoint
from neural_network.errors import InvalidInputError, InvalidOptionError, ShapeMismatchError
from neural_network.layers import Dense
from neural_network.network import Sequential
from neural_network.optimizers import SGD, Adam


def data(rows: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 4))
    y = (X[:, 0] - X[:, 1] > 0).astype(float)
    return X, y


def network(rate: float = 0.5, dropout_rng: object = None, seed: int = 1) -> Sequential:
    return Sequential([
        Dense(4, 16, "relu", rng=seed),
        Dropout(rate, rng=dropout_rng),
        Dense(16, 1, rng=seed + 1),
    ])


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, "0.5", True, None, float("nan")])
def test_rate_must_be_a_probability_below_one(rate) -> None:
    with pytest.raises(InvalidOptionError) as caught:
        Dropout(rate)
    assert "rate" in str(caught.value) and "[0, 1)" in str(caught.value)


def test_rng_must_be_a_generator_or_seed() -> None:
    with pytest.raises(InvalidOptionError, match="rng"):
        Dropout(0.5, rng="seed")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("rate", [0.1, 0.25, 0.5, 0.8])
def test_kept_values_are_torchs_and_the_kept_fraction_is_one_minus_rate(dtype, rate) -> None:
    x = np.random.default_rng(0).standard_normal((400, 250)).astype(dtype)
    torch.manual_seed(0)
    theirs = torch.nn.functional.dropout(torch.from_numpy(x), p=rate, training=True).numpy()
    ours = Dropout(rate, rng=1).forward(x)
    assert ours.dtype == dtype
    kept = ours != 0
    both = kept & (theirs != 0)
    # Where both keep an input, the value is torch's to the last bit: x / (1 - p) as torch scales.
    assert np.array_equal(ours[both], theirs[both])
    # Each input is kept with probability 1 - p: within 5 standard deviations of a binomial.
    n = x.size
    assert abs(kept.mean() - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / n)
    # Inverted dropout keeps the mean: E[A] = x.
    ones = Dropout(rate, rng=2).forward(np.ones((400, 250), dtype=dtype))
    assert abs(float(ones.mean()) - 1.0) < 5 * np.sqrt(rate / (1 - rate) / n)


def test_inference_is_the_identity_as_torch_out_of_training() -> None:
    x = np.random.default_rng(3).standard_normal((5, 7))
    layer = Dropout(0.5, rng=0)
    theirs = torch.nn.functional.dropout(torch.from_numpy(x), p=0.5, training=False).numpy()
    assert np.array_equal(layer.predict(x), theirs)
    assert layer.predict(x) is x


def test_backward_multiplies_by_the_same_mask() -> None:
    layer = Dropout(0.3, rng=4)
    x = np.random.default_rng(5).standard_normal((50, 8))
    out = layer.forward(x)
    mask = np.where(out != 0, 1.0 / (1.0 - 0.3), 0.0)  # x has no zeros
    grad = np.random.default_rng(6).standard_normal((50, 8))
    assert np.array_equal(layer.backward(grad), grad * mask)
    with pytest.raises(ShapeMismatchError):
        layer.backward(np.ones((2, 8)))
    with pytest.raises(InvalidInputError, match="call forward first"):
        Dropout(0.3).backward(grad)


def test_rate_zero_is_the_identity_in_training_too() -> None:
    x = np.random.default_rng(7).standard_normal((3, 4))
    layer = Dropout(0.0)
    assert np.array_equal(layer.forward(x), x)
    assert np.array_equal(layer.backward(x), x)
    assert layer.rng is None  # nothing was drawn


def test_the_same_seed_gives_the_same_masks() -> None:
    x = np.ones((20, 30))
    assert np.array_equal(Dropout(0.5, rng=8).forward(x), Dropout(0.5, rng=8).forward(x))
    assert not np.array_equal(Dropout(0.5, rng=8).forward(x), Dropout(0.5, rng=9).forward(x))
    layer = Dropout(0.5, rng=8)
    assert not np.array_equal(layer.forward(x), layer.forward(x))  # a new mask at every forward


def test_a_network_with_dropout_predicts_as_without() -> None:
    X, _ = data()
    with_dropout = network(0.5, dropout_rng=0)
    without = Sequential([Dense(4, 16, "relu", rng=1), Dense(16, 1, rng=2)])
    assert np.array_equal(with_dropout.predict(X), without.predict(X))
    assert np.array_equal(with_dropout(X), without(X))
    assert with_dropout.layers[1].in_features == with_dropout.layers[1].out_features == 16
    assert with_dropout.parameter_count == without.parameter_count
    assert "Dropout(0.5)" in repr(with_dropout)


def test_dropout_is_active_in_fit_and_seeded_from_fits_rng() -> None:
    X, y = data()
    trained = []
    for _ in range(2):
        model = network(0.5)
        model.fit(X, y, loss="binary_cross_entropy_with_logits", optimizer=SGD(0.1), epochs=2, rng=11)
        trained.append([p.value.copy() for p in model.parameters()])
        assert model.layers[1].rng is not None  # seeded by fit
    for a, b in zip(*trained, strict=True):
        assert np.array_equal(a, b)  # the same fit seed: the same training, masks included
    plain = network(0.0)
    plain.fit(X, y, loss="binary_cross_entropy_with_logits", optimizer=SGD(0.1), epochs=2, rng=11)
    assert not np.array_equal(plain.parameters()[0].value, trained[0][0])  # dropout changed the training


def test_validation_is_measured_without_dropout() -> None:
    X, y = data()
    model = network(0.5, dropout_rng=3)
    history = model.fit(X[:150], y[:150], loss="binary_cross_entropy_with_logits", optimizer=Adam(0.01),
                        epochs=3, validation_data=(X[150:], y[150:]), rng=4)
    outputs = model.predict(X[150:])[:, 0]
    # binary cross-entropy of the logits, computed independently (log1p form)
    expected = float(np.mean(np.maximum(outputs, 0) - outputs * y[150:] + np.log1p(np.exp(-np.abs(outputs)))))
    assert history.val_loss[-1] == pytest.approx(expected, rel=1e-12)


def test_training_with_dropout_still_learns() -> None:
    X, y = data(400)
    model = network(0.2, dropout_rng=5)
    model.fit(X, y, loss="binary_cross_entropy_with_logits", optimizer=Adam(0.01), epochs=40, rng=6)
    assert float(np.mean((model.predict(X)[:, 0] > 0) == (y == 1))) > 0.95


def test_layer_layouts() -> None:
    first = Sequential([Dropout(0.2, rng=0), Dense(4, 3, "relu", rng=1), Dense(3, 2, rng=2), Dropout(0.1, rng=3)])
    assert first.in_features == 4 and first.out_features == 2
    assert first.layers[0].in_features == 4 and first.layers[3].out_features == 2
    X, y = data()
    labels = (y > 0).astype(int)
    first.fit(X, labels, loss="cross_entropy", optimizer=SGD(0.1), epochs=1, rng=0)  # backward skips the first
    with pytest.raises(InvalidOptionError, match="at least one Dense"):
        Sequential([Dropout(0.5)])
    with pytest.raises(ShapeMismatchError, match="layer 0 gives 3 outputs but layer 2"):
        Sequential([Dense(4, 3, rng=0), Dropout(0.5), Dense(4, 1, rng=1)])


def test_saved_and_loaded_with_rate_and_generator_state(tmp_path) -> None:
    X, y = data()
    # Two epochs in one go ...
    whole = network(0.4)
    generator = np.random.default_rng(12)
    whole.fit(X, y, loss="binary_cross_entropy_with_logits", optimizer=Adam(0.01), epochs=2, rng=generator)
    # ... equal one epoch, saved, loaded, then one more: the masks continue where they stopped.
    first = network(0.4)
    generator = np.random.default_rng(12)
    optimizer = Adam(0.01)
    first.fit(X, y, loss="binary_cross_entropy_with_logits", optimizer=optimizer, epochs=1, rng=generator)
    first.save(tmp_path / "run.npz", optimizer=optimizer, rng=generator)
    checkpoint = load_checkpoint(tmp_path / "run.npz")
    loaded = checkpoint.model
    assert isinstance(loaded.layers[1], Dropout) and loaded.layers[1].rate == 0.4
    assert loaded.layers[1].rng is not None
    assert loaded.loss == "binary_cross_entropy_with_logits"
    loaded.fit(X, y, loss="binary_cross_entropy_with_logits", optimizer=checkpoint.optimizer, epochs=1,
               rng=checkpoint.rng)
    for a, b in zip(whole.parameters(), loaded.parameters(), strict=True):
        assert np.array_equal(a.value, b.value)


def test_a_dropout_without_generator_is_saved_without_one(tmp_path) -> None:
    model = network(0.3)
    model.save(tmp_path / "m.npz")
    loaded = load_checkpoint(tmp_path / "m.npz").model
    assert loaded.layers[1].rng is None and loaded.layers[1].rate == 0.3
    X, _ = data()
    assert np.array_equal(loaded.predict(X), model.predict(X))


def test_a_mersenne_twister_generator_is_saved_too(tmp_path) -> None:
    layer = Dropout(0.5, rng=np.random.Generator(np.random.MT19937(3)))
    model = Sequential([Dense(4, 4, rng=0), layer, Dense(4, 1, rng=1)])
    model.save(tmp_path / "m.npz")
    loaded = load_checkpoint(tmp_path / "m.npz").model.layers[1]
    x = np.ones((10, 4))
    assert np.array_equal(loaded.forward(x), layer.forward(x))


def _rewritten(tmp_path, change) -> object:
    """Save a network with a Dropout, change its JSON document, write it back (np.savez)."""
    import json

    path = tmp_path / "m.npz"
    network(0.3, dropout_rng=1).save(path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    document = json.loads(arrays["__model__.json"].tobytes().decode("utf-8"))
    change(document["model"]["layers"][1])
    arrays["__model__.json"] = np.frombuffer(json.dumps(document).encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as file:
        np.savez(file, **arrays)
    return path


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda spec: spec.update(rate=1.5), ["layer 1 cannot be built", "rate must be a number in [0, 1)"]),
        (lambda spec: spec.update(rate="0.3"), ["layer 1", "'rate' must be int or float"]),
        (lambda spec: spec.pop("rng"), ["layer 1 lacks the field 'rng'"]),
        (lambda spec: spec.update(rng={"bit_generator": "Unknown"}), ["bit generator must be one of"]),
        (lambda spec: spec.update({"class": "Dropin"}), ["must be a 'Dense' or 'Dropout' layer"]),
    ],
)
def test_a_damaged_dropout_in_a_file_is_refused(tmp_path, change, words) -> None:
    path = _rewritten(tmp_path, change)
    with pytest.raises(InvalidInputError) as caught:
        load_checkpoint(path)
    for word in words:
        assert word in str(caught.value)
