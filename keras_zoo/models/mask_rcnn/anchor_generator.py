"""`AnchorGenerator`: the anchors of every pyramid level for an image size."""

import keras

from keras_zoo import ops
from keras_zoo.models.mask_rcnn._config_object import ConfigObject


def _sizes_per_level(sizes):
    """One tuple of anchor sizes per level, from numbers or sequences of numbers."""
    levels = [tuple(float(v) for v in (s if isinstance(s, (tuple, list)) else (s,)))
              for s in sizes]
    if not levels or any(not level or min(level) <= 0 for level in levels):
        raise ValueError("Expected one or more positive anchor sizes per pyramid level. "
                         f"Received: sizes={sizes!r}")
    counts = {len(level) for level in levels}
    if len(counts) != 1:
        raise ValueError("Expected the same number of anchor sizes on every level (the RPN "
                         f"head predicts one count per position). Received: sizes={sizes!r}")
    return tuple(level[0] if len(level) == 1 else level for level in levels)


@keras.saving.register_keras_serializable(package="keras_zoo")
class AnchorGenerator(ConfigObject):
    """FPN anchors (Lin et al. 2017, Sec. 4.1; Mask R-CNN Sec. 3): on pyramid level l,
    ``sizes[l]`` (a side ``sqrt(area)``, or several) times every aspect ratio
    (height / width), tiled over the level's map with torchvision's per-axis stride
    ``padded_size // map_size`` (`ops.anchors` documents the convention).

    Args:
        sizes: one anchor size (or a tuple of sizes) per pyramid level, lowest level
            first (32, 64, 128, 256, 512 on P2..P6).
        aspect_ratios: height / width ratios shared by every level (0.5, 1, 2).

    Call arguments:
        image_size: ``(height, width)`` of the padded input (ints or scalar tensors).
        level_shapes: ``(H_l, W_l)`` of each level's map, lowest level first.

    Returns:
        A list over levels of ``[H_l * W_l * A, 4]`` float32 ``xyxy`` anchors, ordered
        (row, column, anchor): the order of an RPN head's outputs.

    Example:

    >>> generator = AnchorGenerator((16, 32), (1.0,))
    >>> [a.shape[0] for a in generator((64, 64), [(16, 16), (8, 8)])]
    [256, 64]
    """

    def __init__(self, sizes=ops.anchors.FPN_SIZES, aspect_ratios=ops.anchors.FPN_ASPECT_RATIOS):
        self.sizes = _sizes_per_level(sizes)
        ratios = tuple(float(r) for r in aspect_ratios)
        if not ratios or min(ratios) <= 0:
            raise ValueError("Expected positive aspect ratios (height / width). Received: "
                             f"aspect_ratios={aspect_ratios!r}")
        self.aspect_ratios = ratios

    @property
    def num_levels(self):
        """The pyramid levels the generator expects."""
        return len(self.sizes)

    @property
    def num_anchors_per_location(self):
        """Anchors per map position: sizes per level x aspect ratios."""
        first = self.sizes[0]
        return (len(first) if isinstance(first, tuple) else 1) * len(self.aspect_ratios)

    def __call__(self, image_size, level_shapes):
        if len(level_shapes) != self.num_levels:
            raise ValueError(f"Expected {self.num_levels} pyramid levels (one per anchor size). "
                             f"Received: {len(level_shapes)} levels")
        return ops.anchors.fpn_anchors_per_level(
            image_size, sizes=self.sizes, aspect_ratios=self.aspect_ratios,
            strides=ops.anchors.grid_strides(image_size, level_shapes), level_shapes=level_shapes)

    def get_config(self):
        return {"sizes": self.sizes, "aspect_ratios": self.aspect_ratios}
