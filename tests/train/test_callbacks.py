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
    assert backup.epoch() == 1  # the NaN epoch was not backed up
    assert sorted(os.listdir(tmp_path / "backup")) == ["epoch-000001"]
    model.layers[0].kernel.assign(np.zeros((4, 3), "float32"))
    assert backup.restore_model(model) == 1
    for got, want in zip(model.get_weights(), good):
        np.testing.assert_array_equal(got, want)  # copied weights: exact


class _Dropout(keras.layers.Layer):
    """Adds Keras dropout noise, so the seed generator's state matters."""

    def __init__(self):
        super().__init__()
        self.dropout = keras.layers.Dropout(0.5, seed=3)

    def call(self, x, training=False):
        return self.dropout(x, training=training)


def _noisy_model():
    model = keras.Sequential([keras.Input((4,)), _Dropout(),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    return model


def test_backup_restores_optimizer_random_and_callback_states(tmp_path):
    """Two epochs, then a fresh model restored from their backup and two more: the weights
    of four epochs in a row. Adam's moments, the dropout stream and the plateau's patience
    (the learning rate is halved at epochs 2, 3 and 4 only if it is kept) all come back.
    The same float32 computation twice in one process: equal within a few ulps."""
    x, y = _data()

    def train(epochs, backup_dir):
        keras.utils.set_random_seed(1)
        model = _noisy_model()
        plateau = callbacks.ReduceLROnPlateau(monitor="loss", patience=1, factor=0.5,
                                              min_delta=10.0)  # never improves after epoch 1
        backup = callbacks.BackupAndRestore(backup_dir, callbacks=[plateau],
                                            delete_on_end=False)
        done = backup.restore_model(model)
        model.fit(x, y, batch_size=4, epochs=epochs, initial_epoch=done, shuffle=False,
                  verbose=0, callbacks=[plateau, backup])
        return model, done

    straight, _ = train(4, tmp_path / "straight")
    train(2, tmp_path / "killed")  # as if the process ended here
    resumed, done = train(4, tmp_path / "killed")
    assert done == 2
    assert float(resumed.optimizer.learning_rate) == float(straight.optimizer.learning_rate)
    assert float(straight.optimizer.learning_rate) == np.float32(0.01 * 0.5**3)
    for got, want in zip(resumed.get_weights(), straight.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert sorted(os.listdir(tmp_path / "killed")) == ["epoch-000003", "epoch-000004"]
