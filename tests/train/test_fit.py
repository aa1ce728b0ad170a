"""`fit.fit_model`, the loop a search calls for every child: no run directory, no
global seed; in-memory arrays or a streaming dataset of unknown size."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.train.datasets import Inputs, known_size
from keras_zoo.train.fit import fit_model


def _data(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 256, (n, 8, 8, 1), dtype=np.uint8)
    y = (x[:, :4].mean(axis=(1, 2, 3)) > x[:, 4:].mean(axis=(1, 2, 3))).astype("int32")
    return x, y


def _child(seed):
    init = keras.initializers.GlorotUniform(seed=seed)
    model = keras.Sequential([
        keras.Input((8, 8, 1)), keras.layers.Rescaling(1 / 255),
        keras.layers.Conv2D(4, 3, activation="relu", kernel_initializer=init),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(2, activation="softmax", kernel_initializer=init)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _forbidden(*args, **kwargs):
    raise AssertionError("fit_model must not set a global seed")


def test_children_train_without_files_or_global_seeds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("keras.utils.set_random_seed", "tensorflow.random.set_seed",
                 "numpy.random.seed", "random.seed"):
        monkeypatch.setattr(name, _forbidden)
    (x, y), validation = _data(64, 0), _data(16, 1)

    def trial(seed):
        inputs = Inputs.from_arrays(x, y, batch_size=16, seed=seed, augmentation="shift",
                                    validation=validation)
        return fit_model(_child(0), inputs, epochs=2)

    first, again, other = trial(3), trial(3), trial(4)
    assert os.listdir(tmp_path) == []  # no run directory, no log
    assert set(first) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert len(first["loss"]) == 2
    # Same seeds: the same batches and initial weights, so the same losses (the same ops in
    # one process; rtol covers a different kernel choice, float32 round-off over 8 steps).
    np.testing.assert_allclose(again["loss"], first["loss"], rtol=1e-5)
    # Another trial seed shuffles and augments otherwise (far beyond that tolerance).
    assert np.abs(np.subtract(other["loss"], first["loss"])).max() > 1e-3


def test_streaming_dataset_of_unknown_size():
    x, y = _data(64, 0)

    def batches():
        for start in range(0, 64, 16):
            yield x[start:start + 16], y[start:start + 16]

    stream = tf.data.Dataset.from_generator(batches, output_signature=(
        tf.TensorSpec((None, 8, 8, 1), tf.uint8), tf.TensorSpec((None,), tf.int32))).repeat()
    assert known_size(stream) is None
    model = _child(0)
    with pytest.raises(ValueError, match="Expected steps_per_epoch for a training dataset of "
                       "unknown or infinite size"):
        fit_model(model, Inputs(train=stream), epochs=1)
    history = fit_model(model, Inputs(train=stream, steps_per_epoch=3), epochs=2)
    assert len(history["loss"]) == 2
    assert int(model.optimizer.iterations.numpy()) == 6  # steps_per_epoch per epoch


def test_updates_per_epoch_of_in_memory_arrays():
    x, y = _data(50, 0)
    assert Inputs.from_arrays(x, y, batch_size=16).updates_per_epoch() == 4  # ceil(50 / 16)
    assert Inputs.from_arrays(x, y, batch_size=16).examples.count() == 50
