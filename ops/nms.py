"""Class-aware batched non-maximum suppression with a fixed, padded output size.

Serving signatures and TFLite need static shapes, so every image returns exactly
``max_detections`` rows, padded, together with the number of valid rows.

Greedy NMS (as in torchvision ``batched_nms`` and detectron2): per image and per
class, visit boxes by decreasing score and drop every box whose IoU with an
already kept box of the same class reaches ``iou_threshold``. Classes are kept
apart with the class-offset trick: each box is shifted by ``1 - min_coord + class
* (max_coord - min_coord + 1)``, so boxes of different classes never overlap and
every shifted coordinate is >= 1 (TF's padded NMS takes a box whose coordinates are
all <= 0 for padding), and one class-agnostic NMS
(``tf.image.non_max_suppression_padded``, batched and tile-based, algorithmically
equal to greedy NMS) does the rest. Boxes are float32 ``xyxy`` pixels. The graph
has static output shapes, compiles with XLA (``jit_compile=True``) and converts to
TFLite with builtin ops only (no Flex delegate).

Two boundary conventions differ from torchvision's and are those of TF's kernel:
a box is suppressed at ``IoU >= iou_threshold`` (torchvision: ``>``), and IoU has
``1e-8`` added to the union. Boxes scoring ``<= score_threshold`` are dropped
(torchvision's ``scores > score_thresh`` filter).
"""

import tensorflow as tf

from keras_zoo.checks import positive_int

# Mask R-CNN inference (He et al. 2017 Sec. 3.1; detectron2 / torchvision defaults):
# per-class NMS at IoU 0.5, score threshold 0.05, at most 100 detections per image.
DEFAULT_IOU_THRESHOLD = 0.5
DEFAULT_SCORE_THRESHOLD = 0.05
DEFAULT_MAX_DETECTIONS = 100


def batched_nms(boxes, scores, classes, *, max_detections=DEFAULT_MAX_DETECTIONS,
                iou_threshold=DEFAULT_IOU_THRESHOLD, score_threshold=DEFAULT_SCORE_THRESHOLD,
                pre_nms_top_k=None):
    """Class-aware NMS over a batch of images, padded to ``max_detections``.

    Args:
        boxes: ``[B, N, 4]`` float32 ``xyxy`` candidates.
        scores: ``[B, N]`` float32.
        classes: ``[B, N]`` int class of each candidate; NMS only compares boxes
            of equal class. Candidates with class < 0 are ignored (padding).
        max_detections: python int, rows per image in the output.
        iou_threshold: suppress at IoU >= this with a kept box of the same class.
        score_threshold: keep only candidates scoring above this.
        pre_nms_top_k: optional python int: first keep only the ``pre_nms_top_k``
            best-scoring candidates per image (bounds the cost for large ``N``).

    Returns:
        ``(boxes [B, max_detections, 4], scores [B, max_detections],
        classes [B, max_detections] int32, num_valid [B] int32)``, sorted by
        decreasing score. Rows past ``num_valid`` are padding: box 0, score 0,
        class -1.
    """
    positive_int("max_detections", max_detections)
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    scores = tf.convert_to_tensor(scores, tf.float32)
    classes = tf.cast(classes, tf.int32)
    if boxes.shape.rank != 3 or scores.shape.rank != 2:
        raise ValueError(
            "Expected boxes [B, N, 4] and scores [B, N]. "
            f"Received: boxes.shape={boxes.shape}, scores.shape={scores.shape}")
    # Padding candidates (class < 0) score the lowest float32, and a threshold of -inf is
    # raised to it, so NMS drops them. Not -inf: TF's padded NMS zeroes the scores at or
    # below the threshold by multiplying them with 0, and -inf * 0 is NaN, which TF and
    # TFLite sort differently (and neither as the lowest score).
    score_threshold = tf.maximum(tf.cast(score_threshold, tf.float32), tf.float32.min)
    iou_threshold = tf.cast(iou_threshold, tf.float32)  # a tensor: no retrace per value
    scores_in = tf.where(classes >= 0, scores, tf.float32.min)
    if pre_nms_top_k is not None:
        k = tf.minimum(pre_nms_top_k, tf.shape(scores_in)[1])
        scores_in, top = tf.math.top_k(scores_in, k=k)
        boxes = tf.gather(boxes, top, batch_dims=1)
        classes = tf.gather(classes, top, batch_dims=1)
        scores = tf.gather(scores, top, batch_dims=1)
    # Class-offset trick: translate each class into its own disjoint region. TF's padded
    # NMS counts a selected box as padding when all its coordinates are <= 0, so every
    # shifted coordinate is made >= 1: class c covers [1 + c * span, (c + 1) * span].
    low = tf.reduce_min(boxes)
    span = tf.reduce_max(boxes) - low + 1.0
    offsets = (1.0 - low) + tf.expand_dims(tf.cast(tf.maximum(classes, 0), tf.float32), -1) * span
    # Canonical corners per box (TF would canonicalise by looking at the first box only).
    x1, y1, x2, y2 = tf.unstack(boxes + offsets, num=4, axis=-1)
    shifted = tf.stack([tf.minimum(y1, y2), tf.minimum(x1, x2), tf.maximum(y1, y2),
                        tf.maximum(x1, x2)], axis=-1)
    idx, num_valid = tf.image.non_max_suppression_padded(
        shifted, scores_in, max_detections, iou_threshold=iou_threshold,
        score_threshold=score_threshold, pad_to_max_output_size=True,
        canonicalized_coordinates=True)
    num_valid = tf.cast(num_valid, tf.int32)
    valid = tf.range(max_detections)[None, :] < num_valid[:, None]
    out_boxes = tf.where(valid[..., None], tf.gather(boxes, idx, batch_dims=1), 0.0)
    out_scores = tf.where(valid, tf.gather(scores, idx, batch_dims=1), 0.0)
    out_classes = tf.where(valid, tf.gather(classes, idx, batch_dims=1), -1)
    batch = boxes.shape[0]
    return (tf.ensure_shape(out_boxes, [batch, max_detections, 4]),
            tf.ensure_shape(out_scores, [batch, max_detections]),
            tf.ensure_shape(out_classes, [batch, max_detections]),
            num_valid)


def multiclass_nms(boxes, scores, **kwargs):
    """NMS on per-class predictions of a detection head (torchvision ``postprocess_detections``).

    Every (candidate, class) pair becomes one candidate of :func:`batched_nms`.

    Args:
        boxes: ``[B, N, C, 4]`` float32 ``xyxy``, one box per class (class-specific
            regression), or ``[B, N, 4]`` shared by all classes.
        scores: ``[B, N, C]`` float32 per-class scores; drop the background column
            first (then the returned class ``c`` means column ``c`` of ``scores``).
        **kwargs: ``max_detections``, ``iou_threshold``, ``score_threshold``,
            ``pre_nms_top_k`` of :func:`batched_nms`.

    Returns:
        Same as :func:`batched_nms`, classes in ``[0, C)``.
    """
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    scores = tf.convert_to_tensor(scores, tf.float32)
    shape = tf.shape(scores)
    if boxes.shape.rank == 3:
        boxes = tf.broadcast_to(boxes[:, :, None, :], tf.concat([shape, [4]], 0))
    batch = scores.shape[0] if scores.shape[0] is not None else shape[0]
    classes = tf.broadcast_to(tf.range(shape[2])[None, None, :], shape)
    return batched_nms(tf.reshape(boxes, [batch, -1, 4]), tf.reshape(scores, [batch, -1]),
                       tf.reshape(classes, [batch, -1]), **kwargs)
