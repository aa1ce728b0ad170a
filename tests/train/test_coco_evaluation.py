"""train.evaluation: predictions equal to the ground truth score AP = 1.0 (bbox and segm)
through the whole path (pasted 28x28 masks, RLE, the dataset's category ids), a wrong class
scores 0, no detection at all scores 0 without crashing."""

import contextlib
import io
import json

import numpy as np
import pytest

from keras_zoo.train.datasets import coco_masks
from keras_zoo.train.datasets.coco import CocoSplit
from keras_zoo.train.evaluation import STATS, CocoEvaluation, coco_report, coco_results, coco_table
from tests.train.coco_files import tiny_coco

pytestmark = pytest.mark.no_keras_state  # NumPy, pycocotools and TF ops: no Keras state

D = 4  # detections per image in the fake model outputs
# pycocotools divides by tp + fp + np.spacing(1): a perfect precision is 1 - ~2e-16.
ONE = pytest.approx(1.0, abs=1e-12)


@pytest.fixture()
def split(tmp_path):
    return CocoSplit.read(*tiny_coco(tmp_path), name="val")


def _ground_truth_outputs(split, images, wrong_class=False):
    """Model outputs (as MaskRCNN.predict returns them) that detect exactly the training
    targets of `images`: their boxes, classes and 28x28 box crops of their masks."""
    outputs = {"boxes": np.zeros((len(images), D, 4), np.float32),
               "scores": np.zeros((len(images), D), np.float32),
               "classes": np.zeros((len(images), D), np.int32),
               "masks": np.zeros((len(images), D, 28, 28), np.float32),
               "num_detections": np.zeros((len(images),), np.int32)}
    for b, image in enumerate(images):
        n = len(image.boxes)
        outputs["num_detections"][b] = n
        outputs["boxes"][b, :n] = image.boxes
        outputs["scores"][b, :n] = np.linspace(0.9, 0.5, n)
        outputs["classes"][b, :n] = image.classes % 3 + 1 if wrong_class else image.classes
        for g, (seg, box) in enumerate(zip(image.segmentations, image.boxes)):
            outputs["masks"][b, g] = coco_masks.crop_to_box(seg, box, image.height, image.width,
                                                            28)
    return outputs


def _results(split, **kwargs):
    images = split.images
    outputs = _ground_truth_outputs(split, images, **kwargs)
    return [r for b, image in enumerate(images) for r in coco_results.image_results(
        outputs, b, image.id, (image.height, image.width), split.categories)]


def test_ground_truth_scores_ap_one(split):
    results = _results(split)
    assert sorted(r["category_id"] for r in results) == [3, 90, 90, 1000]  # dataset ids
    json.dumps(results)  # JSON-ready (RLE counts as str)
    evaluation = CocoEvaluation.run(split.ground_truth, results)
    for iou_type in ("bbox", "segm"):
        assert evaluation.metrics[f"{iou_type}_AP"] == ONE
        assert evaluation.metrics[f"{iou_type}_AP50"] == ONE
        assert evaluation.metrics[f"{iou_type}_AR100"] == ONE
    assert evaluation.num_images == 4 and evaluation.num_results == 4
    assert list(evaluation.metrics) == [f"{t}_{s}" for t in ("bbox", "segm") for s in STATS]
    report = coco_report(evaluation.metrics, "val").splitlines()
    assert report[0] == "val: bbox" and report[13] == "val: segm" and len(report) == 26
    assert report[1] == (" Average Precision  (AP) @[ IoU=0.50:0.95 | area=   all | "
                         "maxDets=100 ] = 1.000")


def test_table_is_pycocotools_summary(split):
    """`coco_table` prints what COCOeval.summarize prints, line for line."""
    from pycocotools.cocoeval import COCOeval

    results = _results(split, wrong_class=True)[:2] + _results(split)[2:]
    metrics = CocoEvaluation.run(split.ground_truth, results).metrics
    for iou_type in ("bbox", "segm"):
        detections = split.ground_truth.loadRes(
            [{k: v for k, v in r.items() if iou_type == "bbox" or k != "bbox"} for r in results])
        evaluator = COCOeval(split.ground_truth, detections, iou_type)
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            evaluator.evaluate()
            evaluator.accumulate()
            table = io.StringIO()
            with contextlib.redirect_stdout(table):
                evaluator.summarize()
        assert coco_table(metrics, iou_type) == table.getvalue().rstrip("\n")
        assert 0 < metrics[f"{iou_type}_AP"] < 1


def test_pasted_mask_is_the_ground_truth(split):
    image = split.images[0]  # the polygon rectangle and the L, as 28x28 crops, pasted back
    results = _results(split)[:2]
    for result, segmentation in zip(results, image.segmentations):
        want = coco_masks.segmentation_to_mask(segmentation, image.height, image.width)
        got = coco_masks.rle_to_mask(result["segmentation"], image.height, image.width)
        np.testing.assert_array_equal(got, want)


def test_wrong_classes_and_no_detections_score_zero(split):
    wrong = CocoEvaluation.run(split.ground_truth, _results(split, wrong_class=True))
    assert wrong.metrics["bbox_AP"] == 0.0 and wrong.metrics["segm_AP"] == 0.0
    nothing = CocoEvaluation.run(split.ground_truth, [], image_ids=[1, 2])
    assert nothing.metrics["segm_AP"] == 0.0 and nothing.num_images == 2
    assert nothing.metrics["segm_APl"] == -1.0  # no large object: pycocotools' -1


def test_images_without_results_count_as_missed(split):
    results = [r for r in _results(split) if r["image_id"] != 3]
    evaluation = CocoEvaluation.run(split.ground_truth, results)
    assert evaluation.metrics["bbox_AR100"] < 1.0
    only_seen = CocoEvaluation.run(split.ground_truth, results, image_ids=[1, 2, 4])
    assert only_seen.metrics["bbox_AP"] == ONE
