"""ops.images: the resize policy's sizes by hand, resizing equal-size and mixed-size batches."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.ops import images as I


@pytest.fixture(autouse=True)
def _seeded_and_clean():
    """Pure TF ops build no Keras state: skip conftest's clear_session."""
    keras.utils.set_random_seed(1234)
    yield


def test_resize_policy_sizes_by_hand():
    # 480x640: shorter side to 800 (x5/3) -> 800 x floor(1066.67); 400x1000: the longer
    # side binds (1333 / 1000) -> floor(533.2) x 1333; 800x1216 stays.
    cases = {(480, 640): (800, 1066), (400, 1000): (533, 1333), (800, 1216): (800, 1216)}
    for size, expected in cases.items():
        assert I.resized_size(*size) == expected
    np.testing.assert_array_equal(I.resized_sizes(np.array(list(cases))), list(cases.values()))
    assert I.resized_size(48, 64, 64, 64) == (48, 64)
    assert I.padded_size(1066) == 1088 and I.padded_size(800) == 800


def test_resize_batch_pads_with_zeros_and_keeps_an_unchanged_size():
    images = np.random.default_rng(0).uniform(0, 255, (2, 40, 50, 3)).astype(np.float32)
    same = I.resize_batch(images, (40, 50)).numpy()
    assert same.shape == (2, 64, 64, 3)
    np.testing.assert_allclose(same[:, :40, :50], images, rtol=0, atol=1e-4)
    assert np.all(same[:, 40:] == 0) and np.all(same[:, :, 50:] == 0)
    # a constant image stays constant when resized
    flat = I.resize_batch(np.full((1, 10, 20, 3), 7.0, np.float32), (15, 30)).numpy()
    np.testing.assert_allclose(flat[0, :15, :30], 7.0, rtol=1e-6)


def test_resize_each_equals_resizing_images_alone():
    rng = np.random.default_rng(1)
    a = rng.uniform(0, 255, (30, 40, 3)).astype(np.float32)
    b = rng.uniform(0, 255, (50, 20, 3)).astype(np.float32)
    batch = np.zeros((2, 50, 40, 3), np.float32)
    batch[0, :30, :40], batch[1, :50, :20] = a, b
    sizes = np.array([[30, 40], [50, 20]])
    new = I.resized_sizes(sizes, 64, 96)
    np.testing.assert_array_equal(new, [[64, 85], [96, 38]])
    out = I.resize_each(batch, sizes, new).numpy()
    assert out.shape == (2, 96, 96, 3)
    for i, (image, (h, w)) in enumerate(zip((a, b), new.numpy())):
        alone = tf.image.resize(image, (h, w)).numpy()
        np.testing.assert_allclose(out[i, :h, :w], alone, rtol=0, atol=1e-3)
        assert np.all(out[i, h:] == 0) and np.all(out[i, :, w:] == 0)
