"""`TemperatureAnnealing`: Jang et al.'s exponential temperature schedule for Concrete samplers."""

import math

import keras

from keras_zoo.layers import walk_layers


class TemperatureAnnealing(keras.callbacks.Callback):
    """Anneals Concrete temperatures: ``tau = max(min_temperature, initial_temperature *
    exp(-rate * step))``, updated every ``update_every`` steps (Jang et al. 2016, Sec. 4.2
    and App. A: tau_min 0.5, N in {500, 1000}, r in {1e-5, 1e-4}).

    ``step`` is the optimizer's iteration count before the batch, so a resumed run
    continues the schedule where it stopped. Between updates the temperature is
    held, as in the paper (the value of the last multiple of ``update_every``).

    Args:
        initial_temperature: tau_0 (Jang: 1.0).
        min_temperature: the floor (Jang: 0.5).
        rate: r, per step (Jang: 1e-5 or 1e-4).
        update_every: N, steps between updates (Jang: 500 or 1000).
        variables: the scalar `keras.Variable`s to set; None anneals the
            ``temperature_variable`` of every layer of the model that has one
            (`keras_zoo.layers.RelaxedOneHotCategorical`, `RelaxedBernoulli`).

    The current value is added to the epoch logs as ``"temperature"``.
    """

    def __init__(self, initial_temperature=1.0, min_temperature=0.5, rate=1e-4,
                 update_every=1000, variables=None):
        super().__init__()
        if not initial_temperature > 0 or not min_temperature > 0:
            raise ValueError(
                "Expected positive temperatures. Received: "
                f"initial_temperature={initial_temperature}, min_temperature={min_temperature}")
        if rate < 0:
            raise ValueError(f"Expected rate >= 0. Received: rate={rate}")
        if int(update_every) < 1:
            raise ValueError(f"Expected update_every >= 1. Received: update_every={update_every}")
        self.initial_temperature = float(initial_temperature)
        self.min_temperature = float(min_temperature)
        self.rate = float(rate)
        self.update_every = int(update_every)
        self.variables = list(variables) if variables is not None else None
        self._targets = []

    def temperature_at(self, step):
        """The scheduled temperature for a step (after holding to the last update)."""
        step = step - step % self.update_every
        return max(self.min_temperature, self.initial_temperature * math.exp(-self.rate * step))

    def _step(self):
        optimizer = getattr(self.model, "optimizer", None)
        if optimizer is None:
            return 0
        return int(keras.ops.convert_to_numpy(optimizer.iterations))

    def on_train_begin(self, logs=None):
        if self.variables is not None:
            self._targets = self.variables
        else:
            self._targets = [layer.temperature_variable for layer in walk_layers(self.model)
                             if isinstance(getattr(layer, "temperature_variable", None),
                                           keras.Variable)]
        if not self._targets:
            raise ValueError(
                "Expected the model to hold a layer with a `temperature_variable` "
                "(RelaxedOneHotCategorical, RelaxedBernoulli) or `variables` to anneal. "
                f"Received: a model with none ({self.model.name!r}).")
        self._assign(self.temperature_at(self._step()))

    def on_train_batch_begin(self, batch, logs=None):
        step = self._step()
        if step % self.update_every == 0:
            self._assign(self.temperature_at(step))

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and self._targets:
            logs["temperature"] = float(keras.ops.convert_to_numpy(self._targets[0]))

    def _assign(self, value):
        for variable in self._targets:
            variable.assign(value)
