"""MNIST from IDX files (raw and gzipped), the digits quick-start set, and load()'s checks."""

import dataclasses
import gzip

import numpy as np
import pytest
import tensorflow as tf
from sklearn.datasets import load_digits as sklearn_digits

from keras_zoo.train import datasets
from keras_zoo.train.datasets.digits import resize_digits
from tests.train import dataset_writers as w

pytestmark = pytest.mark.no_keras_state  # builds no Keras state: skip clear_session


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_round_trip(tmp_path, gz):
    arrays = w.make_mnist(seed=1)
    data = datasets.load("mnist", w.write_mnist(tmp_path, arrays, gz=gz))
    np.testing.assert_array_equal(data.x_train[..., 0], arrays["x_train"])
    np.testing.assert_array_equal(data.x_test[..., 0], arrays["x_test"])
    np.testing.assert_array_equal(data.y_train, arrays["y_train"])
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])
    assert data.x_train.shape == (6, 28, 28, 1) and data.x_train.dtype == np.uint8
    assert data.y_train.dtype == np.int32 and data.x_val is None
    assert data.augmentation == "shift" and data.num_classes == 10
    assert data.class_names == tuple("0123456789") and data.name == "mnist"
    data.x_train[0, 0, 0, 0] = 1  # an ordinary, writable array


def test_mnist_kaggle_names_and_validation_split(tmp_path):
    arrays = w.make_mnist(seed=2)
    w.write_mnist(tmp_path, arrays)
    for path in tmp_path.iterdir():  # train-images-idx3-ubyte -> train-images.idx3-ubyte
        path.rename(path.with_name(path.name.replace("-idx", ".idx")))
    data = datasets.load("mnist", tmp_path, validation_split=2, seed=3)
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (4, 2, 4)


def test_parse_idx_hand_golden():
    raw = bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6])
    parsed = datasets.parse_idx(raw, ndim=2, where="f")
    np.testing.assert_array_equal(parsed, [[1, 2, 3], [4, 5, 6]])


def test_mnist_missing_files(tmp_path):
    for data_dir in (None, tmp_path / "nowhere"):
        with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte\\[.gz\\].*ossci"):
            datasets.load("mnist", data_dir)
    w.write_mnist(tmp_path, w.make_mnist(), gz=True)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="which lacks t10k-labels-idx1-ubyte\\.$"):
        datasets.load("mnist", tmp_path)


def test_mnist_wrong_magic(tmp_path):
    w.write_mnist(tmp_path, w.make_mnist())
    labels = (tmp_path / "train-labels-idx1-ubyte").read_bytes()
    (tmp_path / "train-images-idx3-ubyte").write_bytes(labels)  # labels where images belong
    with pytest.raises(ValueError, match="train-images-idx3-ubyte to be an IDX file .* 3 dim.*"
                       "magic number 0x00000803.*Received: magic number 0x00000801"):
        datasets.load("mnist", tmp_path)
    (tmp_path / "train-images-idx3-ubyte").write_bytes(b"\x00")
    with pytest.raises(ValueError, match="Received: a file shorter than 4 bytes"):
        datasets.load("mnist", tmp_path)


def test_mnist_truncated_and_bad_gzip(tmp_path):
    w.write_mnist(tmp_path, w.make_mnist(), gz=True)
    images = tmp_path / "t10k-images-idx3-ubyte.gz"
    whole = gzip.decompress(images.read_bytes())
    images.write_bytes(gzip.compress(whole[:-5]))
    with pytest.raises(ValueError, match="16 header bytes \\+ 4 x 28 x 28 values = 3152 bytes. "
                       "Received: 3147 bytes; the file is truncated"):
        datasets.load("mnist", tmp_path)
    images.write_bytes(gzip.compress(whole)[:40])
    with pytest.raises(ValueError, match="t10k-images-idx3-ubyte.gz .* to be gzip-compressed"):
        datasets.load("mnist", tmp_path)


def test_mnist_labels_disagree_with_images(tmp_path):
    arrays = w.make_mnist()
    w.write_mnist(tmp_path, {**arrays, "y_train": arrays["y_train"][:5]})
    with pytest.raises(ValueError, match="one label in 0..9 per image.*6 images and 5 labels"):
        datasets.load("mnist", tmp_path)
    w.write_mnist(tmp_path, {**arrays, "y_test": np.array([1, 2, 3, 12], np.uint8)})
    with pytest.raises(ValueError, match="labels up to 12"):
        datasets.load("mnist", tmp_path)


def test_digits_shapes_and_fixed_split():
    data = datasets.load("digits")
    reference = sklearn_digits()
    assert data.x_train.shape == (1437, 32, 32, 1) and data.x_test.shape == (360, 32, 32, 1)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int32
    assert data.x_val is None and data.augmentation == "shift" and data.num_classes == 10
    # The split is by position in scikit-learn's file: first 1,437 train, last 360 test.
    np.testing.assert_array_equal(data.y_train, reference.target[:1437])
    np.testing.assert_array_equal(data.y_test, reference.target[1437:])
    assert np.bincount(data.y_test).min() >= 33  # every class in the test set
    assert data.x_train.min() == 0 and data.x_train.max() == 255
    again = datasets.load("digits")
    np.testing.assert_array_equal(again.x_test, data.x_test)
    held = datasets.load("digits", validation_split=137, seed=4)
    assert (len(held.x_train), len(held.x_val)) == (1300, 137)
    np.testing.assert_array_equal(held.x_test, data.x_test)


def test_digits_resize_matches_tf_bilinear():
    """Independent reference: tf.image.resize (bilinear, half-pixel centres), then
    x * 255 / 16 rounded. Tolerance 1 grey level: TF rounds a float32 result, we a float64."""
    images = sklearn_digits().images[:200]
    ours = resize_digits(images).astype(int)
    theirs = tf.image.resize(images[..., None].astype(np.float32), [32, 32], "bilinear")
    theirs = np.clip(np.rint(theirs.numpy() * 255 / 16), 0, 255).astype(int)
    assert np.abs(ours - theirs).max() <= 1
    assert np.mean(ours != theirs) < 1e-3
    constant = np.stack([np.full((8, 8), 16.0), np.full((8, 8), 8.0)])
    assert set(resize_digits(constant)[0].ravel()) == {255}
    assert set(resize_digits(constant)[1].ravel()) == {128}  # 127.5 rounds to even


def test_load_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="Expected a dataset name in \\('digits', 'cifar10', "
                       "'cifar100', 'mnist'\\). Received: name='imagenet'"):
        datasets.load("imagenet")
    with pytest.raises(ValueError, match="no data_dir for 'digits'"):
        datasets.load("digits", tmp_path)
    with pytest.raises(ValueError, match="between 0 and 1436.*validation_split=1437"):
        datasets.load("digits", validation_split=1437)


def test_image_dataset_is_frozen_and_checked():
    data = datasets.load("digits")
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.x_train = None
    assert repr(data) == ("ImageDataset(name='digits', train=1437, val=0, test=360, "
                          "input_shape=(32, 32, 1), num_classes=10, augmentation='shift')")
    mean = data.pixel_mean
    assert mean.shape == (32, 32, 1) and mean.dtype == np.float32
    np.testing.assert_allclose(mean[16, 16, 0], data.x_train[:, 16, 16, 0].mean(), rtol=1e-6)
    with pytest.raises(ValueError, match="x_val and y_val both set or both None"):
        dataclasses.replace(data, x_val=data.x_test)
    with pytest.raises(ValueError, match="x_test uint8 \\[N, H, W, C\\] and y_test int32 \\[N\\]"):
        dataclasses.replace(data, y_test=data.y_test[:5])
    with pytest.raises(ValueError, match="Expected 10 class names"):
        dataclasses.replace(data, class_names=("a", "b"))
    with pytest.raises(ValueError, match="Expected augmentation in"):
        dataclasses.replace(data, augmentation="mixup")
