"""Detector input resizing: the shorter-side / longer-side policy and padded batching.

Mask R-CNN (He et al. 2017, Sec. 3.1) resizes every image so that its shorter
side is 800 pixels unless its longer side would then exceed 1333, and pads
the batch to a multiple of the backbone's largest stride (32 for FPN's C5).
The rules are torchvision's ``GeneralizedRCNNTransform``:

- ``scale = min(min_size / min(h, w), max_size / max(h, w))`` in float64 and
  ``new = floor(size * scale)`` per axis (``interpolate(scale_factor=...,
  recompute_scale_factor=True)``);
- bilinear resampling with half-pixel centres (``align_corners=False``,
  ``tf.image.resize``'s convention), no antialiasing;
- zero padding at the bottom and right up to a multiple of ``size_divisible``.

A box found in the resized image maps back to the input by the per-axis ratio
``input_size / resized_size`` (torchvision ``resize_boxes``).
"""

import math

import tensorflow as tf

# Mask R-CNN Sec. 3.1 / torchvision defaults.
MIN_SIZE, MAX_SIZE, SIZE_DIVISIBLE = 800, 1333, 32


def resized_size(height, width, min_size=MIN_SIZE, max_size=MAX_SIZE):
    """Python ints ``(new_height, new_width)`` of the resize policy for a static size."""
    scale = min(min_size / min(height, width), max_size / max(height, width))
    return math.floor(height * scale), math.floor(width * scale)


def resized_sizes(image_sizes, min_size=MIN_SIZE, max_size=MAX_SIZE):
    """The resize policy on a batch of sizes.

    Args:
        image_sizes: ``[B, 2]`` int ``(height, width)``.
        min_size, max_size: target shorter side and bound on the longer side.

    Returns:
        ``[B, 2]`` int32 resized ``(height, width)`` (computed in float64, as torchvision).
    """
    sizes = tf.cast(image_sizes, tf.float64)
    scale = tf.minimum(min_size / tf.reduce_min(sizes, axis=1),
                       max_size / tf.reduce_max(sizes, axis=1))
    return tf.cast(tf.floor(sizes * scale[:, None]), tf.int32)


def padded_size(size, size_divisible=SIZE_DIVISIBLE):
    """``size`` rounded up to a multiple of ``size_divisible`` (ints or int tensors)."""
    return (size + size_divisible - 1) // size_divisible * size_divisible


def resize_batch(images, new_size, size_divisible=SIZE_DIVISIBLE):
    """Resizes a batch of equally sized images to ``new_size`` and zero-pads it.

    Args:
        images: ``[B, H, W, C]`` (any real dtype; float32 math).
        new_size: ``(new_height, new_width)`` python ints or scalar int tensors.
        size_divisible: the padded height and width are multiples of this.

    Returns:
        ``[B, H', W', C]`` float32, ``H' = padded_size(new_height)``.
    """
    images = tf.cast(images, tf.float32)
    resized = tf.image.resize(images, tf.stack(new_size), method="bilinear")
    return tf.pad(resized, [[0, 0], [0, padded_size(new_size[0], size_divisible) - new_size[0]],
                            [0, padded_size(new_size[1], size_divisible) - new_size[1]], [0, 0]])


def resize_each(images, image_sizes, new_sizes, size_divisible=SIZE_DIVISIBLE, *,
                min_canvas=None):
    """Resizes each image of a padded batch of mixed sizes on its own.

    Args:
        images: ``[B, H, W, C]``; image ``b`` occupies ``[:h_b, :w_b]``.
        image_sizes: ``[B, 2]`` int ``(h_b, w_b)``.
        new_sizes: ``[B, 2]`` int target sizes (e.g. :func:`resized_sizes`).
        size_divisible: the output is padded to a multiple of this.
        min_canvas: None, or int ``[2]``: the output is at least this large (rounded up
            to a multiple of `size_divisible`).

    Returns:
        ``[B, H', W', C]`` float32: image ``b`` resized into ``[:new_h_b, :new_w_b]``,
        zeros elsewhere, ``H' = padded_size(max(max_b new_h_b, min_canvas[0]))``.
    """
    images = tf.cast(images, tf.float32)
    image_sizes = tf.cast(image_sizes, tf.int32)
    new_sizes = tf.cast(new_sizes, tf.int32)
    largest = tf.reduce_max(new_sizes, axis=0)
    if min_canvas is not None:
        largest = tf.maximum(largest, tf.cast(min_canvas, tf.int32))
    canvas = padded_size(largest, size_divisible)

    def one(args):
        image, size, new = args
        resized = tf.image.resize(image[:size[0], :size[1]], new, method="bilinear")
        return tf.pad(resized, [[0, canvas[0] - new[0]], [0, canvas[1] - new[1]], [0, 0]])

    channels = images.shape[-1]
    return tf.map_fn(one, (images, image_sizes, new_sizes),
                     fn_output_signature=tf.TensorSpec([None, None, channels], tf.float32))
