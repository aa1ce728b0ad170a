"""StochasticDepth (Huang et al. 2016): one Bernoulli per sample, seeded, 5-sigma tolerances.

Exact comparisons: masks are 0/1, so the outputs are x, x + fx or one float32 add."""

import keras
import numpy as np
import pytest

from keras_zoo import layers
from tests.harness import assert_config_matches_signature, run_layer_test


def test_round_trip_and_expectation_at_inference(tmp_path):
    rng = np.random.default_rng(0)
    x, fx = rng.normal(size=(2, 4, 4, 3)).astype("float32"), rng.normal(size=(2, 4, 4, 3))
    fx = fx.astype("float32")
    out = run_layer_test(layers.StochasticDepth, {"rate": 0.25, "seed": 3}, [x, fx], tmp_path,
                         expected_output_shape=(2, 4, 4, 3))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), x + 0.75 * fx, atol=1e-6)


def test_mask_is_constant_within_a_sample_and_has_the_right_frequency():
    rate, samples = 0.3, 20000
    x = np.zeros((samples, 3, 3, 4), "float32")
    y = keras.ops.convert_to_numpy(
        layers.StochasticDepth(rate, seed=7)([x, np.ones_like(x)], training=True))
    assert set(np.unique(y)) == {0.0, 1.0}  # no rescaling in training
    flat = y.reshape(samples, -1)
    assert np.all(flat.min(1) == flat.max(1))  # one Bernoulli per sample
    keep = flat[:, 0].mean()
    assert abs(keep - (1 - rate)) < 5 * np.sqrt(rate * (1 - rate) / samples)
    r = np.corrcoef(flat[1:, 0], flat[:-1, 0])[0, 1]  # samples independent of each other
    assert abs(r) < 5 / np.sqrt(samples)


def test_monte_carlo_mean_equals_deterministic_output():
    rng = np.random.default_rng(1)
    rate, draws = 0.4, 4000
    x = rng.normal(size=(1, 2, 2, 3)).astype("float32")
    fx = rng.normal(size=(1, 2, 2, 3)).astype("float32")
    layer = layers.StochasticDepth(rate, seed=2)
    samples = keras.ops.convert_to_numpy(
        layer([np.repeat(x, draws, 0), np.repeat(fx, draws, 0)], training=True))
    expected = keras.ops.convert_to_numpy(layer([x, fx]))[0]
    np.testing.assert_allclose(expected, x[0] + (1 - rate) * fx[0], atol=1e-6)
    std = np.sqrt(rate * (1 - rate)) * np.abs(fx[0])
    assert np.all(np.abs(samples.mean(0) - expected) <= 5 * std / np.sqrt(draws) + 1e-6)


def test_edge_rates_and_stochastic_inference():
    x = np.zeros((64, 2, 2, 2), "float32")
    fx = np.ones_like(x)
    never = layers.StochasticDepth(0.0, seed=1)([x, fx], training=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(never), x + fx)
    always = layers.StochasticDepth(1.0, seed=1)([x, fx], training=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(always), x)
    layer = layers.StochasticDepth(0.5, seed=1)
    sampled = keras.ops.convert_to_numpy(layer([x, fx], stochastic=True))
    assert set(np.unique(sampled)) == {0.0, 1.0}
    layer.stochastic_inference = True
    assert set(np.unique(keras.ops.convert_to_numpy(layer([x, fx])))) == {0.0, 1.0}


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="Expected `rate` to be a float in"):
        layers.StochasticDepth(1.2)
    with pytest.raises(ValueError, match="Expected StochasticDepth to be called on a list"):
        layers.StochasticDepth(0.5)(np.ones((2, 3), "float32"))


def test_config_matches_signature():
    assert_config_matches_signature(layers.StochasticDepth(0.2, seed=5), {"rate": 0.2, "seed": 5})
