"""Hostile input to the library: each gets a clear error of its own, never a wrong number.

Masked arrays, training that diverges, an empty training set, a random generator that
is not one, NumPy integers where Python's are expected.
"""

from __future__ import annotations

import numpy as np
import pytest

import neural_network.activations as activations
from loss_catalog import ENTRIES, Entry
from neural_network import SGD, Dense, Sequential, mse_loss
from neural_network.errors import InvalidInputError, InvalidOptionError, InvalidTypeError, NonFiniteError

# --------------------------------------------------------------------------- masked arrays


def test_a_masked_prediction_is_refused_rather_than_half_honoured():
    # Honouring the mask gives 9.667, ignoring it 27.5; NumPy's arithmetic under the hood
    # gave 7.5, neither. The error says how to choose.
    masked = np.ma.array([1.0, 2, 3, 4], mask=[1, 0, 0, 0])
    with pytest.raises(InvalidTypeError, match=r"masked array.*compressed\(\).*filled\(value\)"):
        mse_loss(masked, np.array([10.0, 0, 0, 0]))


def test_a_nan_under_a_mask_does_not_slip_past_the_checks():
    masked = np.ma.array([np.nan, 2.0], mask=[1, 0])
    with pytest.raises(InvalidTypeError, match="y_pred is a masked array"):
        mse_loss(masked, np.array([1.0, 2.0]))


def test_masked_sample_weights_are_refused():
    weights = np.ma.array([1.0, 2.0], mask=[0, 1])
    with pytest.raises(InvalidTypeError, match="sample_weight is a masked array"):
        mse_loss(np.array([1.0, 2.0]), np.array([0.0, 0.0]), sample_weight=weights)


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda entry: entry.name)
def test_every_loss_refuses_a_masked_argument(entry: Entry):
    arguments = list(entry.draw(np.random.default_rng(0), 12))
    for position in entry.float_arguments:
        masked = list(arguments)
        masked[position] = np.ma.masked_array(arguments[position], mask=np.zeros(np.shape(arguments[position])))
        for function in (entry.value, entry.grad):
            with pytest.raises(InvalidTypeError, match="masked array"):
                function(*masked, **entry.options)


@pytest.mark.parametrize("name", ["sigmoid", "relu", "tanh", "softmax"])
def test_activations_and_networks_refuse_masked_input(name: str):
    masked = np.ma.array([[1.0, -2.0]], mask=[[0, 1]])
    with pytest.raises(InvalidTypeError, match="Z is a masked array"):
        getattr(activations, name)(masked)
    with pytest.raises(InvalidTypeError, match="X is a masked array"):
        Sequential([Dense(2, 1, rng=0)]).predict(masked)


# --------------------------------------------------------------------------- training that diverges


def _diverging_model_and_data() -> tuple[Sequential, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    model = Sequential([Dense(3, 4, "relu", rng=2), Dense(4, 1, rng=3)])
    return model, rng.normal(size=(16, 3)) * 1e6, rng.normal(size=(16, 1)) * 1e6


def test_a_divergence_in_the_last_step_raises_and_leaves_finite_weights():
    # One epoch of one batch: the only step diverges and no later loss would show it.
    # Before, fit returned normally (loss 3.8e12 reported) with NaN weights.
    model, X, y = _diverging_model_and_data()
    before = [parameter.value.copy() for parameter in model.parameters()]
    with pytest.raises(NonFiniteError, match=r"diverged.*back to those before the step.*learning rate"):
        model.fit(X, y, loss="mse_loss", optimizer=SGD(1e300), epochs=1, batch_size=16, rng=0)
    for saved, parameter in zip(before, model.parameters(), strict=True):
        np.testing.assert_array_equal(parameter.value, saved)
    assert np.isfinite(model.predict(X)).all()


def test_a_divergence_within_training_restores_the_weights_of_the_last_finite_loss():
    model, X, y = _diverging_model_and_data()
    with pytest.raises(NonFiniteError, match="diverged"):  # no RuntimeWarning either: warnings are errors here
        model.fit(X, y, loss="mse_loss", optimizer=SGD(1e300), epochs=5, batch_size=4, rng=0)
    assert all(np.isfinite(parameter.value).all() for parameter in model.parameters())
    assert np.isfinite(float(mse_loss(model.predict(X), y)))


# --------------------------------------------------------------------------- fit's arguments


def test_fit_on_no_rows_says_so():
    model = Sequential([Dense(3, 1, rng=0)])
    with pytest.raises(InvalidInputError, match="X has no rows"):
        model.fit(np.zeros((0, 3)), np.zeros((0, 1)), loss="mse_loss", optimizer=SGD(0.1), epochs=1)
    with pytest.raises(InvalidInputError, match="validation_data has no rows"):
        model.fit(np.ones((4, 3)), np.ones((4, 1)), loss="mse_loss", optimizer=SGD(0.1), epochs=1,
                  validation_data=(np.zeros((0, 3)), np.zeros((0, 1))))


@pytest.mark.parametrize("rng", ["a", 1.5, -1, True, np.random.RandomState(0)])
def test_an_rng_that_is_neither_a_generator_nor_a_seed_is_refused(rng: object):
    with pytest.raises(InvalidOptionError, match=r"rng must be a numpy\.random\.Generator, a seed"):
        Dense(3, 1, rng=rng)
    model = Sequential([Dense(3, 1, rng=0)])
    with pytest.raises(InvalidOptionError, match=r"rng must be a numpy\.random\.Generator, a seed"):
        model.fit(np.ones((4, 3)), np.ones((4, 1)), loss="mse_loss", optimizer=SGD(0.1), epochs=1, rng=rng)


def test_numpy_integers_are_taken_wherever_python_integers_are():
    X, y = np.random.default_rng(5).normal(size=(20, 3)), np.random.default_rng(6).normal(size=(20, 1))
    results = []
    for integer in (int, np.int64):
        model = Sequential([Dense(integer(3), integer(2), "tanh", rng=integer(7)), Dense(2, 1, rng=8)])
        history = model.fit(X, y, loss="mse_loss", optimizer=SGD(0.05), epochs=integer(3),
                            batch_size=integer(8), rng=integer(9))
        results.append((history.loss, model.predict(X)))
    assert results[0][0] == results[1][0]
    np.testing.assert_array_equal(results[0][1], results[1][1])
