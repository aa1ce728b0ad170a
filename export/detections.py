"""Verification of detector exports: detections are matched, not compared row by row.

A detector's outputs follow DESIGN.md's padded convention: ``boxes [B, D, 4]``
float32 ``xyxy`` pixels, ``scores [B, D]``, ``classes [B, D]`` int, ``num_detections
[B]`` (rows past it are padding), optionally ``masks [B, D, m, m]`` probabilities
over each box and ``pasted_masks [B, D, H, W]`` bool. Two runs of a detector that
agree to float rounding can still order near-tied detections differently, so the
padded rows are not compared position by position: for each image, every one of
the `top` best detections of one side must have a match on the other side (same
class, box IoU >= `min_iou`), and both directions are checked, so a detection lost
or a spurious one gained among the top ones fails. Matched detections must agree:

- scores within `tolerance` (probabilities: the output scale is 1);
- masks: the mean |difference| of the m x m probabilities within `tolerance` (a
  mean, not a max: a box moved by a fraction of a pixel moves the mask's sharp
  edge, which changes a few edge probabilities by far more than the rest);
- pasted masks: IoU >= `min_iou` (two empty masks agree).

Only the `top` detections are checked because the steps before them are discrete:
the proposals kept at the RPN's post-NMS cut, the FPN level a box is pooled from,
NMS at its IoU threshold and the score threshold. Perturbed by the rounding of a
quantised export (float16 stores even scalar constants such as 1/224 in half
precision), a low-ranked detection at such a step may come or go; the best ones of
an image do not.
"""

import numpy as np

from keras_zoo.export._common import ExportVerificationError, check_close

DETECTION_OUTPUTS = ("boxes", "scores", "classes", "num_detections")
TOP_DETECTIONS = 3  # per image, matched in both directions
MIN_IOU = 0.98  # boxes (and pasted masks) of matched detections: the bar


def is_detection_output(outputs):
    """Whether `outputs` (a dict) are padded detections (see the module docstring)."""
    return isinstance(outputs, dict) and set(DETECTION_OUTPUTS) <= set(outputs)


def _box_iou(box, boxes):
    """IoU of one ``xyxy`` box with ``[N, 4]`` boxes (float64)."""
    x1, y1 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    x2, y2 = np.minimum(box[2], boxes[:, 2]), np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter / np.maximum(area + areas - inter, 1e-12)


def _mask_iou(a, b):
    union = np.logical_or(a, b).sum()
    return 1.0 if union == 0 else float(np.logical_and(a, b).sum() / union)


def _image(outputs, b):
    """Image `b`'s valid detections, best first, as float64 / int arrays."""
    n = int(np.asarray(outputs["num_detections"])[b])
    image = {k: np.asarray(v[b][:n]) for k, v in outputs.items() if k != "num_detections"}
    order = np.argsort(-image["scores"], kind="stable")
    return {k: v[order] for k, v in image.items()}


def _errors(ref, i, other, j):
    """Score, mask and pasted-mask disagreement of detection `i` of `ref` and `j` of `other`."""
    errors = {"score": abs(float(ref["scores"][i]) - float(other["scores"][j]))}
    if "masks" in ref:
        errors["mask"] = float(np.mean(np.abs(ref["masks"][i].astype(np.float64)
                                              - other["masks"][j])))
    if "pasted_masks" in ref:
        errors["pasted_mask_iou"] = _mask_iou(ref["pasted_masks"][i], other["pasted_masks"][j])
    return errors


def match_detections(expected, actual, *, tolerance, top=TOP_DETECTIONS, min_iou=MIN_IOU,
                     what="The export"):
    """Checks `actual` detections against `expected` (both dicts of padded outputs).

    Args:
        expected: the Keras model's outputs, ``{name: np.ndarray}``.
        actual: the exported artifact's outputs on the same inputs.
        tolerance: score and mean mask-probability differences allowed.
        top: detections per image, best first, that must be matched each way.
        min_iou: box IoU (and pasted-mask IoU) a match needs.
        what: names the artifact in the error.

    Returns:
        The worst agreement seen: ``{"compared", "min_iou", "score", "mask",
        "pasted_mask_iou"}`` (the last two where the outputs have them).

    Raises:
        ExportVerificationError: a top detection without a match, or a match whose
            score or mask differs by more than `tolerance`.
    """
    missing = [k for k in DETECTION_OUTPUTS if k not in actual]
    if missing:
        raise ExportVerificationError(f"{what} lacks the detector outputs {missing}")
    worst = {"compared": 0, "min_iou": 1.0, "score": 0.0}
    for b in range(len(np.asarray(expected["num_detections"]))):
        sides = (_image(expected, b), _image(actual, b))
        for (ref, other), label in ((sides, "Keras"), (sides[::-1], "exported")):
            for i in range(min(top, len(ref["scores"]))):
                same = np.flatnonzero(other["classes"] == ref["classes"][i])
                ious = _box_iou(ref["boxes"][i].astype(np.float64),
                                other["boxes"][same].astype(np.float64))
                if not ious.size or ious.max() < min_iou:
                    raise ExportVerificationError(
                        f"{what} disagrees with the Keras model: image {b}'s {label} "
                        f"detection {i} (class {ref['classes'][i]}, score "
                        f"{ref['scores'][i]:.4f}, box {np.round(ref['boxes'][i], 2).tolist()}) "
                        f"has no match of IoU >= {min_iou} (best "
                        f"{ious.max() if ious.size else 0.0:.4f})")
                errors = _errors(ref, i, other, same[np.argmax(ious)])
                worst["compared"] += 1
                worst["min_iou"] = min(worst["min_iou"], float(ious.max()))
                for name, value in errors.items():
                    if name == "pasted_mask_iou":
                        worst[name] = min(worst.get(name, 1.0), value)
                        bad, allowed = value < min_iou, f">= {min_iou}"
                    else:
                        worst[name] = max(worst.get(name, 0.0), value)
                        bad, allowed = value > tolerance, f"<= {tolerance:.3g}"
                    if bad:
                        raise ExportVerificationError(
                            f"{what} disagrees with the Keras model: image {b}'s {label} "
                            f"detection {i} (class {ref['classes'][i]}) matched with "
                            f"{name} {value:.3g} (allowed: {allowed})")
    return worst


def check_outputs(expected, actual, tolerance, what, *, top=TOP_DETECTIONS):
    """The comparison of every exporter's verification: `match_detections` of the `top`
    detections for detector outputs, else `check_close` (max error as a fraction of
    the output scale)."""
    if is_detection_output(expected):
        return match_detections(expected, actual, tolerance=tolerance, top=top, what=what)
    return check_close(expected, actual, tolerance, what)
