"""Small COCO-format datasets written to disk for the COCO tests (JSON + PNG files), and a
way to make an untrained Mask R-CNN detect something.

`tiny_coco` writes a valid dataset with every kind of annotation the format has
(polygons, compressed and uncompressed RLE, a crowd region, category ids with
gaps, an image without objects); a test copies it and breaks one thing.
Masks are drawn here by hand (rectangles and an L shape), independently of the
loader.
"""

import copy
import json
import os

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

# Category ids with a gap and a large id: classifier indices 1, 2, 3 (sorted by id).
CATEGORIES = [{"id": 90, "name": "toothbrush"}, {"id": 3, "name": "car"},
              {"id": 1000, "name": "widget"}]
HEIGHT, WIDTH = 48, 64


def rectangle_polygon(x0, y0, x1, y1):
    return [[x0, y0, x1, y0, x1, y1, x0, y1]]


def l_shape_mask(height=HEIGHT, width=WIDTH):
    """An L of pixels x in [10, 30), y in [20, 40), less the block x >= 20, y < 30."""
    mask = np.zeros((height, width), np.uint8)
    mask[20:40, 10:30] = 1
    mask[20:30, 20:30] = 0
    return mask


def compressed_rle(mask):
    rle = mask_utils.encode(np.asfortranarray(mask))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def uncompressed_rle(mask):
    flat, runs, value, count = mask.ravel(order="F"), [], 0, 0
    for v in flat:
        if v != value:
            runs.append(count)
            value, count = v, 0
        count += 1
    runs.append(count)
    return {"size": list(mask.shape), "counts": runs}


def tiny_document():
    """The JSON document of `tiny_coco` (images 1..4; image 4 has no object)."""
    images = [{"id": i, "file_name": f"{i:03d}.png", "height": HEIGHT, "width": WIDTH}
              for i in (1, 2, 3, 4)]
    crowd = np.zeros((HEIGHT, WIDTH), np.uint8)
    crowd[0:10, 40:64] = 1
    annotations = [
        # image 1: a polygon rectangle (car) and a compressed-RLE L shape (toothbrush)
        {"id": 11, "image_id": 1, "category_id": 3, "bbox": [4, 6, 20, 10],
         "segmentation": rectangle_polygon(4, 6, 24, 16), "area": 200, "iscrowd": 0},
        {"id": 12, "image_id": 1, "category_id": 90, "bbox": [10, 20, 20, 20],
         "segmentation": compressed_rle(l_shape_mask()), "area": 300, "iscrowd": 0},
        # image 2: an uncompressed-RLE widget, a crowd region (uncompressed RLE, as COCO)
        {"id": 21, "image_id": 2, "category_id": 1000, "bbox": [10, 20, 20, 20],
         "segmentation": uncompressed_rle(l_shape_mask()), "area": 300, "iscrowd": 0},
        {"id": 22, "image_id": 2, "category_id": 3, "bbox": [40, 0, 24, 10],
         "segmentation": uncompressed_rle(crowd), "area": 240, "iscrowd": 1},
        # image 3: a polygon without 'area' and 'iscrowd' (both optional)
        {"id": 31, "image_id": 3, "category_id": 90, "bbox": [30, 8, 16, 24],
         "segmentation": rectangle_polygon(30, 8, 46, 32)},
    ]
    return {"images": images, "annotations": annotations, "categories": copy.deepcopy(CATEGORIES)}


def write_images(folder, document, seed=0):
    """A noisy PNG per image entry of `document` (the loader reads only their sizes)."""
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    for entry in document["images"]:
        pixels = rng.integers(0, 60, (entry["height"], entry["width"], 3)).astype(np.uint8)
        Image.fromarray(pixels).save(os.path.join(folder, entry["file_name"]))


def write_coco(root, document, split="train", images=True):
    """Writes `document` as ``root/annotations/instances_<split>.json`` and its images in
    ``root/<split>/``; returns ``(json path, image folder)``."""
    os.makedirs(os.path.join(root, "annotations"), exist_ok=True)
    path = os.path.join(root, "annotations", f"instances_{split}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(document, f)
    folder = os.path.join(root, split)
    os.makedirs(folder, exist_ok=True)
    if images:
        write_images(folder, document)
    return path, folder


def tiny_coco(root, split="train"):
    """Writes the tiny dataset (see `tiny_document`); returns ``(json path, image folder)``."""
    return write_coco(root, tiny_document(), split)


def mixed_sizes_document(count=8, seed=0):
    """A COCO document of `count` images of several sizes, landscape and portrait, each with
    one to three rectangles (polygons) of the three `CATEGORIES`."""
    rng = np.random.default_rng(seed)
    shapes = [(48, 64), (64, 48), (40, 72), (72, 40), (56, 64), (64, 56)]
    images, annotations = [], []
    for i in range(1, count + 1):
        height, width = shapes[(i - 1) % len(shapes)]
        images.append({"id": i, "file_name": f"{i:03d}.png", "height": height, "width": width})
        for k in range(1 + (i % 3)):
            w, h = (int(v) for v in rng.integers(8, 24, 2))
            x, y = int(rng.integers(0, width - w)), int(rng.integers(0, height - h))
            annotations.append({"id": 100 * i + k, "image_id": i,
                                "category_id": CATEGORIES[(i + k) % 3]["id"],
                                "bbox": [x, y, w, h], "area": w * h, "iscrowd": 0,
                                "segmentation": rectangle_polygon(x, y, x + w, y + h)})
    return {"images": images, "annotations": annotations, "categories": CATEGORIES}


def classify_everything_as(model, index):
    """Makes a `MaskRCNN`'s box head classify every RoI as class `index` with confidence:
    an untrained model scores everything below its 0.05 threshold and detects nothing."""
    kernel, bias = model.box_predictor.classifier.get_weights()
    bias[:] = -10.0
    bias[index] = 10.0
    model.box_predictor.classifier.set_weights([kernel * 0, bias])
