"""Mask R-CNN predictions as COCO results: boxes in ``xywh``, the dataset's category ids,
masks pasted at the image size and run-length encoded."""

import numpy as np
from pycocotools import mask as mask_utils

from keras_zoo import ops
from keras_zoo.train.datasets import coco_pipeline


def image_results(outputs, b, image_id, size, categories):
    """The COCO results of image `b` of a `MaskRCNN` prediction batch.

    Args:
        outputs: the model's outputs (NumPy): ``boxes [B, D, 4]`` xyxy in input pixels,
            ``scores``, ``classes`` (classifier indices), ``masks [B, D, m, m]``,
            ``num_detections``.
        b: the image's row.
        image_id: its dataset id.
        size: its ``(height, width)``.
        categories: the `CocoCategories` mapping classifier indices to dataset ids.

    Returns:
        list of ``{"image_id", "category_id", "bbox": [x, y, w, h], "score",
        "segmentation": RLE}`` (JSON-ready; ``counts`` a str), best first. Masks are
        pasted as `ops.masks.paste_masks` does (threshold 0.5, Mask R-CNN Sec. 3.1).
    """
    n = int(outputs["num_detections"][b])
    if n == 0:
        return []
    boxes = np.asarray(outputs["boxes"][b, :n], np.float32)
    pasted = np.asarray(ops.masks.paste_masks(outputs["masks"][b, :n], boxes, tuple(size)))
    rles = mask_utils.encode(np.asfortranarray(pasted.transpose(1, 2, 0).astype(np.uint8)))
    results = []
    for box, score, index, rle in zip(boxes, outputs["scores"][b, :n],
                                      outputs["classes"][b, :n], rles):
        x1, y1, x2, y2 = (float(v) for v in box)
        results.append({"image_id": int(image_id), "category_id": categories.id_of(int(index)),
                        "bbox": [x1, y1, x2 - x1, y2 - y1], "score": float(score),
                        "segmentation": {"size": [int(v) for v in rle["size"]],
                                         "counts": rle["counts"].decode("ascii")}})
    return results


def predict_results(model, images, categories, *, batch_size, what="val", on_batch=None):
    """Runs `model` on `CocoImage`s and returns their COCO results and the ids of the
    images it saw (an unreadable image is left out, with one warning line).

    Args:
        model: a `MaskRCNN` (or any model with its inputs and outputs).
        images: `CocoImage`s (their ``path``, ``id``, ``height``, ``width``).
        categories: `CocoCategories`.
        batch_size: images per prediction batch.
        what: the split's name in warnings.
        on_batch: called as ``on_batch(x, outputs, ids)`` after each batch (e.g. to
            draw pictures), or None.

    Returns:
        ``(results list, image ids list)``.
    """
    sizes = {image.id: (image.height, image.width) for image in images}
    dataset = coco_pipeline.prediction_pipeline(
        [image.path for image in images], batch_size=batch_size,
        ids=[image.id for image in images], sizes=list(sizes.values()), what=what)
    results, seen = [], []
    for x, ids in dataset:
        outputs = {k: np.asarray(v) for k, v in model.predict_on_batch(x).items()}
        ids = [int(i) for i in ids.numpy()]
        for b, image_id in enumerate(ids):
            results += image_results(outputs, b, image_id, sizes[image_id], categories)
        seen += ids
        if on_batch is not None:
            on_batch(x, outputs, ids)
    return results, seen
