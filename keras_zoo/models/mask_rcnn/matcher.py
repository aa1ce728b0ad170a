"""`Matcher`: assigns anchors or proposals to ground-truth boxes by IoU."""

import keras

from keras_zoo import ops
from keras_zoo.checks import fraction
from keras_zoo.models.mask_rcnn._config_object import ConfigObject


@keras.saving.register_keras_serializable(package="keras_zoo")
class Matcher(ConfigObject):
    """IoU matching with a positive and a negative threshold (Faster R-CNN, Ren et al.
    2015, Sec. 3.1.2; Mask R-CNN, He et al. 2017, Sec. 3.1; torchvision's ``Matcher``).

    A row (anchor / proposal) whose best IoU with a valid ground truth is
    ``>= fg_threshold`` is positive, ``< bg_threshold`` negative, ignored in between;
    with ``allow_low_quality_matches`` each ground truth's best row(s) are positive too.
    The defaults are the RPN's (0.7 / 0.3, best-anchor rule); the RoI heads use
    ``Matcher(0.5, 0.5)`` (no ignore band).

    Args:
        fg_threshold: IoU at or above which a row is positive.
        bg_threshold: IoU below which a row is negative (<= fg_threshold).
        allow_low_quality_matches: make each ground truth's best rows positive.

    Call arguments:
        boxes: ``[N, 4]`` (shared anchors) or ``[B, N, 4]`` float32 ``xyxy``.
        gt_boxes: ``[B, G, 4]`` float32 ``xyxy``, padded; gt_valid: ``[B, G]`` bool.

    Returns:
        ``(matched [B, N] int32, labels [B, N] int32 in {1, 0, -1})``
        (`ops.matching.match`).

    Example:

    >>> matched, labels = Matcher(0.5, 0.5)([[0, 0, 10, 10]], [[[0, 0, 10, 12]]], [[True]])
    >>> labels.numpy().tolist()
    [[1]]
    """

    def __init__(self, fg_threshold=0.7, bg_threshold=0.3, allow_low_quality_matches=True):
        fraction("fg_threshold", fg_threshold)
        fraction("bg_threshold", bg_threshold)
        if bg_threshold > fg_threshold:
            raise ValueError("Expected bg_threshold <= fg_threshold. Received: "
                             f"bg_threshold={bg_threshold}, fg_threshold={fg_threshold}")
        self.fg_threshold = float(fg_threshold)
        self.bg_threshold = float(bg_threshold)
        self.allow_low_quality_matches = bool(allow_low_quality_matches)

    def __call__(self, boxes, gt_boxes, gt_valid):
        return ops.matching.match_boxes(
            boxes, gt_boxes, gt_valid, fg_threshold=self.fg_threshold,
            bg_threshold=self.bg_threshold,
            allow_low_quality_matches=self.allow_low_quality_matches)

    def get_config(self):
        return {"fg_threshold": self.fg_threshold, "bg_threshold": self.bg_threshold,
                "allow_low_quality_matches": self.allow_low_quality_matches}
