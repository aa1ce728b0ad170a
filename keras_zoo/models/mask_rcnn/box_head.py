"""`BoxHead`: the Fast R-CNN head of Mask R-CNN (classification and box regression)."""

import keras
import tensorflow as tf

from keras_zoo.models.mask_rcnn._roi_head import RoIHead


@keras.saving.register_keras_serializable(package="keras_zoo")
class BoxHead(RoIHead):
    """FPN box head (Lin et al. 2017, Sec. 4.2; Mask R-CNN Sec. 3.1, Fig. 4 right).

    `MultiLevelRoIAlign` 7x7 (sampling ratio 2), flatten, two fully connected
    layers of 1024 with ReLU ("2fc"), then a classifier over ``num_classes``
    (background 0 included) and class-specific box deltas (4 per class). The
    predictors start as N(0, 0.01) and N(0, 0.001) (detectron2).

    Args:
        num_classes: classifier outputs, background included (91 for COCO ids).
        pool_size: RoIAlign output (7).
        fc_units: widths of the fully connected layers (1024, 1024).
        sampling_ratio, aligned, use_roi_align, levels, implementation: of the
            pooler (see ``RoIHead``).
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: ``[pyramid, rois]``: the backbone's dict ``{"P2": ..., "P5": ...}`` and
            ``rois [B, R, 4]`` float32 ``xyxy`` in (padded) input pixels.

    Returns:
        ``(logits [B, R, num_classes], deltas [B, R, num_classes, 4])``; the deltas
        decode with ``ops.boxes.HEAD_BOX_WEIGHTS`` (10, 10, 5, 5).

    Example:

    >>> head = BoxHead(3, fc_units=(16,))
    >>> pyramid = {f"P{k}": np.zeros((1, 64 >> k, 64 >> k, 8), "float32") for k in (2, 3, 4, 5)}
    >>> logits, deltas = head([pyramid, np.array([[[0, 0, 32, 32]]], "float32")])
    >>> logits.shape, deltas.shape
    (TensorShape([1, 1, 3]), TensorShape([1, 1, 3, 4]))
    """

    def __init__(self, num_classes, *, pool_size=7, fc_units=(1024, 1024), sampling_ratio=2,
                 aligned=True, use_roi_align=True, levels=(2, 3, 4, 5),
                 implementation="crop_and_resize", **kwargs):
        super().__init__(num_classes, pool_size=pool_size, sampling_ratio=sampling_ratio,
                         aligned=aligned, use_roi_align=use_roi_align, levels=levels,
                         implementation=implementation, **kwargs)
        self.fc_units = tuple(int(u) for u in fc_units)

    def build_head(self, channels):
        dense = {"dtype": self.dtype_policy}
        self.fcs = [keras.layers.Dense(units, activation="relu", name=f"fc{i + 6}", **dense)
                    for i, units in enumerate(self.fc_units)]
        self.classifier = keras.layers.Dense(
            self.num_classes, kernel_initializer=keras.initializers.RandomNormal(stddev=0.01),
            name="classifier", **dense)
        self.box_deltas = keras.layers.Dense(
            4 * self.num_classes,
            kernel_initializer=keras.initializers.RandomNormal(stddev=0.001),
            name="box_deltas", **dense)
        size = self.pool_size * self.pool_size * channels
        for fc in self.fcs:
            fc.build((None, size))
            size = fc.units
        self.classifier.build((None, size))
        self.box_deltas.build((None, size))

    def head(self, pooled):
        x = tf.reshape(pooled, [-1, self.pool_size * self.pool_size * pooled.shape[-1]])
        for fc in self.fcs:
            x = fc(x)
        deltas = tf.reshape(self.box_deltas(x), [-1, self.num_classes, 4])
        return self.classifier(x), deltas

    def compute_output_shape(self, input_shape):
        _, rois = input_shape
        return (rois[0], rois[1], self.num_classes), (rois[0], rois[1], self.num_classes, 4)

    def get_config(self):
        config = super().get_config()
        config["fc_units"] = self.fc_units
        return config
