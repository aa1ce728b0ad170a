"""The 3x3 conv (+ normalisation) + ReLU stacks the RoI heads share (torchvision's
``Conv2dNormActivation`` stacks of ``MaskRCNNHeads`` and ``FastRCNNConvFCHead``)."""

import keras

from keras_zoo.layers import get_norm_layer


def he_fan_out():
    """Kaiming normal over fan-out for ReLU (torchvision's and detectron2's head init)."""
    return keras.initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal")


def build_conv_stack(head, filters, norm_layer, input_shape):
    """Creates and builds ``head.convs`` (and ``head.norms``, None entries without a
    `norm_layer`): 3x3 same-padded convolutions of `filters`, bias-free when normalised.
    Returns the output shape."""
    head.convs, head.norms = [], []
    shape = tuple(input_shape)
    for i, f in enumerate(filters):
        conv = keras.layers.Conv2D(f, 3, padding="same", use_bias=norm_layer is None,
                                   kernel_initializer=he_fan_out(), dtype=head.dtype_policy,
                                   name=f"conv{i + 1}")
        conv.build(shape)
        shape = shape[:3] + (f,)
        norm = None
        if norm_layer is not None:
            norm = get_norm_layer(norm_layer, dtype=head.dtype_policy, name=f"norm{i + 1}")
            norm.build(shape)
        head.convs.append(conv)
        head.norms.append(norm)
    return shape


def apply_conv_stack(head, x, training=None):
    """``relu(norm(conv(x)))`` through ``head.convs``."""
    for conv, norm in zip(head.convs, head.norms):
        x = conv(x)
        if norm is not None:
            x = norm(x, training=training)
        x = keras.ops.relu(x)
    return x
