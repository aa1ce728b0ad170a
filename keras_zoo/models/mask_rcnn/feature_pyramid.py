"""`FeaturePyramid`: the FPN top-down pathway with lateral connections."""

import keras
import tensorflow as tf

from keras_zoo.checks import positive_int
from keras_zoo.layers.norm_layer import check_norm_layer, get_norm_layer


@keras.saving.register_keras_serializable(package="keras_zoo")
class FeaturePyramid(keras.layers.Layer):
    """Feature Pyramid Network neck (Lin et al. 2017, Sec. 3, Fig. 3).

    ``M5 = lateral(C5)``, ``M_k = lateral(C_k) + upsample2(M_{k+1})`` (nearest
    neighbour), ``P_k = output(M_k)`` for k = 2..5, with 1x1 lateral and 3x3 output
    convolutions of ``channels`` filters (with bias and no normalisation, as the paper;
    with ``norm_layer``, bias-free convolutions each followed by that normalisation, as
    torchvision's v2 detectors), and ``P6 = P5`` subsampled with stride 2
    (torchvision's ``LastLevelMaxPool``: a 1x1 max-pool, used by the RPN only; Mask
    R-CNN Sec. 3.1 / FPN Sec. 4.1).

    Args:
        channels: output channels d of every level (256, FPN Sec. 3).
        extra_level: append ``P{top+1}`` (P6).
        norm_layer: None, or "batch", "frozen", "sync" after every convolution
            (``lateral{k}_norm``, ``output{k}_norm``).
        kernel_initializer: of all convolutions; default torchvision's
            ``kaiming_uniform_(a=1)`` (uniform, fan-in, variance 1 / fan_in).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: dict ``{"C2": [B, H/4, W/4, c2], ..., "C5": [B, H/32, W/32, c5]}``
            (consecutive levels; each map twice the size of the next).

    Returns:
        dict ``{"P2": [B, H/4, W/4, channels], ..., "P6": [B, H/64, W/64, channels]}``.

    Example:

    >>> fpn = FeaturePyramid(8)
    >>> c = {f"C{k}": np.zeros((1, 64 >> k, 64 >> k, 4 * k), "float32") for k in (2, 3, 4, 5)}
    >>> {k: v.shape for k, v in fpn(c).items()}["P6"]
    TensorShape([1, 1, 1, 8])
    """

    def __init__(self, channels=256, extra_level=True, norm_layer=None, kernel_initializer=None,
                 **kwargs):
        super().__init__(**kwargs)
        positive_int("channels", channels)
        self.channels = channels
        self.extra_level = bool(extra_level)
        self.norm_layer = None if norm_layer is None else check_norm_layer(norm_layer)
        if kernel_initializer is None:
            kernel_initializer = keras.initializers.VarianceScaling(1.0, "fan_in", "uniform")
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    @staticmethod
    def _levels(input_shape):
        if not isinstance(input_shape, dict) or not input_shape:
            raise ValueError("Expected a dict of backbone levels {'C2': ..., 'C5': ...}. "
                             f"Received: {input_shape!r}")
        levels = sorted(int(name[1:]) for name in input_shape)
        if levels != list(range(levels[0], levels[-1] + 1)) or any(
                not name.startswith("C") for name in input_shape):
            raise ValueError("Expected consecutive levels named 'C<k>'. "
                             f"Received: {sorted(input_shape)}")
        return levels

    def _conv(self, kernel, name, input_shape):
        conv = keras.layers.Conv2D(self.channels, kernel, padding="same",
                                   use_bias=self.norm_layer is None,
                                   kernel_initializer=self.kernel_initializer,
                                   dtype=self.dtype_policy, name=name)
        conv.build(input_shape)
        norm = None
        if self.norm_layer is not None:
            norm = get_norm_layer(self.norm_layer, dtype=self.dtype_policy, name=f"{name}_norm")
            norm.build(tuple(input_shape[:-1]) + (self.channels,))
        return conv, norm

    def build(self, input_shape):
        self.levels = self._levels(input_shape)
        self.lateral_convs, self.lateral_norms = [], []
        self.output_convs, self.output_norms = [], []
        for k in self.levels:
            shape = tuple(input_shape[f"C{k}"])
            for convs, norms, kernel, name, in_shape in (
                    (self.lateral_convs, self.lateral_norms, 1, f"lateral{k}", shape),
                    (self.output_convs, self.output_norms, 3, f"output{k}",
                     shape[:-1] + (self.channels,))):
                conv, norm = self._conv(kernel, name, in_shape)
                convs.append(conv)
                norms.append(norm)

    @staticmethod
    def _apply(conv, norm, x, training):
        x = conv(x)
        return x if norm is None else norm(x, training=training)

    def call(self, inputs, training=None):
        outputs = {}
        top_down = None
        for i in reversed(range(len(self.levels))):
            k = self.levels[i]
            lateral = self._apply(self.lateral_convs[i], self.lateral_norms[i],
                                  inputs[f"C{k}"], training)
            if top_down is not None:  # nearest x2 (exact for maps twice the size)
                lateral = lateral + tf.image.resize(top_down, tf.shape(lateral)[1:3],
                                                    method="nearest")
            top_down = lateral
            outputs[f"P{k}"] = self._apply(self.output_convs[i], self.output_norms[i], lateral,
                                           training)
        top = self.levels[-1]
        if self.extra_level:
            outputs[f"P{top + 1}"] = outputs[f"P{top}"][:, ::2, ::2, :]
        return dict(sorted(outputs.items(), key=lambda item: int(item[0][1:])))

    def compute_output_shape(self, input_shape):
        levels = self._levels(input_shape)
        out = {}
        for k in levels:
            shape = tuple(input_shape[f"C{k}"])
            out[f"P{k}"] = shape[:-1] + (self.channels,)
        if self.extra_level:
            b, h, w, _ = out[f"P{levels[-1]}"]
            half = [None if d is None else (d + 1) // 2 for d in (h, w)]
            out[f"P{levels[-1] + 1}"] = (b, half[0], half[1], self.channels)
        return out

    def get_config(self):
        config = super().get_config()
        config.update({
            "channels": self.channels,
            "extra_level": self.extra_level,
            "norm_layer": self.norm_layer,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        })
        return config
