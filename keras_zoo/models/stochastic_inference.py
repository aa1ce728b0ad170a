"""Stochastic inference for networks with `Swapout` / `StochasticDepth` merges.

Deterministic inference (`model.predict`) replaces every mask by its
expectation. Stochastic inference (Singh et al. 2016, Sec. 3.2) keeps the
masks random at inference, with BatchNormalization still in inference mode,
and averages the softmax of N sampled passes (N = 30 in the paper; 15-30 are
enough). The N passes are batched: the input batch is tiled k times into one
forward pass (masks are drawn per unit, so each copy gets its own masks), with
k * batch at most `max_batch_size` (`keras_zoo.ops.averaging.mean_over_passes`).

A stochastic layer is any layer with a bool `stochastic_inference` attribute
(the switch `Swapout` and `StochasticDepth` document), found with
`keras_zoo.layers.walk_layers`. `keras_zoo.export.to_saved_model` finds the
same layers by the same attribute for its `stochastic` signature.
"""

import contextlib

import keras
import numpy as np
import tensorflow as tf

from keras_zoo.checks import positive_int
from keras_zoo.layers.walk_layers import walk_layers
from keras_zoo.ops import averaging


def stochastic_layers(model):
    """The layers of `model` (nested ones included) with a bool `stochastic_inference`
    attribute: its `Swapout` / `StochasticDepth` merges."""
    return [layer for layer in walk_layers(model)
            if isinstance(getattr(layer, "stochastic_inference", None), bool)]


def has_stochastic_layers(model):
    """True when `model` holds a stochastic layer (see `stochastic_layers`), i.e. when
    stochastic inference differs from `model.predict`."""
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


def sampled_probabilities(model, images, num_samples=30, *, from_logits=False,
                          max_batch_size=256):
    """Mean class probabilities of `num_samples` stochastic passes of `model`.

    Pure TensorFlow (`keras_zoo.ops.averaging.mean_over_passes`), so it runs
    eagerly and inside a `tf.function`, with `num_samples` a Python int or a
    scalar tensor.

    Args:
        model: a single-input classifier whose merges are stochastic layers.
        images: `[B, H, W, C]` raw pixels (any dtype; cast to the model's input dtype).
        num_samples: N >= 1, the number of sampled passes averaged.
        from_logits: the model outputs logits (apply softmax to each pass).
        max_batch_size: at most this many images (copies x B) per forward pass.

    Returns:
        float32 `[B, classes]`, (1/N) * sum over passes of softmax probabilities.
    """
    images = tf.cast(tf.convert_to_tensor(images), keras.backend.standardize_dtype(
        model.inputs[0].dtype))

    def one_pass(tiled):
        with stochastic_mode(model):
            return model(tiled, training=False)

    return averaging.mean_over_passes(one_pass, images, num_samples, model.output_shape[1:],
                                      from_logits=from_logits, max_batch_size=max_batch_size)


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
    averaging.check_num_samples(int(num_samples))
    positive_int("batch_size", batch_size)
    fn = tf.function(
        lambda images, n: sampled_probabilities(model, images, n, from_logits=from_logits,
                                                max_batch_size=max_batch_size),
        input_signature=_signature(model, tf.as_dtype(x.dtype)))
    out = [fn(x[i:i + batch_size], int(num_samples)).numpy()
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out, 0) if out else np.zeros((0, model.output_shape[-1]), np.float32)

