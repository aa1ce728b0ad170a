"""Shared pieces of the stochastic merge layers (`Swapout`, `StochasticDepth`).

Private: the public names are `layers.Swapout`, `layers.StochasticDepth` and
`layers.keep_schedule`.
"""

import keras


def check_probability(name, value):
    """Returns `value` as a float, or raises a ValueError if it is not in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(f"Expected `{name}` to be a float in [0, 1]. Received: {name}={value!r}")
    return float(value)


def check_pair(layer_name, inputs):
    """`inputs` must be `[x, fx]`: two tensors of one shape."""
    if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
        raise ValueError(
            f"Expected {layer_name} to be called on a list [x, fx] of two tensors. "
            f"Received: inputs of type {type(inputs).__name__}")
    x, fx = inputs
    if tuple(x.shape) != tuple(fx.shape) and None not in tuple(x.shape) + tuple(fx.shape):
        raise ValueError(
            f"Expected x and fx of the same shape in {layer_name}. "
            f"Received: x.shape={tuple(x.shape)}, fx.shape={tuple(fx.shape)}")
    return x, fx


class StochasticMerge(keras.layers.Layer):
    """Base of the stochastic merges: the seed, the mode switch and the config.

    Owns the layer's `keras.random.SeedGenerator` (seeded by `seed`; its state
    is a non-trainable variable of the layer, saved with the model).

    Stochastic inference interface (public, duck-typed: any layer with a bool
    `stochastic_inference` attribute takes part): `training=True` always
    samples masks. At inference (`training=False`) a layer samples only when
    `stochastic=True` is passed to the call or, when `stochastic` is None,
    when its `stochastic_inference` attribute is True; otherwise it returns the
    expectation over the masks. The attribute is read when the call is traced,
    so a `tf.function` traced inside `keras_zoo.models.stochastic_mode(model)`
    keeps sampling however it is later called. `keras_zoo.models` and
    `keras_zoo.export` (the SavedModel's `stochastic` signature) find such
    layers by this attribute alone.
    """

    stochastic_inference = False

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def _samples(self, training, stochastic):
        if training:
            return True
        if stochastic is None:
            return bool(self.stochastic_inference)
        return bool(stochastic)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        config = super().get_config()
        config["seed"] = self.seed
        return config


def bernoulli(shape, probability, seed, dtype):
    """A {0, 1} mask of `dtype` with P(1) = `probability`, drawn with `seed`."""
    uniform = keras.random.uniform(shape, dtype="float32", seed=seed)
    return keras.ops.cast(keras.ops.less(uniform, probability), dtype)
