"""Instance-mask ops: mask targets per RoI and pasting predicted masks.

- :func:`crop_and_resize_masks`: the Mask R-CNN mask target
  (He et al. 2017, Sec. 3: "the intersection between an RoI and its associated
  ground-truth mask"), an ``m x m`` (28x28) crop of the binary ground-truth mask
  resampled as detectron2's ``BitMasks.crop_and_resize`` does: RoIAlign with
  ``aligned=True``, spatial scale 1, adaptive sampling (``ceil(roi / m)`` points
  per bin and axis), then ``>= 0.5``.
- :func:`crop_box_masks`: the same targets from ground-truth masks stored cropped
  to their boxes at a fixed size (``[B, G, M, M]``), the form Mask R-CNN trains on.
- :func:`paste_masks`: the inverse at inference (Sec. 3.1: "the m x m floating-number
  mask output is then resized to the RoI size, and binarized at a threshold of
  0.5"), with the sampling of detectron2's ``paste_masks_in_image``: every image
  pixel centre is mapped into the mask and read by bilinear interpolation with zero
  padding outside it (``grid_sample(align_corners=False)``).

COCO polygon / RLE rasterisation (NumPy, pycocotools) is data preparation and
lives with the COCO data code: `keras_zoo.train.datasets.coco_masks`.

Both ops are exact and separable: bilinear sampling on a regular grid, averaged
or not, is ``A_y @ mask @ A_x^T`` with per-axis weight matrices, so they are a pair
of batched matmuls (no CropAndResize, no gather of sample points). Boxes are float32
``xyxy`` in image pixels; masks are ``[..., height, width]`` (no channel axis).
"""

import tensorflow as tf

from keras_zoo.checks import positive_int

MASK_SIZE = 28  # Mask R-CNN Sec. 3.1 (FPN mask head output, m = 28)
MASK_THRESHOLD = 0.5  # Mask R-CNN Sec. 3.1: binarise at 0.5


def _roi_align_weights(start, end, length, size, sampling_ratio):
    """Per-axis RoIAlign weights: ``[K, size, length]``, row p = mean over the bin's samples
    of the bilinear weights (torchvision ``roi_align`` rules, aligned=True, scale 1)."""
    start = start - 0.5
    extent = end - 0.5 - start
    bin_size = extent / size
    if sampling_ratio > 0:
        grid = tf.fill(tf.shape(start), sampling_ratio)
        max_grid = sampling_ratio
    else:
        grid = tf.cast(tf.math.ceil(extent / size), tf.int32)
        grid = tf.maximum(grid, 0)
        max_grid = tf.maximum(tf.reduce_max(grid), 1)
    a = tf.cast(tf.range(max_grid), tf.float32)
    p = tf.cast(tf.range(size), tf.float32)
    gridf = tf.cast(tf.maximum(grid, 1), tf.float32)[:, None, None]
    # sample coordinate [K, size, max_grid]
    s = (start[:, None, None] + p[None, :, None] * bin_size[:, None, None]
         + (a[None, None, :] + 0.5) * bin_size[:, None, None] / gridf)
    used = a[None, None, :] < tf.cast(grid, tf.float32)[:, None, None]
    lengthf = tf.cast(length, tf.float32)
    inside = used & (s >= -1.0) & (s <= lengthf)
    s = tf.maximum(s, 0.0)
    low = tf.floor(s)
    at_end = low >= lengthf - 1.0
    low = tf.where(at_end, lengthf - 1.0, low)
    s = tf.where(at_end, low, s)
    frac = s - low
    high = tf.where(at_end, low, low + 1.0)
    scale = tf.cast(inside, tf.float32) / gridf
    weights = tf.concat([(1.0 - frac) * scale, frac * scale], axis=-1)
    cols = tf.cast(tf.concat([low, high], axis=-1), tf.int32)
    num_rows = tf.shape(start)[0] * size
    rows = tf.reshape(tf.range(num_rows), [-1, size, 1])
    seg = tf.reshape(rows * length + cols, [-1])
    flat = tf.math.unsorted_segment_sum(tf.reshape(weights, [-1]), seg, num_rows * length)
    return tf.reshape(flat, [-1, size, length])


def crop_and_resize_masks(masks, boxes, box_indices, output_size=MASK_SIZE, *,
                          sampling_ratio=0, threshold=MASK_THRESHOLD):
    """RoIAlign crop of binary masks, one per box (detectron2 ``BitMasks.crop_and_resize``).

    Output pixel ``(p, q)`` of box ``k`` is the average of bilinear samples of
    ``masks[box_indices[k]]`` on a regular ``g_y x g_x`` grid inside bin ``(p, q)``
    of the box shifted by -0.5 pixel (RoIAlign, Mask R-CNN Sec. 3, aligned
    convention), with ``g = ceil(box side / output_size)`` when ``sampling_ratio <= 0``.

    Args:
        masks: ``[G, H, W]`` masks (bool, uint8 or float; binary in {0, 1}).
        boxes: ``[K, 4]`` float32 ``xyxy`` in mask pixels.
        box_indices: ``[K]`` int, which mask each box crops.
        output_size: int ``m`` (28 in Mask R-CNN) or ``(m_h, m_w)``.
        sampling_ratio: samples per bin and axis; ``<= 0`` is adaptive.
        threshold: targets are ``crop >= threshold`` as float 0/1; ``None`` returns
            the soft crop.

    Returns:
        ``[K, m_h, m_w]`` float32. Memory is ``K * H * W`` floats (one full mask per
        box), as for detectron2.
    """
    out_h, out_w = (output_size, output_size) if isinstance(output_size, int) else output_size
    masks = tf.convert_to_tensor(masks)
    if masks.shape.rank != 3:
        raise ValueError(f"Expected masks of shape [G, H, W]. Received: masks.shape={masks.shape}")
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    height, width = tf.shape(masks)[1], tf.shape(masks)[2]
    x1, y1, x2, y2 = tf.unstack(boxes, num=4, axis=-1)
    ay = _roi_align_weights(y1, y2, height, out_h, sampling_ratio)
    ax = _roi_align_weights(x1, x2, width, out_w, sampling_ratio)
    picked = tf.cast(tf.gather(masks, tf.cast(box_indices, tf.int32)), tf.float32)
    crops = tf.matmul(tf.matmul(ay, picked), ax, transpose_b=True)
    if threshold is None:
        return crops
    return tf.cast(crops >= threshold, tf.float32)


def _interpolation_weights(u, mask_len):
    """Bilinear weights ``[..., mask_len]`` of mask coordinates ``u [...]`` (cell centres at
    0 .. mask_len - 1), zero outside the mask (``grid_sample(padding_mode="zeros")``)."""
    low = tf.floor(u)
    frac = (u - low)[..., None]
    low = tf.cast(low, tf.int32)
    # one_hot of an out-of-range index is a zero row: the zero padding.
    return tf.one_hot(low, mask_len) * (1.0 - frac) + tf.one_hot(low + 1, mask_len) * frac


def _paste_weights(start, end, length, mask_len):
    """``[..., length, mask_len]`` bilinear weights of image pixel centres inside a box."""
    extent = end - start
    centres = tf.cast(tf.range(length), tf.float32) + 0.5
    u = (centres - start[..., None]) * tf.math.divide_no_nan(
        tf.cast(mask_len, tf.float32), extent)[..., None] - 0.5
    u = tf.where(extent[..., None] > 0, u, -2.0)  # empty box: nothing to sample
    return _interpolation_weights(u, mask_len)


def _torchvision_paste_weights(start, end, length, mask_len):
    """As `_paste_weights`, with torchvision's rules: the box grows by (m + 2) / m about
    its centre and is truncated to integers ``b0, b1``; pixels ``b0 .. b1`` read the
    mask padded by one zero cell, resized to ``b1 - b0 + 1`` (bilinear,
    ``align_corners=False``, clamped)."""
    half = (end - start) * 0.5 * (mask_len + 2) / mask_len
    centre = (end + start) * 0.5
    b0 = tf.cast(tf.cast(centre - half, tf.int32), tf.float32)  # .to(int64): truncation
    b1 = tf.cast(tf.cast(centre + half, tf.int32), tf.float32)
    size = tf.maximum(b1 - b0 + 1.0, 1.0)
    pixels = tf.cast(tf.range(length), tf.float32)
    u = (pixels - b0[..., None] + 0.5) * ((mask_len + 2) / size)[..., None] - 0.5
    u = tf.minimum(tf.maximum(u, 0.0), mask_len + 1.0)  # clamped source, padded frame
    inside = (pixels >= b0[..., None]) & (pixels <= b1[..., None])
    padded = _interpolation_weights(u, mask_len + 2)[..., 1:mask_len + 1]
    return padded * tf.cast(inside, tf.float32)[..., None]


def _box_crop_weights(start, end, gt_start, gt_end, mask_len, size, sampling_ratio):
    """``[..., size, mask_len]``: row p averages the bilinear weights of the
    ``sampling_ratio`` samples of bin p of ``[start, end)`` read from a mask whose
    ``mask_len`` cells tile ``[gt_start, gt_end)`` (zero outside it)."""
    bin_size = (end - start) / size
    p = tf.cast(tf.range(size), tf.float32)[:, None]
    i = (tf.cast(tf.range(sampling_ratio), tf.float32)[None, :] + 0.5) / sampling_ratio
    points = start[..., None, None] + (p + i) * bin_size[..., None, None]  # [..., size, g]
    extent = gt_end - gt_start
    scale = tf.math.divide_no_nan(tf.cast(mask_len, tf.float32), extent)[..., None, None]
    u = (points - gt_start[..., None, None]) * scale - 0.5
    u = tf.where(extent[..., None, None] > 0, u, -2.0)  # empty ground truth: all zero
    return tf.reduce_mean(_interpolation_weights(u, mask_len), axis=-2)


def crop_box_masks(masks, mask_boxes, rois, output_size=MASK_SIZE, *, sampling_ratio=2,
                   threshold=MASK_THRESHOLD):
    """Mask R-CNN targets of RoIs from ground-truth masks stored cropped to their boxes.

    The memory-light form of the target (the one of TF Model Garden's Mask R-CNN):
    each ground-truth mask is an ``M x M`` mask whose cells tile its box
    ``mask_boxes`` (cell ``(u, v)`` covers ``[x1 + v w / M, x1 + (v + 1) w / M)`` and
    the same in y), zero outside the box. 100 instances at M = 112 take 1.25 MB as
    uint8, against ~100 MB for full 800x1333 masks; resizing or flipping an image only
    moves the boxes. A full mask crops to this form with
    ``crop_and_resize_masks(masks, boxes, range(G), M, threshold=None)``.

    Output pixel ``(p, q)`` of an RoI averages ``sampling_ratio^2`` bilinear samples of
    its ground-truth crop at the regular points of bin ``(p, q)`` of the RoI (RoIAlign,
    Sec. 3, in continuous coordinates), reading 0 outside the crop; then
    ``>= threshold``. On a mask that is exactly the crop of a full mask this equals
    :func:`crop_and_resize_masks` of the full mask up to the resampling of the crop.

    Args:
        masks: ``[..., M_h, M_w]`` masks (bool, uint8 or float in [0, 1]), each cropped
            to its ``mask_boxes`` row (gather each RoI's matched ground truth first).
        mask_boxes: ``[..., 4]`` float32 ``xyxy`` boxes of the masks.
        rois: ``[..., 4]`` float32 ``xyxy``, one per mask.
        output_size: int ``m`` (28) or ``(m_h, m_w)``.
        sampling_ratio: samples per bin and axis (> 0).
        threshold: targets are ``value >= threshold`` as 0/1; ``None`` returns soft values.

    Returns:
        ``[..., m_h, m_w]`` float32.
    """
    out_h, out_w = (output_size, output_size) if isinstance(output_size, int) else output_size
    positive_int("sampling_ratio", sampling_ratio)
    masks = tf.cast(tf.convert_to_tensor(masks), tf.float32)
    rx1, ry1, rx2, ry2 = tf.unstack(tf.convert_to_tensor(rois, tf.float32), num=4, axis=-1)
    gx1, gy1, gx2, gy2 = tf.unstack(tf.convert_to_tensor(mask_boxes, tf.float32), num=4,
                                    axis=-1)
    wy = _box_crop_weights(ry1, ry2, gy1, gy2, masks.shape[-2] or tf.shape(masks)[-2], out_h,
                           sampling_ratio)
    wx = _box_crop_weights(rx1, rx2, gx1, gx2, masks.shape[-1] or tf.shape(masks)[-1], out_w,
                           sampling_ratio)
    crops = tf.matmul(tf.matmul(wy, masks), wx, transpose_b=True)
    if threshold is None:
        return crops
    return tf.cast(crops >= threshold, tf.float32)


PASTE_CONVENTIONS = ("detectron2", "torchvision")


def paste_masks(masks, boxes, image_size, *, threshold=MASK_THRESHOLD,
                convention="detectron2"):
    """Pastes ``m x m`` mask probabilities into full images at their boxes.

    As detectron2's ``paste_masks_in_image`` (``convention="detectron2"``): image
    pixel ``(i, j)`` reads the mask at ``u = (j + 0.5 - x1) / (x2 - x1) * m_w - 0.5``
    (same for rows) by bilinear interpolation, zero outside the mask; then
    ``>= threshold``. ``convention="torchvision"`` follows torchvision's
    ``paste_masks_in_image`` instead (box grown by one mask cell and rounded to
    whole pixels, mask padded by a zero border and resized to it), to compare with
    torchvision's outputs: on a 20-pixel box the two differ by up to a pixel.

    Args:
        masks: ``[..., N, m_h, m_w]`` float probabilities (e.g. sigmoid of the mask head
            at the predicted class).
        boxes: ``[..., N, 4]`` float32 ``xyxy`` image pixels.
        image_size: ``(height, width)`` of the output, python ints.
        threshold: binarisation threshold (0.5, Sec. 3.1); ``None`` returns the
            interpolated probabilities.
        convention: ``"detectron2"`` or ``"torchvision"``.

    Returns:
        ``[..., N, height, width]``: bool when thresholded, else float32.
    """
    if convention not in PASTE_CONVENTIONS:
        raise ValueError(f"Expected convention to be one of {PASTE_CONVENTIONS}. "
                         f"Received: convention={convention!r}")
    weights = _paste_weights if convention == "detectron2" else _torchvision_paste_weights
    height, width = image_size
    masks = tf.convert_to_tensor(masks, tf.float32)
    boxes = tf.convert_to_tensor(boxes, tf.float32)
    x1, y1, x2, y2 = tf.unstack(boxes, num=4, axis=-1)
    wy = weights(y1, y2, height, masks.shape[-2] or tf.shape(masks)[-2])
    wx = weights(x1, x2, width, masks.shape[-1] or tf.shape(masks)[-1])
    pasted = tf.matmul(tf.matmul(wy, masks), wx, transpose_b=True)
    if threshold is None:
        return pasted
    return pasted >= threshold
