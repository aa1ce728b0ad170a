"""Swapout (Singh et al. 2016): statistical checks with a seed and 5-sigma tolerances.

With x = 1 and fx = 2 every output unit is 0, 1, 2 or 3 and decodes to its
masks: Θ1 = y mod 2, Θ2 = y div 2. Such small integers (and x + fx, one float32
add) are exact on any CPU, so they are compared exactly.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo import layers
from tests.harness import assert_config_matches_signature, run_layer_test


def _decode(layer, shape):
    x = np.ones(shape, "float32")
    y = keras.ops.convert_to_numpy(layer([x, 2 * x], training=True))
    assert set(np.unique(y)) <= {0.0, 1.0, 2.0, 3.0}  # no rescaling in training
    return y % 2, y // 2


def _five_sigma(p, n):
    return 5 * np.sqrt(p * (1 - p) / n)


def test_round_trip_and_deterministic_inference(tmp_path):
    rng = np.random.default_rng(0)
    x, fx = rng.normal(size=(2, 4, 4, 3)).astype("float32"), rng.normal(size=(2, 4, 4, 3))
    fx = fx.astype("float32")
    out = run_layer_test(layers.Swapout, {"keep_x": 0.7, "keep_fx": 0.4, "seed": 3}, [x, fx],
                         tmp_path, expected_output_shape=(2, 4, 4, 3))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out), 0.7 * x + 0.4 * fx, atol=1e-6)


@pytest.mark.parametrize("keep_x, keep_fx", [(0.5, 0.5), (0.8, 0.3), (0.0, 0.4), (0.25, 1.0)])
def test_mask_frequencies_and_joint_law(keep_x, keep_fx):
    t1, t2 = _decode(layers.Swapout(keep_x, keep_fx, seed=11), (32, 16, 16, 32))
    n = t1.size  # 262144 units
    assert abs(t1.mean() - keep_x) <= _five_sigma(keep_x, n)
    assert abs(t2.mean() - keep_fx) <= _five_sigma(keep_fx, n)
    # Each unit reports 0, x, F(x), x + F(x) with the product probabilities (Θ1 ⊥ Θ2).
    for a, b in [(0, 0), (1, 0), (0, 1), (1, 1)]:
        p = (keep_x if a else 1 - keep_x) * (keep_fx if b else 1 - keep_fx)
        freq = np.mean((t1 == a) & (t2 == b))
        assert abs(freq - p) <= _five_sigma(p, n), (a, b, freq, p)


def test_masks_are_independent_per_unit():
    t1, t2 = _decode(layers.Swapout(0.5, 0.5, seed=5), (32, 16, 16, 32))
    n = t1[..., :-1].size
    bound = 5 / np.sqrt(n)  # the sample correlation of independent masks is ~N(0, 1/n)
    pairs = {
        "channels": (t1[..., 1:], t1[..., :-1]),
        "width": (t1[:, :, 1:], t1[:, :, :-1]),
        "batch": (t1[1:], t1[:-1]),
        "theta1-theta2": (t1, t2),
    }
    for what, (a, b) in pairs.items():
        r = np.corrcoef(a.ravel(), b.ravel())[0, 1]
        assert abs(r) < 5 / np.sqrt(a.size), (what, r, bound)
    # Not one mask per sample or per pixel: within a pixel the 32 channels differ.
    constant_pixels = np.mean(t1.min(-1) == t1.max(-1))
    assert constant_pixels < 1e-3


def test_monte_carlo_mean_equals_deterministic_output():
    rng = np.random.default_rng(1)
    keep_x, keep_fx, draws = 0.6, 0.75, 4000
    x = rng.normal(size=(1, 3, 3, 4)).astype("float32")
    fx = rng.normal(size=(1, 3, 3, 4)).astype("float32")
    layer = layers.Swapout(keep_x, keep_fx, seed=2)
    samples = keras.ops.convert_to_numpy(
        layer([np.repeat(x, draws, 0), np.repeat(fx, draws, 0)], training=True))
    expected = keras.ops.convert_to_numpy(layer([x, fx], training=False))[0]
    np.testing.assert_allclose(expected, keep_x * x[0] + keep_fx * fx[0], atol=1e-6)
    var = keep_x * (1 - keep_x) * x[0] ** 2 + keep_fx * (1 - keep_fx) * fx[0] ** 2
    err = np.abs(samples.mean(0) - expected)
    assert np.all(err <= 5 * np.sqrt(var / draws) + 1e-6), err.max()


def test_special_cases_are_exact():
    rng = np.random.default_rng(2)
    x, fx = rng.normal(size=(4, 5, 5, 2)).astype("float32"), rng.normal(size=(4, 5, 5, 2))
    fx = fx.astype("float32")
    resnet = layers.Swapout(1.0, 1.0, seed=1)([x, fx], training=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(resnet), x + fx)
    skip = layers.Swapout(1.0, 0.0, seed=1)([x, fx], training=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(skip), x)


def test_inference_switch_call_argument_attribute_and_trace():
    layer = layers.Swapout(0.5, 0.5, seed=3)
    x = np.ones((8, 4, 4, 8), "float32")
    det = keras.ops.convert_to_numpy(layer([x, 2 * x]))
    np.testing.assert_array_equal(det, np.full_like(x, 1.5))
    sampled = keras.ops.convert_to_numpy(layer([x, 2 * x], stochastic=True))
    assert set(np.unique(sampled)) == {0.0, 1.0, 2.0, 3.0}

    traced_det = tf.function(lambda a, b: layer([a, b]))
    np.testing.assert_array_equal(traced_det(x, 2 * x).numpy(), det)
    layer.stochastic_inference = True
    traced_stochastic = tf.function(lambda a, b: layer([a, b]))
    first = traced_stochastic(x, 2 * x).numpy()
    layer.stochastic_inference = False
    # The mode is fixed when traced: each graph keeps its own behaviour.
    second = traced_stochastic(x, 2 * x).numpy()
    assert set(np.unique(first)) == {0.0, 1.0, 2.0, 3.0}
    assert not np.array_equal(first, second)  # fresh masks per call
    np.testing.assert_array_equal(traced_det(x, 2 * x).numpy(), det)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer([x, 2 * x], stochastic=False)), det)


def test_seeded_layers_repeat_their_masks():
    x = np.ones((4, 6, 6, 8), "float32")
    a = layers.Swapout(0.5, 0.5, seed=42)([x, 2 * x], training=True)
    b = layers.Swapout(0.5, 0.5, seed=42)([x, 2 * x], training=True)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))


def test_gradients_flow_through_kept_units_only():
    layer = layers.Swapout(0.5, 0.5, seed=9)
    x = tf.ones((2, 4, 4, 8))
    fx = 2 * tf.ones((2, 4, 4, 8))
    with tf.GradientTape() as tape:
        tape.watch(fx)
        y = layer([x, fx], training=True)
        total = tf.reduce_sum(y)
    grad = tape.gradient(total, fx).numpy()
    np.testing.assert_array_equal(grad, (y.numpy() // 2))  # dY/dF(x) = Θ2


@pytest.mark.parametrize("kwargs", [{"keep_x": 1.5, "keep_fx": 0.5},
                                    {"keep_x": 0.5, "keep_fx": -0.1},
                                    {"keep_x": "0.5", "keep_fx": 0.5}])
def test_bad_probabilities_raise(kwargs):
    with pytest.raises(ValueError, match="Expected `keep_"):
        layers.Swapout(**kwargs)


def test_bad_inputs_raise():
    layer = layers.Swapout(0.5, 0.5)
    with pytest.raises(ValueError, match=r"Expected Swapout to be called on a list \[x, fx\]"):
        layer(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="Expected x and fx of the same shape"):
        layer([np.ones((2, 3), "float32"), np.ones((2, 4), "float32")])


def test_config_matches_signature():
    assert_config_matches_signature(layers.Swapout(0.9, 0.1, seed=4, name="merge"),
                                    {"keep_x": 0.9, "keep_fx": 0.1, "seed": 4})
