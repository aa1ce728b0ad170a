"""`make_pipeline`: a seeded tf.data input pipeline over in-memory images.

Images travel raw (uint8); normalisation, including the per-pixel mean
subtraction of He et al. 2015 (Sec. 4.2), is a layer inside the model, so an
exported model needs no client-side preprocessing (DESIGN.md).
"""

import numbers

import numpy as np
import tensorflow as tf

from keras_zoo.checks import positive_int

from .image_dataset import AUGMENTATIONS

# Pixels padded on each side before the random crop. "cifar": 4, He et al.
# 2015 Sec. 4.2. "shift": 2, the usual small translation for digits.
DEFAULT_PAD = {"cifar": 4, "shift": 2}


def augment(images, seed, *, augmentation, pad=None, offset=0, batch_size=None):
    """Augment a batch of images with stateless random ops, image by image.

    Args:
        images: ``[B, H, W, C]`` tensor (any dtype; uint8 stays uint8).
        seed: int ``[2]`` tensor; the same seed gives the same result.
        augmentation: ``"cifar"``: zero-pad `pad` pixels on each side, take a
            random ``H x W`` crop, flip left-right with probability 1/2
            (He et al. 2015, Sec. 4.2). ``"shift"``: the same without the flip.
            ``"none"``: return `images`.
        pad: pixels per side; None takes `DEFAULT_PAD`.
        offset, batch_size: `images` are the rows ``[offset, offset + B)`` of a
            batch of `batch_size` (None: B) images augmented with `seed`: they get
            exactly that batch's draws for those rows, so a worker augmenting
            only its shard of a global batch matches one process augmenting all
            of it.

    Returns:
        ``[B, H, W, C]`` tensor of `images`' dtype. Crop and flip are one
        gather of padded rows and (possibly reversed) columns per image.
    """
    if augmentation == "none":
        return images
    pad = DEFAULT_PAD[augmentation] if pad is None else pad
    height, width = images.shape[1], images.shape[2]
    batch = tf.shape(images)[0]
    size = batch if batch_size is None else batch_size
    seeds = tf.random.experimental.stateless_split(seed, 2)
    offsets = tf.random.stateless_uniform([size, 2], seeds[0], minval=0, maxval=2 * pad + 1,
                                          dtype=tf.int32)[offset:offset + batch]
    rows = offsets[:, :1] + tf.range(height)[None, :]  # [B, H] rows of the padded image
    cols = tf.range(width)[None, :]
    if augmentation == "cifar":
        flip = tf.random.stateless_uniform([size, 1], seeds[1])[offset:offset + batch] < 0.5
        cols = tf.where(flip, width - 1 - cols, cols)  # mirrored crop: columns reversed
    cols = offsets[:, 1:] + cols  # [B, W]
    padded = tf.pad(images, [[0, 0], [pad, pad], [pad, pad], [0, 0]])
    cropped = tf.gather(padded, rows, axis=1, batch_dims=1)  # [B, H, W + 2 pad, C]
    return tf.gather(cropped, cols, axis=2, batch_dims=1)  # [B, H, W, C]


def known_size(dataset):
    """The number of elements of `dataset`, or None when it is infinite or unknown."""
    count = int(dataset.cardinality())
    return count if count >= 0 else None


def _check(x, y, batch_size, augmentation, pad):
    if not isinstance(x, np.ndarray) or x.ndim != 4:
        raise ValueError("Expected x a NumPy array [N, H, W, C]. "
                         f"Received: x={type(x).__name__} {getattr(x, 'shape', '')}")
    y = np.asarray(y)
    if y.shape != x.shape[:1]:
        raise ValueError(f"Expected y of shape [{len(x)}] (one label per image). "
                         f"Received: y.shape={y.shape}")
    positive_int("batch_size", batch_size)
    if augmentation not in AUGMENTATIONS:
        raise ValueError(f"Expected augmentation in {AUGMENTATIONS}. "
                         f"Received: augmentation={augmentation!r}")
    if pad is not None and (not isinstance(pad, numbers.Integral) or pad < 0):
        raise ValueError(f"Expected pad a non-negative int or None. Received: pad={pad!r}")
    return y.astype(np.int32)


def make_pipeline(x, y, *, batch_size, training, augmentation="none", seed=0,
                  drop_remainder=False, pad=None):
    """A `tf.data.Dataset` of ``(images, labels)`` batches for `model.fit`.

    Training: shuffle the whole set (a new order every epoch), batch, augment
    every image of the batch (vectorised, see `augment`), prefetch.
    Evaluation (``training=False``): the file order, no augmentation, batch,
    prefetch.

    Args:
        x: uint8 ``[N, H, W, C]`` NumPy array (e.g. `ImageDataset.x_train`).
        y: int ``[N]`` labels.
        batch_size: images per batch.
        training: shuffle and augment when True.
        augmentation: ``"none"``, ``"cifar"`` or ``"shift"`` (see `augment`);
            used only when `training`.
        seed: the shuffle order and augmentation of every epoch follow from
            `seed` (and TensorFlow's global seed, which
            `keras.utils.set_random_seed` sets): same seeds, same batches.
        drop_remainder: drop the last, smaller batch.
        pad: pixels padded before the random crop; None: 4 for ``"cifar"``,
            2 for ``"shift"``.

    Returns:
        `tf.data.Dataset` yielding ``images`` ``[B, H, W, C]`` in `x`'s dtype
        and ``labels`` int32 ``[B]``.

    Example:

    >>> data = load("digits")
    >>> ds = make_pipeline(data.x_train, data.y_train, batch_size=128, training=True,
    ...                    augmentation=data.augmentation)
    """
    y = _check(x, y, batch_size, augmentation, pad)
    dataset = tf.data.Dataset.from_tensor_slices((x, y))
    if training:
        dataset = dataset.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    if training and augmentation != "none":
        # One random number per batch and epoch seeds that batch's stateless ops.
        randoms = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)

        def _augment(batch, random):
            images, labels = batch
            batch_seed = tf.stack([random, tf.constant(seed, tf.int64)])
            return augment(images, batch_seed, augmentation=augmentation, pad=pad), labels

        dataset = tf.data.Dataset.zip((dataset, randoms)).map(
            _augment, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    options = tf.data.Options()
    options.deterministic = True
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)
