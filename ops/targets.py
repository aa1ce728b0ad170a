"""Training targets of Mask R-CNN's RPN and RoI heads: match, sample, encode.

Faster R-CNN (Ren et al. 2015, Sec. 3.1.2) and Mask R-CNN (He et al. 2017,
Sec. 3.1), with torchvision's rules. The three steps are injected callables, so the
rules (thresholds, sample sizes, coding weights, or other matchers altogether) are
the caller's: ``models.mask_rcnn.Matcher``, ``BalancedSampler`` and ``BoxCoder``
hold the paper's values (RPN: IoU >= 0.7 / < 0.3 with the best-anchor rule, 256
anchors per image at most half positive, unit weights; RoI heads: IoU >= 0.5 /
< 0.5, 512 RoIs per image at most 25% positive, weights (10, 10, 5, 5)).

- :func:`rpn_targets`: anchors matched to ground truth, sampled, positives
  regress to their ground truth.
- :func:`roi_targets`: the ground-truth boxes join the proposals (torchvision
  ``add_gt_proposals``), then matched (positive: the ground truth's class;
  negative: background, class 0), sampled and encoded.

Everything is static-shaped: ground truth comes padded (``[B, G, ...]`` plus
``gt_valid [B, G]``), proposals padded (``proposal_valid``), and samples are
``[B, S]`` with a ``weights`` mask (0 for the padding rows of an image with too
few candidates) and an explicit ``positive`` mask (the positives may sit in any
column). Boxes are float32 ``xyxy`` pixels.

The callables:

- ``match(boxes, gt_boxes, gt_valid) -> (matched [B, N] int32, labels [B, N] int32 in
  {1, 0, -1})`` for ``boxes [N, 4]`` or ``[B, N, 4]`` (``ops.matching.match_boxes``);
- ``sample(labels, seed) -> [B, S] int32`` row indices, -1 for padding
  (``ops.matching.sample_balanced``);
- ``encode(boxes, reference) -> [..., 4]`` deltas (``ops.boxes.encode``).
"""

import tensorflow as tf

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


def rpn_targets(anchors, gt_boxes, gt_valid, seed, *, match, sample, encode):
    """Sampled RPN targets of a batch.

    Args:
        anchors: ``[A, 4]`` float32 ``xyxy`` (all levels, ``ops.anchors`` order).
        gt_boxes: ``[B, G, 4]`` float32 ``xyxy``, padded.
        gt_valid: ``[B, G]`` bool.
        seed: ``[2]`` or per-image ``[B, 2]`` stateless seed, passed to `sample`.
        match, sample, encode: the callables of the module docstring.

    Returns:
        A dict of ``[B, S]`` tensors (``S``: the sample size): ``indices`` int32 anchor
        rows (0 on padding rows), ``labels`` float32 objectness targets (1 or 0),
        ``weights`` float32 (1 for sampled rows, 0 for padding), ``positive`` bool, and
        ``box_targets [B, S, 4]`` float32 deltas (zero where not positive).
    """
    anchors = tf.convert_to_tensor(anchors, tf.float32)
    gt_boxes = tf.convert_to_tensor(gt_boxes, tf.float32)
    gt_boxes, gt_valid = pad_empty_ground_truth(gt_boxes, tf.convert_to_tensor(gt_valid, tf.bool))
    matched, labels = match(anchors, gt_boxes, gt_valid)
    idx = sample(labels, seed)
    sampled = idx >= 0
    labels, matched = _gather_samples(idx, labels, matched)
    positive = sampled & tf.equal(labels, matching.POSITIVE)
    sampled_anchors = tf.gather(anchors, tf.maximum(idx, 0))
    deltas = encode(matching.gather_matched(gt_boxes, matched), sampled_anchors)
    return {
        "indices": tf.maximum(idx, 0),
        "labels": tf.cast(positive, tf.float32),
        "weights": tf.cast(sampled, tf.float32),
        "positive": positive,
        "box_targets": tf.where(positive[..., None], deltas, 0.0),
    }


def roi_targets(proposals, proposal_valid, gt_boxes, gt_classes, gt_valid, seed, *, match,
                sample, encode, add_gt_boxes=True):
    """Sampled RoIs and their box-head targets.

    Args:
        proposals: ``[B, P, 4]`` float32 ``xyxy`` (RPN output, padded).
        proposal_valid: ``[B, P]`` bool; invalid rows are never sampled.
        gt_boxes: ``[B, G, 4]`` float32 ``xyxy``, padded.
        gt_classes: ``[B, G]`` int classifier indices (>= 1; 0 is background).
        gt_valid: ``[B, G]`` bool.
        seed: ``[2]`` or per-image ``[B, 2]`` stateless seed, passed to `sample`.
        match, sample, encode: the callables of the module docstring (the heads'
            matcher has no ignore band and no best-anchor rule).
        add_gt_boxes: append the ground-truth boxes to the proposals first.

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
    matched, labels = match(candidates, gt_boxes, gt_valid)
    labels = tf.where(valid, labels, matching.IGNORE)
    idx = sample(labels, seed)
    sampled = idx >= 0
    rois, labels, matched = _gather_samples(idx, candidates, labels, matched)
    positive = sampled & tf.equal(labels, matching.POSITIVE)
    classes = tf.where(positive, matching.gather_matched(gt_classes, matched), 0)
    deltas = encode(matching.gather_matched(gt_boxes, matched), rois)
    return {
        "rois": tf.where(sampled[..., None], rois, 0.0),
        "classes": classes,
        "matched": matched,
        "positive": positive,
        "weights": tf.cast(sampled, tf.float32),
        "box_targets": tf.where(positive[..., None], deltas, 0.0),
    }
