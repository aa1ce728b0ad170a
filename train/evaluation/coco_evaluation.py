"""`CocoEvaluation`: COCOeval (pycocotools) of results against a split's ground truth."""

import contextlib
import copy
import dataclasses
import io

IOU_TYPES = ("bbox", "segm")
# The 12 numbers of COCOeval.summarize(), in its order (stats[0..11]).
STATS = ("AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl")


@dataclasses.dataclass(frozen=True)
class CocoEvaluation:
    """The standard COCO metrics of one set of results.

    Build it with `CocoEvaluation.run`.

    Attributes:
        metrics: ``{"bbox_AP": ..., "bbox_AP50": ..., ..., "segm_ARl": ...}``, the 12
            numbers of ``COCOeval.summarize`` per IoU type (`STATS`), in [0, 1], or
            -1 where the ground truth has no object of that size (pycocotools' rule).
        tables: ``{"bbox": text, "segm": text}``, the 12 lines pycocotools prints.
        num_images: the images evaluated.
        num_results: the detections evaluated.
    """

    metrics: dict
    tables: dict
    num_images: int
    num_results: int

    @classmethod
    def run(cls, ground_truth, results, *, image_ids=None, iou_types=IOU_TYPES):
        """Runs COCOeval.

        Args:
            ground_truth: a pycocotools ``COCO`` (`CocoSplit.ground_truth`: crowd regions
                included, which pycocotools ignores as matches).
            results: COCO results (`coco_results.image_results`), with the dataset's
                category ids.
            image_ids: the images to evaluate (default: all of the ground truth); an image
                without results counts its objects as missed.
            iou_types: of `IOU_TYPES`.
        """
        from pycocotools.cocoeval import COCOeval

        image_ids = sorted(ground_truth.getImgIds() if image_ids is None else image_ids)
        metrics, tables = {}, {}
        for iou_type in iou_types:
            detections = _results_coco(ground_truth, results, iou_type)
            evaluator = COCOeval(ground_truth, detections, iou_type)
            evaluator.params.imgIds = image_ids
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):  # its progress, then the table
                evaluator.evaluate()
                evaluator.accumulate()
                table = io.StringIO()
                with contextlib.redirect_stdout(table):
                    evaluator.summarize()
            tables[iou_type] = table.getvalue().rstrip("\n")
            metrics.update({f"{iou_type}_{name}": float(value)
                            for name, value in zip(STATS, evaluator.stats)})
        return cls(metrics, tables, len(image_ids), len(results))

    def report(self, title):
        """The tables under one heading line each, e.g. ``<title>: bbox``."""
        return "\n".join(f"{title}: {iou_type}\n{table}" for iou_type, table in
                         self.tables.items())


def _results_coco(ground_truth, results, iou_type):
    """A pycocotools ``COCO`` of `results` (``COCO.loadRes``). For "segm" the boxes are
    dropped first, so that a detection's area (which picks its small / medium / large
    range) is its mask's, as detectron2 does; loadRes refuses an empty list: then an
    empty ``COCO`` with the ground truth's images and categories."""
    from pycocotools.coco import COCO

    results = copy.deepcopy(results)
    if iou_type == "segm":
        for result in results:
            result.pop("bbox", None)
    with contextlib.redirect_stdout(io.StringIO()):
        if results:
            return ground_truth.loadRes(results)
        empty = COCO()
        empty.dataset = {"images": ground_truth.dataset["images"],
                         "categories": copy.deepcopy(ground_truth.dataset["categories"]),
                         "annotations": []}
        empty.createIndex()
        return empty
