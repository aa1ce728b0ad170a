"""Top-1 and top-5 accuracy of a classifier on one crop per image or several (10-crop testing).

He et al. 2015 report ImageNet top-1 and top-5 error (Tables 3 and 4) with
10-crop testing (Sec. 3.4, after Krizhevsky et al. 2012): the softmax outputs
of the ten crops of each image (`datasets.image_augment.ten_crops`) are
averaged, and the average is ranked.

>>> metrics = classification_metrics(model, evaluation_pipeline(split, crops="10", ...))
>>> metrics["accuracy"], metrics["top5_accuracy"]
"""

import numpy as np
import tensorflow as tf

TOP_K = 5
EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] for the loss (as Keras)


def _sums(model):
    @tf.function(reduce_retracing=True)
    def step(images, labels, weights):
        shape = tf.shape(images)
        crops = 1 if images.shape.rank == 4 else shape[1]
        flat = tf.reshape(images, tf.concat([[-1], shape[-3:]], 0))
        probabilities = tf.cast(model(flat, training=False), tf.float32)
        probabilities = tf.reduce_mean(
            tf.reshape(probabilities, [shape[0], crops, -1]), axis=1)  # [B, classes]
        labels = tf.cast(labels, tf.int32)
        picked = tf.gather(probabilities, labels, batch_dims=1)
        loss = -tf.math.log(tf.clip_by_value(picked, EPSILON, 1 - EPSILON))
        k = tf.minimum(TOP_K, tf.shape(probabilities)[1])
        ranked = tf.math.top_k(probabilities, k).indices  # ties: the lower index first
        top1 = tf.equal(ranked[:, 0], labels)
        top5 = tf.reduce_any(tf.equal(ranked, labels[:, None]), axis=1)
        weights = tf.cast(weights, tf.float32)
        return tf.stack([tf.reduce_sum(loss * weights),
                         tf.reduce_sum(tf.cast(top1, tf.float32) * weights),
                         tf.reduce_sum(tf.cast(top5, tf.float32) * weights),
                         tf.reduce_sum(weights)])

    return step


def classification_metrics(model, dataset):
    """`model`'s mean cross-entropy, top-1 and top-5 accuracy on `dataset`.

    Args:
        model: a classifier mapping ``[N, H, W, C]`` images to ``[N, classes]``
            probabilities (softmax outputs).
        dataset: ``(images, labels)`` or ``(images, labels, weights)`` batches; images
            ``[B, H, W, C]`` (one crop per image) or ``[B, K, H, W, C]`` (K crops per
            image, whose probabilities are averaged), labels int ``[B]``, weights ``[B]``
            (0 leaves an image out, e.g. one the pipeline could not decode).

    Returns:
        dict: ``loss`` (of the averaged probabilities), ``accuracy`` (top-1: the
        highest probability is the label's), ``top5_accuracy`` (the label is among
        the five highest; ties go to the lower class index), ``images`` (the number of
        images counted: the sum of the weights).
    """
    step = _sums(model)
    totals = np.zeros(4, np.float64)
    for images, labels, *weights in dataset:
        totals += step(images, labels, weights[0] if weights else tf.ones_like(
            labels, tf.float32)).numpy()
    count = totals[3]
    if not count:
        raise ValueError("Expected images to evaluate. Received: an empty dataset (every "
                         "image was skipped, or the split is empty)")
    return {"loss": totals[0] / count, "accuracy": totals[1] / count,
            "top5_accuracy": totals[2] / count, "images": int(count)}
