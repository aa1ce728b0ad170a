"""COCO evaluation of detectors (results in COCO format, pycocotools' COCOeval), and
classifiers' top-1 / top-5 accuracy on one or ten crops (`classification_metrics`).

>>> predict = coco_results.predictor(model)
>>> results, ids = coco_results.predict_results(predict, split.images, split.categories,
...                                             batch_size=2)
>>> evaluation = CocoEvaluation.run(split.ground_truth, results, image_ids=ids)
>>> print(coco_report(evaluation.metrics, "val"))
"""

from . import coco_results
from .classification import classification_metrics
from .coco_evaluation import IOU_TYPES, STATS, CocoEvaluation, coco_report, coco_table

__all__ = ["IOU_TYPES", "STATS", "CocoEvaluation", "classification_metrics", "coco_report",
           "coco_results", "coco_table"]
