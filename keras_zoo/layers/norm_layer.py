"""`get_norm_layer`: the normalisation a residual block or backbone injects, by name."""

import keras

from keras_zoo.layers.frozen_batch_normalization import FrozenBatchNormalization

NORM_LAYERS = ("batch", "frozen", "sync")


def check_norm_layer(norm_layer):
    """Returns `norm_layer`, or raises a ValueError unless it is one of `NORM_LAYERS`."""
    if norm_layer not in NORM_LAYERS:
        raise ValueError(f"Expected `norm_layer` to be one of {NORM_LAYERS}. "
                         f"Received: norm_layer={norm_layer!r}")
    return norm_layer


def get_norm_layer(norm_layer, *, epsilon=1e-5, momentum=0.9, **kwargs):
    """A new normalisation layer over the last axis.

    Args:
        norm_layer: `"batch"`: `keras.layers.BatchNormalization` (batch statistics in
            training, moving averages at inference); `"frozen"`:
            `FrozenBatchNormalization` (fixed statistics, no trainable weights: detection
            fine-tuning with 1-2 images per device); `"sync"`:
            `BatchNormalization(synchronized=True)` (batch statistics over all replicas
            of a `MirroredStrategy` / `MultiWorkerMirroredStrategy` step).
        epsilon: added to the variance.
        momentum: moving-average momentum (unused by `"frozen"`).
        **kwargs: base `keras.layers.Layer` arguments (`name`, `dtype`, `trainable`).

    Returns:
        A `keras.layers.Layer`.

    Example:

    >>> type(get_norm_layer("frozen", name="conv1_bn")).__name__
    'FrozenBatchNormalization'
    """
    check_norm_layer(norm_layer)
    if norm_layer == "frozen":
        return FrozenBatchNormalization(epsilon=epsilon, **kwargs)
    return keras.layers.BatchNormalization(epsilon=epsilon, momentum=momentum,
                                           synchronized=norm_layer == "sync", **kwargs)
