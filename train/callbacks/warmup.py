"""`Warmup`: a constant warm-up learning rate for runs without a schedule."""

import keras


class Warmup(keras.callbacks.Callback):
    """Uses `warmup_value` for the first `steps` updates, then `value`.

    For optimizers with a plain (variable) learning rate, e.g. with
    ``keras.callbacks.ReduceLROnPlateau``, which cannot drive a
    `LearningRateSchedule`. With a schedule use `StepSchedule`'s warm-up.
    He et al. 2015, Sec. 4.2: ResNet-110 warms up at 0.01 for about 400
    iterations, then goes back to 0.1.

    Args:
        steps: number of warm-up updates.
        warmup_value: learning rate during the warm-up.
        value: learning rate set once the warm-up ends.
    """

    def __init__(self, steps, warmup_value, value):
        super().__init__()
        self.steps = int(steps)
        self.warmup_value = float(warmup_value)
        self.value = float(value)

    def _iterations(self):
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_train_begin(self, logs=None):
        if self._iterations() < self.steps:
            self.model.optimizer.learning_rate = self.warmup_value

    def on_train_batch_begin(self, batch, logs=None):
        if self._iterations() == self.steps:
            self.model.optimizer.learning_rate = self.value
