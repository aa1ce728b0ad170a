"""Binarised digits / MNIST for the discrete VAE (train/datasets/binarized.py)."""

import numpy as np
import pytest

from keras_zoo.train.datasets import binarized


def test_binarizations_of_known_grey_levels():
    # A constant image of grey 0.25 (4x4 blocks averaged to 2x2): "threshold" gives 0,
    # "fixed" gives Bernoulli(0.25) pixels (mean within 4 sigma over 80000 pixels).
    images = np.full((5000, 8, 8, 1), round(0.25 * 255), np.uint8)
    probs = binarized.binarize(images, "dynamic", pool=4)
    assert probs.shape == (5000, 2, 2, 1)
    np.testing.assert_allclose(probs, 64 / 255, rtol=1e-6)
    assert binarized.binarize(images, "threshold").max() == 0.0  # 0/1 outputs: exact
    fixed = binarized.binarize(images, "fixed", seed=3)
    assert set(np.unique(fixed)) == {0.0, 1.0}
    p, n = 64 / 255, fixed.size
    assert abs(fixed.mean() - p) < 4 * np.sqrt(p * (1 - p) / n)
    # NumPy's seeded draw compared with 0/1: the same bits on every CPU, exact.
    np.testing.assert_array_equal(fixed, binarized.binarize(images, "fixed", seed=3))


def test_load_digits_is_8x8_binary():
    data = binarized.load_binarized("digits", validation_split=100)
    assert data.image_shape == (8, 8, 1) and data.binarization == "threshold"
    assert data.x_train.shape == (1337, 8, 8, 1) and data.x_val.shape == (100, 8, 8, 1)
    assert data.x_test.shape == (360, 8, 8, 1)
    assert set(np.unique(data.x_train)) == {0.0, 1.0}


def test_dynamic_pipeline_draws_new_pixels_each_epoch():
    x = np.full((64, 4, 4, 1), 0.5, np.float32)
    ds = binarized.make_binarized_pipeline(x, batch_size=64, training=True, dynamic=True)
    first, second = (next(iter(ds)).numpy() for _ in range(2))
    assert set(np.unique(first)) == {0.0, 1.0}
    assert not np.array_equal(first, second)
    test = binarized.make_binarized_pipeline(x, batch_size=64, training=False, dynamic=True)
    # One fixed 0/1 draw, read twice: exact.
    np.testing.assert_array_equal(next(iter(test)).numpy(), next(iter(test)).numpy())


@pytest.mark.parametrize("call,match", [
    (lambda: binarized.binarize(np.zeros((1, 8, 8, 1), np.uint8), "otsu"), "binarization"),
    (lambda: binarized.binarize(np.zeros((1, 6, 6, 1), np.uint8), pool=4), "divisible"),
    (lambda: binarized.load_binarized("cifar10"), "name"),
])
def test_bad_arguments_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()
