"""ImageNormalization: NumPy reference, per-pixel mean adapt, Caffe parity with
keras.applications' preprocess_input, mixed precision, serialisation, errors.

Exact comparisons only for contracts: restored weights are copies, and the same
elementwise float32 ops (a subtraction and a division, each correctly rounded) on
equal values give equal results on any CPU."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.layers import ImageNormalization
from tests.harness import run_layer_test

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, size=(6, 5, 4, 3), dtype=np.uint8)


@pytest.mark.parametrize("kwargs", [
    {},
    {"mean": 127.5, "std": 127.5},
    {"mean": (123.675, 116.28, 103.53), "std": (58.395, 57.12, 57.375)},
    {"mean": (103.939, 116.779, 123.68), "channel_order": "bgr"},
    {"per_pixel_mean": True, "std": 64.0},
])
def test_harness_and_numpy_reference(kwargs, tmp_path):
    x = IMAGES.astype("float32")
    out = run_layer_test(ImageNormalization, kwargs, x, tmp_path, expected_output_shape=x.shape)
    ref = x.astype("float64")
    if kwargs.get("channel_order") == "bgr":
        ref = ref[..., ::-1]
    ref = (ref - np.asarray(kwargs.get("mean", 0.0))) / np.asarray(kwargs.get("std", 1.0))
    np.testing.assert_allclose(np.asarray(out), ref, rtol=1e-6, atol=1e-5)


def test_uint8_inputs_give_the_same_result_as_floats():
    layer = ImageNormalization(mean=(1.0, 2.0, 3.0), std=2.0)
    np.testing.assert_array_equal(np.asarray(layer(IMAGES)), np.asarray(layer(IMAGES * 1.0)))
    assert layer(IMAGES).dtype == tf.float32


def test_caffe_matches_keras_applications_preprocess_input():
    layer = ImageNormalization(mean=(103.939, 116.779, 123.68), channel_order="bgr")
    x = IMAGES.astype("float32")
    expected = keras.applications.resnet.preprocess_input(x.copy())
    np.testing.assert_allclose(np.asarray(layer(x)), expected, rtol=0, atol=1e-5)


def test_adapt_sets_the_per_pixel_mean_and_survives_saving(tmp_path):
    layer = ImageNormalization(per_pixel_mean=True, channel_order="bgr")
    layer.adapt(IMAGES)
    expected_mean = IMAGES.astype("float64").mean(axis=0)[..., ::-1]
    np.testing.assert_allclose(np.asarray(layer.pixel_mean), expected_mean, rtol=1e-6)
    assert not layer.trainable_weights
    out = np.asarray(layer(IMAGES))
    np.testing.assert_allclose(out, IMAGES[..., ::-1] - expected_mean, atol=1e-4)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-4)

    inputs = keras.Input((5, 4, 3))
    model = keras.Model(inputs, layer(inputs))
    path = os.path.join(tmp_path, "norm.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_array_equal(np.asarray(restored.layers[-1].pixel_mean),
                                  np.asarray(layer.pixel_mean))


def test_adapt_on_a_dataset_of_batches_with_labels():
    layer = ImageNormalization(per_pixel_mean=True)
    ds = tf.data.Dataset.from_tensor_slices((IMAGES, np.arange(6))).batch(4)
    layer.adapt(ds)
    np.testing.assert_allclose(np.asarray(layer.pixel_mean), IMAGES.mean(axis=0), rtol=1e-6)


def test_mixed_bfloat16_normalises_in_float32_then_casts():
    keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        layer = ImageNormalization(mean=100.3, std=3.0)
        x = IMAGES.astype("float32") + 0.25  # not representable in bfloat16 before the shift
        y = layer(x)
        assert y.dtype == tf.bfloat16
        expected = tf.cast((x - 100.3) / 3.0, tf.bfloat16)
        np.testing.assert_array_equal(np.asarray(tf.cast(y, tf.float32)),
                                      np.asarray(tf.cast(expected, tf.float32)))
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("kwargs,match", [
    ({"channel_order": "rbg"}, "channel_order"),
    ({"std": 0.0}, "std"),
    ({"mean": "imagenet"}, "mean"),
    ({"per_pixel_mean": True, "mean": 3.0}, "per_pixel_mean"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ImageNormalization(**kwargs)


def test_bad_shapes_and_adapt_errors():
    with pytest.raises(ValueError, match="1 or 3 values"):
        ImageNormalization(mean=(1.0, 2.0))(IMAGES)
    with pytest.raises(ValueError, match="3 channels"):
        ImageNormalization(channel_order="bgr")(np.zeros((1, 2, 2, 1)))
    with pytest.raises(ValueError, match="per_pixel_mean=True"):
        ImageNormalization().adapt(IMAGES)
    layer = ImageNormalization(per_pixel_mean=True)
    layer.adapt(IMAGES)
    with pytest.raises(ValueError, match="Expected images of shape"):
        layer.adapt(np.zeros((2, 3, 3, 3)))
