"""`TerminateOnNaN`: stop a run whose loss or weights stop being finite."""

import math

import keras

from ._finite import is_finite


class TerminateOnNaN(keras.callbacks.Callback):
    """Stops training at the first non-finite loss, and remembers where.

    Unlike ``keras.callbacks.TerminateOnNaN`` it also checks the weights at
    the end of each epoch (the last batch of an epoch can yield NaN weights
    with a finite loss) and records the failure in `nan_at` so that the
    caller can report it; `Checkpoint` and `BackupAndRestore` of this
    package refuse to write non-finite weights, so the last good
    checkpoint survives.

    Attributes:
        nan_at: None, or ``(epoch, batch)`` (0-based; batch None when the
            weights were found non-finite at the end of the epoch).
    """

    def __init__(self):
        super().__init__()
        self.nan_at = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if self.nan_at is None and loss is not None and not math.isfinite(float(loss)):
            self.nan_at = (self._epoch, batch)
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.nan_at is None and not is_finite(self.model, logs):
            self.nan_at = (epoch, None)
            self.model.stop_training = True
