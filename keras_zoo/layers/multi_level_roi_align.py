"""`MultiLevelRoIAlign`: RoIAlign over an FPN pyramid, each RoI on its own level."""

import re

import keras
import tensorflow as tf

from keras_zoo.layers._roi_layer import RoILayer, split_roi_inputs
from keras_zoo.ops.levels import CANONICAL_LEVEL, CANONICAL_SIZE, assign_fpn_levels
from keras_zoo.ops.roi_align import roi_align as _roi_align
from keras_zoo.ops.roi_pool import roi_pool as _roi_pool

_LEVEL_NAME = re.compile(r"^P(\d+)$")


@keras.saving.register_keras_serializable(package="keras_zoo")
class MultiLevelRoIAlign(RoILayer):
    """RoIAlign on a feature pyramid (FPN, Lin et al. 2017, Sec. 4.2, Eq. 1; used by
    Mask R-CNN, He et al. 2017, Sec. 3.1): each RoI is pooled from level
    `k = floor(4 + log2(sqrt(w h) / 224))`, clamped to the pooled levels, with that
    level's spatial scale `1 / 2^k`; results come back in the input order.

    Args:
        output_size: int or `(out_h, out_w)` (7 box head, 14 mask head).
        sampling_ratio: samples per bin per axis (2, Mask R-CNN Sec. 3); `<= 0` adaptive.
        aligned: True for the -0.5 pixel shift (exact alignment).
        canonical_level: `k0` of FPN Eq. 1 (4).
        canonical_size: the ImageNet pre-training size of FPN Eq. 1 (224).
        implementation: `"crop_and_resize"` or `"gather"` (TFLite builtins).
        use_roi_align: False pools each level with RoIPool instead (Mask R-CNN's
            Table 2c ablation); `sampling_ratio`, `aligned` and `implementation` are
            then unused.
        levels: the pyramid levels k pooled from (FPN Sec. 4.2: P2..P5, not the
            RPN's P6), or None for every level given.
        **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
        inputs: `[features, boxes, box_indices]` (or a dict with those keys), where
            features is a dict `{"P2": [N, H2, W2, C], ..., "P5": ...}` named `P<k>`
            for stride `2^k` (other levels than `levels` are left out); boxes `[K, 4]`
            xyxy in input pixels; box_indices `[K]`.

    Returns:
        `[K, out_h, out_w, C]`.

    Example:

    >>> pyramid = {f"P{k}": np.random.rand(1, 256 >> k, 256 >> k, 8).astype("float32")
    ...            for k in (2, 3, 4, 5)}
    >>> boxes = np.array([[0, 0, 32, 32], [0, 0, 250, 250]], "float32")
    >>> MultiLevelRoIAlign(7)([pyramid, boxes, np.zeros(2, "int32")]).shape
    TensorShape([2, 7, 7, 8])
    """

    def __init__(self, output_size, sampling_ratio=2, aligned=True,
                 canonical_level=CANONICAL_LEVEL, canonical_size=CANONICAL_SIZE,
                 implementation="crop_and_resize", use_roi_align=True, levels=None, **kwargs):
        super().__init__(output_size, sampling_ratio=sampling_ratio, aligned=aligned,
                         implementation=implementation, **kwargs)
        self.canonical_level = int(canonical_level)
        self.canonical_size = float(canonical_size)
        self.use_roi_align = bool(use_roi_align)
        self.levels = None if levels is None else tuple(int(k) for k in levels)
        if self.levels is not None and not self.levels:
            raise ValueError(f"Expected levels to name one or more pyramid levels, or None. "
                             f"Received: levels={levels!r}")

    def _pool(self, feature_map, boxes, box_indices, level):
        if not self.use_roi_align:
            return _roi_pool(feature_map, boxes, box_indices, self.output_size,
                             spatial_scale=2.0 ** -level)
        return _roi_align(feature_map, boxes, box_indices, self.output_size,
                          spatial_scale=2.0 ** -level, sampling_ratio=self.sampling_ratio,
                          aligned=self.aligned, implementation=self.implementation)

    def _levels(self, features):
        if not isinstance(features, dict) or not features:
            raise ValueError("Expected features as a dict {'P2': ..., 'P5': ...}. "
                             f"Received: features={features!r}")
        levels = {}
        for name, value in features.items():
            match = _LEVEL_NAME.match(str(name))
            if not match:
                raise ValueError("Expected pyramid levels named 'P<k>' (stride 2^k). "
                                 f"Received: name={name!r}")
            levels[int(match.group(1))] = value
        if self.levels is None:
            return dict(sorted(levels.items()))
        missing = [k for k in self.levels if k not in levels]
        if missing:
            raise ValueError(f"Expected pyramid levels {[f'P{k}' for k in self.levels]}. "
                             f"Received: {sorted(features)}")
        return {k: levels[k] for k in sorted(self.levels)}

    def call(self, inputs):
        features, boxes, box_indices = split_roi_inputs(inputs, "MultiLevelRoIAlign")
        levels = self._levels(features)
        boxes = tf.convert_to_tensor(boxes)
        box_indices = tf.cast(box_indices, tf.int32)
        assigned = assign_fpn_levels(boxes, min(levels), max(levels), self.canonical_level,
                                     self.canonical_size)
        # One dummy box (row K, dropped at the end) joins every level, so no level is
        # ever empty: TFLite's XNNPACK delegate cannot resize to empty tensors.
        num_boxes = tf.shape(boxes)[0]
        boxes = tf.concat([boxes, tf.constant([[0.0, 0.0, 1.0, 1.0]], boxes.dtype)], axis=0)
        box_indices = tf.concat([box_indices, tf.zeros([1], tf.int32)], axis=0)
        pooled, positions = [], []
        for level, feature_map in levels.items():
            where = tf.reshape(tf.where(tf.equal(assigned, level)), [-1])
            where = tf.concat([tf.cast(where, tf.int32), num_boxes[None]], axis=0)
            pooled.append(self._pool(feature_map, tf.gather(boxes, where),
                                     tf.gather(box_indices, where), level))
            positions.append(where)
        # Every real box sits on exactly one level: scattering by position restores the
        # input order (the dummy rows all land on row K, which is cut off).
        pooled = tf.concat(pooled, axis=0)
        positions = tf.concat(positions, axis=0)[:, None]
        output_shape = tf.concat([[num_boxes + 1], tf.shape(pooled)[1:]], axis=0)
        return tf.scatter_nd(positions, pooled, output_shape)[:num_boxes]

    def compute_output_shape(self, input_shape):
        features, boxes, _ = split_roi_inputs(input_shape, "MultiLevelRoIAlign")
        channels = next(iter(self._levels(features).values()))[-1]
        return self._pooled_shape(boxes[0], channels)

    def get_config(self):
        config = super().get_config()
        config.update({"canonical_level": self.canonical_level,
                       "canonical_size": self.canonical_size,
                       "use_roi_align": self.use_roi_align,
                       "levels": self.levels})
        return config
