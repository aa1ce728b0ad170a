"""The detectors' input stage: raw pixels -> normalised, resized, padded images."""

import tensorflow as tf

from keras_zoo import ops


def hw(tensor):
    """``(height, width)`` of an NHWC tensor: python ints where static."""
    shape = tf.shape(tensor)
    return tuple(d if d is not None else shape[i + 1] for i, d in enumerate(tensor.shape[1:3]))


def unpack_inputs(inputs):
    """``(images [B, H, W, 3], image_sizes [B, 2] or None)`` of a detector's inputs: the
    images, or a dict ``{"images": ..., "image_sizes": ...}`` (a padded batch)."""
    if isinstance(inputs, dict):
        unknown = set(inputs) - {"images", "image_sizes"}
        if "images" not in inputs or unknown:
            raise ValueError("Expected inputs as images [B, H, W, 3] or a dict with keys "
                             f"'images' and 'image_sizes'. Received: keys={sorted(inputs)}")
        return tf.convert_to_tensor(inputs["images"]), inputs.get("image_sizes")
    return tf.convert_to_tensor(inputs), None


def preprocess(model, inputs, *, keep_padding=False):
    """Normalise (``model.normalization``), resize (``model.min_size`` /
    ``model.max_size``, Mask R-CNN Sec. 3.1), pad to a multiple of 32:
    ``(images [B, H', W', 3] float32, input_sizes [B, 2], resized_sizes [B, 2])``
    (int32 ``(height, width)``).

    With `keep_padding` (training), a padded batch whose images are all at their
    resized size already keeps its padded height and width when they exceed the
    images': a replica's share of a global batch, padded by the input pipeline to the
    whole batch's size, then sees the canvas (and the anchors) one process sees."""
    images, image_sizes = unpack_inputs(inputs)
    if images.shape.rank != 4 or images.shape[-1] != 3:
        raise ValueError("Expected images of shape [B, H, W, 3]. "
                         f"Received: images.shape={images.shape}")
    x = model.normalization(images)
    batch = tf.shape(images)[0]
    if image_sizes is not None:
        input_sizes = tf.cast(image_sizes, tf.int32)
        new_sizes = ops.images.resized_sizes(input_sizes, model.min_size, model.max_size)
        canvas = None
        if keep_padding:
            resized = tf.reduce_all(tf.equal(new_sizes, input_sizes))
            canvas = tf.where(resized, tf.shape(images)[1:3], tf.zeros([2], tf.int32))
        return (ops.images.resize_each(x, input_sizes, new_sizes, min_canvas=canvas),
                input_sizes, new_sizes)
    height, width = hw(images)
    if isinstance(height, int) and isinstance(width, int):  # static: python ints
        new = ops.images.resized_size(height, width, model.min_size, model.max_size)
    else:
        new = tf.unstack(ops.images.resized_sizes(
            tf.stack([height, width])[None], model.min_size, model.max_size)[0])
    input_sizes = tf.tile(tf.reshape(tf.stack([height, width]), [1, 2]), [batch, 1])
    new_sizes = tf.tile(tf.reshape(tf.stack(new), [1, 2]), [batch, 1])
    return ops.images.resize_batch(x, new), input_sizes, new_sizes
