"""RoIAlign: bilinear RoI feature extraction without quantisation.

He et al. 2017, "Mask R-CNN", Sec. 3 (RoIAlign) and Fig. 3: each RoI is cut
into `out_h x out_w` bins; each bin averages `grid_h x grid_w` bilinear
samples taken at regular points, with no rounding of the RoI or bin borders.

The sampling points, border rules and averaging are exactly those of
torchvision's `roi_align` and detectron2's `ROIAlign` (CPU kernel):

- box `(x1, y1, x2, y2)` in input pixels maps to the feature map as
  `x1 * spatial_scale - offset`, with `offset = 0.5` when `aligned=True`
  (pixel centres at half-integers, the paper's exact alignment) and `0`
  otherwise; with `aligned=False` the RoI is at least 1x1 (legacy);
- bin `p` of an RoI starting at `start` with size `roi` samples at
  `y = start + p * roi / out + (i + 0.5) * (roi / out) / grid`,
  `i = 0 .. grid - 1`; `grid = sampling_ratio` when it is > 0, else
  `ceil(roi / out)` per RoI (adaptive; a grid <= 0 gives zeros);
- a sample with `y < -1` or `y > H` (or the same in x) contributes 0 but is
  still counted in the average; otherwise `y <= 0` reads row 0 and
  `y >= H - 1` reads row `H - 1` (the same in x);
- the bin value is the sum of its samples divided by `max(grid_h * grid_w, 1)`.

Two implementations give the same values:

- `"crop_and_resize"` (default, fastest on CPU and GPU): samples each RoI's
  `(out * grid)` point lattice with `tf.image.crop_and_resize` (visiting the
  boxes in raster order, for cache reuse) and averages `grid x grid` groups
  with `avg_pool2d`. With a fixed grid it samples the
  map itself and then adds the samples within one pixel outside the map (read
  from the edge row or column, as torchvision does) that crop_and_resize
  dropped; which ones those were, it learns from the same call on a map of
  ones, so the two never disagree on a sample at the edge. Adaptive grids (and
  maps one pixel high or wide) pad the map by its edge pixel instead, which
  reproduces the clamping rules at the cost of a copy of the map.
- `"gather"`: gathers the four bilinear neighbours of every sample and
  averages them, built from TFLite builtin ops only (GATHER, arithmetic,
  AVERAGE_POOL_2D) so a model converts to TFLite without the Flex delegate;
  this is also the path that compiles under `jit_compile=True` (with a
  fixed `sampling_ratio`).

Both share one hand-written gradient with respect to `features` (the adjoint
of the bilinear sampling, a deterministic sparse accumulation), so the
gradient is exact and repeatable whatever the number of CPU threads: TF's
own CropAndResizeGradImage races on CPU with more than one intra-op thread
(tensorflow#42033). As in torchvision, no gradient flows to the boxes.

The crop_and_resize path normalises the sample lattice to the map size, so its
sample coordinates carry float32 rounding (about 1e-7 relative to the map
size); it agrees with the gather path to ~1e-6 relative, except, on the padded
(adaptive) route, for a sample that lies within that rounding of the `-1` /
`H` cut-off.
"""

import tensorflow as tf

from keras_zoo.checks import size_pair

IMPLEMENTATIONS = ("crop_and_resize", "gather")


def check_roi_args(features, boxes, output_size):
    """Validates ranks; returns `(out_h, out_w)`. Shared with roi_pool."""
    out_hw = size_pair("output_size", output_size)
    if features.shape.rank != 4:
        raise ValueError("Expected features of shape [N, H, W, C]. "
                         f"Received: features.shape={features.shape}")
    if boxes.shape.rank != 2 or boxes.shape[-1] not in (4, None):
        raise ValueError(f"Expected boxes of shape [K, 4]. Received: boxes.shape={boxes.shape}")
    return out_hw


def _axis_samples(start, roi, out, grid, gmax, length, dtype):
    """Bilinear taps along one axis for every RoI.

    start, roi: [K] RoI start and size on the map; grid: [K] int32 samples per
    bin (adaptive) or None (fixed, = gmax). Returns the taps: int32 `lo, hi` and
    float `w_lo, w_hi`, each [K, out * gmax] (sample `p * gmax + i` of bin `p`
    reads rows `lo, hi` with weights `w_lo, w_hi`, 0 for dropped samples), and
    the bool [K, out * gmax] mask of samples that count (not beyond -1 or H).
    """
    bin_size = (roi / out)[:, None, None]
    p = tf.cast(tf.range(out), dtype)[None, :, None]
    i = tf.cast(tf.range(gmax), dtype)[None, None, :]
    g = tf.cast(gmax if grid is None else tf.maximum(grid, 1), dtype)
    g = g if grid is None else g[:, None, None]
    y = (start[:, None, None] + p * bin_size) + (i + 0.5) * bin_size / g
    valid = (y >= -1.0) & (y <= tf.cast(length, dtype))
    if grid is not None:
        valid &= tf.range(gmax)[None, None, :] < grid[:, None, None]
    y = tf.reshape(tf.maximum(y, 0.0), [-1, out * gmax])
    valid = tf.reshape(valid, [-1, out * gmax])
    lo = tf.cast(tf.floor(y), tf.int32)
    edge = lo >= length - 1
    lo = tf.where(edge, length - 1, lo)
    hi = tf.where(edge, length - 1, lo + 1)
    frac = tf.where(edge, tf.zeros_like(y), y - tf.cast(lo, dtype))
    weight = tf.cast(valid, dtype)
    return (lo, hi, (1.0 - frac) * weight, frac * weight), valid


def _geometry(boxes, spatial_scale, aligned, out_hw, sampling_ratio, height, width, dtype):
    """Per-RoI sample taps and averaging weights, shared by forward and backward."""
    offset = 0.5 if aligned else 0.0
    scaled = boxes * tf.cast(spatial_scale, dtype) - offset
    x1, y1, x2, y2 = (scaled[:, i] for i in range(4))  # TFLite UNPACK rejects K = 0
    roi_w, roi_h = x2 - x1, y2 - y1
    if not aligned:
        roi_w, roi_h = tf.maximum(roi_w, 1.0), tf.maximum(roi_h, 1.0)
    out_h, out_w = out_hw
    if sampling_ratio > 0:
        grid_h = grid_w = None
        gmax_h = gmax_w = sampling_ratio
        inv_count = tf.fill(tf.shape(x1), tf.cast(1.0 / sampling_ratio**2, dtype))
    else:
        grid_h = tf.cast(tf.math.ceil(roi_h / out_h), tf.int32)
        grid_w = tf.cast(tf.math.ceil(roi_w / out_w), tf.int32)
        gmax_h = tf.maximum(tf.reduce_max(tf.concat([grid_h, [1]], 0)), 1)
        gmax_w = tf.maximum(tf.reduce_max(tf.concat([grid_w, [1]], 0)), 1)
        inv_count = 1.0 / tf.cast(tf.maximum(grid_h * grid_w, 1), dtype)
    y_taps, y_valid = _axis_samples(y1, roi_h, out_h, grid_h, gmax_h, height, dtype)
    x_taps, x_valid = _axis_samples(x1, roi_w, out_w, grid_w, gmax_w, width, dtype)
    return {
        "y": y_taps,
        "x": x_taps,
        "valid": (y_valid, x_valid),
        "gmax": (gmax_h, gmax_w),
        "inv_count": inv_count,
        "start": (y1, x1),
        "bin": (roi_h / out_h, roi_w / out_w),
        "grid": (grid_h, grid_w),
    }


def _bilinear_taps(rows, cols, base, width):
    """The four bilinear neighbours of samples whose row taps `(lo, hi, w_lo, w_hi)`
    and column taps broadcast to one shape S: flat pixel ids [4, *S] into a
    `[N * H * W, C]` map (`base` = image id * H * W) and their weights [4, *S]."""
    ids, weights = [], []
    for row, wy in ((rows[0], rows[2]), (rows[1], rows[3])):
        for col, wx in ((cols[0], cols[2]), (cols[1], cols[3])):
            ids.append(base + row * width + col)
            weights.append(wy * wx)
    return tf.stack(ids), tf.stack(weights)


def _corner_taps(geo, box_indices, height, width):
    """The four bilinear neighbours of every sample: ids and weights [4, K, Sh, Sw]."""
    rows = [t[:, :, None] for t in geo["y"]]
    cols = [t[:, None, :] for t in geo["x"]]
    base = (box_indices * (height * width))[:, None, None]
    return _bilinear_taps(rows, cols, base, width)


def _pool_bins(samples, geo, out_hw, fixed):
    """Averages each bin's `gmax_h x gmax_w` samples: [K, Sh, Sw, C] -> [K, oh, ow, C]."""
    gmax_h, gmax_w = geo["gmax"]
    if fixed:  # count = ratio^2 for every RoI: avg_pool2d (3-5x faster than reduce_mean)
        return tf.nn.avg_pool2d(samples, (gmax_h, gmax_w), (gmax_h, gmax_w), "VALID")
    out_h, out_w = out_hw
    shape = tf.shape(samples)
    grouped = tf.reshape(samples, [shape[0], out_h, gmax_h, out_w, gmax_w, shape[3]])
    summed = tf.reduce_sum(grouped, axis=[2, 4])
    return summed * tf.cast(geo["inv_count"], samples.dtype)[:, None, None, None]


def _forward_gather(features, box_indices, geo, out_hw, fixed):
    shape = tf.shape(features)
    height, width = shape[1], shape[2]
    flat = tf.reshape(features, [-1, shape[3]])
    ids, weights = _corner_taps(geo, box_indices, height, width)
    weights = tf.cast(weights, features.dtype)
    samples = None
    for c in range(4):
        term = tf.gather(flat, ids[c]) * weights[c][..., None]
        samples = term if samples is None else samples + term
    return _pool_bins(samples, geo, out_hw, fixed)


def _fixed_lattice(geo, out_hw):
    """First and last sample of each RoI's `(out * ratio)` lattice, map
    coordinates: float32 [K, 4] as `(y_first, x_first, y_last, x_last)`."""
    (y1, x1), (bin_h, bin_w) = geo["start"], geo["bin"]
    gmax_h, gmax_w = geo["gmax"]
    out_h, out_w = out_hw
    first_y = y1 + 0.5 * bin_h / gmax_h
    last_y = (y1 + (out_h - 1) * bin_h) + (gmax_h - 0.5) * bin_h / gmax_h
    first_x = x1 + 0.5 * bin_w / gmax_w
    last_x = (x1 + (out_w - 1) * bin_w) + (gmax_w - 0.5) * bin_w / gmax_w
    return tf.cast(tf.stack([first_y, first_x, last_y, last_x], axis=1), tf.float32)


def _adaptive_lattices(geo, out_hw):
    """One lattice per bin with the largest grid (extra points are masked by the
    caller): float32 [K * out_h * out_w, 4], as `_fixed_lattice`."""
    (y1, x1), (bin_h, bin_w) = geo["start"], geo["bin"]
    gmax_h, gmax_w = geo["gmax"]
    out_h, out_w = out_hw
    grid_h, grid_w = (tf.cast(tf.maximum(g, 1), y1.dtype) for g in geo["grid"])
    step_h, step_w = bin_h / grid_h, bin_w / grid_w
    p = tf.cast(tf.range(out_h), y1.dtype)[None, :, None]
    q = tf.cast(tf.range(out_w), y1.dtype)[None, None, :]
    first_y = (y1[:, None, None] + p * bin_h[:, None, None]) + 0.5 * step_h[:, None, None]
    first_x = (x1[:, None, None] + q * bin_w[:, None, None]) + 0.5 * step_w[:, None, None]
    first_y, first_x = (tf.broadcast_to(v, [tf.shape(y1)[0], out_h, out_w])
                        for v in (first_y, first_x))
    last_y = first_y + tf.cast(gmax_h - 1, y1.dtype) * step_h[:, None, None]
    last_x = first_x + tf.cast(gmax_w - 1, y1.dtype) * step_w[:, None, None]
    lattice = tf.reshape(tf.stack([first_y, first_x, last_y, last_x], axis=-1), [-1, 4])
    return tf.cast(lattice, tf.float32)


def _forward_padded_crop(features, box_indices, geo, out_hw, fixed):
    """crop_and_resize on the map padded by its edge pixel: a sample in [-1, 0]
    reads row 0 and one in [H - 1, H] row H - 1, as in torchvision; beyond that
    crop_and_resize extrapolates zeros. Any map size, fixed or adaptive grids."""
    shape = tf.shape(features)
    height, width = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    padded = tf.pad(features, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="SYMMETRIC")
    gmax_h, gmax_w = geo["gmax"]
    out_h, out_w = out_hw
    if fixed:
        lattice, crop_ids = _fixed_lattice(geo, out_hw), box_indices
        crop_size = (out_h * gmax_h, out_w * gmax_w)
    else:
        lattice = _adaptive_lattices(geo, out_hw)
        crop_ids = tf.repeat(box_indices, out_h * out_w)
        crop_size = tf.stack([gmax_h, gmax_w])
    scale = tf.stack([height + 1.0, width + 1.0, height + 1.0, width + 1.0])
    samples = tf.image.crop_and_resize(padded, (lattice + 1.0) / scale, crop_ids, crop_size,
                                       extrapolation_value=0.0)
    samples = tf.cast(samples, features.dtype)
    if fixed:
        return tf.nn.avg_pool2d(samples, (gmax_h, gmax_w), (gmax_h, gmax_w), "VALID")
    mask_h = tf.range(gmax_h)[None, :] < geo["grid"][0][:, None]  # [K, gh]
    mask_w = tf.range(gmax_w)[None, :] < geo["grid"][1][:, None]  # [K, gw]
    weights = tf.cast(mask_h[:, :, None] & mask_w[:, None, :], features.dtype)
    weights *= tf.cast(geo["inv_count"], features.dtype)[:, None, None]
    weights = tf.repeat(weights, out_h * out_w, axis=0)[..., None]
    pooled = tf.reduce_sum(samples * weights, axis=[1, 2])
    return tf.reshape(pooled, [-1, out_h, out_w, tf.shape(features)[3]])


def _raster_order(box_indices, top):
    """The order in which crop_and_resize visits the boxes: by image, then top to bottom.

    CropAndResize spends its time loading the four neighbour pixels (C floats each)
    of every sample from the feature map, which for FPN levels is far larger than
    the caches. Boxes visited in raster order find many of those rows still cached
    from the previous boxes: 20-25% less CPU time for 1000 proposals on a
    200x304x256 map on the dev machine (likely more on CPUs with less cache).
    Each box is sampled alone, so the order changes no value. `top`: [K] top of
    each box as a fraction of the map height; returns int32 [K].
    """
    top = tf.clip_by_value(tf.cast(top, tf.float32), -1.0, 2.0) + 1.0  # in [0, 3]
    return tf.argsort(tf.cast(box_indices, tf.float32) * 4.0 + top, stable=True)


def _forward_edge_corrected_crop(features, box_indices, geo, out_hw):
    """Fixed grids on a map of at least 2x2, without copying the map.

    crop_and_resize samples the unpadded map and gives 0 wherever its own
    arithmetic puts a sample outside `[0, H - 1] x [0, W - 1]`. The same call
    on a 1-channel map of ones, with the same coordinates, tells exactly which
    samples those were; the ones among them that torchvision counts (within one
    pixel outside the map, read from the edge) are gathered and added to their
    bins. They are few (RoIs touching the border), so this costs far less than
    padding the whole map.
    """
    shape = tf.shape(features)
    height, width, channels = shape[1], shape[2], shape[3]
    gmax_h, gmax_w = geo["gmax"]
    out_h, out_w = out_hw
    crop_size = (out_h * gmax_h, out_w * gmax_w)
    extent = tf.cast(tf.stack([height - 1, width - 1, height - 1, width - 1]), tf.float32)
    lattice = _fixed_lattice(geo, out_hw) / extent
    order = _raster_order(box_indices, lattice[:, 0])
    samples = tf.image.crop_and_resize(features, tf.gather(lattice, order),
                                       tf.gather(box_indices, order), crop_size)
    pooled = tf.nn.avg_pool2d(tf.cast(samples, features.dtype), (gmax_h, gmax_w),
                              (gmax_h, gmax_w), "VALID")
    pooled = tf.gather(pooled, tf.math.invert_permutation(order))  # back to the input order
    ones = tf.ones(tf.stack([1, height, width, 1]))
    read = tf.image.crop_and_resize(ones, lattice, tf.zeros_like(box_indices), crop_size)
    y_valid, x_valid = geo["valid"]
    missed = tf.where(y_valid[:, :, None] & x_valid[:, None, :] & (read[..., 0] < 0.5))
    box, row, col = tf.unstack(tf.cast(missed, tf.int32), num=3, axis=1)
    box_row, box_col = tf.stack([box, row], 1), tf.stack([box, col], 1)
    rows = [tf.gather_nd(t, box_row) for t in geo["y"]]
    cols = [tf.gather_nd(t, box_col) for t in geo["x"]]
    ids, weights = _bilinear_taps(rows, cols, tf.gather(box_indices, box) * height * width,
                                  width)
    weights *= tf.gather(geo["inv_count"], box)[None]
    flat = tf.reshape(features, [-1, channels])
    values = tf.reduce_sum(tf.gather(flat, ids) * tf.cast(weights, features.dtype)[..., None],
                           axis=0)  # [M, C]
    bins = box * (out_h * out_w) + (row // gmax_h) * out_w + col // gmax_w
    corrected = tf.tensor_scatter_nd_add(tf.reshape(pooled, [-1, channels]), bins[:, None],
                                         values)
    return tf.reshape(corrected, tf.shape(pooled))


def _forward_crop_and_resize(features, box_indices, geo, out_hw, fixed):
    if not fixed:
        return _forward_padded_crop(features, box_indices, geo, out_hw, fixed)
    shape = tf.shape(features)
    return tf.cond(tf.minimum(shape[1], shape[2]) >= 2,
                   lambda: _forward_edge_corrected_crop(features, box_indices, geo, out_hw),
                   lambda: _forward_padded_crop(features, box_indices, geo, out_hw, fixed))


def _bin_of_samples(geo, num_boxes, out_hw):
    """Output-bin id (k * oh * ow + p * ow + q) of every sample: [K, Sh, Sw]."""
    out_h, out_w = out_hw
    gmax_h, gmax_w = geo["gmax"]
    rows = tf.repeat(tf.range(out_h), gmax_h)  # [Sh]
    cols = tf.repeat(tf.range(out_w), gmax_w)  # [Sw]
    local = rows[:, None] * out_w + cols[None, :]
    return tf.range(num_boxes)[:, None, None] * (out_h * out_w) + local[None]


def _channel_chunks(channels):
    """Channel chunk sizes (16 to 31) for the sparse-dense matmul of the backward.

    TF's CPU SparseTensorDenseMatMul takes a scalar loop for fewer than 32 dense
    columns, ~5x faster here than its vectorised row path on wide rows (cache
    locality); independent chunks also run concurrently in a graph.
    """
    if channels is None:
        return [-1]
    count = max(1, channels // 16)
    return [channels // count + (i < channels % count) for i in range(count)]


def _adjoint(grad, features_shape, box_indices, geo, out_hw, sparse_matmul):
    """d(features) for d(output) = grad: every sample scatters its bin's gradient,
    times its bilinear weights and 1 / count, onto its four neighbours.

    Deterministic: either one sparse-dense matmul (serial accumulation in a fixed
    order) or an unsorted segment sum (each output row owned by one thread).
    """
    height, width, channels = features_shape[1], features_shape[2], features_shape[3]
    num_boxes = tf.shape(grad)[0]
    ids, weights = _corner_taps(geo, box_indices, height, width)
    weights *= geo["inv_count"][None, :, None, None]
    bins = tf.broadcast_to(_bin_of_samples(geo, num_boxes, out_hw)[None], tf.shape(ids))
    # Sample-major order (the four neighbours of a sample together): ~10% faster
    # sparse matmul than corner-major (cache reuse of the output and grad rows).
    ids, bins, weights = (tf.reshape(tf.transpose(t, [1, 2, 3, 0]), [-1])
                          for t in (ids, bins, weights))
    weights = tf.cast(weights, grad.dtype)
    flat_grad = tf.reshape(grad, [-1, channels])
    num_pixels = features_shape[0] * height * width
    if sparse_matmul:
        operator = tf.sparse.SparseTensor(
            tf.cast(tf.stack([ids, bins], axis=1), tf.int64), weights,
            tf.cast(tf.stack([num_pixels, num_boxes * out_hw[0] * out_hw[1]]), tf.int64))
        # Each chunk is one serial kernel summing in a fixed order: deterministic.
        chunks = _channel_chunks(grad.shape[-1])
        parts = [tf.sparse.sparse_dense_matmul(operator, part)
                 for part in tf.split(flat_grad, chunks, axis=1)]
        flat = parts[0] if len(parts) == 1 else tf.concat(parts, axis=1)
    else:
        updates = tf.gather(flat_grad, bins) * weights[:, None]
        flat = tf.math.unsorted_segment_sum(updates, ids, num_pixels)
    return tf.reshape(flat, features_shape)


def roi_align(features, boxes, box_indices, output_size, *, spatial_scale=1.0,
              sampling_ratio=2, aligned=True, implementation="crop_and_resize"):
    """RoIAlign (He et al. 2017, Sec. 3), with torchvision's exact sampling rules.

    Args:
        features: float `[N, H, W, C]` feature maps (channels last).
        boxes: `[K, 4]` RoIs as `(x1, y1, x2, y2)` in input-image pixels.
        box_indices: int `[K]`, the image of each RoI in `[0, N)`.
        output_size: int or `(out_h, out_w)`.
        spatial_scale: feature-map size / input size, `1 / stride` (e.g. 0.25 on P2).
        sampling_ratio: samples per bin along each axis; `<= 0` is adaptive,
            `ceil(roi_size / output_size)` per RoI (not under `jit_compile`).
        aligned: True shifts the scaled box by -0.5 pixel (Mask R-CNN's exact
            alignment, torchvision `aligned=True`); False is the legacy rule
            (no shift, RoIs at least 1x1).
        implementation: `"crop_and_resize"` (fastest) or `"gather"` (TFLite
            builtin ops only; compiles with XLA). Same values either way.

    Returns:
        `[K, out_h, out_w, C]` in the dtype of `features` (float32 for integer
        maps; half types are computed in float32); `[0, out_h, out_w, C]` for an
        empty box list.
    """
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(f"Expected implementation to be one of {IMPLEMENTATIONS}. "
                         f"Received: implementation={implementation!r}")
    if isinstance(sampling_ratio, bool) or not isinstance(sampling_ratio, int):
        raise ValueError("Expected sampling_ratio to be an int (<= 0 for adaptive). "
                         f"Received: sampling_ratio={sampling_ratio!r}")
    features = tf.convert_to_tensor(features)
    out_dtype = features.dtype if features.dtype.is_floating else tf.float32
    if features.dtype not in (tf.float32, tf.float64):  # ints, half types: float32 math
        features = tf.cast(features, tf.float32)
    geo_dtype = features.dtype
    boxes = tf.cast(tf.convert_to_tensor(boxes), geo_dtype)
    box_indices = tf.cast(tf.reshape(box_indices, [-1]), tf.int32)
    out_hw = check_roi_args(features, boxes, output_size)
    fixed = sampling_ratio > 0
    forward = _forward_crop_and_resize if implementation == "crop_and_resize" else _forward_gather

    @tf.custom_gradient
    def _roi_align(feats, rois):
        shape = tf.shape(feats)
        geo = _geometry(rois, spatial_scale, aligned, out_hw, sampling_ratio,
                        shape[1], shape[2], geo_dtype)
        output = forward(feats, box_indices, geo, out_hw, fixed)

        def grad(upstream):
            d_feats = _adjoint(upstream, shape, box_indices, geo, out_hw,
                               sparse_matmul=implementation == "crop_and_resize")
            return d_feats, None  # as torchvision: no gradient to the boxes

        return output, grad

    output = tf.cast(_roi_align(features, boxes), out_dtype)
    channels = features.shape[-1]
    return tf.ensure_shape(output, [boxes.shape[0], out_hw[0], out_hw[1], channels])
