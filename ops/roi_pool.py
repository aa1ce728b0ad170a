"""RoIPool: quantised max pooling of RoIs (Girshick 2015, Fast R-CNN Sec. 2.1).

Kept for Mask R-CNN's RoIAlign-vs-RoIPool ablation (He et al. 2017,
Table 2c/2d). Same rules as torchvision's `roi_pool` (CPU kernel):

- box corners are scaled and rounded (half away from zero):
  `x1 = round(x1 * spatial_scale)`;
- the RoI is `max(x2 - x1 + 1, 1)` pixels wide (inclusive corners);
- bin `q` covers columns `[floor(q * bin_w), ceil((q + 1) * bin_w))` offset by
  `x1` and clipped to the map; the bin value is the max over that region, or
  0 when the clipped region is empty.

The gradient is the autodiff gradient of the max (ties share it, where
torchvision gives it to the first maximum); there is none to the boxes.
"""

import tensorflow as tf

from .roi_align import check_roi_args


def _round_half_away(x):
    return tf.sign(x) * tf.floor(tf.abs(x) + 0.5)


def _axis_windows(start, end, out, length):
    """Bin borders along one axis: `first` [K, out] int32 start row of each bin,
    `size` [K, out] its clipped length, and the largest size (a scalar)."""
    roi = tf.maximum(end - start + 1, 1)
    bin_size = tf.cast(roi, tf.float32)[:, None] / out
    p = tf.cast(tf.range(out), tf.float32)[None, :]
    lo = tf.cast(tf.floor(p * bin_size), tf.int32) + start[:, None]
    hi = tf.cast(tf.math.ceil((p + 1.0) * bin_size), tf.int32) + start[:, None]
    lo = tf.clip_by_value(lo, 0, length)
    hi = tf.clip_by_value(hi, 0, length)
    size = tf.maximum(hi - lo, 0)
    return lo, size, tf.maximum(tf.reduce_max(tf.concat([tf.reshape(size, [-1]), [1]], 0)), 1)


def roi_pool(features, boxes, box_indices, output_size, *, spatial_scale=1.0):
    """RoIPool with torchvision's quantisation rules.

    Args:
        features: float `[N, H, W, C]`.
        boxes: `[K, 4]` as `(x1, y1, x2, y2)` in input pixels.
        box_indices: int `[K]` in `[0, N)`.
        output_size: int or `(out_h, out_w)`.
        spatial_scale: feature-map size / input size (1 / stride).

    Returns:
        `[K, out_h, out_w, C]`; `[0, out_h, out_w, C]` for no boxes.
    """
    features = tf.convert_to_tensor(features)
    if not features.dtype.is_floating:
        features = tf.cast(features, tf.float32)
    boxes = tf.cast(tf.convert_to_tensor(boxes), tf.float32)
    out_h, out_w = check_roi_args(features, boxes, output_size)
    box_indices = tf.cast(tf.reshape(box_indices, [-1]), tf.int32)
    shape = tf.shape(features)
    height, width, channels = shape[1], shape[2], shape[3]
    corners = tf.cast(_round_half_away(boxes * spatial_scale), tf.int32)
    x1, y1, x2, y2 = tf.unstack(corners, axis=1)
    row0, rows, max_rows = _axis_windows(y1, y2, out_h, height)
    col0, cols, max_cols = _axis_windows(x1, x2, out_w, width)
    # Every bin reads a max_rows x max_cols window; cells past its size are masked.
    dr, dc = tf.range(max_rows), tf.range(max_cols)
    r = row0[:, :, None] + dr[None, None, :]  # [K, oh, R]
    c = col0[:, :, None] + dc[None, None, :]  # [K, ow, Cw]
    inside = ((dr[None, None, :] < rows[:, :, None])[:, :, None, :, None]
              & (dc[None, None, :] < cols[:, :, None])[:, None, :, None, :])
    r = tf.minimum(r, height - 1)[:, :, None, :, None]
    c = tf.minimum(c, width - 1)[:, None, :, None, :]
    ids = (box_indices[:, None, None, None, None] * height + r) * width + c
    values = tf.gather(tf.reshape(features, [-1, channels]), ids)  # [K, oh, ow, R, Cw, C]
    lowest = tf.fill(tf.shape(values), values.dtype.min)
    pooled = tf.reduce_max(tf.where(inside[..., None], values, lowest), axis=[3, 4])
    empty = (rows[:, :, None] == 0) | (cols[:, None, :] == 0)
    pooled = tf.where(empty[..., None], tf.zeros_like(pooled), pooled)
    return tf.ensure_shape(pooled, [boxes.shape[0], out_h, out_w, features.shape[-1]])
