"""`FrozenBatchNormalization`: batch normalisation as a fixed affine map."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_zoo")
class FrozenBatchNormalization(keras.layers.Layer):
    """Batch normalisation with fixed statistics, the same in training and inference:

        y = (x - moving_mean) / sqrt(moving_variance + epsilon) * gamma + beta

    What detection fine-tuning uses with 1-2 images per device, where batch statistics
    are noise (torchvision `FrozenBatchNorm2d`, detectron2 `FrozenBN`). The statistics
    never update and, unless `trainable_affine=True`, gamma and beta do not train either.

    The weights are named and ordered like `keras.layers.BatchNormalization`'s (gamma,
    beta, moving_mean, moving_variance), so `set_weights(bn.get_weights())` copies a
    trained BatchNormalization, and torchvision's `weight, bias, running_mean,
    running_var` buffers copy one to one. Each call folds them once into
    `scale = gamma / sqrt(moving_variance + epsilon)` and `offset = beta - moving_mean *
    scale` (in float32), casts both to the compute dtype and returns `x * scale + offset`,
    so under `mixed_bfloat16` the map runs in bfloat16 with float32 weights.

    Args:
        axis: int, the channel axis (-1 for NHWC).
        epsilon: float > 0 added to the variance (1e-5: torchvision's and Keras' BN
            default in this package).
        trainable_affine: bool; True makes gamma and beta trainable (the statistics
            stay fixed).
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: tensor with a known size along `axis`, e.g. `[batch, H, W, C]`.
        training: accepted for interchangeability with BatchNormalization and ignored.

    Returns:
        A tensor of the shape of `inputs`, in the layer's compute dtype.

    Example:

    >>> bn = keras.layers.BatchNormalization()
    >>> bn.build((None, 4))
    >>> frozen = FrozenBatchNormalization()
    >>> frozen.build((None, 4))
    >>> frozen.set_weights(bn.get_weights())
    >>> len(frozen.trainable_weights)
    0
    """

    def __init__(self, axis=-1, epsilon=1e-5, *, trainable_affine=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axis, int) or isinstance(axis, bool):
            raise ValueError(f"Expected `axis` to be an int. Received: axis={axis!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or epsilon <= 0:
            raise ValueError(f"Expected `epsilon` to be a float > 0. Received: epsilon={epsilon!r}")
        self.axis = axis
        self.epsilon = float(epsilon)
        self.trainable_affine = bool(trainable_affine)
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank or input_shape[self.axis] is None:
            raise ValueError(f"Expected inputs with a known size along axis={self.axis}. "
                             f"Received: input_shape={tuple(input_shape)}")
        self._axis = self.axis % rank
        shape = (input_shape[self._axis],)
        # autocast=False: the folding below reads the float32 values under mixed precision.
        for name, initializer, trainable in (
                ("gamma", "ones", self.trainable_affine), ("beta", "zeros", self.trainable_affine),
                ("moving_mean", "zeros", False), ("moving_variance", "ones", False)):
            setattr(self, name, self.add_weight(shape=shape, initializer=initializer,
                                                trainable=trainable, autocast=False, name=name))

    def call(self, inputs):
        scale = self.gamma * ops.rsqrt(self.moving_variance + self.epsilon)
        offset = self.beta - self.moving_mean * scale
        broadcast = [1] * len(inputs.shape)
        broadcast[self._axis] = -1
        scale = ops.reshape(ops.cast(scale, inputs.dtype), broadcast)
        offset = ops.reshape(ops.cast(offset, inputs.dtype), broadcast)
        return inputs * scale + offset

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon,
                       "trainable_affine": self.trainable_affine})
        return config
