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
