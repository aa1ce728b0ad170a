"""Strategies: MirroredStrategy on the 2 logical CPU devices (tests/conftest.py)
trains to the same weights as the default strategy; precision policies."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.train import datasets, strategies
from keras_zoo.train.optimizers import L2SGD
from keras_zoo.train.schedules import StepSchedule

# float32 sums taken in another order (per-replica halves, then an all-reduce):
# measured max |diff| 1.2e-7 after 6 updates; 1e-5 leaves room for other CPUs.
ATOL = 1e-5


def _train(strategy_name):
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (48, 8, 8, 1), dtype=np.uint8)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype("int32")
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]  # 2, see tests/conftest.py
    strategy = strategies.get_strategy(strategy_name, devices=cpus)
    with strategy.scope():
        model = keras.Sequential([
            keras.Input((8, 8, 1)), keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(4, 3, use_bias=False),
            # Cross-replica statistics: with per-replica BN (the paper's multi-GPU
            # setting) each replica normalises its half batch, and weights differ.
            keras.layers.BatchNormalization(synchronized=True), keras.layers.ReLU(),
            keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
        model.compile(L2SGD(StepSchedule([3], [0.1, 0.01]), momentum=0.9, l2=1e-3),
                      loss="sparse_categorical_crossentropy")
    # The file-order pipeline: make_pipeline(training=True) shuffles in another order under
    # MirroredStrategy than on one device (a tf.data distribution rewrite), so the same
    # batches are only guaranteed in file order.
    ds = datasets.make_pipeline(x, y, batch_size=16, training=False)
    model.fit(ds, epochs=2, verbose=0, shuffle=False)
    steps = int(model.optimizer.iterations.numpy())
    return strategy.num_replicas_in_sync, model.get_weights(), steps


def test_mirrored_matches_one_device():
    replicas_1, weights_1, steps_1 = _train("default")
    replicas_2, weights_2, steps_2 = _train("mirrored")
    assert (replicas_1, replicas_2, steps_1, steps_2) == (1, 2, 6, 6)
    for a, b in zip(weights_1, weights_2):
        np.testing.assert_allclose(a, b, atol=ATOL, rtol=0)
    # The run moved: the check is not between two untrained models.
    keras.utils.set_random_seed(7)
    assert max(np.abs(a - b).max() for a, b in zip(weights_1, _initial_weights())) > 1e-3


def _initial_weights():
    with tf.distribute.get_strategy().scope():
        model = keras.Sequential([
            keras.Input((8, 8, 1)), keras.layers.Rescaling(1 / 255),
            keras.layers.Conv2D(4, 3, use_bias=False),
            keras.layers.BatchNormalization(synchronized=True), keras.layers.ReLU(),
            keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2, activation="softmax")])
    return model.get_weights()


def test_get_strategy_names():
    assert {"default", "mirrored"} <= set(strategies.STRATEGIES)
    cpus = [d.name for d in tf.config.list_logical_devices("CPU")]
    # One strategy per device set: a second one would collide on collective keys.
    assert strategies.get_strategy("mirrored", cpus) is strategies.get_strategy("mirrored", cpus)
    with pytest.raises(ValueError, match="Expected a strategy in"):
        strategies.get_strategy("tpu")


def test_dtype_policy_scope():
    """The policy applies inside the block only (the choice itself: test_precision_policy.py)."""
    with strategies.dtype_policy("mixed_bfloat16"):
        layer = keras.layers.Dense(2)
        assert (layer.compute_dtype, layer.variable_dtype) == ("bfloat16", "float32")
    assert keras.config.dtype_policy().name == "float32"
