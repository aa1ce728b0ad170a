"""`MaskHead`: pooled RoI features -> mask features (the FCN of Mask R-CNN's mask branch)."""

import keras

from keras_zoo.checks import positive_ints
from keras_zoo.layers.norm_layer import check_norm_layer
from keras_zoo.models.mask_rcnn._conv_stack import apply_conv_stack, build_conv_stack


@keras.saving.register_keras_serializable(package="keras_zoo")
class MaskHead(keras.layers.Layer):
    """FPN mask head (He et al. 2017, Sec. 3, Fig. 4 right): four 3x3 convolutions of
    256 with ReLU on 14x14 RoIAlign features; torchvision's v2 adds batch normalisation
    (``norm_layer="batch"``). Kernels start He-normal over fan-out (torchvision,
    detectron2). The `MaskPredictor` upsamples and predicts the masks.

    Args:
        conv_filters: filters of the 3x3 convolutions ((256,) * 4).
        norm_layer: None (convolutions with bias) or "batch", "frozen", "sync".
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: pooled features ``[K, s, s, C]`` (s = 14).
        training: the normalisation's mode.

    Returns:
        ``[K, s, s, conv_filters[-1]]``.

    Example:

    >>> MaskHead(conv_filters=(8,))(np.zeros((2, 14, 14, 4), "float32")).shape
    TensorShape([2, 14, 14, 8])
    """

    def __init__(self, conv_filters=(256, 256, 256, 256), norm_layer=None, **kwargs):
        super().__init__(**kwargs)
        self.conv_filters = positive_ints("conv_filters", conv_filters)
        if not self.conv_filters:
            raise ValueError("Expected at least one convolution in conv_filters. "
                             f"Received: conv_filters={conv_filters!r}")
        self.norm_layer = None if norm_layer is None else check_norm_layer(norm_layer)

    def build(self, input_shape):
        build_conv_stack(self, self.conv_filters, self.norm_layer, input_shape)

    def call(self, inputs, training=None):
        return apply_conv_stack(self, inputs, training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:3]) + (self.conv_filters[-1],)

    def get_config(self):
        config = super().get_config()
        config.update({"conv_filters": self.conv_filters, "norm_layer": self.norm_layer})
        return config
