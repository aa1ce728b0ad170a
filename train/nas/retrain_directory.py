"""`RetrainDirectory`: the retrain of a search's best child, resumed in the phase it was in.

::

    retrain.json     marker written first: format and the architecture retrained
    backup/          the training state of the last epochs (`callbacks.BackupAndRestore`)
    history.json     the per-epoch logs so far (one entry per epoch, rewritten atomically)
    model.keras      the trained model: training is over once it exists
    saved_model/1/   (image children) the SavedModel
    result.json      the test result: the retrain is finished once it exists

A kill during training resumes from the backup of the last finished epoch (the same batches
as an uninterrupted retrain); a kill after ``model.keras`` was written only evaluates and
exports again. A finished directory is read, not redone (unless `overwrite`).
"""

import json
import os
import shutil

import keras

from keras_zoo import fault_points
from keras_zoo.train.atomic_files import (
    atomic_path,
    is_temporary,
    read_json,
    remove_stale_temporaries,
    write_json_atomic,
)
from keras_zoo.train.directory_lock import entries, lock_directory

RETRAIN_FORMAT = "keras_zoo.nas.retrain"
MARKER = "retrain.json"
# What keras-zoo writes into a retrain directory (an overwrite deletes these, nothing else).
_OURS = (MARKER, "backup", "history.json", "model.keras", "saved_model", "result.json")


class RetrainDirectory:
    """The retrain directory `out` of the architecture record `arch_record` (locked for
    this process, `directory_lock`).

    Attributes:
        result: the finished retrain's ``result.json`` (a dict), or None.

    Raises:
        ValueError: `out` holds files keras-zoo did not write, or (without `overwrite`)
            the retrain of another architecture.
    """

    def __init__(self, out, arch_record, *, overwrite=False):
        self.path = os.fspath(out)
        header = {"format": RETRAIN_FORMAT, "arch": arch_record}
        foreign = [n for n in entries(self.path) if n not in _OURS and not is_temporary(n)]
        if foreign:
            raise ValueError(f"Expected the retrain directory to be new or one keras-zoo "
                             f"wrote. Received: {self.path!r} holds other files "
                             f"({', '.join(sorted(foreign)[:3])})")
        lock_directory(self.path, what="the retrain directory")
        remove_stale_temporaries(self.path)  # a killed retrain's; this process holds the lock
        stored = self._read(MARKER) or self._read("result.json")
        same = stored is not None and stored.get("arch") == arch_record
        if stored is not None and not same and not overwrite:
            raise ValueError(f"Expected {self.path!r} to hold the retrain of the same "
                             f"architecture. Received: another one; use --overwrite to "
                             f"replace it")
        if overwrite or not same:
            self._clear()
        self.result = self._read("result.json")
        write_json_atomic(header, self.file(MARKER))

    def file(self, name):
        return os.path.join(self.path, name)

    def _read(self, name):
        path = self.file(name)
        if not os.path.exists(path):
            return None
        value = read_json(path, what="a keras-zoo retrain file", fix="use --overwrite")
        return value if value.get("format") == RETRAIN_FORMAT else None

    def _clear(self):
        for name in entries(self.path):
            path = self.file(name)
            if os.path.isdir(path):
                shutil.rmtree(path)
            else:
                os.remove(path)

    @property
    def backup_dir(self):
        return self.file("backup")

    def history_callback(self):
        """A callback that records each epoch's logs in ``history.json``."""
        return _HistoryFile(self.file("history.json"))

    def trained(self):
        """``(model, history)`` once training is over (``model.keras`` written), else None."""
        if not os.path.exists(self.file("model.keras")):
            return None
        return keras.saving.load_model(self.file("model.keras")), self.history()

    def history(self):
        """The per-epoch logs so far, as `keras.callbacks.History.history`."""
        entries = _read_history(self.file("history.json"))
        return {key: [entry[key] for entry in entries] for key in (entries[0] if entries else {})}

    def save_trained(self, model):
        """Ends the training phase: ``model.keras`` written, the backup deleted."""
        with atomic_path(self.file("model.keras")) as tmp:
            model.save(tmp)
        shutil.rmtree(self.backup_dir, ignore_errors=True)
        fault_points.reached("retrain-trained")

    def finish(self, result):
        """Writes ``result.json`` (with the format and the architecture)."""
        write_json_atomic({**self._read(MARKER), **result}, self.file("result.json"))
        return self._read("result.json")


class _HistoryFile(keras.callbacks.Callback):
    def __init__(self, path):
        super().__init__()
        self.path = path

    def on_epoch_end(self, epoch, logs=None):
        entries = [e for e in _read_history(self.path) if e["epoch"] < epoch]
        entries.append({"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items()}})
        write_json_atomic({"epochs": entries}, self.path)


def _read_history(path):
    if not os.path.exists(path):
        return []
    return read_json(path, what="a retrain's history", fix="use --overwrite")["epochs"]


def read_arch_file(path):
    """The JSON value in `path` (a ``best_arch.json``), or FileNotFoundError."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"Expected an architecture JSON file. Received: "
                                f"--retrain {path!r} does not exist")
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except json.JSONDecodeError as error:
            raise ValueError(f"Expected architecture JSON in {path!r}. Received: {error}") from None
