"""Stochastic inference for networks with `Swapout` / `StochasticDepth` merges.

Deterministic inference (`model.predict`) replaces every mask by its
expectation. Stochastic inference (Singh et al. 2016, Sec. 3.2) keeps the
masks random at inference, with BatchNormalization still in inference mode,
and averages the softmax of N sampled passes (N = 30 in the paper; 15-30 are
enough). The N passes are batched: the input batch is tiled k times into one
forward pass (masks are drawn per unit, so each copy gets its own masks), with
k * batch at most `max_batch_size`.

Export: `stochastic_serving_fn(model)` is a `tf.function` with a fixed input
signature (`images` uint8 `[None, H, W, C]`, `num_samples` int32 scalar) that
returns `{"probabilities": [None, classes]}`; pass it as a SavedModel
signature next to the deterministic `serving_default`.
"""

import contextlib

import keras
import numpy as np
import tensorflow as tf

from keras_zoo.layers._stochastic import StochasticMergeMixin


def stochastic_layers(model):
    """The `Swapout` / `StochasticDepth` layers of `model`, nested ones included."""
    return [layer for layer in model._flatten_layers(include_self=False, recursive=True)
            if isinstance(layer, StochasticMergeMixin)]


def has_stochastic_layers(model):
    """True when `model` holds a `Swapout` or `StochasticDepth` merge (nested ones
    included), i.e. when stochastic inference differs from `model.predict`.
    `keras_zoo.export.to_saved_model` uses it to add the `stochastic` signature."""
    return bool(stochastic_layers(model))


@contextlib.contextmanager
def stochastic_mode(model, enabled=True):
    """Within the block, the stochastic merges of `model` sample their masks at
    inference (`training=False`); BatchNormalization stays in inference mode.

    The switch is read when a call is traced: a `tf.function` traced inside the
    block samples forever after, one traced outside never does. `model.predict`
    is retraced on entry and exit, so `model.predict(x)` inside the block is
    one sampled pass. Restores the previous setting on exit. Yields the
    affected layers.
    """
    merges = stochastic_layers(model)
    previous = [layer.stochastic_inference for layer in merges]
    for layer in merges:
        layer.stochastic_inference = bool(enabled)
    model.predict_function = None
    try:
        yield merges
    finally:
        for layer, value in zip(merges, previous):
            layer.stochastic_inference = value
        model.predict_function = None


def _check_num_samples(num_samples):
    if isinstance(num_samples, (int, np.integer)) and not isinstance(num_samples, bool):
        if num_samples < 1:
            raise ValueError("Expected `num_samples` >= 1. "
                             f"Received: num_samples={num_samples}")
        return tf.constant(int(num_samples), tf.int32)
    num_samples = tf.cast(num_samples, tf.int32)
    tf.debugging.assert_positive(num_samples, message="Expected `num_samples` >= 1.")
    return num_samples


def sampled_probabilities(model, images, num_samples=30, *, from_logits=False,
                          max_batch_size=256):
    """Mean class probabilities of `num_samples` stochastic passes of `model`.

    Pure TensorFlow (a `tf.while_loop` over passes of k tiled copies of the
    batch), so it runs eagerly and inside a `tf.function`, with `num_samples`
    a Python int or a scalar tensor (e.g. a SavedModel signature input).

    Args:
        model: a single-input classifier whose merges are stochastic layers.
        images: `[B, H, W, C]` raw pixels (any dtype; cast to the model's input dtype).
        num_samples: N >= 1, the number of sampled passes averaged.
        from_logits: the model outputs logits (apply softmax to each pass).
        max_batch_size: at most this many images (copies x B) per forward pass.

    Returns:
        float32 `[B, classes]`, (1/N) * sum over passes of softmax probabilities.
    """
    num_samples = _check_num_samples(num_samples)
    images = tf.cast(tf.convert_to_tensor(images), keras.backend.standardize_dtype(
        model.inputs[0].dtype))
    batch = tf.shape(images)[0]
    classes = model.output_shape[-1]
    per_pass = tf.minimum(tf.maximum(1, max_batch_size // tf.maximum(batch, 1)), num_samples)
    rank = images.shape.rank

    def body(done, total):
        k = tf.minimum(per_pass, num_samples - done)
        tiled = tf.tile(images, tf.stack([k] + [1] * (rank - 1)))
        tiled.set_shape([None] + images.shape[1:])
        with stochastic_mode(model):
            outputs = model(tiled, training=False)
        outputs = tf.cast(outputs, tf.float32)
        probs = tf.nn.softmax(outputs) if from_logits else outputs
        return done + k, total + tf.reduce_sum(tf.reshape(probs, [k, batch, classes]), 0)

    _, total = tf.while_loop(lambda done, _: done < num_samples, body,
                             (tf.constant(0), tf.zeros([batch, classes], tf.float32)))
    return total / tf.cast(num_samples, tf.float32)


def _signature(model, dtype):
    shape = (None,) + tuple(model.inputs[0].shape[1:])
    return [tf.TensorSpec(shape, dtype, name="images"),
            tf.TensorSpec([], tf.int32, name="num_samples")]


def stochastic_predict(model, x, num_samples=30, *, batch_size=32, from_logits=False,
                       max_batch_size=256):
    """Stochastic inference from Python: `sampled_probabilities` over `x` in batches.

    Args:
        model, num_samples, from_logits, max_batch_size: see `sampled_probabilities`.
        x: array `[N_images, H, W, C]` of raw pixels.
        batch_size: images per call.

    Returns:
        float32 NumPy array `[N_images, classes]`; compare with `model.predict(x)`
        (deterministic inference).
    """
    x = np.asarray(x)
    _check_num_samples(int(num_samples))
    if batch_size < 1:
        raise ValueError(f"Expected `batch_size` >= 1. Received: batch_size={batch_size}")
    fn = tf.function(
        lambda images, n: sampled_probabilities(model, images, n, from_logits=from_logits,
                                                max_batch_size=max_batch_size),
        input_signature=_signature(model, tf.as_dtype(x.dtype)))
    out = [fn(x[i:i + batch_size], int(num_samples)).numpy()
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out, 0) if out else np.zeros((0, model.output_shape[-1]), np.float32)


def stochastic_serving_fn(model, *, from_logits=False, max_batch_size=256,
                          output_name="probabilities"):
    """A SavedModel-ready `tf.function(images, num_samples) -> {output_name: probs}`.

    `images`: uint8 `[None, H, W, C]` raw pixels; `num_samples`: int32 scalar N >= 1.
    Returns the mean softmax of N sampled passes, float32 `[None, classes]`.
    Add it as an endpoint next to the deterministic `serving_default`::

        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint("serving_default", deterministic_fn, input_signature=...)
        archive.add_endpoint("stochastic", stochastic_serving_fn(model))
        archive.write_out(path)

    With plain `tf.saved_model.save`, the saved object must track all of
    `model.variables`: they include the merges' `SeedGenerator` states, which
    Keras layers do not expose to TF's object graph.
    """
    def stochastic(images, num_samples):
        return {output_name: sampled_probabilities(
            model, images, num_samples, from_logits=from_logits,
            max_batch_size=max_batch_size)}

    return tf.function(stochastic, input_signature=_signature(model, tf.uint8))
