"""make_pipeline: batching, seeded shuffling, and the pad-crop-flip augmentation."""

import numpy as np
import pytest

from keras_zoo.train import datasets

pytestmark = pytest.mark.no_keras_state  # builds no Keras state: skip clear_session


def _images(count=48, shape=(32, 32, 3), seed=0):
    """Random images with no zero pixel (so zero padding is visible); label = index."""
    rng = np.random.default_rng(seed)
    return rng.integers(1, 256, (count, *shape), dtype=np.uint8), np.arange(count)


def _epoch(dataset):
    batches = [(x.numpy(), y.numpy()) for x, y in dataset]
    return np.concatenate([x for x, _ in batches]), np.concatenate([y for _, y in batches])


def _candidates(image, pad, flips):
    """Every crop of the zero-padded image (NumPy reference), flipped too if `flips`."""
    height, width, _ = image.shape
    padded = np.pad(image, [(pad, pad), (pad, pad), (0, 0)])
    crops = {}
    for dy in range(2 * pad + 1):
        for dx in range(2 * pad + 1):
            crop = padded[dy:dy + height, dx:dx + width]
            crops[crop.tobytes()] = (dy, dx, False)
            if flips:
                crops[crop[:, ::-1].tobytes()] = (dy, dx, True)
    return crops


def test_evaluation_keeps_order_and_batches():
    x, y = _images(10)
    dataset = datasets.make_pipeline(x, y, batch_size=4, training=False, augmentation="cifar")
    assert [len(b) for _, b in dataset] == [4, 4, 2]
    images, labels = _epoch(dataset)
    np.testing.assert_array_equal(images, x)  # no augmentation outside training
    np.testing.assert_array_equal(labels, y)
    assert images.dtype == np.uint8 and labels.dtype == np.int32
    dropped = datasets.make_pipeline(x, y, batch_size=4, training=False, drop_remainder=True)
    assert [len(b) for _, b in dropped] == [4, 4]
    assert dropped.element_spec[0].shape.as_list() == [4, 32, 32, 3]
    assert dataset.options().deterministic


def test_training_shuffle_is_seeded_and_new_each_epoch():
    x, y = _images(48)
    make = lambda seed: datasets.make_pipeline(  # noqa: E731
        x, y, batch_size=16, training=True, augmentation="none", seed=seed)
    first, twin, other = make(3), make(3), make(4)
    a1, a2 = _epoch(first), _epoch(first)
    b1, b2 = _epoch(twin), _epoch(twin)
    for (xa, ya), (xb, yb) in [(a1, b1), (a2, b2)]:  # same seed: same batches, epoch by epoch
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    assert not np.array_equal(a1[1], a2[1])  # reshuffled every epoch
    assert not np.array_equal(a1[1], _epoch(other)[1])  # another seed, another order
    assert not np.array_equal(a1[1], y)
    assert sorted(a1[1]) == list(y)  # a permutation: every image once per epoch
    np.testing.assert_array_equal(a1[0], x[a1[1]])  # images travel with their labels


@pytest.mark.parametrize("augmentation", ["cifar", "shift"])
def test_augmentation_is_pad_crop_and_flip_only_for_cifar(augmentation):
    x, y = _images(48)
    pad = 4 if augmentation == "cifar" else 2
    dataset = datasets.make_pipeline(x, y, batch_size=16, training=True,
                                     augmentation=augmentation, seed=5)
    assert dataset.element_spec[0].shape.as_list() == [None, 32, 32, 3]
    images, labels = _epoch(dataset)
    assert images.shape == x.shape and images.dtype == np.uint8
    found = []
    for image, label in zip(images, labels):
        crops = _candidates(x[label], pad, flips=True)
        assert image.tobytes() in crops, "not a padded crop (or its mirror) of its own image"
        found.append(crops[image.tobytes()])
    offsets = {(dy, dx) for dy, dx, _ in found}
    flipped = [f for _, _, f in found]
    assert len(offsets) > 5  # random crops, not one fixed window
    if augmentation == "cifar":
        assert 0 < sum(flipped) < len(flipped)  # P(all 48 equal) = 2**-47
    else:
        assert not any(flipped)  # "shift" never mirrors: a flipped digit is another symbol
    again, labels_again = _epoch(datasets.make_pipeline(
        x, y, batch_size=16, training=True, augmentation=augmentation, seed=5))
    np.testing.assert_array_equal(again, images)  # augmentation is seeded too
    second_epoch, _ = _epoch(dataset)
    assert not np.array_equal(second_epoch, images)


def test_augment_on_one_grey_image_and_zero_pad():
    x, y = _images(8, shape=(28, 28, 1))
    images, labels = _epoch(datasets.make_pipeline(
        x, y, batch_size=8, training=True, augmentation="shift", pad=0, seed=1))
    np.testing.assert_array_equal(images, x[labels])  # pad 0: the crop is the image


def test_bad_arguments():
    for kwargs, match in [
        (dict(x=np.zeros((4, 32, 32), np.uint8)), "x a NumPy array \\[N, H, W, C\\]"),
        (dict(y=np.zeros(3)), "y of shape \\[4\\] \\(one label per image\\). Received"),
        (dict(batch_size=0), "`batch_size` to be a positive int. Received: batch_size=0"),
        (dict(augmentation="flip"), "augmentation in \\('none', 'cifar', 'shift'\\)"),
        (dict(pad=-1), "pad a non-negative int or None. Received: pad=-1"),
    ]:
        arguments = dict(x=np.zeros((4, 32, 32, 3), np.uint8), y=np.zeros(4), batch_size=2,
                         training=True)
        arguments.update(kwargs)
        with pytest.raises(ValueError, match=f"Expected {match}"):
            datasets.make_pipeline(**arguments)
