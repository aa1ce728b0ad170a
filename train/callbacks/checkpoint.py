"""`Checkpoint`: the last and the best model of a run, written atomically."""

import math
import os

import keras

from keras_zoo.train.atomic_files import atomic_path, read_json, write_json_atomic

from ._finite import is_finite


class Checkpoint(keras.callbacks.Callback):
    """Saves ``last.keras`` every epoch and ``best.keras`` when `monitor` improves.

    Files are written to a temporary name, flushed to disk and renamed into
    place (`atomic_files.atomic_path`), so a run killed mid-write, or a full
    disk, leaves the previous file intact and no temporary file behind. Non-finite weights or
    loss are never written: after a NaN the last good checkpoint remains.
    ``state.json`` beside them records the epoch of each file and the best
    value, so a resumed run keeps comparing against the earlier best.

    Args:
        directory: folder of ``last.keras``, ``best.keras`` and ``state.json``.
        monitor: the logged metric that selects ``best.keras`` (e.g.
            ``"val_loss"``); a missing metric skips the best file.
        mode: ``"min"`` or ``"max"``.
    """

    def __init__(self, directory, monitor="val_loss", mode="min"):
        super().__init__()
        if mode not in ("min", "max"):
            raise ValueError(f"Expected mode 'min' or 'max'. Received: mode={mode!r}")
        self.directory = os.fspath(directory)
        self.monitor = monitor
        self.mode = mode
        self.state = self._read_state()

    @property
    def last_path(self):
        return os.path.join(self.directory, "last.keras")

    @property
    def best_path(self):
        return os.path.join(self.directory, "best.keras")

    def _read_state(self):
        path = os.path.join(self.directory, "state.json")
        if not os.path.exists(path):
            return {"last_epoch": None, "best_epoch": None, "best": None}
        return read_json(path, what="the checkpoints' state", fix="delete it to start the "
                         "best-checkpoint record afresh")

    def _improved(self, value):
        best = self.state["best"]
        if value is None or not math.isfinite(value):
            return False
        return best is None or (value < best if self.mode == "min" else value > best)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not is_finite(self.model, logs):
            return
        os.makedirs(self.directory, exist_ok=True)
        _save_atomic(self.model, self.last_path)
        self.state["last_epoch"] = epoch + 1
        value = logs.get(self.monitor)
        value = None if value is None else float(value)
        if self._improved(value):
            _save_atomic(self.model, self.best_path)
            self.state.update(best=value, best_epoch=epoch + 1, monitor=self.monitor)
        write_json_atomic(self.state, os.path.join(self.directory, "state.json"))


def _save_atomic(model, path):
    with atomic_path(path) as tmp:
        model.save(tmp)
