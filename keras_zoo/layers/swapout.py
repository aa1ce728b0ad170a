"""Swapout merge: Y = Θ1 ⊙ X + Θ2 ⊙ F(X) (Singh, Hoiem, Forsyth 2016, arXiv:1605.06465)."""

import keras

from keras_zoo.layers import _stochastic


@keras.saving.register_keras_serializable(package="keras_zoo")
class Swapout(_stochastic.StochasticMergeMixin, keras.layers.Layer):
    """Merges a residual block's shortcut `x` and residual `fx` with swapout.

    Training (Singh et al. 2016, Eq. 2): `Y = Θ1 ⊙ x + Θ2 ⊙ fx` where
    `Θ1 ~ Bernoulli(keep_x)` and `Θ2 ~ Bernoulli(keep_fx)` are drawn
    independently for every unit (every element of the tensor, every sample)
    and nothing is rescaled. Each unit thus reports 0, x, F(x) or x + F(x).

    Deterministic inference (Sec. 3.2) replaces the masks by their
    expectation: `Y = keep_x * x + keep_fx * fx`. Stochastic inference keeps
    sampling at inference; average the softmax of N sampled passes with
    `keras_zoo.models.stochastic_predict` (or pass `stochastic=True`).

    Special cases: `keep_x = keep_fx = 1` is a ResNet merge (`Add`),
    `keep_x = 1, keep_fx = 0` skips the block, and one mask per sample on
    `fx` (see `StochasticDepth`) is stochastic depth.

    Args:
        keep_x: θ1, probability to keep each unit of the shortcut `x`.
        keep_fx: θ2, probability to keep each unit of the residual `F(x)`.
        seed: optional int seeding the layer's `SeedGenerator`.
        **kwargs: base `Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: list `[x, fx]` of two tensors of one shape, e.g. `[B, H, W, C]`.
        training: sample masks (True) or not.
        stochastic: at inference, sample masks anyway (True), take the
            expectation (False), or follow the layer's `stochastic_inference`
            attribute (None, default; set by `models.stochastic_mode`).

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:

    >>> x, fx = keras.ops.ones((2, 4, 4, 8)), keras.ops.ones((2, 4, 4, 8))
    >>> y = Swapout(keep_x=0.5, keep_fx=0.5, seed=1)([x, fx], training=True)
    >>> sorted(set(keras.ops.convert_to_numpy(y).ravel().tolist())) == [0.0, 1.0, 2.0]
    True
    """

    def __init__(self, keep_x, keep_fx, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.keep_x = _stochastic.check_probability("keep_x", keep_x)
        self.keep_fx = _stochastic.check_probability("keep_fx", keep_fx)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    def call(self, inputs, training=False, stochastic=None):
        x, fx = _stochastic.check_pair("Swapout", inputs)
        if not self._samples(training, stochastic):
            return self._scaled(x, self.keep_x) + self._scaled(fx, self.keep_fx)
        return self._masked(x, self.keep_x) + self._masked(fx, self.keep_fx)

    @staticmethod
    def _scaled(t, keep):
        return t if keep == 1.0 else t * keras.ops.cast(keep, t.dtype)

    def _masked(self, t, keep):
        if keep == 1.0:
            return t
        if keep == 0.0:
            return keras.ops.zeros_like(t)
        mask = _stochastic.bernoulli(keras.ops.shape(t), keep, self.seed_generator, t.dtype)
        return t * mask

    def get_config(self):
        config = super().get_config()
        config.update({"keep_x": self.keep_x, "keep_fx": self.keep_fx, "seed": self.seed})
        return config
