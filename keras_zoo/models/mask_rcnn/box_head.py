"""`BoxHead`: pooled RoI features -> one feature vector per RoI (Fast R-CNN's head)."""

import keras

from keras_zoo.checks import positive_ints
from keras_zoo.layers.norm_layer import check_norm_layer
from keras_zoo.models.mask_rcnn._conv_stack import apply_conv_stack, build_conv_stack


@keras.saving.register_keras_serializable(package="keras_zoo")
class BoxHead(keras.layers.Layer):
    """The RoI box head of an FPN detector, between the pooler and the `BoxPredictor`.

    ``conv_filters`` 3x3 convolutions (+ ``norm_layer``) with ReLU, flatten, then
    fully connected layers of ``fc_units`` with ReLU. The defaults are FPN's "2fc"
    head (Lin et al. 2017, Sec. 4.2; Mask R-CNN Fig. 4 right): two fc of 1024 on 7x7
    RoIAlign features. torchvision's v2 detectors use "4conv1fc" (four 256-filter
    convolutions with batch normalisation, one fc of 1024; Wu et al. 2019 /
    ``FastRCNNConvFCHead``).

    Args:
        conv_filters: filters of the 3x3 convolutions, first to last (none: "2fc").
        fc_units: widths of the fully connected layers ("fc6", "fc7", ...).
        norm_layer: None (convolutions with bias) or "batch", "frozen", "sync" after
            each convolution.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: pooled features ``[K, s, s, C]`` (s = 7 in the paper).
        training: the normalisation's mode.

    Returns:
        ``[K, fc_units[-1]]`` (or the flattened features when ``fc_units`` is empty).

    Example:

    >>> BoxHead(fc_units=(16,))(np.zeros((2, 7, 7, 8), "float32")).shape
    TensorShape([2, 16])
    """

    def __init__(self, conv_filters=(), fc_units=(1024, 1024), norm_layer=None, **kwargs):
        super().__init__(**kwargs)
        self.conv_filters = positive_ints("conv_filters", conv_filters)
        self.fc_units = positive_ints("fc_units", fc_units)
        self.norm_layer = None if norm_layer is None else check_norm_layer(norm_layer)

    def build(self, input_shape):
        shape = build_conv_stack(self, self.conv_filters, self.norm_layer, input_shape)
        size = shape[1] * shape[2] * shape[3]
        self.fcs = []
        for i, units in enumerate(self.fc_units):
            fc = keras.layers.Dense(units, activation="relu", dtype=self.dtype_policy,
                                    name=f"fc{i + 6}")
            fc.build((None, size))
            self.fcs.append(fc)
            size = units

    def call(self, inputs, training=None):
        x = apply_conv_stack(self, inputs, training)
        x = keras.ops.reshape(x, (-1, x.shape[1] * x.shape[2] * x.shape[3]))
        for fc in self.fcs:
            x = fc(x)
        return x

    def compute_output_shape(self, input_shape):
        channels = self.conv_filters[-1] if self.conv_filters else input_shape[3]
        size = self.fc_units[-1] if self.fc_units else input_shape[1] * input_shape[2] * channels
        return (input_shape[0], size)

    def get_config(self):
        config = super().get_config()
        config.update({"conv_filters": self.conv_filters, "fc_units": self.fc_units,
                       "norm_layer": self.norm_layer})
        return config
