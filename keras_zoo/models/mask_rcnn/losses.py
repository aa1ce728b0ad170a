"""Mask R-CNN loss terms on sampled targets (He et al. 2017, Sec. 3.1: L = L_cls + L_box + L_mask).

Each term is normalised per image and then averaged over the images of the
(replica's) batch, so a batch split over replicas gives the same loss as on
one device. With full samples (256 anchors, 512 RoIs per image) this is
exactly torchvision's normalisation (per-batch means); it differs only for
images with fewer candidates and for the mask term when images have
different numbers of positives. Box terms are smooth L1 with torchvision's
``beta = 1/9``, summed over the 4 coordinates of the positives and divided by
the number of sampled rows (torchvision ``fastrcnn_loss`` / RPN).
"""

import tensorflow as tf

SMOOTH_L1_BETA = 1.0 / 9.0  # torchvision rpn.py / roi_heads.py


def smooth_l1(diff, beta=SMOOTH_L1_BETA):
    """Huber-like smooth L1 of Fast R-CNN (Eq. 3): ``0.5 x^2 / beta`` below beta, else
    ``|x| - 0.5 beta``."""
    absolute = tf.abs(diff)
    return tf.where(absolute < beta, 0.5 * tf.square(absolute) / beta, absolute - 0.5 * beta)


def _per_image_mean(values, weights):
    """``mean_b (sum_s values[b, s] / max(sum_s weights[b, s], 1))``."""
    per_image = tf.reduce_sum(values, axis=1) / tf.maximum(tf.reduce_sum(weights, axis=1), 1.0)
    return tf.reduce_mean(per_image)


def objectness_loss(logits, labels, weights):
    """Binary cross-entropy of sampled objectness logits ``[B, S]`` (labels 0/1)."""
    bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)
    return _per_image_mean(bce * weights, weights)


def classification_loss(logits, classes, weights):
    """Softmax cross-entropy of sampled RoIs: logits ``[B, S, C]``, classes ``[B, S]``."""
    ce = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=classes, logits=logits)
    return _per_image_mean(ce * weights, weights)


def box_loss(deltas, targets, positive, weights):
    """Smooth L1 of positive rows' deltas ``[B, S, 4]``, divided by sampled rows per image."""
    per_row = tf.reduce_sum(smooth_l1(deltas - targets), axis=-1)
    return _per_image_mean(tf.where(positive, per_row, 0.0), weights)


def mask_loss(logits, targets, image_ids, weights, batch):
    """Mean per-pixel sigmoid BCE (Sec. 3, "average binary cross-entropy") of the
    positive RoIs of each image, averaged over the ``batch`` images: logits and targets
    ``[K, m, m]`` (the ground-truth class's mask only), ``image_ids [K]``, ``weights
    [K]`` (1 for a positive, 0 for a padding row)."""
    bce = tf.nn.sigmoid_cross_entropy_with_logits(labels=targets, logits=logits)
    per_roi = tf.reduce_mean(bce, axis=[1, 2]) * weights
    total = tf.math.unsorted_segment_sum(per_roi, image_ids, batch)
    count = tf.math.unsorted_segment_sum(weights, image_ids, batch)
    return tf.reduce_mean(total / tf.maximum(count, 1.0))
