"""COCO evaluation of detectors: results in COCO format and pycocotools' COCOeval.

>>> results, ids = coco_results.predict_results(model, split.images, split.categories,
...                                             batch_size=2)
>>> evaluation = CocoEvaluation.run(split.ground_truth, results, image_ids=ids)
>>> evaluation.metrics["segm_AP"], print(evaluation.report("val"))
"""

from . import coco_results
from .coco_evaluation import IOU_TYPES, STATS, CocoEvaluation

__all__ = ["IOU_TYPES", "STATS", "CocoEvaluation", "coco_results"]
