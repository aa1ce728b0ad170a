"""Shared machinery of the residual blocks (`BasicBlock`, `BottleneckBlock`).

A residual unit (He et al. 2015, arXiv:1512.03385, Eq. 1-2) computes

    post-activation (v1):  y = relu(merge([shortcut(x), F(x)]))
    pre-activation  (v2):  y = merge([shortcut(x), F(x)])      (He et al. 2016,
                                                               arXiv:1603.05027, Fig. 4e)

where F is a stack of bias-free convolutions with normalisation. The
subclasses only say which convolutions F holds (`_conv_specs`) and how many
channels come out (`_out_channels`); everything else (shortcut options A/B,
the injected merge and normalisation, padding, config) is written once here.
"""

import keras
from keras import ops

from keras_zoo.checks import positive_int
from keras_zoo.layers.norm_layer import check_norm_layer, get_norm_layer

SHORTCUTS = ("projection", "zero_pad", "none")


def _serialize(value):
    """Strings, dicts and None pass through; Keras objects are serialised."""
    if value is None or isinstance(value, (str, dict)):
        return value
    return keras.saving.serialize_keras_object(value)


class ResidualBlock(keras.layers.Layer):
    """Base class: a residual unit whose residual branch F is a conv stack.

    Subclasses implement `_conv_specs(in_channels)` returning a list of
    `(kernel_size, filters, stride)` and `_out_channels()`.
    """

    def __init__(self, filters, *, stride=1, preact=False, shortcut="projection", merge=None,
                 norm_layer="batch", bn_epsilon=1e-5, bn_momentum=0.9,
                 kernel_initializer="he_normal", kernel_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        positive_int("filters", filters)
        positive_int("stride", stride)
        if shortcut not in SHORTCUTS:
            raise ValueError(f"Expected `shortcut` to be one of {SHORTCUTS}. "
                             f"Received: shortcut={shortcut!r}")
        self.filters = filters
        self.stride = stride
        self.preact = bool(preact)
        self.shortcut = shortcut
        self.norm_layer = check_norm_layer(norm_layer)
        self.bn_epsilon = bn_epsilon
        self.bn_momentum = bn_momentum
        self.kernel_initializer = _serialize(kernel_initializer)
        self.kernel_regularizer = _serialize(kernel_regularizer)
        if merge is None:
            merge = keras.layers.Add(dtype=self.dtype_policy, name="merge")
        elif isinstance(merge, dict):
            merge = keras.saving.deserialize_keras_object(merge)
        if not isinstance(merge, keras.layers.Layer):
            raise ValueError("Expected `merge` to be a Keras layer called on [shortcut, residual] "
                             f"(or None for Add). Received: merge={merge!r}")
        self.merge = merge

    # -- what subclasses define -------------------------------------------------------------
    def _conv_specs(self, in_channels):
        raise NotImplementedError

    def _out_channels(self):
        raise NotImplementedError

    # -- construction -----------------------------------------------------------------------
    # Sub-layers inherit `trainable`, so a block rebuilt from a config with trainable=False
    # (a frozen stage) runs its BatchNormalization in inference mode.
    def _conv(self, filters, kernel_size, stride, name):
        return keras.layers.Conv2D(
            filters, kernel_size, strides=stride,
            # Strided convs get an explicit symmetric pad in `call` (as torchvision does):
            # "same" would pad only bottom/right and shift the sampling grid by one pixel.
            padding="same" if stride == 1 else "valid",
            use_bias=False, kernel_initializer=self.kernel_initializer,
            kernel_regularizer=self.kernel_regularizer, dtype=self.dtype_policy,
            trainable=self.trainable, name=name)

    def _bn(self, name):
        return get_norm_layer(self.norm_layer, epsilon=self.bn_epsilon, momentum=self.bn_momentum,
                              dtype=self.dtype_policy, trainable=self.trainable, name=name)

    def _needs_reshape(self, in_channels):
        return self.stride != 1 or in_channels != self._out_channels()

    def build(self, input_shape):
        in_channels = input_shape[-1]
        if in_channels is None:
            raise ValueError("Expected inputs with a known channel count [batch, H, W, C]. "
                             f"Received: input_shape={input_shape}")
        specs = self._conv_specs(in_channels)
        self._pads = [k // 2 if s > 1 else 0 for k, _, s in specs]
        self.convs = [self._conv(f, k, s, f"conv{i + 1}") for i, (k, f, s) in enumerate(specs)]
        # Post-activation: bn_i follows conv_i. Pre-activation: bn_i precedes conv_i.
        self.bns = [self._bn(f"bn{i + 1}") for i in range(len(specs))]
        shape = input_shape
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            if self.preact:
                bn.build(shape)
            shape = self._padded(shape, self._pads[i])
            conv.build(shape)
            shape = conv.compute_output_shape(shape)
            if not self.preact:
                bn.build(shape)
        self.shortcut_conv = self.shortcut_bn = None
        out_channels = self._out_channels()
        if self.shortcut == "zero_pad" and in_channels > out_channels:
            raise ValueError("Expected out channels >= in channels for shortcut='zero_pad' "
                             f"(option A pads with zeros). Received: in_channels={in_channels}, "
                             f"out_channels={out_channels}")
        if self.shortcut == "projection" and self._needs_reshape(in_channels):
            # Option B (Sec. 3.3): 1x1 projection, stride s, where the shape changes.
            self.shortcut_conv = self._conv(out_channels, 1, self.stride, "shortcut_conv")
            self.shortcut_conv.build(input_shape)
            if not self.preact:  # pre-activation projections act on BN-ReLU(x): no BN after
                self.shortcut_bn = self._bn("shortcut_bn")
                self.shortcut_bn.build(self.shortcut_conv.compute_output_shape(input_shape))
        if self.shortcut != "none":
            self.merge.build([tuple(shape), tuple(shape)])

    @staticmethod
    def _padded(shape, pad):
        if not pad:
            return shape
        return (shape[0],) + tuple(None if d is None else d + 2 * pad for d in shape[1:3]) + (
            shape[3],)

    # -- forward ----------------------------------------------------------------------------
    def _shortcut_branch(self, inputs, activated, training):
        if self.shortcut_conv is not None:
            y = self.shortcut_conv(activated if self.preact else inputs)
            return y if self.shortcut_bn is None else self.shortcut_bn(y, training=training)
        y = inputs
        if self.stride > 1:  # option A: parameter-free subsampling ...
            y = y[:, ::self.stride, ::self.stride, :]
        extra = self._out_channels() - inputs.shape[-1]
        if extra > 0:  # ... and zero entries for the new channels (Sec. 3.3)
            y = ops.pad(y, [[0, 0], [0, 0], [0, 0], [0, extra]])
        return y

    def call(self, inputs, training=None):
        x = inputs
        activated = None
        last = len(self.convs) - 1
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            if self.preact:
                x = ops.relu(bn(x, training=training))
                if i == 0:
                    activated = x
            if self._pads[i]:
                p = self._pads[i]
                x = ops.pad(x, [[0, 0], [p, p], [p, p], [0, 0]])
            x = conv(x)
            if not self.preact:
                x = bn(x, training=training)
                if i < last:
                    x = ops.relu(x)
        if self.shortcut != "none":
            shortcut = self._shortcut_branch(inputs, activated, training)
            # `training` is a call-context argument: `Layer.__call__` passes it on only to
            # a merge whose `call` takes it (Swapout, StochasticDepth), never to Add's.
            x = self.merge([shortcut, x], training=training)
        return x if self.preact else ops.relu(x)

    def compute_output_shape(self, input_shape):
        def down(d):
            return None if d is None else (d + self.stride - 1) // self.stride

        return (input_shape[0], down(input_shape[1]), down(input_shape[2]), self._out_channels())

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "stride": self.stride,
            "preact": self.preact,
            "shortcut": self.shortcut,
            "merge": keras.saving.serialize_keras_object(self.merge),
            "norm_layer": self.norm_layer,
            "bn_epsilon": self.bn_epsilon,
            "bn_momentum": self.bn_momentum,
            "kernel_initializer": self.kernel_initializer,
            "kernel_regularizer": self.kernel_regularizer,
        })
        return config
