"""`WarmupUntilError`: end a `StepSchedule`'s warm-up once the training error is below 80%."""

import keras
import numpy as np

from keras_zoo.train.schedules import WARMUP_END

from ._train_error import running_accuracy


class WarmupUntilError(keras.callbacks.Callback):
    """Ends the optimizer's `StepSchedule` warm-up when the training error falls below `error`.

    He et al. 2015, Sec. 4.2, ResNet-110: "we use 0.01 to warm up the training
    until the training error is below 80% (about 400 iterations), and then go
    back to 0.1". After each update the callback reads the running training
    error of the epoch (``1 - logs[monitor]``, Keras's running mean over the
    epoch's batches so far) once it covers `min_batches` batches (or the
    whole epoch, when an epoch has fewer): the first time it is below `error`
    while the warm-up lasts, it sets the schedule's ``warmup_end`` to the
    optimizer's iteration count, so the next update is the first at the
    schedule's own rate. (Without `min_batches`, the error of the first one
    or two batches of an epoch would decide alone: on the 12-batch epochs of
    the digits, one lucky batch ended ResNet-110's warm-up.) The schedule's
    ``warmup_steps`` is the cap: if the error stays at or above `error`, the
    warm-up ends after ``warmup_steps`` updates.

    The switch point is a variable of the optimizer (`L2SGD` tracks the
    schedule's ``variables``), so ``last.keras`` and a run resumed by
    `BackupAndRestore` keep it: a resumed run never warms up again.

    Args:
        error: the training error that ends the warm-up (0.8, Sec. 4.2).
        min_batches: batches of the epoch the running error must cover (20: 2,560
            images at the paper's batch of 128).
        monitor: the logged accuracy metric (the error is ``1 - accuracy``).

    Raises:
        ValueError (when training begins): the optimizer holds no warm-up end
            (not an `L2SGD` over a `StepSchedule` with ``warmup_steps > 0``);
            (after the first update) the logs have no `monitor`.
    """

    def __init__(self, error=0.8, min_batches=20, monitor="accuracy"):
        super().__init__()
        if not 0 < error <= 1:
            raise ValueError(f"Expected 0 < error <= 1. Received: error={error!r}")
        if min_batches < 1:
            raise ValueError(f"Expected min_batches >= 1. Received: min_batches={min_batches!r}")
        self.error = float(error)
        self.min_batches = int(min_batches)
        self.monitor = monitor
        self._end = None

    def on_train_begin(self, logs=None):
        ends = [v for v in self.model.optimizer.variables if v.name == WARMUP_END]
        if len(ends) != 1:
            raise ValueError(
                f"Expected an optimizer that keeps a StepSchedule's {WARMUP_END!r} (L2SGD "
                f"with StepSchedule(..., warmup_steps > 0)). Received: "
                f"{type(self.model.optimizer).__name__} with {len(ends)} such variables")
        self._end = ends[0]

    def on_train_batch_end(self, batch, logs=None):
        done = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))
        if done >= int(keras.ops.convert_to_numpy(self._end)):
            return  # the warm-up is over (or the error already ended it)
        accuracy = running_accuracy(logs, self.monitor)
        if accuracy is None:
            raise ValueError(f"Expected the metric {self.monitor!r} in the training logs "
                             f"(compile with metrics=[{self.monitor!r}]). Received: "
                             f"{sorted(logs or {})}")
        if batch + 1 < min(self.min_batches, self.params.get("steps") or self.min_batches):
            return  # the running error covers too few batches yet
        # Compared in float32, Keras's metric precision: an error of exactly 80% (accuracy
        # float32(0.2), a little above 0.2) is not below 80%.
        if np.float32(accuracy) > np.float32(1.0 - self.error):
            self._end.assign(done)
