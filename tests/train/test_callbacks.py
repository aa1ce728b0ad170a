"""NaN handling: TerminateOnNaN stops and says where; no NaN weights overwrite
the last good checkpoint or the resume backup."""

import json
import os

import keras
import numpy as np

from keras_zoo.train import callbacks


def _model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    return model


def _data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(16, 4)).astype("float32"), (np.arange(16) % 3).astype("int32")


class _Poison(keras.callbacks.Callback):
    """Turns the kernel NaN at (epoch, batch) (before the batch, or after it with `after`)."""

    def __init__(self, epoch, batch, after=False):
        super().__init__()
        self.at, self.after, self.epoch = (epoch, batch), after, 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def _poison(self, batch):
        if (self.epoch, batch) == self.at:
            kernel = self.model.layers[0].kernel
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))

    def on_train_batch_begin(self, batch, logs=None):
        if not self.after:
            self._poison(batch)

    def on_train_batch_end(self, batch, logs=None):
        if self.after:
            self._poison(batch)


class _Snapshot(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.weights = {}

    def on_epoch_end(self, epoch, logs=None):
        self.weights[epoch] = [w.copy() for w in self.model.get_weights()]


def _fit(tmp_path, poison):
    model, (x, y) = _model(), _data()
    guard, snapshot = callbacks.TerminateOnNaN(), _Snapshot()
    checkpoint = callbacks.Checkpoint(tmp_path / "checkpoints", monitor="loss")
    backup = callbacks.BackupAndRestore(str(tmp_path / "backup"))
    # The poison runs first, as a NaN from the data would, then the guard.
    history = model.fit(x, y, batch_size=4, epochs=5, verbose=0,
                        callbacks=[poison, guard, snapshot, backup, checkpoint])
    return model, guard, snapshot, checkpoint, history


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    model, guard, snapshot, checkpoint, history = _fit(tmp_path, _Poison(epoch=2, batch=1))
    assert guard.nan_at == (2, 1)  # epoch 3, batch 2 in 1-based words
    assert len(history.history["loss"]) == 3  # stopped during the third epoch
    assert not np.isfinite(model.get_weights()[0]).all()
    # last.keras holds the weights of the end of epoch 2 (index 1), all finite.
    assert checkpoint.state["last_epoch"] == 2
    restored = keras.saving.load_model(checkpoint.last_path)
    for got, want in zip(restored.get_weights(), snapshot.weights[1]):
        np.testing.assert_array_equal(got, want)  # weights saved and loaded: copied, exact
    assert np.isfinite(keras.saving.load_model(checkpoint.best_path).get_weights()[0]).all()
    state = json.loads((tmp_path / "checkpoints" / "state.json").read_text())
    assert state["last_epoch"] == 2 and state["best_epoch"] in (1, 2)


def test_nan_weights_after_last_batch_are_caught_at_epoch_end(tmp_path):
    # The last batch of epoch 2 (4 batches of 4) leaves NaN weights behind a finite loss.
    _, guard, snapshot, checkpoint, history = _fit(tmp_path, _Poison(1, 3, after=True))
    assert guard.nan_at == (1, None)
    assert checkpoint.state["last_epoch"] == 1
    for got, want in zip(keras.saving.load_model(checkpoint.last_path).get_weights(),
                         snapshot.weights[0]):
        np.testing.assert_array_equal(got, want)  # copied weights: exact
    # The backup was deleted at train end (run ended); it never held NaN: check the save path.
    assert not os.path.exists(tmp_path / "backup")


def test_backup_skips_non_finite_epochs(tmp_path):
    model, (x, y) = _model(), _data()
    backup = callbacks.BackupAndRestore(str(tmp_path / "backup"))
    backup.set_model(model)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    backup.on_epoch_end(0, {"loss": 1.0})
    good = [w.copy() for w in model.get_weights()]
    backup.on_epoch_end(1, {"loss": float("nan")})
    meta = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    assert meta["epoch"] == 1  # the NaN epoch was not recorded
    model.layers[0].kernel.assign(np.zeros((4, 3), "float32"))
    model.load_weights(str(tmp_path / "backup" / "latest.weights.h5"))
    for got, want in zip(model.get_weights(), good):
        np.testing.assert_array_equal(got, want)  # copied weights: exact
