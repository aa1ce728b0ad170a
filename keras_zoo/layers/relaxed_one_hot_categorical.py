"""`RelaxedOneHotCategorical`: a Concrete / Gumbel-Softmax sampling layer."""

import keras

from keras_zoo.layers._relaxed_sampler import RelaxedSampler
from keras_zoo.ops import concrete


@keras.saving.register_keras_serializable(package="keras_zoo")
class RelaxedOneHotCategorical(RelaxedSampler):
    """Samples a relaxed one-hot vector from class logits (Jang et al. 2016 Eq. 2;
    Maddison et al. 2016 Def. 1).

    In training: ``y = softmax((logits + g) / temperature)`` with Gumbel noise
    ``g`` (`keras_zoo.ops.concrete.sample`); with ``hard=True`` the forward value
    is ``one_hot(argmax(y))`` and the gradient is that of ``y`` (straight-through,
    Jang Sec. 2.2). In inference the output is deterministic, so exported models
    are too: ``inference_output="argmax"`` gives ``one_hot(argmax(logits))`` (the
    mode of the categorical the relaxation approximates), ``"softmax"`` gives the
    noiseless relaxation ``softmax(logits / temperature)``.

    Args:
        temperature: positive float, the initial temperature (tau / lambda). Kept
            in the non-trainable weight ``temperature_variable``, which
            `keras_zoo.train.callbacks.TemperatureAnnealing` updates during `fit`.
        hard: bool, straight-through Gumbel-Softmax in training.
        inference_output: ``"argmax"`` or ``"softmax"``, the deterministic inference output.
        seed: int or None, seeds the layer's `keras.random.SeedGenerator`.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: ``[..., K]`` unnormalised class logits.
        training: bool, sample (True) or the deterministic output (False).

    Returns:
        ``[..., K]`` points on the simplex (one-hot with ``hard=True`` or
        ``inference_output="argmax"``), in the layer's compute dtype.

    Example:

    >>> layer = RelaxedOneHotCategorical(0.5, seed=0)
    >>> logits = keras.ops.convert_to_tensor([[2.0, 0.0, -1.0]])
    >>> layer(logits, training=False).numpy().tolist()
    [[1.0, 0.0, 0.0]]
    >>> layer(logits, training=True).shape
    TensorShape([1, 3])
    """

    _INFERENCE_OUTPUTS = ("argmax", "softmax")

    def __init__(self, temperature, hard=False, inference_output="argmax", seed=None,
                 **kwargs):
        super().__init__(temperature, hard=hard, inference_output=inference_output, seed=seed,
                         **kwargs)

    def call(self, inputs, training=False):
        if training:
            return concrete.sample(inputs, self.temperature_variable.value,
                                   seed=self.seed_generator.next(), hard=self.hard)
        if self.inference_output == "argmax":
            num_classes = keras.ops.shape(inputs)[-1]
            return keras.ops.one_hot(keras.ops.argmax(inputs, axis=-1), num_classes,
                                     dtype=inputs.dtype)
        tau = keras.ops.cast(self.temperature_variable, inputs.dtype)
        return keras.ops.softmax(inputs / tau, axis=-1)
