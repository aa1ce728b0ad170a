"""`RelaxedBernoulli`: a binary Concrete (relaxed Bernoulli) sampling layer."""

import keras

from keras_zoo.layers._relaxed_sampler import RelaxedSampler
from keras_zoo.ops import concrete


@keras.saving.register_keras_serializable(package="keras_zoo")
class RelaxedBernoulli(RelaxedSampler):
    """Samples relaxed Bernoulli values from logits (binary Concrete, Maddison et al.
    2016 Sec. 3.3 and App. B).

    In training: ``y = sigmoid((logits + log u - log(1 - u)) / temperature)``,
    ``u ~ U(0, 1)`` (`keras_zoo.ops.concrete.binary_sample`); with ``hard=True``
    the forward value is ``y > 0.5`` as 0/1 and the gradient is that of ``y``.
    In inference the output is deterministic: ``inference_output="threshold"``
    gives ``logits > 0`` as 0/1 (the Bernoulli's mode), ``"sigmoid"`` the
    noiseless relaxation ``sigmoid(logits / temperature)``.

    Args:
        temperature: positive float, the initial temperature, kept in the
            non-trainable weight ``temperature_variable`` (annealable).
        hard: bool, straight-through in training.
        inference_output: ``"threshold"`` or ``"sigmoid"``.
        seed: int or None, seeds the layer's `keras.random.SeedGenerator`.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: ``[...]`` logits of the probability of 1.
        training: bool, sample (True) or the deterministic output (False).

    Returns:
        ``[...]`` values in [0, 1], in the layer's compute dtype.

    Example:

    >>> layer = RelaxedBernoulli(0.5, seed=0)
    >>> layer(keras.ops.convert_to_tensor([[2.0, -1.0]]), training=False).numpy().tolist()
    [[1.0, 0.0]]
    """

    _INFERENCE_OUTPUTS = ("threshold", "sigmoid")

    def __init__(self, temperature, hard=False, inference_output="threshold", seed=None,
                 **kwargs):
        super().__init__(temperature, hard=hard, inference_output=inference_output, seed=seed,
                         **kwargs)

    def call(self, inputs, training=False):
        if training:
            return concrete.binary_sample(inputs, self.temperature_variable.value,
                                          seed=self.seed_generator.next(), hard=self.hard)
        if self.inference_output == "threshold":
            return keras.ops.cast(inputs > 0, inputs.dtype)
        tau = keras.ops.cast(self.temperature_variable, inputs.dtype)
        return keras.ops.sigmoid(inputs / tau)
