"""Box arithmetic: area, pairwise IoU, format conversion, clipping, R-CNN box coding.

Convention (DESIGN.md): boxes are ``float32 [..., 4]`` as ``(x1, y1, x2, y2)`` in
absolute input-image pixels. A box's width is ``x2 - x1`` and its height
``y2 - y1`` (no ``+ 1``), as in torchvision and detectron2, so a box and its
pixel-centre grid are related by continuous coordinates: pixel ``(i, j)``
covers ``[j, j + 1) x [i, i + 1)``. Other formats only exist at the edges:
``xywh`` (COCO json ``bbox``) and ``yxyx`` (``tf.image`` ops).

All functions are pure TensorFlow, broadcast over leading dimensions (so a
batch of images ``[B, N, 4]`` works as well as ``[N, 4]``) and run inside
``tf.function`` and under ``tf.distribute``.
"""

import math

import tensorflow as tf

# Faster R-CNN box coding weights (Ren et al. 2015 Eq. 2; detectron2 / torchvision
# defaults): RPN deltas are unweighted, box-head deltas are scaled by (10, 10, 5, 5).
RPN_BOX_WEIGHTS = (1.0, 1.0, 1.0, 1.0)
HEAD_BOX_WEIGHTS = (10.0, 10.0, 5.0, 5.0)
# Largest dw/dh accepted by decode, so exp() cannot overflow: a box grows at most
# 1000/16 = 62.5 times (detectron2 _DEFAULT_SCALE_CLAMP, torchvision bbox_xform_clip).
BOX_SCALE_CLAMP = math.log(1000.0 / 16)

_FORMATS = ("xyxy", "xywh", "yxyx")


def _unstack(boxes):
    boxes = tf.convert_to_tensor(boxes)
    return tf.unstack(boxes, num=4, axis=-1)


def area(boxes):
    """Area of ``xyxy`` boxes; inverted boxes (``x2 < x1`` or ``y2 < y1``) have area 0.

    Args:
        boxes: ``[..., 4]`` float, ``(x1, y1, x2, y2)``.

    Returns:
        ``[...]`` float: ``max(x2 - x1, 0) * max(y2 - y1, 0)``.
    """
    x1, y1, x2, y2 = _unstack(boxes)
    return tf.maximum(x2 - x1, 0.0) * tf.maximum(y2 - y1, 0.0)


def pairwise_iou(boxes1, boxes2):
    """Intersection over union of every box of ``boxes1`` with every box of ``boxes2``.

    ``IoU(a, b) = |a ∩ b| / |a ∪ b|``. Pairs whose union is empty (two zero-area
    boxes, e.g. the all-zero rows used to pad ground truth) get IoU 0, never NaN;
    a zero-area box has IoU 0 with everything.

    Args:
        boxes1: ``[..., N, 4]`` float ``xyxy``.
        boxes2: ``[..., M, 4]`` float ``xyxy``; leading dimensions broadcast with
            those of ``boxes1`` (e.g. ``[B, N, 4]`` anchors against ``[B, M, 4]``
            ground truth, or ``[N, 4]`` against ``[M, 4]``).

    Returns:
        ``[..., N, M]`` float IoU in ``[0, 1]``.
    """
    boxes1 = tf.convert_to_tensor(boxes1, tf.float32)
    boxes2 = tf.convert_to_tensor(boxes2, boxes1.dtype)
    a = boxes1[..., :, None, :]
    b = boxes2[..., None, :, :]
    ix1 = tf.maximum(a[..., 0], b[..., 0])
    iy1 = tf.maximum(a[..., 1], b[..., 1])
    ix2 = tf.minimum(a[..., 2], b[..., 2])
    iy2 = tf.minimum(a[..., 3], b[..., 3])
    inter = tf.maximum(ix2 - ix1, 0.0) * tf.maximum(iy2 - iy1, 0.0)
    union = area(boxes1)[..., :, None] + area(boxes2)[..., None, :] - inter
    return tf.math.divide_no_nan(inter, union)


def convert_format(boxes, source, target):
    """Converts boxes between ``xyxy``, ``xywh`` (COCO json) and ``yxyx`` (tf.image).

    Args:
        boxes: ``[..., 4]`` float in the ``source`` format: ``xyxy`` is
            ``(x1, y1, x2, y2)``; ``xywh`` is ``(x1, y1, width, height)`` with
            ``width = x2 - x1``; ``yxyx`` is ``(y1, x1, y2, x2)``. All in pixels.
        source, target: one of ``"xyxy"``, ``"xywh"``, ``"yxyx"``.

    Returns:
        ``[..., 4]`` boxes in the ``target`` format.
    """
    for name, value in (("source", source), ("target", target)):
        if value not in _FORMATS:
            raise ValueError(f"Expected {name} to be one of {_FORMATS}. Received: {name}={value!r}")
    boxes = tf.convert_to_tensor(boxes)
    if source == target:
        return tf.identity(boxes)
    a, b, c, d = _unstack(boxes)
    if source == "xywh":
        x1, y1, x2, y2 = a, b, a + c, b + d
    elif source == "yxyx":
        x1, y1, x2, y2 = b, a, d, c
    else:
        x1, y1, x2, y2 = a, b, c, d
    if target == "xywh":
        return tf.stack([x1, y1, x2 - x1, y2 - y1], axis=-1)
    if target == "yxyx":
        return tf.stack([y1, x1, y2, x2], axis=-1)
    return tf.stack([x1, y1, x2, y2], axis=-1)


def clip_to_image(boxes, image_size):
    """Clips ``xyxy`` boxes to ``[0, width] x [0, height]``.

    Args:
        boxes: ``[..., N, 4]`` float ``xyxy``.
        image_size: ``(height, width)``: a ``[2]`` tensor for all boxes, or
            ``[B, 2]`` (one size per image) for boxes ``[B, N, 4]``.

    Returns:
        ``[..., N, 4]`` clipped boxes (same dtype as ``boxes``).
    """
    boxes = tf.convert_to_tensor(boxes)
    size = tf.cast(image_size, boxes.dtype)
    if size.shape.rank is not None and size.shape.rank > 1:
        size = size[..., None, :]
    height, width = size[..., 0], size[..., 1]
    x1, y1, x2, y2 = _unstack(boxes)
    return tf.stack(
        [
            tf.clip_by_value(x1, 0.0, width),
            tf.clip_by_value(y1, 0.0, height),
            tf.clip_by_value(x2, 0.0, width),
            tf.clip_by_value(y2, 0.0, height),
        ],
        axis=-1,
    )


def _centres(boxes):
    x1, y1, x2, y2 = _unstack(boxes)
    w = x2 - x1
    h = y2 - y1
    return x1 + 0.5 * w, y1 + 0.5 * h, w, h


def encode(boxes, anchors, weights=RPN_BOX_WEIGHTS):
    """R-CNN box encoding: the deltas that map ``anchors`` onto ``boxes``.

    Faster R-CNN (Ren et al. 2015, Eq. 2), with the detectron2/torchvision weights:
    ``dx = wx (x - xa) / wa``, ``dy = wy (y - ya) / ha``, ``dw = ww log(w / wa)``,
    ``dh = wh log(h / ha)``, where ``(x, y, w, h)`` are centre and size of a box.

    Args:
        boxes: ``[..., 4]`` float ``xyxy`` targets (e.g. matched ground truth).
        anchors: ``[..., 4]`` float ``xyxy`` reference boxes (anchors or proposals)
            with positive width and height; broadcasts with ``boxes``.
        weights: ``(wx, wy, ww, wh)``: ``RPN_BOX_WEIGHTS`` (1, 1, 1, 1) for the RPN,
            ``HEAD_BOX_WEIGHTS`` (10, 10, 5, 5) for the box head.

    Returns:
        ``[..., 4]`` float deltas ``(dx, dy, dw, dh)``.
    """
    wx, wy, ww, wh = _check_weights(weights)
    x, y, w, h = _centres(tf.convert_to_tensor(boxes, tf.float32))
    xa, ya, wa, ha = _centres(tf.convert_to_tensor(anchors, tf.float32))
    return tf.stack(
        [
            wx * (x - xa) / wa,
            wy * (y - ya) / ha,
            ww * tf.math.log(w / wa),
            wh * tf.math.log(h / ha),
        ],
        axis=-1,
    )


def decode(deltas, anchors, weights=RPN_BOX_WEIGHTS, scale_clamp=BOX_SCALE_CLAMP):
    """Inverse of :func:`encode`: applies ``deltas`` to ``anchors``.

    ``x = dx / wx * wa + xa``, ``w = exp(min(dw / ww, scale_clamp)) * wa`` (same
    for y, h); the clamp at ``log(1000 / 16)`` keeps ``exp`` finite on
    untrained heads, as in detectron2 and torchvision.

    Args:
        deltas: ``[..., 4]`` float ``(dx, dy, dw, dh)``.
        anchors: ``[..., 4]`` float ``xyxy``; broadcasts with ``deltas``.
        weights: ``(wx, wy, ww, wh)``, the ones used to encode.
        scale_clamp: upper bound on ``dw / ww`` and ``dh / wh``.

    Returns:
        ``[..., 4]`` float ``xyxy`` boxes (not clipped to the image).
    """
    wx, wy, ww, wh = _check_weights(weights)
    deltas = tf.convert_to_tensor(deltas, tf.float32)
    xa, ya, wa, ha = _centres(tf.convert_to_tensor(anchors, tf.float32))
    dx, dy, dw, dh = _unstack(deltas)
    dw = tf.minimum(dw / ww, scale_clamp)
    dh = tf.minimum(dh / wh, scale_clamp)
    x = dx / wx * wa + xa
    y = dy / wy * ha + ya
    w = tf.exp(dw) * wa
    h = tf.exp(dh) * ha
    return tf.stack([x - 0.5 * w, y - 0.5 * h, x + 0.5 * w, y + 0.5 * h], axis=-1)


def _check_weights(weights):
    weights = tuple(float(w) for w in weights)
    if len(weights) != 4 or min(weights) <= 0:
        raise ValueError(
            "Expected weights to be 4 positive numbers (wx, wy, ww, wh). "
            f"Received: weights={weights}")
    return weights
