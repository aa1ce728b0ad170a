"""Stochastic depth merge (Huang, Sun, Liu, Sedra, Weinberger 2016, arXiv:1603.09382)."""

import keras

from keras_zoo.layers import _stochastic


@keras.saving.register_keras_serializable(package="keras_zoo")
class StochasticDepth(_stochastic.StochasticMerge):
    """Merges a residual block's shortcut `x` and residual `fx`, dropping the
    whole residual of a sample with probability `rate`.

    Training (Huang et al. 2016, Eq. 2): `Y = x + b ⊙ fx` with one
    `b ~ Bernoulli(1 - rate)` per sample, constant over all of the sample's
    units; nothing is rescaled. Inference (Eq. 5): the expectation
    `Y = x + (1 - rate) * fx`, or sampled masks under stochastic inference
    (see `Swapout`). In swapout's terms this is `Θ1 = 1` and `Θ2` one
    Bernoulli per sample and layer (Singh et al. 2016, Sec. 2).

    Args:
        rate: probability to drop `F(x)` (1 - the survival probability p_l).
        seed: optional int seeding the layer's `SeedGenerator`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[x, fx]` of two tensors of one shape `[B, ...]`.
        training: sample masks (True) or not.
        stochastic: at inference, sample (True), take the expectation
            (False), or follow the `stochastic_inference` attribute (None).

    Returns:
        A tensor of the shape and dtype of `x`.

    Attributes:
        stochastic_inference: bool (False): sample masks at inference too. The
            stochastic inference interface: `keras_zoo.models.stochastic_mode`
            and `keras_zoo.export.to_saved_model` find the layers that have it.

    Example:

    >>> x, fx = keras.ops.zeros((8, 2, 2, 3)), keras.ops.ones((8, 2, 2, 3))
    >>> y = StochasticDepth(rate=0.5, seed=1)([x, fx], training=True)
    >>> y = keras.ops.convert_to_numpy(y)
    >>> bool(((y.min(axis=(1, 2, 3)) == y.max(axis=(1, 2, 3)))).all())
    True
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _stochastic.check_probability("rate", rate)

    def call(self, inputs, training=False, stochastic=None):
        x, fx = _stochastic.check_pair("StochasticDepth", inputs)
        keep = 1.0 - self.rate
        if keep == 1.0:
            return x + fx
        if not self._samples(training, stochastic):
            return x + fx * keras.ops.cast(keep, fx.dtype)
        if keep == 0.0:
            return x + keras.ops.zeros_like(fx)
        rank = len(fx.shape)
        shape = (keras.ops.shape(fx)[0],) + (1,) * (rank - 1)
        return x + fx * _stochastic.bernoulli(shape, keep, self.seed_generator, fx.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate})
        return config
