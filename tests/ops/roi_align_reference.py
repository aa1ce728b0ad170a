"""Slow NumPy RoIAlign / RoIPool written from the definition (torchvision's
rules, see ops/roi_align.py), one sample at a time, in float64. Also the
adjoint of RoIAlign (d features for a given d output)."""

import math

import numpy as np


def _taps(v, size):
    """Bilinear taps of coordinate v on an axis of `size` pixels (None: outside)."""
    if not (-1.0 <= v <= size):
        return None
    v = max(v, 0.0)
    lo = int(math.floor(v))
    if lo >= size - 1:
        return [(size - 1, 1.0), (size - 1, 0.0)]
    return [(lo, 1.0 - (v - lo)), (lo + 1, v - lo)]


def _bins(box, spatial_scale, out_h, out_w, sampling_ratio, aligned):
    """Yields (p, q, [(y, x) samples], count) for one RoI."""
    offset = 0.5 if aligned else 0.0
    x1, y1, x2, y2 = (float(c) * spatial_scale - offset for c in box)
    roi_w, roi_h = x2 - x1, y2 - y1
    if not aligned:
        roi_w, roi_h = max(roi_w, 1.0), max(roi_h, 1.0)
    bin_h, bin_w = roi_h / out_h, roi_w / out_w
    grid_h = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_h / out_h)
    grid_w = sampling_ratio if sampling_ratio > 0 else math.ceil(roi_w / out_w)
    count = max(grid_h * grid_w, 1)
    for p in range(out_h):
        for q in range(out_w):
            points = [(y1 + p * bin_h + (iy + 0.5) * bin_h / grid_h,
                       x1 + q * bin_w + (ix + 0.5) * bin_w / grid_w)
                      for iy in range(max(grid_h, 0)) for ix in range(max(grid_w, 0))]
            yield p, q, points, count


def roi_align_reference(features, boxes, box_indices, output_size, spatial_scale=1.0,
                        sampling_ratio=2, aligned=True):
    features = np.asarray(features, np.float64)
    out_h, out_w = (output_size, output_size) if np.isscalar(output_size) else output_size
    _, height, width, channels = features.shape
    out = np.zeros((len(boxes), out_h, out_w, channels))
    for k, (box, n) in enumerate(zip(boxes, box_indices)):
        for p, q, points, count in _bins(box, spatial_scale, out_h, out_w, sampling_ratio,
                                         aligned):
            acc = np.zeros(channels)
            for y, x in points:
                ty, tx = _taps(y, height), _taps(x, width)
                if ty is None or tx is None:
                    continue
                for r, wy in ty:
                    for c, wx in tx:
                        acc += wy * wx * features[n, r, c]
            out[k, p, q] = acc / count
    return out


def roi_align_adjoint_reference(grad, features_shape, boxes, box_indices, output_size,
                                spatial_scale=1.0, sampling_ratio=2, aligned=True):
    """d features of sum(grad * roi_align(features, ...)), written independently."""
    out_h, out_w = (output_size, output_size) if np.isscalar(output_size) else output_size
    _, height, width, _ = features_shape
    d_features = np.zeros(features_shape)
    for k, (box, n) in enumerate(zip(boxes, box_indices)):
        for p, q, points, count in _bins(box, spatial_scale, out_h, out_w, sampling_ratio,
                                         aligned):
            for y, x in points:
                ty, tx = _taps(y, height), _taps(x, width)
                if ty is None or tx is None:
                    continue
                for r, wy in ty:
                    for c, wx in tx:
                        d_features[n, r, c] += wy * wx * grad[k, p, q] / count
    return d_features


def roi_pool_reference(features, boxes, box_indices, output_size, spatial_scale=1.0):
    """torchvision roi_pool: rounded RoI, floor/ceil bin borders, max, empty bin -> 0."""
    features = np.asarray(features, np.float64)
    out_h, out_w = (output_size, output_size) if np.isscalar(output_size) else output_size
    _, height, width, channels = features.shape
    out = np.zeros((len(boxes), out_h, out_w, channels))

    def rnd(v):  # C++ round(): half away from zero
        return int(math.copysign(math.floor(abs(v) + 0.5), v))

    for k, (box, n) in enumerate(zip(boxes, box_indices)):
        x1, y1, x2, y2 = (rnd(float(c) * spatial_scale) for c in box)
        bin_h = max(y2 - y1 + 1, 1) / out_h
        bin_w = max(x2 - x1 + 1, 1) / out_w
        for p in range(out_h):
            hs = min(max(math.floor(p * bin_h) + y1, 0), height)
            he = min(max(math.ceil((p + 1) * bin_h) + y1, 0), height)
            for q in range(out_w):
                ws = min(max(math.floor(q * bin_w) + x1, 0), width)
                we = min(max(math.ceil((q + 1) * bin_w) + x1, 0), width)
                if he > hs and we > ws:
                    out[k, p, q] = features[n, hs:he, ws:we].max(axis=(0, 1))
    return out
