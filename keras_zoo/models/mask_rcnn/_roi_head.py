"""Shared base of the box and mask heads: pooling a batch of RoIs from the pyramid."""

import keras
import tensorflow as tf

from keras_zoo.layers.multi_level_roi_align import MultiLevelRoIAlign


class RoIHead(keras.layers.Layer):
    """Base class: holds the `MultiLevelRoIAlign` pooler and pools ``[B, R, 4]`` RoIs.

    Subclasses build their layers in `build_head(channels)` and map pooled
    ``[B * R, s, s, C]`` features in `head(pooled)`. Called on ``[pyramid, rois]``
    (``rois [B, R, 4]``, outputs ``[B, R, ...]``) or on ``[pyramid, rois, box_indices]``
    (a flat ``rois [K, 4]`` with the image of each, outputs ``[K, ...]``).

    Args:
        num_classes: classifier outputs, background (0) included.
        pool_size: RoIAlign output size (7 box head, 14 mask head; Fig. 4).
        sampling_ratio: samples per bin and axis (2, Sec. 3).
        aligned: RoIAlign's -0.5 pixel shift (True, the paper's exact alignment;
            torchvision's weights were trained with False).
        use_roi_align: False pools with RoIPool (Table 2c ablation).
        levels: the pyramid levels the RoIs are pooled from (P2..P5, FPN Eq. 1).
        implementation: RoIAlign's `"crop_and_resize"` or `"gather"` (TFLite builtins).
    """

    def __init__(self, num_classes, *, pool_size, sampling_ratio=2, aligned=True,
                 use_roi_align=True, levels=(2, 3, 4, 5), implementation="crop_and_resize",
                 **kwargs):
        kwargs["autocast"] = False  # RoI coordinates stay float32 under mixed precision
        super().__init__(**kwargs)
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError("Expected num_classes >= 2 (background included). "
                             f"Received: num_classes={num_classes!r}")
        self.num_classes = num_classes
        self.pool_size = int(pool_size)
        self.sampling_ratio = int(sampling_ratio)
        self.aligned = bool(aligned)
        self.use_roi_align = bool(use_roi_align)
        self.levels = tuple(int(k) for k in levels)
        self.implementation = implementation
        self.pooler = MultiLevelRoIAlign(
            self.pool_size, sampling_ratio=self.sampling_ratio, aligned=self.aligned,
            implementation=implementation, use_roi_align=self.use_roi_align,
            dtype=self.dtype_policy, name="pooler")

    def _level_features(self, pyramid):
        missing = [k for k in self.levels if f"P{k}" not in pyramid]
        if missing:
            raise ValueError(f"Expected pyramid levels {[f'P{k}' for k in self.levels]}. "
                             f"Received: {sorted(pyramid)}")
        return {f"P{k}": pyramid[f"P{k}"] for k in self.levels}

    def build(self, input_shape):
        pyramid, _ = input_shape
        channels = pyramid[f"P{self.levels[0]}"][-1]
        self.build_head(channels)

    def call(self, inputs):
        if len(inputs) == 3:  # [pyramid, rois [K, 4], box_indices [K]]: a flat list
            pyramid, rois, box_indices = inputs
            return self.head(self.pooler([self._level_features(pyramid),
                                          tf.convert_to_tensor(rois, tf.float32),
                                          tf.cast(box_indices, tf.int32)]))
        pyramid, rois = inputs
        features = self._level_features(pyramid)
        rois = tf.convert_to_tensor(rois, tf.float32)
        batch, count = (d if d is not None else tf.shape(rois)[i]
                        for i, d in enumerate(rois.shape[:2]))
        flat = tf.reshape(rois, [-1, 4])
        box_indices = tf.repeat(tf.range(batch), count)
        pooled = self.pooler([features, flat, box_indices])
        return keras.tree.map_structure(
            lambda t: tf.reshape(t, [batch, count, *t.shape[1:]]), self.head(pooled))

    def build_head(self, channels):
        raise NotImplementedError

    def head(self, pooled):
        raise NotImplementedError

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_classes": self.num_classes,
            "pool_size": self.pool_size,
            "sampling_ratio": self.sampling_ratio,
            "aligned": self.aligned,
            "use_roi_align": self.use_roi_align,
            "levels": self.levels,
            "implementation": self.implementation,
        })
        return config
