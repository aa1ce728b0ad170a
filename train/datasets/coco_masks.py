"""COCO instance masks: polygons and RLE to binary masks and back (pycocotools).

Data preparation in NumPy, outside the TF graph: run these while reading COCO
annotations (or through ``tf.numpy_function`` in a pipeline); the TF mask ops
(mask targets, pasting) are `keras_zoo.ops.masks`. Masks are ``[height, width]``
uint8 in {0, 1}.
"""

import numpy as np
from pycocotools import mask as mask_utils


def polygons_to_mask(polygons, height, width):
    """COCO polygons to a binary mask.

    Args:
        polygons: list of flat ``[x1, y1, x2, y2, ...]`` pixel coordinate lists
            (COCO ``segmentation`` of a non-crowd annotation); their union is drawn.
        height, width: image size.

    Returns:
        ``[height, width]`` uint8 in {0, 1}.
    """
    if not polygons:
        return np.zeros((height, width), np.uint8)
    rles = mask_utils.frPyObjects([list(map(float, p)) for p in polygons], height, width)
    return mask_utils.decode(mask_utils.merge(rles)).astype(np.uint8)


def rle_to_mask(rle, height, width):
    """COCO RLE (compressed ``counts`` string/bytes or uncompressed list) to a mask.

    Returns ``[height, width]`` uint8 in {0, 1}.
    """
    counts = rle["counts"]
    if isinstance(counts, list):
        rle = mask_utils.frPyObjects(rle, height, width)
    elif isinstance(counts, str):
        rle = {"size": list(rle["size"]), "counts": counts.encode("ascii")}
    if list(rle["size"]) != [height, width]:
        raise ValueError(
            f"Expected an RLE of size {[height, width]}. Received: size={list(rle['size'])}")
    return mask_utils.decode(rle).astype(np.uint8)


def segmentation_to_mask(segmentation, height, width):
    """A COCO annotation's ``segmentation`` (polygon list or RLE dict) to a mask.

    Returns ``[height, width]`` uint8 in {0, 1}.
    """
    if isinstance(segmentation, dict):
        return rle_to_mask(segmentation, height, width)
    if isinstance(segmentation, (list, tuple)):
        return polygons_to_mask(segmentation, height, width)
    raise ValueError(
        "Expected a COCO segmentation: a list of polygons or an RLE dict. "
        f"Received: segmentation of type {type(segmentation).__name__}")


def mask_to_rle(mask):
    """Binary ``[height, width]`` mask to a JSON-ready compressed COCO RLE.

    Returns ``{"size": [h, w], "counts": str}``.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"Expected a [height, width] mask. Received: mask.shape={mask.shape}")
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def rle_counts(rle):
    """The run lengths of a COCO RLE (the uncompressed list, or the compressed string
    decoded as pycocotools' ``rleFrString`` does: 5-bit groups with a continuation bit,
    offset 48, each run from the third on stored as a difference to the run two before).

    Returns:
        list of ints: alternating runs of 0s and 1s in column-major order, from 0s.
    """
    counts = rle["counts"]
    if isinstance(counts, list):
        return [int(c) for c in counts]
    text = counts.encode("ascii") if isinstance(counts, str) else bytes(counts)
    runs, p = [], 0
    while p < len(text):
        value, shift, more = 0, 0, True
        while more:
            if p == len(text):
                raise ValueError("Expected a compressed COCO RLE string. Received: one that "
                                 "ends inside a run length")
            c = text[p] - 48
            value |= (c & 0x1F) << shift
            more = bool(c & 0x20)
            p, shift = p + 1, shift + 5
            if not more and c & 0x10:
                value -= 1 << shift  # sign extension
        runs.append(value + runs[-2] if len(runs) > 2 else value)
    return runs


def check_rle(rle, height, width):
    """ValueError unless `rle` is a COCO RLE of a ``height x width`` image whose runs are
    non-negative and cover it exactly (decoding a wrong RLE would read past the mask)."""
    if not isinstance(rle, dict) or not {"size", "counts"} <= set(rle):
        raise ValueError("Expected an RLE dict with 'size' and 'counts'. Received: "
                         f"{sorted(rle) if isinstance(rle, dict) else type(rle).__name__}")
    if list(rle["size"]) != [height, width]:
        raise ValueError(f"Expected an RLE of the image's size {[height, width]}. "
                         f"Received: size={list(rle['size'])}")
    runs = rle_counts(rle)
    if min(runs, default=0) < 0 or sum(runs) != height * width:
        raise ValueError(f"Expected RLE runs >= 0 summing to height * width = "
                         f"{height * width}. Received: runs summing to {sum(runs)}")


def valid_polygons(polygons):
    """The polygons of a COCO polygon list that enclose an area: flat lists of an even
    number >= 6 of finite coordinates whose shoelace area is not zero. Others (fewer than
    three points, collinear or repeated points) are degenerate and dropped."""
    kept = []
    for polygon in polygons:
        if not isinstance(polygon, (list, tuple)) or len(polygon) < 6 or len(polygon) % 2:
            continue
        points = np.asarray(polygon, np.float64).reshape(-1, 2)
        if not np.isfinite(points).all():
            continue
        x, y = points[:, 0], points[:, 1]
        if abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) > 1e-9:
            kept.append(polygon)
    return kept


def crop_to_box(segmentation, box, height, width, size):
    """An instance mask cropped to its box and resized to ``size x size`` (the training
    form of `keras_zoo.models.MaskRCNN`: cell ``(u, v)`` covers ``[x1 + v w / size,
    x1 + (v + 1) w / size)`` and the same in y).

    Polygons are rasterised directly in the box's frame (their coordinates mapped to
    it), so small objects keep their shape at ``size``; an RLE is decoded at the image
    size and resampled over the box (bilinear, area-averaging when it shrinks), then
    thresholded at 0.5.

    Args:
        segmentation: valid polygons (see `valid_polygons`) or an RLE dict.
        box: ``(x1, y1, x2, y2)`` in image pixels, non-empty.
        height, width: the image size.
        size: the output side M.

    Returns:
        ``[size, size]`` uint8 in {0, 1}.
    """
    x1, y1, x2, y2 = (float(v) for v in box)
    if isinstance(segmentation, dict):
        from PIL import Image

        full = Image.fromarray(rle_to_mask(segmentation, height, width) * 255)
        crop = full.resize((size, size), Image.BILINEAR, box=(x1, y1, x2, y2))
        return (np.asarray(crop) >= 128).astype(np.uint8)
    sx, sy = size / (x2 - x1), size / (y2 - y1)
    moved = [[(v - x1) * sx if i % 2 == 0 else (v - y1) * sy for i, v in enumerate(polygon)]
             for polygon in segmentation]
    return polygons_to_mask(moved, size, size)
