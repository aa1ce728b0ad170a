"""Feature-pyramid level of each box (FPN, Lin et al. 2017, Sec. 4.2, Eq. 1)."""

import tensorflow as tf

CANONICAL_LEVEL = 4  # FPN Eq. 1: k0 = 4, the level of a 224 x 224 box
CANONICAL_SIZE = 224  # FPN Eq. 1: the ImageNet pre-training size


def assign_fpn_levels(boxes, min_level, max_level, canonical_level=CANONICAL_LEVEL,
                      canonical_size=CANONICAL_SIZE, eps=1e-6):
    """FPN level of each box: ``k = floor(k0 + log2(sqrt(w h) / 224) + eps)``, clamped.

    As torchvision's ``LevelMapper``: ``eps = 1e-6`` keeps a box of exactly
    ``224 * 2^j`` on level ``k0 + j``. Boxes with no area (or NaN) go to
    `min_level`.

    Args:
        boxes: ``[K, 4]`` float ``(x1, y1, x2, y2)`` in input pixels.
        min_level, max_level: python ints, the pyramid's levels (e.g. 2 and 5 for P2-P5).
        canonical_level: ``k0`` of FPN Eq. 1.
        canonical_size: the box side mapped to ``k0``.
        eps: added before the floor.

    Returns:
        int32 ``[K]`` levels in ``[min_level, max_level]``.
    """
    boxes = tf.cast(boxes, tf.float32)
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    scale = tf.sqrt(area)
    level = tf.floor(canonical_level + tf.math.log(scale / canonical_size) / tf.math.log(2.0)
                     + eps)
    level = tf.where(tf.math.is_nan(level), float(min_level), level)
    return tf.cast(tf.clip_by_value(level, float(min_level), float(max_level)), tf.int32)
