"""Learning-rate schedules of the training recipes (serialisable Keras
`LearningRateSchedule`s, so a saved model reloads with its optimizer)."""

import keras
from keras import ops

WARMUPS = ("constant", "linear")
WARMUP_END = "warmup_end"  # the name of `StepSchedule.warmup_end`


@keras.saving.register_keras_serializable(package="keras_zoo")
class StepSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Piecewise-constant learning rate with an optional constant or linear warm-up.

    ``lr(step) = values[i]`` where ``i`` counts the boundaries with ``boundary <=
    step``, except for ``step < warmup_steps``: then ``warmup_value`` (``warmup=
    "constant"``), or ``warmup_value + (values[i] - warmup_value) * step /
    warmup_steps`` (``"linear"``: detectron2's WarmupMultiStepLR with warm-up factor
    ``warmup_value / values[0]``, from ``warmup_value`` at step 0 towards the rate).
    `step` is the optimizer's iteration count: the number of updates done
    before this one, so ``step = 32000`` is the 32,001st update, the first
    after "32k iterations". (Keras's `PiecewiseConstantDecay` switches one
    step later: it keeps ``values[0]`` while ``step <= boundaries[0]``.)

    He et al. 2015, Sec. 4.2: ``StepSchedule([32000, 48000], [0.1, 0.01,
    0.001])``; for ResNet-110, ``warmup_steps=400, warmup_value=0.01``
    ("0.01 to warm up the training until the training error is below 80%
    (about 400 iterations), and then go back to 0.1"). Mask R-CNN's 1x schedule
    (detectron2), lr 0.02: ``StepSchedule([60000, 80000], [0.02, 0.002, 0.0002], 1000,
    0.00002, "linear")``.

    The warm-up ends at `warmup_end`, a variable (int64, the first update that
    uses the schedule's own values) that starts at `warmup_steps`: alone, the
    warm-up lasts exactly `warmup_steps` updates; with the callback
    `callbacks.WarmupUntilError` it ends earlier, at the first update after the
    running training error fell below the paper's 80%, and `warmup_steps` is
    the cap. `L2SGD` keeps `variables` (``[warmup_end]``) among its own, so
    a checkpoint and a resumed run keep the switch point.

    Args:
        boundaries: increasing iteration counts where the rate changes.
        values: ``len(boundaries) + 1`` learning rates.
        warmup_steps: number of first updates that use `warmup_value` (the most,
            when `WarmupUntilError` may end the warm-up earlier).
        warmup_value: the warm-up learning rate (ignored when
            ``warmup_steps == 0``); where a linear warm-up starts.
        warmup: "constant" or "linear".

    Example:
    >>> s = StepSchedule([32000, 48000], [0.1, 0.01, 0.001], 400, 0.01)
    >>> [round(float(s(i)), 4) for i in (0, 399, 400, 31999, 32000, 48000)]
    [0.01, 0.01, 0.1, 0.1, 0.01, 0.001]
    """

    def __init__(self, boundaries, values, warmup_steps=0, warmup_value=0.0, warmup="constant"):
        boundaries, values = [int(b) for b in boundaries], [float(v) for v in values]
        if len(values) != len(boundaries) + 1:
            raise ValueError(
                "Expected len(values) == len(boundaries) + 1. Received: "
                f"boundaries={boundaries}, values={values}")
        if any(b1 >= b2 for b1, b2 in zip(boundaries, boundaries[1:])):
            raise ValueError(f"Expected increasing boundaries. Received: boundaries={boundaries}")
        if warmup not in WARMUPS:
            raise ValueError(f"Expected warmup in {WARMUPS}. Received: warmup={warmup!r}")
        if warmup_steps < 0:
            raise ValueError(f"Expected warmup_steps >= 0. Received: warmup_steps={warmup_steps}")
        self.boundaries = boundaries
        self.values = values
        self.warmup_steps = int(warmup_steps)
        self.warmup_value = float(warmup_value)
        self.warmup = warmup
        self.warmup_end = None
        if self.warmup_steps:
            self.warmup_end = keras.Variable(self.warmup_steps, dtype="int64", trainable=False,
                                             name=WARMUP_END, aggregation="only_first_replica")

    @property
    def variables(self):
        """The schedule's state: ``[warmup_end]`` with a warm-up, else ``[]``."""
        return [] if self.warmup_end is None else [self.warmup_end]

    def __call__(self, step):
        step = ops.cast(step, "int64")
        passed = ops.zeros((), "int32")
        for boundary in self.boundaries:
            passed = passed + ops.cast(step >= boundary, "int32")
        rate = ops.take(ops.convert_to_tensor(self.values, "float32"), passed)
        if self.warmup_end is None:
            return rate
        start = ops.cast(self.warmup_value, "float32")
        if self.warmup == "linear":
            done = ops.cast(step, "float32") / float(self.warmup_steps)
            start = start + (rate - start) * done
        return ops.where(step < self.warmup_end, start, rate)

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values,
                "warmup_steps": self.warmup_steps, "warmup_value": self.warmup_value,
                "warmup": self.warmup}
