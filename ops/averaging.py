"""Monte Carlo averaging of a stochastic function over N passes, batched.

Stochastic inference (Singh et al. 2016, Sec. 3.2: the average of the softmax
of N sampled passes, N = 30) needs one loop shared by the Python API
(`keras_zoo.models.sampled_probabilities`) and the SavedModel signature
(`keras_zoo.export`): it lives here, over any callable, knowing nothing of
models or layers.
"""

import numpy as np
import tensorflow as tf


def check_num_samples(num_samples):
    """`num_samples` as an int32 scalar tensor N >= 1.

    A Python int is checked at once (ValueError); a tensor (e.g. a SavedModel
    signature input) by an assertion in the graph (InvalidArgumentError).
    """
    if isinstance(num_samples, (int, np.integer)) and not isinstance(num_samples, bool):
        if num_samples < 1:
            raise ValueError("Expected `num_samples` >= 1. "
                             f"Received: num_samples={num_samples}")
        return tf.constant(int(num_samples), tf.int32)
    num_samples = tf.cast(num_samples, tf.int32)
    tf.debugging.assert_positive(num_samples, message="Expected `num_samples` >= 1.")
    return num_samples


def mean_over_passes(fn, inputs, num_samples, output_shape, *, from_logits=False,
                     max_batch_size=256):
    """``(1/N) sum_n p_n`` with ``p_n = fn(inputs)`` drawn N times (each call must sample anew).

    The passes are batched: each call of `fn` gets ``k`` tiled copies of the
    batch (``k * B <= max_batch_size``, at least one copy), so `fn` must sample
    every row independently (as per-unit masks do). Pure TensorFlow (a
    `tf.while_loop`): runs eagerly and inside a `tf.function`, with
    `num_samples` a Python int or a scalar tensor.

    Args:
        fn: callable ``[k * B, ...] -> [k * B, *output_shape]``, one stochastic pass
            over k copies of the batch.
        inputs: ``[B, ...]`` tensor, already in the dtype `fn` wants.
        num_samples: N >= 1 (see `check_num_samples`).
        output_shape: the shape of one example's output, e.g. ``(classes,)``.
        from_logits: `fn` returns logits: the softmax of each pass is averaged.
        max_batch_size: at most this many rows per call of `fn`.

    Returns:
        float32 ``[B, *output_shape]``.
    """
    num_samples = check_num_samples(num_samples)
    inputs = tf.convert_to_tensor(inputs)
    output_shape = [int(d) for d in output_shape]
    batch = tf.shape(inputs)[0]
    per_call = tf.minimum(tf.maximum(1, max_batch_size // tf.maximum(batch, 1)), num_samples)
    rank = inputs.shape.rank

    def body(done, total):
        k = tf.minimum(per_call, num_samples - done)
        tiled = tf.tile(inputs, tf.stack([k] + [1] * (rank - 1)))
        tiled.set_shape([None] + inputs.shape[1:])
        outputs = tf.cast(fn(tiled), tf.float32)
        if from_logits:
            outputs = tf.nn.softmax(outputs)
        outputs = tf.reshape(outputs, tf.concat([[k, batch], output_shape], 0))
        return done + k, tf.ensure_shape(total + tf.reduce_sum(outputs, 0), start.shape)

    start = tf.zeros(tf.concat([[batch], output_shape], 0), tf.float32)
    _, total = tf.while_loop(lambda done, _: done < num_samples, body, (tf.constant(0), start))
    return total / tf.cast(num_samples, tf.float32)
