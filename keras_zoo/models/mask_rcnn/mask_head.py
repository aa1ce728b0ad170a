"""`MaskHead`: the FCN mask branch of Mask R-CNN."""

import keras

from keras_zoo.models.mask_rcnn._roi_head import RoIHead


@keras.saving.register_keras_serializable(package="keras_zoo")
class MaskHead(RoIHead):
    """FPN mask head (He et al. 2017, Sec. 3, Fig. 4 right).

    `MultiLevelRoIAlign` 14x14 (sampling ratio 2), four 3x3 convolutions of 256
    with ReLU, a 2x2 stride-2 transposed convolution + ReLU to 28x28, and a 1x1
    convolution to one mask logit map per class (``num_classes``, background
    included, as torchvision). Per-pixel sigmoid, no competition between classes
    (Sec. 3: "decouples mask and class prediction"). Kernels start He-normal
    (fan-out), as torchvision and detectron2.

    Args:
        num_classes: mask outputs, background included.
        pool_size: RoIAlign output (14); the masks are twice as large (28).
        conv_filters: filters of the 3x3 convolutions ((256,) * 4).
        upsample_filters: filters of the transposed convolution (256).
        sampling_ratio, aligned, use_roi_align, levels, implementation: of the
            pooler (see ``RoIHead``).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: ``[pyramid, rois]``: the backbone's dict ``{"P2": ..., "P5": ...}`` and
            ``rois [B, R, 4]`` float32 ``xyxy`` in (padded) input pixels.

    Returns:
        ``[B, R, 2 pool_size, 2 pool_size, num_classes]`` mask logits.

    Example:

    >>> head = MaskHead(3, conv_filters=(8,), upsample_filters=8)
    >>> pyramid = {f"P{k}": np.zeros((1, 64 >> k, 64 >> k, 8), "float32") for k in (2, 3, 4, 5)}
    >>> head([pyramid, np.array([[[0, 0, 32, 32]]], "float32")]).shape
    TensorShape([1, 1, 28, 28, 3])
    """

    def __init__(self, num_classes, *, pool_size=14, conv_filters=(256, 256, 256, 256),
                 upsample_filters=256, sampling_ratio=2, aligned=True, use_roi_align=True,
                 levels=(2, 3, 4, 5), implementation="crop_and_resize", **kwargs):
        super().__init__(num_classes, pool_size=pool_size, sampling_ratio=sampling_ratio,
                         aligned=aligned, use_roi_align=use_roi_align, levels=levels,
                         implementation=implementation, **kwargs)
        self.conv_filters = tuple(int(f) for f in conv_filters)
        self.upsample_filters = int(upsample_filters)

    def build_head(self, channels):
        init = {"kernel_initializer": keras.initializers.VarianceScaling(
            2.0, "fan_out", "untruncated_normal"), "dtype": self.dtype_policy}
        self.convs = [keras.layers.Conv2D(f, 3, padding="same", activation="relu",
                                          name=f"conv{i + 1}", **init)
                      for i, f in enumerate(self.conv_filters)]
        self.upsample = keras.layers.Conv2DTranspose(self.upsample_filters, 2, strides=2,
                                                     activation="relu", name="upsample", **init)
        self.logits = keras.layers.Conv2D(self.num_classes, 1, name="logits", **init)
        shape = (None, self.pool_size, self.pool_size, channels)
        for conv in self.convs:
            conv.build(shape)
            shape = shape[:3] + (conv.filters,)
        self.upsample.build(shape)
        self.logits.build((None, 2 * self.pool_size, 2 * self.pool_size, self.upsample_filters))

    def head(self, pooled):
        x = pooled
        for conv in self.convs:
            x = conv(x)
        return self.logits(self.upsample(x))

    def compute_output_shape(self, input_shape):
        _, rois = input_shape
        size = 2 * self.pool_size
        return (rois[0], rois[1], size, size, self.num_classes)

    def get_config(self):
        config = super().get_config()
        config.update({"conv_filters": self.conv_filters,
                       "upsample_filters": self.upsample_filters})
        return config
