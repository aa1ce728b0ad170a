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
an image do not — unless scores tie.

**Ties.** An untrained detector (and a trained one, now and then) scores overlapping
boxes of a class within float rounding of each other; greedy NMS then keeps one or
the other depending on the last bit, and everything it suppresses follows. Given the
Keras model's NMS candidates (``detection_candidates``: every box and score the final
NMS chooses from), the check is exact where the model is deterministic and tolerant
only of ties:

- every top detection of the export must be one of the candidates (same class, box
  IoU >= `min_iou`, score within `tolerance`): a wrong resize, channel order or class
  map makes boxes or scores that are not;
- a top detection of either side without a match on the other side is accepted only
  where NMS explains it: the other side kept a detection of the same class that
  overlaps it by more than the NMS threshold and scores at least as high, up to
  `tolerance` (so the missing one was suppressed there), itself a candidate.
"""

import numpy as np

from keras_zoo.export._common import ExportVerificationError, check_close

DETECTION_OUTPUTS = ("boxes", "scores", "classes", "num_detections")
TOP_DETECTIONS = 3  # per image, matched in both directions
MIN_IOU = 0.98  # boxes (and pasted masks) of matched detections: the bar
# Or coordinates within this fraction of the image's scale (its largest box coordinate):
# float32 rounding through ~50 layers moves a box by ~1e-5 of the image; a box a
# fraction of a pixel thin (an untrained head's) has no stable IoU.
BOX_RTOL = 1e-4


def is_detection_output(outputs):
    """Whether `outputs` (a dict) are padded detections (see the module docstring)."""
    return isinstance(outputs, dict) and set(DETECTION_OUTPUTS) <= set(outputs)


def _box_iou(box, boxes, atol=0.0):
    """IoU of one ``xyxy`` box with ``[N, 4]`` boxes (float64); boxes whose coordinates
    all lie within `atol` of `box` count as IoU 1 (a box a fraction of a pixel thin, as
    an untrained head draws, changes its IoU with a rounding of its coordinates)."""
    box, boxes = np.asarray(box, np.float64), np.asarray(boxes, np.float64).reshape(-1, 4)
    x1, y1 = np.maximum(box[0], boxes[:, 0]), np.maximum(box[1], boxes[:, 1])
    x2, y2 = np.minimum(box[2], boxes[:, 2]), np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    iou = inter / np.maximum(area + areas - inter, 1e-12)
    return np.where(np.abs(boxes - box).max(axis=1, initial=0.0) <= atol, 1.0, iou)


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


def _candidates(candidates, b):
    """Image `b`'s NMS candidates (score > 0) as float64 / int arrays."""
    keep = np.asarray(candidates["scores"][b]) > 0
    return {k: np.asarray(candidates[k][b])[keep] for k in ("boxes", "scores", "classes")}


def _is_candidate(detections, i, candidates, *, tolerance, min_iou, atol):
    """Whether detection `i` is one of `candidates`: same class, box IoU >= `min_iou`,
    score within `tolerance`."""
    same = candidates["classes"] == detections["classes"][i]
    ious = _box_iou(detections["boxes"][i], candidates["boxes"][same], atol)
    close = np.abs(candidates["scores"][same] - float(detections["scores"][i])) <= tolerance
    return bool(np.any((ious >= min_iou) & close))


def _suppressed(detections, i, other, candidates, *, nms_threshold, **rules):
    """Whether NMS on the other side explains the absence of `detections`' row `i`: a
    kept detection of its class overlapping it by more than `nms_threshold`, scoring at
    least as high up to the tolerance, itself a candidate."""
    same = np.flatnonzero(other["classes"] == detections["classes"][i])
    ious = _box_iou(detections["boxes"][i], other["boxes"][same])
    for j, iou in zip(same, ious):
        if (iou > nms_threshold
                and other["scores"][j] >= detections["scores"][i] - rules["tolerance"]
                and _is_candidate(other, j, candidates, **rules)):
            return True
    return False


def match_detections(expected, actual, *, tolerance, top=TOP_DETECTIONS, min_iou=MIN_IOU,
                     what="The export", candidates=None, nms_threshold=None):
    """Checks `actual` detections against `expected` (both dicts of padded outputs).

    Args:
        expected: the Keras model's outputs, ``{name: np.ndarray}``.
        actual: the exported artifact's outputs on the same inputs.
        tolerance: score and mean mask-probability differences allowed.
        top: detections per image, best first, that must be matched each way.
        min_iou: box IoU (and pasted-mask IoU) a match needs.
        what: names the artifact in the error.
        candidates: the Keras model's NMS candidates on the same inputs (the detector's
            ``detection_candidates``), for the tie rules of the module docstring; None
            requires every top detection matched.
        nms_threshold: the IoU at which the detector's NMS suppresses (with
            `candidates`).

    Returns:
        The worst agreement seen: ``{"compared", "min_iou", "score", "ties", "mask",
        "pasted_mask_iou"}`` (the last two where the outputs have them; ``ties``: top
        detections accepted unmatched because NMS explains them).

    Raises:
        ExportVerificationError: a top detection without a match (and, with
            `candidates`, without an NMS explanation), an exported top detection that
            is none of the candidates, or a match whose score or mask differs by more
            than `tolerance`.
    """
    missing = [k for k in DETECTION_OUTPUTS if k not in actual]
    if missing:
        raise ExportVerificationError(f"{what} lacks the detector outputs {missing}")
    worst = {"compared": 0, "min_iou": 1.0, "score": 0.0, "ties": 0}
    for b in range(len(np.asarray(expected["num_detections"]))):
        sides = (_image(expected, b), _image(actual, b))
        pool = None if candidates is None else _candidates(candidates, b)
        scale = max([1.0] + [float(np.abs(side["boxes"]).max(initial=0.0)) for side in sides])
        rules = {"tolerance": tolerance, "min_iou": min_iou, "atol": BOX_RTOL * scale}
        if pool is not None:
            for i in range(min(top, len(sides[1]["scores"]))):
                if not _is_candidate(sides[1], i, pool, **rules):
                    raise ExportVerificationError(
                        f"{what} disagrees with the Keras model: image {b}'s exported "
                        f"detection {i} (class {sides[1]['classes'][i]}, score "
                        f"{sides[1]['scores'][i]:.4f}, box "
                        f"{np.round(sides[1]['boxes'][i], 2).tolist()}) is none of the Keras "
                        f"model's NMS candidates (same class, IoU >= {min_iou}, score "
                        f"within {tolerance:.3g})")
        for (ref, other), label in ((sides, "Keras"), (sides[::-1], "exported")):
            for i in range(min(top, len(ref["scores"]))):
                same = np.flatnonzero(other["classes"] == ref["classes"][i])
                ious = _box_iou(ref["boxes"][i], other["boxes"][same], rules["atol"])
                if (not ious.size or ious.max() < min_iou) and pool is not None and _suppressed(
                        ref, i, other, pool, nms_threshold=nms_threshold, **rules):
                    worst["ties"] += 1
                    continue
                if not ious.size or ious.max() < min_iou:
                    raise ExportVerificationError(
                        f"{what} disagrees with the Keras model: image {b}'s {label} "
                        f"detection {i} (class {ref['classes'][i]}, score "
                        f"{ref['scores'][i]:.4f}, box {np.round(ref['boxes'][i], 2).tolist()}) "
                        f"has no match of IoU >= {min_iou} (best "
                        f"{ious.max() if ious.size else 0.0:.4f})"
                        + ("" if pool is None else " and no overlapping detection of the "
                           "other side, scoring as high, that NMS kept instead"))
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


def nms_reference(model, inputs):
    """``(candidates, nms_threshold)`` of the detector in `model` (the model itself or, for
    a serving variant, the layer that offers ``detection_candidates``) on `inputs` (a
    dict with one entry, the images), or ``(None, None)`` for any other model."""
    detectors = [model, *getattr(model, "layers", [])]
    detector = next((d for d in detectors if callable(getattr(d, "detection_candidates",
                                                              None))), None)
    if detector is None:
        return None, None
    (images,) = inputs.values()
    return detector.detection_candidates(np.asarray(images)), detector.nms_threshold


def check_outputs(expected, actual, tolerance, what, *, top=TOP_DETECTIONS, reference=None,
                  inputs=None):
    """The comparison of every exporter's verification: `match_detections` of the `top`
    detections for detector outputs (tolerant of NMS ties when `reference`, the Keras
    model the export came from, offers its candidates on `inputs`), else `check_close`
    (max error as a fraction of the output scale)."""
    if is_detection_output(expected):
        candidates, threshold = (None, None) if reference is None else nms_reference(
            reference, inputs)
        return match_detections(expected, actual, tolerance=tolerance, top=top, what=what,
                                candidates=candidates, nms_threshold=threshold)
    return check_close(expected, actual, tolerance, what)
