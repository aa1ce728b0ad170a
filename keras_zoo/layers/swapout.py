"""Swapout merge: Y = Θ1 ⊙ X + Θ2 ⊙ F(X) (Singh, Hoiem, Forsyth 2016, arXiv:1605.06465)."""

import keras

from keras_zoo.layers import _stochastic


@keras.saving.register_keras_serializable(package="keras_zoo")
class Swapout(_stochastic.StochasticMerge):
    """Merges a residual block's shortcut `x` and residual `fx` with swapout.

    Training (Singh et al. 2016, Eq. 2): `Y = Θ1 ⊙ x + Θ2 ⊙ fx` where
    `Θ1 ~ Bernoulli(keep_x)` and `Θ2 ~ Bernoulli(keep_fx)` are drawn
    independently for every unit (every element of the tensor, every sample)
    and nothing is rescaled. Each unit thus reports 0, x, F(x) or x + F(x).
    Both masks of a unit come from one uniform draw (see `_sampled`).

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

    Attributes:
        stochastic_inference: bool (False): sample masks at inference too. The
            stochastic inference interface: `keras_zoo.models.stochastic_mode`
            and `keras_zoo.export.to_saved_model` find the layers that have it.

    Example:

    >>> x, fx = keras.ops.ones((2, 4, 4, 8)), keras.ops.ones((2, 4, 4, 8))
    >>> y = Swapout(keep_x=0.5, keep_fx=0.5, seed=1)([x, fx], training=True)
    >>> sorted(set(keras.ops.convert_to_numpy(y).ravel().tolist())) == [0.0, 1.0, 2.0]
    True
    """

    def __init__(self, keep_x, keep_fx, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.keep_x = _stochastic.check_probability("keep_x", keep_x)
        self.keep_fx = _stochastic.check_probability("keep_fx", keep_fx)

    def call(self, inputs, training=False, stochastic=None):
        x, fx = _stochastic.check_pair("Swapout", inputs)
        if not self._samples(training, stochastic):
            return self._scaled(x, self.keep_x) + self._scaled(fx, self.keep_fx)
        return self._sampled(x, fx)

    @staticmethod
    def _scaled(t, keep):
        return t if keep == 1.0 else t * keras.ops.cast(keep, t.dtype)

    def _sampled(self, x, fx):
        kx, kf = self.keep_x, self.keep_fx
        if kx == 1.0 and kf == 1.0:
            return x + fx
        # One uniform u per unit draws both masks (half the random numbers of two
        # draws): Θ1 = [u < kx]; given Θ1, u is uniform on [0, kx) or [kx, 1), so
        # Θ2 = [u < kx * kf] or [kx <= u < kx + (1 - kx) * kf] is Bernoulli(kf) and
        # independent of Θ1 (P(Θ1 = a, Θ2 = b) factorises exactly).
        u = keras.random.uniform(keras.ops.shape(fx), dtype="float32", seed=self.seed_generator)
        y = x if kx == 1.0 else x * keras.ops.cast(keras.ops.less(u, kx), x.dtype)
        if kf == 0.0:
            return y
        if kf == 1.0:
            return y + fx
        theta2 = keras.ops.logical_or(
            keras.ops.less(u, kx * kf),
            keras.ops.logical_and(keras.ops.greater_equal(u, kx),
                                  keras.ops.less(u, kx + (1.0 - kx) * kf)))
        return y + fx * keras.ops.cast(theta2, fx.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"keep_x": self.keep_x, "keep_fx": self.keep_fx})
        return config
