"""FrozenBatchNormalization: harness checks, a NumPy reference of
y = (x - mean) / sqrt(var + eps) * gamma + beta, agreement with BatchNormalization at
inference, the same map in training, weights that copy one to one and never train,
mixed precision and errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.layers import FrozenBatchNormalization
from tests.harness import run_layer_test

EPS32 = float(np.finfo(np.float32).eps)


def random_statistics(layer, rng):
    """Non-trivial gamma, beta, moving mean and variance (in BatchNormalization's order)."""
    shape = layer.weights[0].shape
    layer.set_weights([rng.uniform(0.5, 1.5, shape), rng.normal(0, 0.5, shape),
                       rng.normal(0, 2.0, shape), rng.uniform(0.1, 3.0, shape)])


def reference(layer, x, axis=-1):
    """The map in float64, and the magnitude m = |x s| + |mean s| + |beta| of its terms.

    The layer computes s = gamma * rsqrt(var + eps), o = beta - mean * s, y = x * s + o: a
    few roundings (rsqrt within 2 ulps, then products and sums), each at most eps times
    the magnitude it rounds, so a result in float32 is within 8 eps32 m of y.
    """
    gamma, beta, mean, var = (np.asarray(w, "float64") for w in layer.get_weights())
    shape = [1] * x.ndim
    shape[axis] = -1
    gamma, beta, mean, var = (v.reshape(shape) for v in (gamma, beta, mean, var))
    scale = gamma / np.sqrt(var + layer.epsilon)
    x = np.asarray(x, "float64")
    y = (x - mean) * scale + beta
    return y, np.abs(x * scale) + np.abs(mean * scale) + np.abs(beta)


def test_harness_round_trip_and_config(tmp_path):
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 3)).astype("float32")
    out = run_layer_test(FrozenBatchNormalization, {"epsilon": 1e-3, "trainable_affine": True},
                         x, tmp_path, expected_output_shape=(2, 5, 5, 3))
    # Fresh weights (gamma 1, beta 0, mean 0, var 1): y = x / sqrt(1 + eps).
    np.testing.assert_allclose(np.asarray(out), x / np.sqrt(1 + 1e-3), rtol=4 * EPS32)


@pytest.mark.parametrize("axis, shape", [(-1, (3, 4, 5, 6)), (1, (3, 6, 4, 5)), (1, (7, 6))])
def test_matches_numpy_reference_in_training_and_inference(axis, shape):
    rng = np.random.default_rng(1)
    layer = FrozenBatchNormalization(axis=axis)
    x = rng.normal(0, 3.0, shape).astype("float32")
    layer.build(x.shape)
    random_statistics(layer, rng)
    expected, magnitude = reference(layer, x, axis)
    bound = 8 * EPS32 * magnitude
    for training in (False, True):  # the same map in both modes
        got = np.asarray(layer(x, training=training), "float64")
        assert np.all(np.abs(got - expected) <= bound), (training, np.abs(got - expected).max())


def test_equals_batch_normalization_at_inference_with_the_same_weights():
    rng = np.random.default_rng(2)
    x = rng.normal(0, 3.0, (4, 6, 6, 8)).astype("float32")
    bn = keras.layers.BatchNormalization(epsilon=1e-3)
    bn.build(x.shape)
    random_statistics(bn, rng)
    frozen = FrozenBatchNormalization(epsilon=1e-3)
    frozen.build(x.shape)
    frozen.set_weights(bn.get_weights())  # one to one, in BatchNormalization's order
    assert [w.name for w in frozen.weights] == [w.name for w in bn.weights] == [
        "gamma", "beta", "moving_mean", "moving_variance"]
    bound = 8 * EPS32 * reference(frozen, x)[1]
    # Both are within `bound` of the exact map, hence within 2 * bound of each other.
    got, want = np.asarray(frozen(x, training=True)), np.asarray(bn(x, training=False))
    assert np.all(np.abs(got - want) <= 2 * bound), np.abs(got - want).max()
    # BatchNormalization in training uses the batch statistics: it differs, frozen does not.
    assert np.abs(np.asarray(bn(x, training=True)) - want).max() > 0.1


@pytest.mark.parametrize("trainable_affine", [False, True])
def test_a_fit_step_changes_none_of_its_statistics(trainable_affine):
    rng = np.random.default_rng(3)
    frozen = FrozenBatchNormalization(trainable_affine=trainable_affine)
    model = keras.Sequential([keras.Input((4, 4, 3)), keras.layers.Conv2D(5, 3), frozen,
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    random_statistics(frozen, rng)
    assert len(frozen.trainable_weights) == (2 if trainable_affine else 0)
    assert len(frozen.non_trainable_weights) == (2 if trainable_affine else 4)
    before = [np.array(w) for w in frozen.weights]
    conv_before = np.array(model.layers[0].kernel)
    model.compile(keras.optimizers.SGD(0.1), "mse")
    model.fit(rng.normal(size=(8, 4, 4, 3)), rng.normal(size=(8, 2)), batch_size=4, verbose=0)
    after = [np.array(w) for w in frozen.weights]
    for name, b, a in zip(("gamma", "beta", "moving_mean", "moving_variance"), before, after):
        if trainable_affine and name in ("gamma", "beta"):
            assert np.abs(a - b).max() > 0, name
        else:  # never assigned: the same bits
            np.testing.assert_array_equal(a, b, err_msg=name)
    assert np.abs(np.array(model.layers[0].kernel) - conv_before).max() > 0  # the step ran


def test_mixed_bfloat16_runs_in_bfloat16_with_float32_weights():
    rng = np.random.default_rng(4)
    x = rng.normal(0, 3.0, (2, 4, 4, 8)).astype("float32")
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        layer = FrozenBatchNormalization()
        layer.build(x.shape)
        random_statistics(layer, rng)
        y = layer(x)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert y.dtype == tf.bfloat16 and all(w.dtype == "float32" for w in layer.weights)
    expected, magnitude = reference(layer, x)
    # bfloat16 keeps 8 significant bits (eps 2^-7): x, scale, offset, the product and the
    # sum round once each (half an eps each), so the error stays within 4 eps16 m.
    bound = 4 * 2.0**-7 * magnitude
    got = np.asarray(tf.cast(y, tf.float32), "float64")
    assert np.all(np.abs(got - expected) <= bound)


@pytest.mark.parametrize("kwargs, shape, match", [
    ({"epsilon": 0.0}, None, "Expected `epsilon` to be a float > 0"),
    ({"epsilon": "1e-5"}, None, "Expected `epsilon` to be a float > 0"),
    ({"axis": (1, 2)}, None, "Expected `axis` to be an int"),
    ({"axis": 4}, (2, 3, 3, 4), "Expected inputs with a known size along axis=4"),
    ({}, (2, 3, 3, None), "Expected inputs with a known size along axis=-1"),
])
def test_bad_arguments(kwargs, shape, match):
    with pytest.raises(ValueError, match=match):
        FrozenBatchNormalization(**kwargs).build(shape)
