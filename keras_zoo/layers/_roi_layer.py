"""Shared base of the RoI pooling layers (`RoIAlign`, `MultiLevelRoIAlign`): the
arguments both take, their checks and config, and the `[features, boxes,
box_indices]` inputs. Private: the public names are the two layers."""

import keras

from keras_zoo.checks import size_pair
from keras_zoo.ops.roi_align import IMPLEMENTATIONS


def split_roi_inputs(inputs, name):
    """`[features, boxes, box_indices]` (list, tuple or dict) -> the three parts."""
    if isinstance(inputs, dict):
        keys = ("features", "boxes", "box_indices")
        if set(inputs) != set(keys):
            raise ValueError(f"Expected {name} inputs as a dict with keys {keys}. "
                             f"Received: keys={sorted(inputs)}")
        return tuple(inputs[k] for k in keys)
    if not isinstance(inputs, (list, tuple)) or len(inputs) != 3:
        raise ValueError(f"Expected {name} inputs [features, boxes, box_indices]. "
                         f"Received: inputs={inputs!r}")
    return tuple(inputs)


class RoILayer(keras.layers.Layer):
    """Holds `output_size`, `sampling_ratio`, `aligned` and `implementation` (see
    `keras_zoo.ops.roi_align`), checked once for both layers."""

    def __init__(self, output_size, *, sampling_ratio, aligned, implementation, **kwargs):
        # Box coordinates stay float32 under mixed precision (bfloat16 would round a
        # 1000-pixel coordinate by 4 pixels); the op computes in float32 and returns the
        # features' dtype.
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        size_pair("output_size", output_size)
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(f"Expected implementation to be one of {IMPLEMENTATIONS}. "
                             f"Received: implementation={implementation!r}")
        self.output_size = output_size if isinstance(output_size, int) else tuple(output_size)
        self.sampling_ratio = int(sampling_ratio)
        self.aligned = bool(aligned)
        self.implementation = implementation

    def _pooled_shape(self, num_boxes, channels):
        out_h, out_w = size_pair("output_size", self.output_size)
        return (num_boxes, out_h, out_w, channels)

    def get_config(self):
        config = super().get_config()
        config.update({
            "output_size": self.output_size,
            "sampling_ratio": self.sampling_ratio,
            "aligned": self.aligned,
            "implementation": self.implementation,
        })
        return config
