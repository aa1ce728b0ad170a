"""`epoch_batches`: a child's training batches for all its epochs, from a seed alone."""

import math

import numpy as np
import tensorflow as tf


def epoch_batches(x, y, *, batch_size, epochs, seed):
    """``(x, y)`` mini-batches of `epochs` epochs, each epoch in its own order.

    The order of epoch e is NumPy's PCG64 permutation seeded ``[seed, e]``, so
    no TensorFlow, Keras or Python global random state is read or set:
    children trained many times in one process, or in worker processes, see
    the same batches for the same seed. The last, smaller batch of each epoch
    is kept. Fit with ``model.fit(dataset, epochs=epochs,
    steps_per_epoch=steps)``: Keras then reads one iterator through all
    epochs.

    Args:
        x: ``[N, ...]`` NumPy inputs.
        y: ``[N]`` NumPy labels.
        batch_size: examples per batch.
        epochs: epochs to cover.
        seed: int seed of the orders.

    Returns:
        ``(dataset, steps)``: a `tf.data.Dataset` of ``epochs * steps``
        batches and the batches per epoch, ``ceil(N / batch_size)``.
    """
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"Expected as many labels as inputs, at least one. Received: "
                         f"{len(x)} inputs, {len(y)} labels")
    orders = np.stack([np.random.default_rng([seed, e]).permutation(len(x))
                       for e in range(epochs)])
    images, labels = tf.constant(x), tf.constant(y)
    indices = tf.data.Dataset.from_tensor_slices(orders).flat_map(
        lambda order: tf.data.Dataset.from_tensor_slices(order).batch(batch_size))
    dataset = indices.map(lambda rows: (tf.gather(images, rows), tf.gather(labels, rows)))
    return dataset.prefetch(2), math.ceil(len(x) / batch_size)
