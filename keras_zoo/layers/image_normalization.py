"""`ImageNormalization`: raw pixels in, normalised compute-dtype tensors out."""

import keras
import numpy as np
from keras import ops

CHANNEL_ORDERS = ("rgb", "bgr")


def _as_values(value, name):
    if isinstance(value, (list, tuple, np.ndarray)):
        value = tuple(float(v) for v in np.asarray(value).reshape(-1))
        if not value:
            raise ValueError(f"Expected `{name}` to be a float or a per-channel sequence. "
                             f"Received: {name}=()")
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"Expected `{name}` to be a float or a per-channel sequence. "
                         f"Received: {name}={value!r}") from None


@keras.saving.register_keras_serializable(package="keras_zoo")
class ImageNormalization(keras.layers.Layer):
    """Normalises raw pixels inside the model: `y = (x[..., order] - mean) / std`.

    Models take raw pixels (`uint8`, or floats in [0, 255]) so an exported model needs
    no client-side preprocessing. The arithmetic runs in float32 whatever the dtype
    policy (inputs are not autocast), and the result is cast to the compute dtype, so
    under `mixed_bfloat16` the model gets bfloat16 activations of float32-exact values.

    Args:
        mean: float or per-channel sequence, subtracted (in the output channel order).
        std: float or per-channel sequence, divisor; must be positive.
        per_pixel_mean: bool. When True the layer holds a non-trainable `[H, W, C]`
            weight `pixel_mean` (zeros until `adapt`), subtracted instead of `mean`:
            the CIFAR recipe of He et al. 2015, Sec. 4.2 ("per-pixel mean subtracted").
            Needs a fully known input shape.
        channel_order: `"rgb"` keeps the channels; `"bgr"` reverses them first, for
            Caffe-trained weights (`keras.applications` `preprocess_input(mode="caffe")`
            is `ImageNormalization(mean=(103.939, 116.779, 123.68), channel_order="bgr")`).
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `[batch, H, W, C]` pixels, any integer or float dtype.

    Returns:
        `[batch, H, W, C]` tensor in the layer's compute dtype.

    Example:

    >>> norm = ImageNormalization(per_pixel_mean=True)
    >>> images = np.random.randint(0, 256, (8, 4, 4, 3), dtype="uint8")
    >>> norm.adapt(images)
    >>> float(keras.ops.mean(norm(images)))  # doctest: +SKIP
    0.0
    """

    def __init__(self, mean=0.0, std=1.0, *, per_pixel_mean=False, channel_order="rgb",
                 **kwargs):
        kwargs["autocast"] = False
        super().__init__(**kwargs)
        if channel_order not in CHANNEL_ORDERS:
            raise ValueError(f"Expected `channel_order` to be one of {CHANNEL_ORDERS}. "
                             f"Received: channel_order={channel_order!r}")
        self.mean = _as_values(mean, "mean")
        self.std = _as_values(std, "std")
        if min(np.atleast_1d(self.std)) <= 0:
            raise ValueError(f"Expected `std` > 0. Received: std={std!r}")
        self.per_pixel_mean = bool(per_pixel_mean)
        if self.per_pixel_mean and np.any(np.asarray(self.mean) != 0):
            raise ValueError("Expected mean=0 with per_pixel_mean=True (the adapted per-pixel "
                             f"mean replaces it). Received: mean={mean!r}")
        self.channel_order = channel_order
        self.pixel_mean = None

    def build(self, input_shape):
        channels = input_shape[-1]
        if len(input_shape) != 4:
            raise ValueError("Expected images [batch, H, W, C]. "
                             f"Received: input_shape={tuple(input_shape)}")
        for name in ("mean", "std"):
            value = getattr(self, name)
            if isinstance(value, tuple) and len(value) not in (1, channels):
                raise ValueError(f"Expected `{name}` with 1 or {channels} values (one per "
                                 f"channel). Received: {name}={value}")
        if self.channel_order == "bgr" and channels != 3:
            raise ValueError("Expected 3 channels with channel_order='bgr'. "
                             f"Received: input_shape={tuple(input_shape)}")
        if self.per_pixel_mean:
            if any(d is None for d in input_shape[1:]):
                raise ValueError("Expected a fully known [H, W, C] with per_pixel_mean=True. "
                                 f"Received: input_shape={tuple(input_shape)}")
            self.pixel_mean = self.add_weight(
                shape=tuple(input_shape[1:]), initializer="zeros", trainable=False,
                dtype="float32", name="pixel_mean")

    def _to_float(self, inputs):
        x = ops.cast(inputs, "float32")
        if self.channel_order == "bgr":
            x = ops.flip(x, axis=-1)
        return x

    def call(self, inputs):
        x = self._to_float(inputs)
        if self.per_pixel_mean:
            x = x - ops.convert_to_tensor(self.pixel_mean)
        elif self.mean != 0.0:
            x = x - ops.convert_to_tensor(np.asarray(self.mean, "float32"))
        if self.std != 1.0:
            x = x / ops.convert_to_tensor(np.asarray(self.std, "float32"))
        return ops.cast(x, self.compute_dtype)

    def adapt(self, data):
        """Sets `pixel_mean` to the mean image of `data` (accumulated in float64).

        Args:
            data: `[N, H, W, C]` array or tensor, or a `tf.data.Dataset` of such
                batches (or of `(images, labels)` tuples).
        """
        if not self.per_pixel_mean:
            raise ValueError("Expected per_pixel_mean=True to adapt a per-pixel mean. "
                             "Received: per_pixel_mean=False")
        if hasattr(data, "as_numpy_iterator"):
            batches = (b[0] if isinstance(b, tuple) else b for b in data.as_numpy_iterator())
        else:
            batches = [data]
        total, count = None, 0
        for batch in batches:
            batch = np.asarray(batch, "float64")
            if batch.ndim != 4:
                raise ValueError("Expected images [N, H, W, C]. "
                                 f"Received: data of shape {batch.shape}")
            total = batch.sum(axis=0) if total is None else total + batch.sum(axis=0)
            count += batch.shape[0]
        if not count:
            raise ValueError("Expected at least one image to adapt on. Received: no data")
        if not self.built:
            self.build((None,) + total.shape)
        if tuple(self.pixel_mean.shape) != total.shape:
            raise ValueError(f"Expected images of shape [N, *{tuple(self.pixel_mean.shape)}]. "
                             f"Received: images of shape [N, *{total.shape}]")
        mean = total / count
        if self.channel_order == "bgr":
            mean = mean[..., ::-1]
        self.pixel_mean.assign(mean.astype("float32"))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config = super().get_config()
        config.update({
            "mean": self.mean,
            "std": self.std,
            "per_pixel_mean": self.per_pixel_mean,
            "channel_order": self.channel_order,
        })
        return config
