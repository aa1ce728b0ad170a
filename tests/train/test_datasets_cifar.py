"""CIFAR-10/100 read back from tiny files written in the published formats."""

import os
import pickle
import shutil

import numpy as np
import pytest

from keras_zoo.train import datasets
from keras_zoo.train.datasets.restricted_unpickler import ForbiddenGlobalError, restricted_loads
from tests.train import dataset_writers as w

pytestmark = pytest.mark.no_keras_state  # builds no Keras state: skip clear_session


def _expected_arrays(parts):
    """Train/test images and fine labels as the loader must return them."""
    values = list(parts.values())
    x_train = np.concatenate([images for images, _, _ in values[:-1]])
    y_train = np.concatenate([fine for _, fine, _ in values[:-1]])
    return x_train, y_train, values[-1][0], values[-1][1]


def _where(tmp_path, folder, how):
    if how == "folder":
        return folder
    if how == "parent":
        return folder.parent
    archive = w.tar_gz(folder, tmp_path / w.ARCHIVE_NAMES[folder.name])
    shutil.rmtree(folder)
    if how == "archive":
        return archive
    return archive.parent  # a folder holding the archive, named as published


def _check(data, name, parts, class_names):
    x_train, y_train, x_test, y_test = _expected_arrays(parts)
    np.testing.assert_array_equal(data.x_train, x_train)
    np.testing.assert_array_equal(data.y_train, y_train)
    np.testing.assert_array_equal(data.x_test, x_test)
    np.testing.assert_array_equal(data.y_test, y_test)
    assert data.x_train.dtype == np.uint8 and data.y_train.dtype == np.int32
    assert data.x_train.shape == (len(y_train), 32, 32, 3)
    assert data.x_val is None and data.y_val is None
    assert data.num_classes == (10 if name == "cifar10" else 100)
    assert data.class_names == tuple(class_names)
    assert data.name == name and data.augmentation == "cifar"
    assert data.input_shape == (32, 32, 3)


@pytest.mark.parametrize("how", ["folder", "parent", "archive", "archive_parent"])
@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_python_version_round_trip(tmp_path, name, how):
    parts = w.make_cifar(name, seed=1)
    folder = w.write_cifar_python(tmp_path / "data", name, parts)
    data = datasets.load(name, _where(tmp_path / "data", folder, how))
    _check(data, name, parts, w.class_names(name))


@pytest.mark.parametrize("how", ["folder", "archive"])
@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_binary_version_round_trip(tmp_path, name, how):
    parts = w.make_cifar(name, seed=2)
    folder = w.write_cifar_binary(tmp_path, name, parts)
    data = datasets.load(name, _where(tmp_path, folder, how))
    _check(data, name, parts, w.class_names(name))  # CIFAR-100: the fine label, not coarse


def test_python3_pickles_load_too(tmp_path):
    parts = w.make_cifar("cifar10", seed=3)
    for protocol in (2, 4, 5):
        folder = w.write_cifar_python(tmp_path / str(protocol), "cifar10", parts, protocol)
        _check(datasets.load("cifar10", folder), "cifar10", parts, w.class_names("cifar10"))


def test_pixel_layout_is_planes_then_rows(tmp_path):
    """Hand golden: row byte c*1024 + r*32 + col is pixel (r, col) of channel c."""
    parts = w.make_cifar("cifar10", per_file=1, num_test=1)
    folder = w.write_cifar_binary(tmp_path, "cifar10", parts)
    record = bytearray(1 + 3072)
    record[0] = 7
    record[1 + 2 * 1024 + 5 * 32 + 9] = 200  # blue, row 5, column 9
    record[1 + 0 * 1024 + 31 * 32 + 0] = 17  # red, row 31, column 0
    (folder / "test_batch.bin").write_bytes(bytes(record))
    data = datasets.load("cifar10", folder)
    expected = np.zeros((32, 32, 3), np.uint8)
    expected[5, 9, 2], expected[31, 0, 0] = 200, 17
    np.testing.assert_array_equal(data.x_test[0], expected)
    assert data.y_test.tolist() == [7]


def test_class_names_default_to_published_lists(tmp_path):
    parts = w.make_cifar("cifar100", seed=4)
    folder = w.write_cifar_python(tmp_path, "cifar100", parts)
    (folder / "meta").unlink()
    names = datasets.load("cifar100", folder).class_names
    assert len(names) == 100 and names[:3] == ("apple", "aquarium_fish", "baby")
    assert names[-1] == "worm"


def test_validation_split_is_seeded_and_partitions_train(tmp_path):
    parts = w.make_cifar("cifar10", seed=5)  # 5 batches x 4 = 20 training images
    folder = w.write_cifar_python(tmp_path, "cifar10", parts)
    full = datasets.load("cifar10", folder)
    a = datasets.load("cifar10", folder, validation_split=5, seed=7)
    b = datasets.load("cifar10", folder, validation_split=5, seed=7)
    c = datasets.load("cifar10", folder, validation_split=0.25, seed=8)
    assert (len(a.x_train), len(a.x_val), len(a.y_val)) == (15, 5, 5)
    np.testing.assert_array_equal(a.x_val, b.x_val)
    np.testing.assert_array_equal(a.y_train, b.y_train)
    assert len(c.x_val) == 5 and not np.array_equal(a.x_val, c.x_val)
    # Train and validation together are the original training set, each image once.
    key = lambda x: sorted(img.tobytes() for img in x)  # noqa: E731
    assert key(np.concatenate([a.x_train, a.x_val])) == key(full.x_train)
    np.testing.assert_array_equal(a.x_test, full.x_test)


def test_bad_validation_split(tmp_path):
    folder = w.write_cifar_python(tmp_path, "cifar10", w.make_cifar("cifar10"))
    for split in (20, -1, 1.5, "5", True):
        with pytest.raises(ValueError, match="Expected .*validation_split"):
            datasets.load("cifar10", folder, validation_split=split)


def test_missing_data_dir_names_files_and_url(tmp_path):
    for data_dir in (None, tmp_path / "nowhere", tmp_path):
        with pytest.raises(FileNotFoundError) as error:
            datasets.load("cifar10", data_dir)
        message = str(error.value)
        assert "cifar-10-python.tar.gz" in message and "cifar-10-batches-bin" in message
        assert "data_batch_1" in message
        assert "https://www.cs.toronto.edu/~kriz/cifar.html" in message
        assert f"data_dir={None if data_dir is None else str(data_dir)!r}" in message


@pytest.mark.parametrize("binary", [False, True])
def test_missing_batch_file(tmp_path, binary):
    parts = w.make_cifar("cifar10")
    write = w.write_cifar_binary if binary else w.write_cifar_python
    folder = write(tmp_path, "cifar10", parts)
    missing = "data_batch_3.bin" if binary else "data_batch_3"
    (folder / missing).unlink()
    with pytest.raises(FileNotFoundError, match=f"lacks {missing}\\.$"):
        datasets.load("cifar10", folder)


def test_cifar100_in_a_cifar10_folder(tmp_path):
    folder = w.write_cifar_python(tmp_path, "cifar10", w.make_cifar("cifar10"))
    with pytest.raises(FileNotFoundError, match="cifar-100-python.tar.gz"):
        datasets.load("cifar100", folder)


@pytest.mark.parametrize("name", ["cifar10", "cifar100"])
def test_truncated_record_file(tmp_path, name):
    folder = w.write_cifar_binary(tmp_path, name, w.make_cifar(name))
    test_file = "test_batch.bin" if name == "cifar10" else "test.bin"
    data = (folder / test_file).read_bytes()
    (folder / test_file).write_bytes(data[:-100])
    with pytest.raises(ValueError, match="whole .*-byte records.*truncated"):
        datasets.load(name, folder)


def test_bad_and_truncated_archives(tmp_path):
    bad = tmp_path / "cifar-10-python.tar.gz"
    bad.write_bytes(b"<html>404 Not Found</html>")
    with pytest.raises(ValueError, match="not a readable tar archive.*download it again"):
        datasets.load("cifar10", bad)
    folder = w.write_cifar_python(tmp_path / "d", "cifar10", w.make_cifar("cifar10"))
    archive = w.tar_gz(folder, tmp_path / "whole.tar.gz")
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    with pytest.raises(ValueError, match="not a readable tar archive"):
        datasets.load("cifar10", cut)


def test_malformed_pickles(tmp_path):
    folder = w.write_cifar_python(tmp_path, "cifar10", w.make_cifar("cifar10"))
    batch = folder / "data_batch_2"
    batch.write_bytes(batch.read_bytes()[:50])
    with pytest.raises(ValueError, match="data_batch_2 to be a CIFAR-10.*unreadable pickle"):
        datasets.load("cifar10", folder)
    batch.write_bytes(w.dumps({b"labels": [1]}))
    with pytest.raises(ValueError, match="dict with b'data'.*Received: keys \\[b'labels'\\]"):
        datasets.load("cifar10", folder)
    batch.write_bytes(w.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [3, 10]}))
    with pytest.raises(ValueError, match="labels in \\[0, 10\\).*from 3 to 10"):
        datasets.load("cifar10", folder)


class _RunsCommand:
    """Unpickling this calls `function(argument)`: what a crafted batch would do."""

    def __init__(self, function, argument):
        self.function, self.argument = function, argument

    def __reduce__(self):
        return self.function, (self.argument,)


@pytest.mark.parametrize("attack", ["os.system", "builtins.eval"])
def test_crafted_batch_runs_nothing(tmp_path, attack):
    folder = w.write_cifar_python(tmp_path, "cifar10", w.make_cifar("cifar10"))
    marker = tmp_path / "pwned"
    if attack == "os.system":
        payload = _RunsCommand(os.system, f"touch {marker}")
    else:
        payload = _RunsCommand(eval, f"open({str(marker)!r}, 'w').close()")
    evil = {b"data": payload, b"labels": [0]}
    (folder / "data_batch_1").write_bytes(pickle.dumps(evil, protocol=2))
    with pytest.raises(ValueError) as error:
        datasets.load("cifar10", folder)
    assert not marker.exists()
    message = str(error.value)
    assert "data_batch_1" in message and "would run code" in message
    assert "refusing to load it, nothing was executed" in message
    assert ("posix.system" in message) if attack == "os.system" else ("builtins.eval" in message)


def test_restricted_unpickler_refuses_any_other_global():
    for obj in (pickle.Pickler, shutil.rmtree, np.load, {1: object()}):
        with pytest.raises(ForbiddenGlobalError, match="not among the types a CIFAR batch"):
            restricted_loads(pickle.dumps(obj), encoding="bytes")
    original = {b"data": np.arange(3072 * 2, dtype=np.uint8).reshape(2, 3072), b"labels": [1, 2]}
    for protocol in ("py2", 2, 3, 4, 5):
        loaded = restricted_loads(w.dumps(original, protocol), encoding="bytes")
        np.testing.assert_array_equal(loaded[b"data"], original[b"data"])
        assert loaded[b"labels"] == [1, 2]
