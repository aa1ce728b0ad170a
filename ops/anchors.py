"""FPN anchor generator (Lin et al. 2017, FPN Sec. 4.1; Mask R-CNN Sec. 3).

One anchor size per pyramid level, 32, 64, 128, 256, 512 pixels on P2..P6 (strides
4, 8, 16, 32, 64), three aspect ratios 0.5, 1, 2 each: 15 anchor shapes in all.

Convention (the one of torchvision's ``AnchorGenerator``, so that weights and
anchor indices line up with it):

- A cell anchor of size ``s`` and aspect ratio ``r = height / width`` has
  ``h = s * sqrt(r)``, ``w = s / sqrt(r)`` (area ``s**2``), is centred on the
  origin, ``(-w/2, -h/2, w/2, h/2)``, and its coordinates are rounded to the
  nearest integer (half to even). With several sizes on one level, ratios vary
  slowest (``ratio-major``).
- Cell ``(i, j)`` of a level with stride ``t`` shifts the cell anchors by
  ``(j * t, i * t)``: anchor centres sit on the top-left corner of each cell,
  with no half-stride offset (detectron2's ``offset=0.0``; detectron2 does not
  round the cell anchors, so its non-square anchors differ by < 0.5 pixel).
- Anchors are ordered level by level (P2 first), then row ``i``, then column
  ``j``, then cell anchor: index ``((i * W_l + j) * A + a)`` within a level,
  which is the order of a head output ``[B, H_l, W_l, A * k]`` reshaped to
  ``[B, H_l * W_l * A, k]``.

Boxes are ``float32 xyxy`` in input-image pixels (they may extend past the image;
torchvision and detectron2 keep such anchors). The anchors do not depend on the
image content, so one ``[A, 4]`` tensor serves the whole (padded) batch.
"""

import tensorflow as tf

# FPN Sec. 4.1: areas 32^2 .. 512^2 on P2..P6, ratios {1:2, 1:1, 2:1}.
FPN_SIZES = (32, 64, 128, 256, 512)
FPN_STRIDES = (4, 8, 16, 32, 64)
FPN_ASPECT_RATIOS = (0.5, 1.0, 2.0)


def cell_anchors(sizes, aspect_ratios=FPN_ASPECT_RATIOS):
    """Anchors of one level centred on the origin.

    Args:
        sizes: a number or a sequence of numbers (anchor side ``sqrt(area)`` in pixels).
        aspect_ratios: sequence of ``height / width`` ratios.

    Returns:
        ``[len(aspect_ratios) * len(sizes), 4]`` float32 ``xyxy``, ratio-major,
        rounded to integers.
    """
    sizes = _as_tuple(sizes, "sizes")
    aspect_ratios = _as_tuple(aspect_ratios, "aspect_ratios")
    scales = tf.constant(sizes, tf.float32)
    h_ratios = tf.sqrt(tf.constant(aspect_ratios, tf.float32))
    w_ratios = 1.0 / h_ratios
    ws = tf.reshape(w_ratios[:, None] * scales[None, :], [-1])
    hs = tf.reshape(h_ratios[:, None] * scales[None, :], [-1])
    return tf.round(tf.stack([-ws, -hs, ws, hs], axis=1) / 2.0)


def grid_anchors(feature_shape, stride, cell):
    """Tiles ``cell`` anchors over a ``feature_shape`` grid with spacing ``stride``.

    Args:
        feature_shape: ``(H_l, W_l)`` of the level's feature map (ints or scalar tensors).
        stride: the level's stride in input pixels, one number or ``(stride_y, stride_x)``
            (torchvision takes ``padded_size // feature_size`` per axis, which is not
            the nominal stride on a level whose map was rounded up, e.g. 61 x 64 on P6
            of an 800x1216 image; see :func:`grid_strides`).
        cell: ``[A, 4]`` cell anchors (see :func:`cell_anchors`).

    Returns:
        ``[H_l * W_l * A, 4]`` float32 ``xyxy``, ordered (row, column, cell anchor).
    """
    height, width = feature_shape[0], feature_shape[1]
    stride_y, stride_x = stride if isinstance(stride, (tuple, list)) else (stride, stride)
    shift_x = tf.cast(tf.range(width), tf.float32) * tf.cast(stride_x, tf.float32)
    shift_y = tf.cast(tf.range(height), tf.float32) * tf.cast(stride_y, tf.float32)
    sy, sx = tf.meshgrid(shift_y, shift_x, indexing="ij")
    sx = tf.reshape(sx, [-1])
    sy = tf.reshape(sy, [-1])
    shifts = tf.stack([sx, sy, sx, sy], axis=1)
    cell = tf.convert_to_tensor(cell, tf.float32)
    return tf.reshape(shifts[:, None, :] + cell[None, :, :], [-1, 4])


def feature_shapes(image_size, strides=FPN_STRIDES):
    """Feature-map sizes ``ceil(H / stride), ceil(W / stride)`` of each level.

    That is the size a backbone with ``padding="same"`` convolutions produces (for
    images padded to a multiple of the largest stride it is exactly ``H / stride``).

    Args:
        image_size: ``(height, width)``, python ints or a ``[2]`` int tensor.
        strides: one stride per level.

    Returns:
        A list of ``(H_l, W_l)`` pairs (python ints when ``image_size`` is static).
    """
    if isinstance(image_size, (tuple, list)) and all(isinstance(v, int) for v in image_size):
        height, width = image_size
        return [(-(-height // s), -(-width // s)) for s in strides]
    size = tf.cast(image_size, tf.int32)
    return [((size[0] + s - 1) // s, (size[1] + s - 1) // s) for s in strides]


def grid_strides(image_size, level_shapes):
    """torchvision's per-axis anchor strides: ``padded_size // feature_size``.

    Args:
        image_size: ``(height, width)`` of the padded input (ints or scalar tensors).
        level_shapes: ``(H_l, W_l)`` per level.

    Returns:
        A list of ``(stride_y, stride_x)`` pairs, for :func:`fpn_anchors_per_level`.
    """
    return [(image_size[0] // h, image_size[1] // w) for h, w in level_shapes]


def fpn_anchors_per_level(image_size, *, sizes=FPN_SIZES, strides=FPN_STRIDES,
                          aspect_ratios=FPN_ASPECT_RATIOS, level_shapes=None):
    """Anchors of every pyramid level, as a list (P2 first).

    Args:
        image_size: ``(height, width)`` of the (padded) input, ints or a ``[2]``
            tensor; dynamic sizes work inside ``tf.function``.
        sizes: per level, an anchor size or a tuple of sizes (default 32..512).
        strides: per level stride (default 4..64), a number or ``(stride_y, stride_x)``.
        aspect_ratios: ``height / width`` ratios shared by all levels.
        level_shapes: optional explicit ``(H_l, W_l)`` per level (e.g. read from
            the feature maps); default :func:`feature_shapes` of ``image_size``.

    Returns:
        List of ``[H_l * W_l * A_l, 4]`` float32 ``xyxy`` tensors.
    """
    if len(sizes) != len(strides):
        raise ValueError(
            "Expected one anchor size per stride. "
            f"Received: sizes={tuple(sizes)}, strides={tuple(strides)}")
    if level_shapes is None:
        level_shapes = feature_shapes(image_size, strides)
    if len(level_shapes) != len(strides):
        raise ValueError(
            "Expected one feature shape per stride. "
            f"Received: level_shapes of length {len(level_shapes)}, strides={tuple(strides)}")
    return [
        grid_anchors(shape, stride, cell_anchors(size, aspect_ratios))
        for size, stride, shape in zip(sizes, strides, level_shapes)
    ]


def fpn_anchors(image_size, *, sizes=FPN_SIZES, strides=FPN_STRIDES,
                aspect_ratios=FPN_ASPECT_RATIOS, level_shapes=None):
    """All FPN anchors of an image, concatenated over levels.

    Same arguments as :func:`fpn_anchors_per_level`.

    Returns:
        ``[sum_l H_l * W_l * A_l, 4]`` float32 ``xyxy``; for a 64x96 image with the
        defaults: ``3 * (16*24 + 8*12 + 4*6 + 2*3 + 1*2) = 1536`` anchors.
    """
    return tf.concat(
        fpn_anchors_per_level(image_size, sizes=sizes, strides=strides,
                              aspect_ratios=aspect_ratios, level_shapes=level_shapes),
        axis=0,
    )


def _as_tuple(values, name):
    if isinstance(values, (int, float)):
        values = (values,)
    values = tuple(float(v) for v in values)
    if not values or min(values) <= 0:
        raise ValueError(f"Expected {name} to be positive numbers. Received: {name}={values}")
    return values
