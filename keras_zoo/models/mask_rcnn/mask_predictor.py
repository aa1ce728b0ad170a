"""`MaskPredictor`: mask features -> one mask logit map per class at twice the size."""

import keras

from keras_zoo.checks import positive_int
from keras_zoo.models.mask_rcnn._conv_stack import he_fan_out


@keras.saving.register_keras_serializable(package="keras_zoo")
class MaskPredictor(keras.layers.Layer):
    """Mask R-CNN's mask output (He et al. 2017, Fig. 4 right; torchvision's
    ``MaskRCNNPredictor``): a 2x2 stride-2 transposed convolution + ReLU, then a 1x1
    convolution to one logit map per class (``num_classes``, background included);
    per-pixel sigmoid, no competition between classes (Sec. 3). Replacing it retargets
    a detector's masks to new classes.

    Args:
        num_classes: mask outputs, background included.
        upsample_filters: filters of the transposed convolution (256).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: ``[K, s, s, C]`` mask features (a `MaskHead`'s).

    Returns:
        ``[K, 2 s, 2 s, num_classes]`` mask logits (28x28 for s = 14).

    Example:

    >>> MaskPredictor(3, upsample_filters=8)(np.zeros((2, 14, 14, 4), "float32")).shape
    TensorShape([2, 28, 28, 3])
    """

    def __init__(self, num_classes, upsample_filters=256, **kwargs):
        super().__init__(**kwargs)
        if positive_int("num_classes", num_classes) < 2:
            raise ValueError("Expected num_classes >= 2 (background included). "
                             f"Received: num_classes={num_classes!r}")
        self.num_classes = int(num_classes)
        self.upsample_filters = positive_int("upsample_filters", upsample_filters)

    def build(self, input_shape):
        init = {"kernel_initializer": he_fan_out(), "dtype": self.dtype_policy}
        self.upsample = keras.layers.Conv2DTranspose(self.upsample_filters, 2, strides=2,
                                                     activation="relu", name="upsample", **init)
        self.logits = keras.layers.Conv2D(self.num_classes, 1, name="logits", **init)
        self.upsample.build(input_shape)
        self.logits.build(self.upsample.compute_output_shape(input_shape))

    def call(self, inputs):
        return self.logits(self.upsample(inputs))

    def compute_output_shape(self, input_shape):
        k, h, w, _ = input_shape
        return (k, None if h is None else 2 * h, None if w is None else 2 * w, self.num_classes)

    def get_config(self):
        config = super().get_config()
        config.update({"num_classes": self.num_classes,
                       "upsample_filters": self.upsample_filters})
        return config
