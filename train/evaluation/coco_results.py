"""Mask R-CNN predictions as COCO results: boxes in ``xywh``, the dataset's category ids,
masks pasted at the image size and run-length encoded."""

import weakref

import numpy as np
import tensorflow as tf
from pycocotools import mask as mask_utils

from keras_zoo import ops
from keras_zoo.train.datasets import coco_pipeline


def pasted_detections(outputs, b, size, score_threshold=0.0):
    """Detections of image `b` of a `MaskRCNN` prediction batch, masks pasted.

    Args:
        outputs: the model's outputs (NumPy): ``boxes [B, D, 4]`` xyxy in input pixels,
            ``scores``, ``classes`` (classifier indices), ``masks [B, D, m, m]``,
            ``num_detections``.
        b: the image's row.
        size: its ``(height, width)``.
        score_threshold: keep the detections scoring at least this.

    Returns:
        ``(boxes [N, 4], scores [N], classes [N], masks bool [N, H, W])``, best first;
        masks pasted as `ops.masks.paste_masks` does (threshold 0.5, Mask R-CNN Sec. 3.1).
    """
    n = int(outputs["num_detections"][b])
    n = int(np.sum(outputs["scores"][b, :n] >= score_threshold))
    boxes = np.asarray(outputs["boxes"][b, :n], np.float32)
    masks = (np.asarray(ops.masks.paste_masks(outputs["masks"][b, :n], boxes, tuple(size)))
             if n else np.zeros((0, *size), bool))
    return boxes, np.asarray(outputs["scores"][b, :n]), np.asarray(outputs["classes"][b, :n]), \
        masks


def to_results(image_id, detections, categories):
    """COCO results of one image's `pasted_detections`: a list of ``{"image_id",
    "category_id" (the dataset's id), "bbox": [x, y, w, h], "score", "segmentation":
    RLE}``, JSON-ready (RLE ``counts`` a str)."""
    boxes, scores, classes, masks = detections
    rles = mask_utils.encode(np.asfortranarray(masks.transpose(1, 2, 0).astype(np.uint8)))
    results = []
    for box, score, index, rle in zip(boxes, scores, classes, rles):
        x1, y1, x2, y2 = (float(v) for v in box)
        results.append({"image_id": int(image_id), "category_id": categories.id_of(int(index)),
                        "bbox": [x1, y1, x2 - x1, y2 - y1], "score": float(score),
                        "segmentation": {"size": [int(v) for v in rle["size"]],
                                         "counts": rle["counts"].decode("ascii")}})
    return results


def image_results(outputs, b, image_id, size, categories):
    """The COCO results of image `b` of a prediction batch (`pasted_detections`, then
    `to_results`): every detection the model returns."""
    return to_results(image_id, pasted_detections(outputs, b, size), categories)


_PREDICTORS = weakref.WeakKeyDictionary()  # model -> its traced inference


def predictor(model):
    """`model`'s inference on prediction batches as one `tf.function` traced once for every
    batch and image size (Keras's ``predict_on_batch`` retraces for new padded shapes):
    ``predict(x) -> {name: NumPy array}``. The same function for the same model (a run's
    COCO evaluations and its pictures trace it once); it holds the model weakly."""
    infer = _PREDICTORS.get(model)
    if infer is None:
        spec = {"images": tf.TensorSpec([None, None, None, 3], tf.uint8),
                "image_sizes": tf.TensorSpec([None, 2], tf.int32)}
        ref = weakref.ref(model)

        @tf.function(input_signature=[spec])
        def infer(x):
            return ref()(x, training=False)

        _PREDICTORS[model] = infer
    return lambda x: {name: np.asarray(value) for name, value in infer(x).items()}


def predict_results(predict, images, categories, *, batch_size, what="val"):
    """Runs a detector on `CocoImage`s and returns their COCO results and the ids of the
    images it saw (an unreadable image is left out, with one warning line).

    Args:
        predict: `predictor` of a `MaskRCNN` (or of a model with its inputs and outputs).
        images: `CocoImage`s (their ``path``, ``id``, ``height``, ``width``).
        categories: `CocoCategories`.
        batch_size: images per prediction batch.
        what: the split's name in warnings.

    Returns:
        ``(results list, image ids list)``.
    """
    sizes = {image.id: (image.height, image.width) for image in images}
    dataset = coco_pipeline.prediction_pipeline(
        [image.path for image in images], batch_size=batch_size,
        ids=[image.id for image in images], sizes=list(sizes.values()), what=what)
    results, seen = [], []
    for x, ids in dataset:
        outputs = predict(x)
        ids = [int(i) for i in ids.numpy()]
        for b, image_id in enumerate(ids):
            results += image_results(outputs, b, image_id, sizes[image_id], categories)
        seen += ids
    return results, seen
