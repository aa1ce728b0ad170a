"""Shared state of the Concrete sampler layers: an annealable temperature and a seed."""

import keras


class RelaxedSampler(keras.layers.Layer):
    """Base of `RelaxedOneHotCategorical` and `RelaxedBernoulli` (not public).

    Holds ``temperature`` (the initial value, as configured) and
    ``temperature_variable``, a non-trainable float32 scalar weight the
    samplers read at every call: assign to it (as `TemperatureAnnealing`
    does) to anneal the temperature inside a compiled `fit` loop. Being a
    weight, the annealed value is saved with the model.
    """

    _INFERENCE_OUTPUTS = ()

    def __init__(self, temperature, hard=False, inference_output=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(temperature, bool) or not isinstance(temperature, (int, float)) \
                or not temperature > 0:
            raise ValueError(
                "Expected temperature to be a positive number. "
                f"Received: temperature={temperature!r}")
        if inference_output not in self._INFERENCE_OUTPUTS:
            raise ValueError(
                f"Expected inference_output to be one of {self._INFERENCE_OUTPUTS}. "
                f"Received: inference_output={inference_output!r}")
        self.temperature = float(temperature)
        self.hard = bool(hard)
        self.inference_output = inference_output
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.temperature_variable = self.add_weight(
            shape=(), dtype="float32", trainable=False, name="temperature",
            initializer=keras.initializers.Constant(self.temperature))
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update(temperature=self.temperature, hard=self.hard,
                      inference_output=self.inference_output, seed=self.seed)
        return config
