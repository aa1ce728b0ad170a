"""`BasicBlock`: the two-3x3-conv residual unit of ResNet-18/34 and the CIFAR nets."""

import keras

from keras_zoo.layers._residual import ResidualBlock


@keras.saving.register_keras_serializable(package="keras_zoo")
class BasicBlock(ResidualBlock):
    """Basic residual unit: F(x) = two 3x3 convolutions (He et al. 2015, Fig. 2 and Sec. 4.2).

    Post-activation (v1, the 2015 paper):
        y = relu(merge([shortcut(x), BN(conv3x3(relu(BN(conv3x3_s(x)))))]))
    Pre-activation (`preact=True`, He et al. 2016, arXiv:1603.05027, Fig. 4e):
        y = merge([shortcut(x), conv3x3(relu(BN(conv3x3_s(relu(BN(x))))))])

    The first conv carries the stride. Convolutions have no bias (BN follows or
    precedes them); strided convolutions are padded symmetrically (1 pixel) so an
    output pixel (i, j) sits on input pixel (s*i, s*j), as in torchvision.

    Args:
        filters: int, output channels of both convolutions and of the block.
        stride: int, spatial stride of the first convolution (and of the shortcut).
        preact: bool, pre-activation unit (BN-ReLU-conv, no ReLU after the merge).
        shortcut: `"projection"` (option B, Sec. 3.3: 1x1 conv + BN where the shape
            changes, identity elsewhere), `"zero_pad"` (option A: parameter-free,
            subsample by `stride` and append zero channels) or `"none"` (plain net).
        merge: a Keras layer called on `[shortcut, residual]`, `keras.layers.Add()` when
            None. Pass `layers.Swapout(...)` or `layers.StochasticDepth(...)` to get those
            networks from the same block.
        norm_layer: the normalisation after (or, pre-activation, before) each conv:
            `"batch"` (BatchNormalization), `"frozen"` (`FrozenBatchNormalization`: fixed
            statistics, nothing trains) or `"sync"` (BatchNormalization with statistics
            across the replicas of a distribution strategy); see `get_norm_layer`.
        bn_epsilon, bn_momentum: normalisation settings (PyTorch's defaults).
        kernel_initializer: for every convolution; He et al.'s init (Sec. 3.4) by default.
        kernel_regularizer: optional regulariser for every convolution kernel.
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Call arguments:
        inputs: `[batch, H, W, C]` tensor.
        training: bool, normalisation (and merge) mode.

    Returns:
        `[batch, ceil(H / stride), ceil(W / stride), filters]` tensor.

    Example:

    >>> block = BasicBlock(32, stride=2, shortcut="zero_pad")
    >>> block(keras.ops.ones((2, 16, 16, 16))).shape
    TensorShape([2, 8, 8, 32])
    """

    def __init__(self, filters, *, stride=1, preact=False, shortcut="projection", merge=None,
                 norm_layer="batch", bn_epsilon=1e-5, bn_momentum=0.9,
                 kernel_initializer="he_normal", kernel_regularizer=None, **kwargs):
        super().__init__(
            filters, stride=stride, preact=preact, shortcut=shortcut, merge=merge,
            norm_layer=norm_layer, bn_epsilon=bn_epsilon, bn_momentum=bn_momentum,
            kernel_initializer=kernel_initializer, kernel_regularizer=kernel_regularizer,
            **kwargs)

    def _conv_specs(self, in_channels):
        return [(3, self.filters, self.stride), (3, self.filters, 1)]

    def _out_channels(self):
        return self.filters
