"""`LearningRateLog`: one CSV row per update: step, learning rate, training error."""

import csv
import os

import keras

from keras_zoo.train.atomic_files import atomic_path

from ._train_error import running_accuracy

COLUMNS = ("step", "learning_rate", "train_error")


class LearningRateLog(keras.callbacks.Callback):
    """Appends ``step,learning_rate,train_error`` to a CSV file after every update.

    ``step`` is the optimizer's iteration count before the update (0-based,
    the `StepSchedule` convention), ``learning_rate`` the rate that update
    used (read as the batch begins, so place this callback after the ones
    that set the rate, e.g. `Warmup`), ``train_error`` the running training
    error of the epoch after it (``1 - logs[monitor]``; empty when the logs
    have no `monitor`). Rows are written line by line, so a killed run keeps
    them; when training begins, rows of updates the optimizer has not done
    (those after the backup a resumed run restarts from: put this callback
    after `BackupAndRestore`) are dropped, so every step appears once.

    Args:
        path: the CSV file (``lr.csv`` in a run directory), appended to.
        monitor: the logged accuracy metric.
    """

    def __init__(self, path, monitor="accuracy"):
        super().__init__()
        self.path = os.fspath(path)
        self.monitor = monitor
        self._file = self._writer = None
        self._row = None

    def _iterations(self):
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_train_begin(self, logs=None):
        done = self._iterations()
        kept = _rows_before(self.path, done)
        with atomic_path(self.path) as tmp:
            with open(tmp, "w", newline="", encoding="utf-8") as f:
                csv.writer(f).writerows([COLUMNS, *kept])
        self._file = open(self.path, "a", newline="", encoding="utf-8", buffering=1)
        self._writer = csv.writer(self._file)

    def on_train_batch_begin(self, batch, logs=None):
        rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        self._row = [self._iterations(), f"{rate:.6g}"]  # float32 holds about 7 digits

    def on_train_batch_end(self, batch, logs=None):
        accuracy = running_accuracy(logs, self.monitor)
        self._writer.writerow([*self._row, "" if accuracy is None else f"{1 - accuracy:.6g}"])

    def on_train_end(self, logs=None):
        self._file.close()
        self._file = self._writer = None


def _rows_before(path, step):
    """The rows of the log at `path` whose step is below `step` (the header, and a row
    without a step, are dropped)."""
    if not os.path.exists(path):
        return []
    with open(path, newline="", encoding="utf-8") as f:
        return [row for row in csv.reader(f)
                if len(row) == len(COLUMNS) and row[0].isdigit() and int(row[0]) < step]
