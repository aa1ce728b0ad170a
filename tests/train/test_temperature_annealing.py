"""TemperatureAnnealing follows Jang et al.'s schedule inside model.fit."""

import math

import keras
import numpy as np
import pytest

from keras_zoo import layers
from keras_zoo.train.callbacks import TemperatureAnnealing


def _model():
    inputs = keras.Input((3,))
    logits = keras.layers.Dense(4)(inputs)
    model = keras.Model(inputs, layers.RelaxedOneHotCategorical(1.0, seed=0)(logits))
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_schedule_values():
    cb = TemperatureAnnealing(initial_temperature=1.0, min_temperature=0.5, rate=1e-4,
                              update_every=1000)
    # Python floats (IEEE double, the same everywhere): exp(-0) and the floor are exact.
    assert cb.temperature_at(0) == 1.0
    assert cb.temperature_at(999) == 1.0  # held between updates
    assert cb.temperature_at(1500) == pytest.approx(math.exp(-0.1))
    assert cb.temperature_at(10**6) == 0.5  # the floor


def test_fit_anneals_the_layer_variable_and_resumes():
    model = _model()
    x, y = np.ones((14, 3), np.float32), np.zeros((14, 4), np.float32)
    cb = TemperatureAnnealing(initial_temperature=2.0, min_temperature=0.1, rate=0.05,
                              update_every=3)
    history = model.fit(x, y, batch_size=2, epochs=1, callbacks=[cb], verbose=0)
    # 7 steps (iterations 0..6): the last update was at step 6.
    variable = model.layers[-1].temperature_variable
    assert float(variable.numpy()) == pytest.approx(2.0 * math.exp(-0.05 * 6), rel=1e-6)
    assert history.history["temperature"][-1] == pytest.approx(2.0 * math.exp(-0.3), rel=1e-6)
    # A second fit continues from the optimizer's iteration count (7 .. 13: update at 12).
    model.fit(x, y, batch_size=2, epochs=1, callbacks=[cb], verbose=0)
    assert float(variable.numpy()) == pytest.approx(2.0 * math.exp(-0.05 * 12), rel=1e-6)


def test_model_without_a_sampler_raises():
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="temperature_variable"):
        model.fit(np.ones((2, 3)), np.ones((2, 2)), verbose=0, callbacks=[TemperatureAnnealing()])
