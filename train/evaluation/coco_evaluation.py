"""`CocoEvaluation`: COCOeval (pycocotools) of results against a split's ground truth."""

import contextlib
import copy
import dataclasses
import io

IOU_TYPES = ("bbox", "segm")
# The 12 numbers of COCOeval.summarize() in its order (stats[0..11]): name, AP (else AR),
# IoU threshold (None: 0.50:0.95), object size range, detections per image.
_SUMMARY = (("AP", True, None, "all", 100), ("AP50", True, 0.5, "all", 100),
            ("AP75", True, 0.75, "all", 100), ("APs", True, None, "small", 100),
            ("APm", True, None, "medium", 100), ("APl", True, None, "large", 100),
            ("AR1", False, None, "all", 1), ("AR10", False, None, "all", 10),
            ("AR100", False, None, "all", 100), ("ARs", False, None, "small", 100),
            ("ARm", False, None, "medium", 100), ("ARl", False, None, "large", 100))
STATS = tuple(row[0] for row in _SUMMARY)


def coco_table(metrics, iou_type):
    """The 12 lines ``COCOeval.summarize()`` prints, from `metrics` (``<iou_type>_AP`` ...),
    character for character."""
    lines = []
    for name, precision, iou, area, detections in _SUMMARY:
        title, kind = ("Average Precision", "(AP)") if precision else ("Average Recall", "(AR)")
        threshold = "0.50:0.95" if iou is None else f"{iou:0.2f}"
        lines.append(f" {title:<18} {kind} @[ IoU={threshold:<9} | area={area:>6s} | "
                     f"maxDets={detections:>3d} ] = {metrics[f'{iou_type}_{name}']:0.3f}")
    return "\n".join(lines)


def coco_report(metrics, title):
    """The tables of every IoU type in `metrics`, each under a line ``<title>: <iou type>``."""
    return "\n".join(f"{title}: {iou_type}\n{coco_table(metrics, iou_type)}"
                     for iou_type in IOU_TYPES if f"{iou_type}_AP" in metrics)


@dataclasses.dataclass(frozen=True)
class CocoEvaluation:
    """The standard COCO metrics of one set of results.

    Build it with `CocoEvaluation.run`.

    Attributes:
        metrics: ``{"bbox_AP": ..., "bbox_AP50": ..., ..., "segm_ARl": ...}``, the 12
            numbers of ``COCOeval.summarize`` per IoU type (`STATS`), in [0, 1], or
            -1 where the ground truth has no object of that size (pycocotools' rule).
        num_images: the images evaluated.
        num_results: the detections evaluated.
    """

    metrics: dict
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
        metrics = {}
        for iou_type in iou_types:
            detections = _results_coco(ground_truth, results, iou_type)
            evaluator = COCOeval(ground_truth, detections, iou_type)
            evaluator.params.imgIds = image_ids
            with contextlib.redirect_stdout(io.StringIO()):  # its progress and its table
                evaluator.evaluate()
                evaluator.accumulate()
                evaluator.summarize()
            metrics.update({f"{iou_type}_{name}": float(value)
                            for name, value in zip(STATS, evaluator.stats)})
        return cls(metrics, len(image_ids), len(results))


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
