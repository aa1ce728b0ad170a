"""IoU matching of anchors / proposals to ground truth, and balanced sampling.

Faster R-CNN (Ren et al. 2015, Sec. 3.1.2) and Mask R-CNN (He et al. 2017, Sec. 3.1):

- RPN: an anchor is positive at IoU >= 0.7 with some ground-truth box, negative
  below 0.3 with all of them, ignored in between; in addition each ground-truth
  box makes its best anchor(s) positive (``allow_low_quality_matches``). 256
  anchors per image are sampled, at most half of them positive.
- Box/mask heads: an RoI is positive at IoU >= 0.5, negative otherwise; 512 RoIs
  per image (FPN), at most 25% positive (Mask R-CNN Sec. 3.1, 1:3).

Ground truth comes padded to a fixed ``G`` per image: ``gt_boxes [B, G, 4]`` with a
``gt_valid [B, G]`` bool mask. Padded rows are never matched. Boxes are float32
``xyxy`` pixels. Everything is pure TensorFlow, batched, and runs inside
``tf.function`` and under ``tf.distribute``; sampling is deterministic for a given
seed (stateless random ops). Under a distribution strategy every replica given
the same seed draws the same pattern on its own images; fold the replica id into
the seed if that matters.
"""

import tensorflow as tf

from keras_zoo.checks import positive_int

from . import boxes as box_ops
from .seeds import stateless_seed

POSITIVE, NEGATIVE, IGNORE = 1, 0, -1


def match(quality, gt_valid, *, fg_threshold, bg_threshold, allow_low_quality_matches):
    """Assigns each row (anchor / proposal) to its best ground-truth column.

    Same rules as torchvision's ``Matcher`` and detectron2's ``Matcher``: with
    ``best = max_g quality[n, g]``, the label is 1 when ``best >= fg_threshold``,
    0 when ``best < bg_threshold``, -1 (ignore) in between. With
    ``allow_low_quality_matches``, every row whose quality equals the highest
    quality of some valid ground truth (ties included) becomes positive, keeping
    its own argmax as matched index. Unlike the peers, a ground truth whose
    highest quality is 0 (it overlaps nothing) adds no such match: the peers
    would then make every anchor positive.

    Args:
        quality: ``[B, N, G]`` float, e.g. IoU of N anchors with G ground truths.
        gt_valid: ``[B, G]`` bool; False marks padding, never matched.
        fg_threshold: quality at or above which a row is positive.
        bg_threshold: quality below which a row is negative (``<= fg_threshold``).
        allow_low_quality_matches: the best-anchor rule (RPN: True, heads: False).

    Returns:
        ``(matched, labels)``: ``matched [B, N]`` int32 index of the best valid
        ground truth (0 when an image has none; use it only where ``labels == 1``,
        and give ``gather_matched`` a ``G >= 1`` tensor),
        and ``labels [B, N]`` int32 in {1, 0, -1}.
    """
    if bg_threshold > fg_threshold:
        raise ValueError(
            "Expected bg_threshold <= fg_threshold. "
            f"Received: bg_threshold={bg_threshold}, fg_threshold={fg_threshold}")
    quality = tf.convert_to_tensor(quality, tf.float32)
    valid = tf.convert_to_tensor(gt_valid, tf.bool)
    # One extra padded column, so that G = 0 (no ground-truth row at all) still works.
    quality = tf.pad(quality, [[0, 0], [0, 0], [0, 1]], constant_values=-1.0)
    valid = tf.pad(valid, [[0, 0], [0, 1]], constant_values=False)[:, None, :]
    quality = tf.where(valid, quality, -1.0)
    best = tf.reduce_max(quality, axis=-1)
    matched = tf.argmax(quality, axis=-1, output_type=tf.int32)
    matched = tf.where(best >= 0.0, matched, 0)  # no valid ground truth at all
    labels = tf.where(best >= fg_threshold, POSITIVE,
                      tf.where(best < bg_threshold, NEGATIVE, IGNORE))
    if allow_low_quality_matches:
        gt_best = tf.reduce_max(quality, axis=1, keepdims=True)
        is_best = valid & (gt_best > 0.0) & tf.equal(quality, gt_best)
        labels = tf.where(tf.reduce_any(is_best, axis=-1), POSITIVE, labels)
    return matched, tf.cast(labels, tf.int32)


def match_boxes(boxes, gt_boxes, gt_valid, *, fg_threshold, bg_threshold,
                allow_low_quality_matches):
    """:func:`match` on the IoU of ``boxes`` with ``gt_boxes``.

    Args:
        boxes: ``[N, 4]`` (e.g. anchors, shared by the batch) or ``[B, N, 4]``
            (e.g. proposals) float32 ``xyxy``.
        gt_boxes: ``[B, G, 4]`` float32 ``xyxy``, padded.
        gt_valid: ``[B, G]`` bool.
        fg_threshold, bg_threshold, allow_low_quality_matches: see :func:`match`.

    Returns:
        ``(matched [B, N] int32, labels [B, N] int32)``, see :func:`match`.
    """
    quality = box_ops.pairwise_iou(boxes, gt_boxes)
    return match(quality, gt_valid, fg_threshold=fg_threshold, bg_threshold=bg_threshold,
                 allow_low_quality_matches=allow_low_quality_matches)


def gather_matched(values, matched):
    """Per-image gather of ground-truth attributes: ``values[b, matched[b, n]]``.

    Args:
        values: ``[B, G, ...]`` (boxes ``[B, G, 4]``, classes ``[B, G]``, masks ...).
        matched: ``[B, N]`` int32 from :func:`match`.

    Returns:
        ``[B, N, ...]``.
    """
    return tf.gather(values, matched, batch_dims=1)


def _uniform_keys(shape, seed):
    """Uniform ``[B, N]`` sort keys: one stateless draw for the batch (a seed of
    `keras_zoo.ops.seeds`) or one per image (int seeds ``[B, 2]``: an image's draw then
    depends on its own seed only)."""
    if not isinstance(seed, int) and seed is not None:
        seed = tf.convert_to_tensor(seed)
        if seed.shape.rank == 2:
            if seed.shape[-1] != 2 or not seed.dtype.is_integer:
                raise ValueError("Expected per-image seeds of shape [B, 2] (int). "
                                 f"Received: seed of dtype {seed.dtype.name} and shape "
                                 f"{seed.shape}")
            return tf.map_fn(lambda s: tf.random.stateless_uniform(shape[1:],
                                                                   seed=stateless_seed(s)),
                             seed, fn_output_signature=tf.float32)
    return tf.random.stateless_uniform(shape, seed=stateless_seed(seed))


def sample_balanced(labels, num_samples, positive_fraction, seed):
    """Balanced positive/negative sampling (torchvision ``BalancedPositiveNegativeSampler``).

    Per image: ``num_pos = min(#positives, int(num_samples * positive_fraction))``
    positives and ``num_neg = min(#negatives, num_samples - num_pos)`` negatives are
    drawn uniformly without replacement; rows labelled -1 are never drawn.

    Args:
        labels: ``[B, N]`` int in {1, 0, -1} (from :func:`match`).
        num_samples: python int, samples per image (RPN 256, heads 512).
        positive_fraction: float in [0, 1] (RPN 0.5, heads 0.25).
        seed: ``[2]`` int tensor (e.g. ``seed_generator.next()`` of the calling
            layer) or int (`keras_zoo.ops.seeds`), or ``[B, 2]`` seeds, one per image, so
            an image's sample does not depend on which other images share its batch (or
            replica). Same seed and labels, same sample.

    Returns:
        ``[B, num_samples]`` int32 row indices: the positives first, then the
        negatives, then ``-1`` padding when an image has too few candidates.
    """
    if not 0.0 <= positive_fraction <= 1.0:
        raise ValueError(
            "Expected positive_fraction in [0, 1]. "
            f"Received: positive_fraction={positive_fraction}")
    positive_int("num_samples", num_samples)
    labels = tf.convert_to_tensor(labels, tf.int32)
    shape = tf.shape(labels)
    keys = _uniform_keys(shape, seed)
    k = tf.minimum(num_samples, shape[1])
    ranks = tf.range(k)[None, :]

    def draw(selected, quota):
        _, idx = tf.math.top_k(tf.where(selected, keys, -1.0), k=k, sorted=True)
        return tf.cast(idx, tf.int32), ranks < quota[:, None]

    is_pos = tf.equal(labels, POSITIVE)
    is_neg = tf.equal(labels, NEGATIVE)
    count_pos = tf.reduce_sum(tf.cast(is_pos, tf.int32), axis=1)
    count_neg = tf.reduce_sum(tf.cast(is_neg, tf.int32), axis=1)
    num_pos = tf.minimum(count_pos, int(num_samples * positive_fraction))
    num_neg = tf.minimum(count_neg, num_samples - num_pos)
    pos_idx, pos_ok = draw(is_pos, num_pos)
    neg_idx, neg_ok = draw(is_neg, num_neg)
    idx = tf.concat([pos_idx, neg_idx], axis=1)
    ok = tf.concat([pos_ok, neg_ok], axis=1)
    order = tf.argsort(tf.cast(tf.logical_not(ok), tf.int32), axis=1, stable=True)
    idx = tf.where(tf.gather(ok, order, batch_dims=1), tf.gather(idx, order, batch_dims=1), -1)
    idx = idx[:, :num_samples]
    pad = num_samples - tf.shape(idx)[1]
    idx = tf.pad(idx, [[0, 0], [0, pad]], constant_values=-1)
    return tf.ensure_shape(idx, [labels.shape[0], num_samples])
