"""RelaxedOneHotCategorical and RelaxedBernoulli layers (Jang et al. 2016; Maddison et al. 2016).

Exact comparisons only for 0/1 outputs (argmax, threshold, straight-through samples)
and a saved weight."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo import layers
from tests.harness import run_layer_test

LOGITS = np.array([1.0, 0.0, -1.0, 0.5], np.float32)


@pytest.mark.parametrize("init_kwargs", [
    dict(temperature=0.7, hard=True, inference_output="softmax", seed=3),
    dict(temperature=2.0, hard=False, inference_output="argmax", seed=None),
])
def test_categorical_layer_harness(init_kwargs, tmp_path):
    x = tf.constant(np.random.default_rng(0).normal(size=(3, 5, 4)).astype(np.float32))
    out = run_layer_test(layers.RelaxedOneHotCategorical, init_kwargs, x, tmp_path,
                         expected_output_shape=(3, 5, 4)).numpy()
    if init_kwargs["inference_output"] == "argmax":
        np.testing.assert_array_equal(out, np.eye(4, dtype=np.float32)[x.numpy().argmax(-1)])
    else:
        expected = tf.nn.softmax(x / init_kwargs["temperature"]).numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("init_kwargs", [
    dict(temperature=0.7, hard=True, inference_output="sigmoid", seed=3),
    dict(temperature=2.0, hard=False, inference_output="threshold", seed=None),
])
def test_bernoulli_layer_harness(init_kwargs, tmp_path):
    x = tf.constant(np.random.default_rng(0).normal(size=(3, 6)).astype(np.float32))
    out = run_layer_test(layers.RelaxedBernoulli, init_kwargs, x, tmp_path,
                         expected_output_shape=(3, 6)).numpy()
    if init_kwargs["inference_output"] == "threshold":
        np.testing.assert_array_equal(out, (x.numpy() > 0).astype(np.float32))
    else:
        np.testing.assert_allclose(out, 1 / (1 + np.exp(-x.numpy() / 0.7)), rtol=1e-6)


def test_categorical_training_samples_follow_softmax():
    # 20000 draws; chi-square with 3 dof, critical value 16.27 at p = 0.001.
    layer = layers.RelaxedOneHotCategorical(0.5, seed=1)
    y = layer(np.broadcast_to(LOGITS, (20000, 4)), training=True).numpy()
    np.testing.assert_allclose(y.sum(-1), 1.0, atol=1e-6)
    counts = np.bincount(y.argmax(-1), minlength=4)
    expected = np.exp(LOGITS) / np.exp(LOGITS).sum() * len(y)
    assert ((counts - expected) ** 2 / expected).sum() < 16.27
    # Soft samples: not one-hot at tau = 0.5.
    assert (y.max(-1) < 0.99).mean() > 0.2


def test_hard_layer_is_one_hot_with_gradient():
    layer = layers.RelaxedOneHotCategorical(0.5, hard=True, seed=1)
    logits = tf.Variable(np.broadcast_to(LOGITS, (32, 4)))
    with tf.GradientTape() as tape:
        y = layer(logits, training=True)
        loss = tf.reduce_sum(y * tf.range(4, dtype=y.dtype))
    np.testing.assert_array_equal(np.sort(y.numpy(), -1)[:, -1], 1.0)
    np.testing.assert_array_equal(y.numpy().sum(-1), 1.0)
    assert np.abs(tape.gradient(loss, logits).numpy()).max() > 1e-3


def test_bernoulli_training_samples_follow_sigmoid():
    # P(y > 0.5) = sigmoid(logit); 4-sigma binomial interval at n = 20000.
    layer = layers.RelaxedBernoulli(0.5, seed=2)
    n, logit = 20000, 0.8
    y = layer(np.full((n,), logit, np.float32), training=True).numpy()
    p = 1 / (1 + math.exp(-logit))
    assert abs((y > 0.5).mean() - p) < 4 * math.sqrt(p * (1 - p) / n)
    assert ((y > 0.05) & (y < 0.95)).mean() > 0.1  # relaxed, not binary


def test_assigned_temperature_reaches_a_compiled_function():
    layer = layers.RelaxedOneHotCategorical(5.0, seed=4)
    draw = tf.function(lambda x: layer(x, training=True))
    x = tf.constant(np.broadcast_to(LOGITS, (2000, 4)))
    assert draw(x).numpy().max(-1).mean() < 0.5  # tau = 5: far from one-hot
    layer.temperature_variable.assign(1e-3)
    assert (draw(x).numpy().max(-1) > 0.99).mean() > 0.98


def test_annealed_temperature_is_saved(tmp_path):
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.RelaxedBernoulli(1.0)(inputs))
    model.layers[-1].temperature_variable.assign(0.25)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    assert float(restored.layers[-1].temperature_variable.numpy()) == 0.25
    assert restored.layers[-1].temperature == 1.0


@pytest.mark.parametrize("cls,kwargs,match", [
    (layers.RelaxedOneHotCategorical, dict(temperature=0.0), "positive number"),
    (layers.RelaxedOneHotCategorical, dict(temperature=1.0, inference_output="mean"),
     "inference_output"),
    (layers.RelaxedBernoulli, dict(temperature=-1.0), "positive number"),
    (layers.RelaxedBernoulli, dict(temperature=1.0, inference_output="argmax"),
     "inference_output"),
])
def test_bad_arguments_raise(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)
