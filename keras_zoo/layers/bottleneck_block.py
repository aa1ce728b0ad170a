"""`BottleneckBlock`: the 1x1-3x3-1x1 residual unit of ResNet-50/101/152."""

import keras

from keras_zoo.checks import positive_int
from keras_zoo.layers._residual import ResidualBlock

STRIDE_ON = ("3x3", "1x1")


@keras.saving.register_keras_serializable(package="keras_zoo")
class BottleneckBlock(ResidualBlock):
    """Bottleneck residual unit (He et al. 2015, Fig. 5 right, Table 1).

    F(x) = conv1x1(4f) . conv3x3(f) . conv1x1(f), each followed by BN (and ReLU but the
    last) in the post-activation form, each preceded by BN-ReLU in the pre-activation
    form (`preact=True`, He et al. 2016, arXiv:1603.05027):

        v1:     y = relu(merge([shortcut(x), F(x)]))
        preact: y = merge([shortcut(x), F(x)])

    Convolutions have no bias; a strided 3x3 conv is padded symmetrically (1 pixel).

    Args:
        filters: int, bottleneck width f; the block outputs `expansion * f` channels.
        expansion: int, output channels per bottleneck channel (4 in the paper, Table 1).
        stride: int, spatial stride of the block.
        stride_on: `"3x3"` puts the stride on the 3x3 conv (torchvision's "v1.5", the
            default: better accuracy), `"1x1"` on the first 1x1 conv (the paper's Caffe
            models and `keras.applications.ResNet50`).
        preact, shortcut, merge, norm_layer: as in `BasicBlock`.
        bn_epsilon, bn_momentum, kernel_initializer, kernel_regularizer: as in `BasicBlock`.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `[batch, H, W, C]` tensor.
        training: bool, normalisation (and merge) mode.

    Returns:
        `[batch, ceil(H / stride), ceil(W / stride), expansion * filters]` tensor.

    Example:

    >>> block = BottleneckBlock(16, stride=2)
    >>> block(keras.ops.ones((2, 16, 16, 32))).shape
    TensorShape([2, 8, 8, 64])
    """

    def __init__(self, filters, *, expansion=4, stride=1, stride_on="3x3", preact=False,
                 shortcut="projection", merge=None, norm_layer="batch", bn_epsilon=1e-5,
                 bn_momentum=0.9, kernel_initializer="he_normal", kernel_regularizer=None,
                 **kwargs):
        if stride_on not in STRIDE_ON:
            raise ValueError(f"Expected `stride_on` to be one of {STRIDE_ON}. "
                             f"Received: stride_on={stride_on!r}")
        positive_int("expansion", expansion)
        super().__init__(
            filters, stride=stride, preact=preact, shortcut=shortcut, merge=merge,
            norm_layer=norm_layer, bn_epsilon=bn_epsilon, bn_momentum=bn_momentum,
            kernel_initializer=kernel_initializer, kernel_regularizer=kernel_regularizer,
            **kwargs)
        self.expansion = expansion
        self.stride_on = stride_on

    def _conv_specs(self, in_channels):
        s1, s3 = (self.stride, 1) if self.stride_on == "1x1" else (1, self.stride)
        return [(1, self.filters, s1), (3, self.filters, s3),
                (1, self.expansion * self.filters, 1)]

    def _out_channels(self):
        return self.expansion * self.filters

    def get_config(self):
        config = super().get_config()
        config.update({"expansion": self.expansion, "stride_on": self.stride_on})
        return config
