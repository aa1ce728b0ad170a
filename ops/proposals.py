"""RPN proposals: per-level top-k, decoding, clipping, level-wise NMS, padded output.

Faster R-CNN (Ren et al. 2015, Sec. 3.3) with the FPN rules (Lin et al. 2017,
Sec. 5.1) as torchvision's ``RegionProposalNetwork.filter_proposals`` applies
them, one image at a time but batched:

1. on every pyramid level, keep the ``pre_nms_top_n`` anchors of highest
   objectness (2000 in training, 1000 at test time);
2. decode their deltas (the RPN's box coding: unit weights), clip the
   boxes to the image's own (resized, unpadded) size and drop boxes narrower or
   lower than ``min_size`` (1e-3 pixel);
3. NMS at IoU 0.7 within each level (the level acts as the class of
   ``ops.nms.batched_nms``), and keep the ``post_nms_top_n`` best over all
   levels (2000 / 1000), sorted by objectness probability.

Shapes are static: every image returns ``post_nms_top_n`` rows with a validity
mask, so the training graph, a SavedModel and TFLite see one graph. Boxes are
float32 ``xyxy`` pixels of the padded input. No gradient flows through
proposals (torchvision and detectron2 detach them too).
"""

import tensorflow as tf

from . import boxes as box_ops
from . import nms

# Mask R-CNN / FPN defaults (torchvision maskrcnn_resnet50_fpn, detectron2 R50-FPN).
RPN_NMS_THRESHOLD = 0.7
RPN_MIN_SIZE = 1e-3


def top_k_per_level(objectness, deltas, anchors, pre_nms_top_n):
    """The ``pre_nms_top_n`` highest-objectness anchors of every level.

    Args:
        objectness: list over levels of ``[B, N_l]`` logits.
        deltas: list of ``[B, N_l, 4]`` RPN box deltas.
        anchors: list of ``[N_l, 4]`` float32 ``xyxy`` anchors (shared by the batch).
        pre_nms_top_n: python int, candidates kept per level (all when a level has fewer).

    Returns:
        ``(logits [B, K], deltas [B, K, 4], anchors [B, K, 4], levels [K] int32)``,
        levels concatenated in order, ``K = sum_l min(pre_nms_top_n, N_l)`` (static
        when the level sizes are).
    """
    if not len(objectness) == len(deltas) == len(anchors):
        raise ValueError(
            "Expected one objectness, deltas and anchors tensor per level. Received: "
            f"{len(objectness)} objectness, {len(deltas)} deltas, {len(anchors)} anchors")
    out_logits, out_deltas, out_anchors, out_levels = [], [], [], []
    for level, (logits, level_deltas, level_anchors) in enumerate(
            zip(objectness, deltas, anchors)):
        logits = tf.cast(logits, tf.float32)
        count = logits.shape[1]
        k = min(pre_nms_top_n, count) if count is not None else tf.minimum(
            pre_nms_top_n, tf.shape(logits)[1])
        top, idx = tf.math.top_k(logits, k=k, sorted=False)
        out_logits.append(top)
        out_deltas.append(tf.gather(tf.cast(level_deltas, tf.float32), idx, batch_dims=1))
        out_anchors.append(tf.gather(tf.cast(level_anchors, tf.float32), idx))
        out_levels.append(tf.fill(tf.shape(idx)[1:], level))
    return (tf.concat(out_logits, 1), tf.concat(out_deltas, 1), tf.concat(out_anchors, 1),
            tf.concat(out_levels, 0))


def generate_proposals(objectness, deltas, anchors, image_sizes, *, pre_nms_top_n,
                       post_nms_top_n, nms_threshold=RPN_NMS_THRESHOLD,
                       min_size=RPN_MIN_SIZE, decode=box_ops.decode):
    """Region proposals of a batch (steps 1-3 of the module docstring).

    Args:
        objectness: list over levels of ``[B, N_l]`` objectness logits (anchor order of
            ``ops.anchors``: row, column, cell anchor).
        deltas: list of ``[B, N_l, 4]`` deltas ``(dx, dy, dw, dh)``.
        anchors: list of ``[N_l, 4]`` float32 ``xyxy`` anchors.
        image_sizes: ``[B, 2]`` ``(height, width)`` of each image inside the padded
            batch; proposals are clipped to it.
        pre_nms_top_n: python int, candidates per level before NMS.
        post_nms_top_n: python int, proposals per image returned.
        nms_threshold: IoU at which NMS suppresses (0.7).
        min_size: boxes with a side below this (pixels) are dropped.
        decode: ``decode(deltas, anchors) -> boxes``, the RPN's box coding (default
            ``ops.boxes.decode`` with unit weights).

    Returns:
        ``(boxes [B, post_nms_top_n, 4], scores [B, post_nms_top_n], valid [B,
        post_nms_top_n] bool)``: proposals sorted by decreasing objectness
        probability ``sigmoid(logit)``; rows past an image's count are zero boxes with
        ``valid`` False.
    """
    logits, top_deltas, top_anchors, levels = top_k_per_level(
        objectness, deltas, anchors, pre_nms_top_n)
    logits, top_deltas = tf.stop_gradient(logits), tf.stop_gradient(top_deltas)
    boxes = decode(top_deltas, top_anchors)
    boxes = box_ops.clip_to_image(boxes, image_sizes)
    width = boxes[..., 2] - boxes[..., 0]
    height = boxes[..., 3] - boxes[..., 1]
    keep = (width >= min_size) & (height >= min_size)
    classes = tf.where(keep, levels[None, :], -1)
    out_boxes, out_scores, _, num_valid = nms.batched_nms(
        boxes, tf.sigmoid(logits), classes, max_detections=post_nms_top_n,
        iou_threshold=nms_threshold, score_threshold=-float("inf"))
    valid = tf.range(post_nms_top_n)[None, :] < num_valid[:, None]
    return out_boxes, out_scores, valid
