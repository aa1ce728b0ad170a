"""Training targets of Mask R-CNN's RPN and RoI heads: match, sample, encode.

Faster R-CNN (Ren et al. 2015, Sec. 3.1.2) and Mask R-CNN (He et al. 2017,
Sec. 3.1), with torchvision's rules:

- :func:`rpn_targets`: anchors matched to ground truth at IoU >= 0.7 / < 0.3
  with the best-anchor rule (``ops.matching.match_anchors``), 256 anchors per
  image sampled, at most half positive; positives regress to their ground truth
  with unit weights.
- :func:`roi_targets`: the ground-truth boxes join the proposals (torchvision
  ``add_gt_proposals``), proposals matched at IoU >= 0.5 (positive, the
  ground truth's class) / < 0.5 (background, class 0), 512 sampled per image,
  at most 25% positive; positives regress with weights (10, 10, 5, 5).

Everything is static-shaped: ground truth comes padded (``[B, G, ...]`` plus
``gt_valid [B, G]``), proposals padded (``proposal_valid``), and samples are
``[B, S]`` with a ``weights`` mask (0 for the padding rows of an image with too
few candidates). Sampled positives come first in every row, so the first
``int(S * positive_fraction)`` columns hold all of an image's positives (the
mask head runs on those only). Boxes are float32 ``xyxy`` pixels.
"""

import tensorflow as tf

from . import boxes as box_ops
from . import matching


def pad_empty_ground_truth(gt_boxes, gt_valid, *others):
    """Appends one invalid all-zero row to ``[B, G, ...]`` ground truth when G = 0
    (static), so gathers by ground-truth index stay legal; otherwise returns the inputs.

    Args:
        gt_boxes: ``[B, G, 4]``; gt_valid: ``[B, G]`` bool; others: more ``[B, G, ...]``
            tensors (classes, masks), padded with zeros.

    Returns:
        The tuple ``(gt_boxes, gt_valid, *others)``.
    """
    if gt_boxes.shape[1] != 0:
        return (gt_boxes, gt_valid, *others)

    def pad(t, value):
        widths = [[0, 0], [0, 1]] + [[0, 0]] * (t.shape.rank - 2)
        return tf.pad(t, widths, constant_values=value)

    return (pad(gt_boxes, 0.0), pad(gt_valid, False), *(pad(t, 0) for t in others))


def _gather_samples(indices, *values):
    """``values[b, indices[b, s]]`` for every ``[B, N, ...]`` tensor; -1 reads row 0."""
    safe = tf.maximum(indices, 0)
    return [tf.gather(v, safe, batch_dims=1) for v in values]


def rpn_targets(anchors, gt_boxes, gt_valid, seed, *,
                num_samples=matching.RPN_NUM_SAMPLES,
                positive_fraction=matching.RPN_POSITIVE_FRACTION):
    """Sampled RPN targets of a batch.

    Args:
        anchors: ``[A, 4]`` float32 ``xyxy`` (all levels, ``ops.anchors`` order).
        gt_boxes: ``[B, G, 4]`` float32 ``xyxy``, padded.
        gt_valid: ``[B, G]`` bool.
        seed: ``[2]`` or per-image ``[B, 2]`` stateless seed (``ops.matching.sample_balanced``).
        num_samples: anchors sampled per image (256).
        positive_fraction: largest positive share (0.5).

    Returns:
        A dict of ``[B, S]`` tensors (``S = num_samples``): ``indices`` int32 anchor rows
        (0 on padding rows), ``labels`` float32 objectness targets (1 or 0),
        ``weights`` float32 (1 for sampled rows, 0 for padding), ``positive`` bool, and
        ``box_targets [B, S, 4]`` float32 deltas (zero where not positive).
    """
    anchors = tf.convert_to_tensor(anchors, tf.float32)
    gt_boxes = tf.convert_to_tensor(gt_boxes, tf.float32)
    gt_boxes, gt_valid = pad_empty_ground_truth(gt_boxes, tf.convert_to_tensor(gt_valid, tf.bool))
    matched, labels = matching.match_anchors(anchors, gt_boxes, gt_valid)
    idx = matching.sample_balanced(labels, num_samples, positive_fraction, seed)
    sampled = idx >= 0
    labels, matched = _gather_samples(idx, labels, matched)
    positive = sampled & tf.equal(labels, matching.POSITIVE)
    sampled_anchors = tf.gather(anchors, tf.maximum(idx, 0))
    deltas = box_ops.encode(matching.gather_matched(gt_boxes, matched), sampled_anchors,
                            box_ops.RPN_BOX_WEIGHTS)
    return {
        "indices": tf.maximum(idx, 0),
        "labels": tf.cast(positive, tf.float32),
        "weights": tf.cast(sampled, tf.float32),
        "positive": positive,
        "box_targets": tf.where(positive[..., None], deltas, 0.0),
    }


def roi_targets(proposals, proposal_valid, gt_boxes, gt_classes, gt_valid, seed, *,
                num_samples=matching.HEAD_NUM_SAMPLES,
                positive_fraction=matching.HEAD_POSITIVE_FRACTION,
                fg_threshold=matching.HEAD_FG_THRESHOLD,
                bg_threshold=matching.HEAD_BG_THRESHOLD, add_gt_boxes=True,
                box_weights=box_ops.HEAD_BOX_WEIGHTS):
    """Sampled RoIs and their box-head targets.

    Args:
        proposals: ``[B, P, 4]`` float32 ``xyxy`` (RPN output, padded).
        proposal_valid: ``[B, P]`` bool; invalid rows are never sampled.
        gt_boxes: ``[B, G, 4]`` float32 ``xyxy``, padded.
        gt_classes: ``[B, G]`` int classifier indices (>= 1; 0 is background).
        gt_valid: ``[B, G]`` bool.
        seed: ``[2]`` or per-image ``[B, 2]`` stateless seed.
        num_samples: RoIs per image (512, Mask R-CNN Sec. 3.1).
        positive_fraction: largest positive share (0.25, "1:3").
        fg_threshold, bg_threshold: IoU of a positive (>= 0.5) / a negative (< 0.5).
        add_gt_boxes: append the ground-truth boxes to the proposals first.
        box_weights: box coding weights (10, 10, 5, 5).

    Returns:
        A dict: ``rois [B, S, 4]``, ``classes [B, S]`` int32 target class (0 for
        background and padding), ``matched [B, S]`` int32 ground-truth index,
        ``positive [B, S]`` bool, ``weights [B, S]`` float32 (1 for sampled rows),
        ``box_targets [B, S, 4]`` (zero where not positive).
    """
    proposals = tf.convert_to_tensor(proposals, tf.float32)
    gt_boxes = tf.convert_to_tensor(gt_boxes, tf.float32)
    gt_boxes, gt_valid, gt_classes = pad_empty_ground_truth(
        gt_boxes, tf.convert_to_tensor(gt_valid, tf.bool), tf.cast(gt_classes, tf.int32))
    candidates, valid = proposals, tf.convert_to_tensor(proposal_valid, tf.bool)
    if add_gt_boxes:
        candidates = tf.concat([candidates, gt_boxes], axis=1)
        valid = tf.concat([valid, gt_valid], axis=1)
    matched, labels = matching.match_boxes(
        candidates, gt_boxes, gt_valid, fg_threshold=fg_threshold, bg_threshold=bg_threshold,
        allow_low_quality_matches=False)
    labels = tf.where(valid, labels, matching.IGNORE)
    idx = matching.sample_balanced(labels, num_samples, positive_fraction, seed)
    sampled = idx >= 0
    rois, labels, matched = _gather_samples(idx, candidates, labels, matched)
    positive = sampled & tf.equal(labels, matching.POSITIVE)
    classes = tf.where(positive, matching.gather_matched(gt_classes, matched), 0)
    deltas = box_ops.encode(matching.gather_matched(gt_boxes, matched), rois, box_weights)
    return {
        "rois": tf.where(sampled[..., None], rois, 0.0),
        "classes": classes,
        "matched": matched,
        "positive": positive,
        "weights": tf.cast(sampled, tf.float32),
        "box_targets": tf.where(positive[..., None], deltas, 0.0),
    }
