"""Detector verification (`keras_zoo.export.detections`) on hand-made detections: what
passes (reordering, float noise) and what fails (a lost, moved, spurious or relabelled
detection, scores or masks beyond the tolerance)."""

import numpy as np
import pytest

from keras_zoo.export import ExportVerificationError
from keras_zoo.export.detections import check_outputs, is_detection_output, match_detections

TOL = 1e-4


def _detections():
    """One image, 4 detections (best first) and one padding row; 2x2 masks."""
    boxes = np.array([[[0, 0, 10, 10], [20, 20, 40, 30], [5, 5, 15, 25], [30, 0, 40, 8],
                       [0, 0, 0, 0]]], np.float32)
    masks = np.zeros((1, 5, 2, 2), np.float32)
    masks[0, :4] = [[[0.9, 0.1], [0.8, 0.2]]] * 4
    pasted = np.zeros((1, 5, 4, 4), bool)
    pasted[0, :4, :2, :2] = True
    return {"boxes": boxes, "scores": np.array([[0.9, 0.8, 0.5, 0.2, 0]], np.float32),
            "classes": np.array([[1, 2, 1, 3, 0]], np.int32), "masks": masks,
            "pasted_masks": pasted, "num_detections": np.array([4], np.int32)}


def _modified(count=4, **changes):
    """`_detections()` with `count` detections and `name=(row, value)` changes."""
    out = {k: v.copy() for k, v in _detections().items()}
    out["num_detections"][0] = count
    for name, (row, value) in changes.items():
        out[name][0, row] = value
    return out


def test_identical_and_reordered_detections_match():
    expected = _detections()
    result = match_detections(expected, _detections(), tolerance=TOL)
    assert result == {"compared": 6, "min_iou": 1.0, "score": 0.0, "ties": 0, "mask": 0.0,
                      "pasted_mask_iou": 1.0}  # top 3 each way
    swapped = {k: v.copy() for k, v in expected.items()}
    for k in ("boxes", "scores", "classes", "masks", "pasted_masks"):
        swapped[k][0, [0, 1]] = swapped[k][0, [1, 0]]  # rows out of score order
    assert match_detections(expected, swapped, tolerance=TOL)["compared"] == 6
    # past the top 3, the 4th detection (score 0.2) may go: a discrete step may drop it
    assert match_detections(expected, _modified(count=3),
                            tolerance=TOL)["compared"] == 6


def test_float_noise_within_the_tolerance_passes():
    noisy = _modified(scores=(0, 0.9 + 0.5 * TOL), boxes=(1, [20, 20, 40.1, 30]))
    result = match_detections(_detections(), noisy, tolerance=TOL)
    assert result["score"] == pytest.approx(0.5 * TOL, rel=1e-2)
    assert result["min_iou"] == pytest.approx(200 / 201, rel=1e-6)  # 20x10 box, 20.1 wide


@pytest.mark.parametrize("changes, message", [
    ({"count": 1}, "Keras detection 1 .* no match"),
    ({"boxes": (1, [20, 20, 40, 35])}, "detection 1 .* no match of IoU >= 0.98"),
    ({"classes": (2, 3)}, "detection 2 \\(class 1, .* no match"),
    ({"scores": (0, 0.9 + 3 * TOL)}, r"score 0.0003 \(allowed: <= 0.0001\)"),
    ({"masks": (1, [[0.9, 0.1], [0.8, 0.2 + 8 * TOL]])}, "mask 0.0002 .*allowed: <= 0.0001"),
    ({"pasted_masks": (2, np.eye(4, dtype=bool))}, "pasted_mask_iou 0.333 .*>= 0.98"),
])
def test_a_lost_moved_relabelled_or_different_detection_fails(changes, message):
    with pytest.raises(ExportVerificationError, match=message):
        match_detections(_detections(), _modified(**changes), tolerance=TOL)


def test_a_spurious_top_detection_fails():
    extra = _modified(boxes=(4, [50, 50, 60, 60]), scores=(4, 0.95), classes=(4, 1), count=5)
    with pytest.raises(ExportVerificationError, match="exported detection 0 .* no match"):
        match_detections(_detections(), extra, tolerance=TOL)


def test_check_outputs_picks_detection_matching_for_detectors_only():
    assert is_detection_output(_detections()) and not is_detection_output({"logits": 0})
    assert check_outputs(_detections(), _detections(), TOL, "x")["compared"] == 6
    assert check_outputs({"logits": np.ones(3)}, {"logits": np.ones(3)}, TOL, "x") == 0.0
    with pytest.raises(ExportVerificationError, match="lacks the detector outputs"):
        check_outputs(_detections(), {"boxes": np.zeros((1, 5, 4))}, TOL, "x")


def _tied():
    """NMS candidates: two overlapping class-1 boxes a, b (IoU 0.625 > NMS 0.5) tied at 0.7
    to float rounding, a class-2 box c and a distant class-1 box d. Greedy NMS keeps
    [a, c, d] or [b, c, d], whichever of a and b the rounding puts first."""
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 16], [30, 30, 40, 40],
                      [60, 60, 70, 70]], np.float32)
    return {"boxes": boxes[None], "scores": np.array([[0.7, 0.7 + 1e-6, 0.6, 0.5]], np.float32),
            "classes": np.array([[1, 1, 2, 1]], np.int32)}


def _kept(rows, candidates):
    """Padded detections made of the candidates' `rows`, best first."""
    out = {k: np.zeros((1, 5) + v.shape[2:], v.dtype) for k, v in candidates.items()}
    for n, r in enumerate(rows):
        for k in out:
            out[k][0, n] = candidates[k][0, r]
    out["num_detections"] = np.array([len(rows)], np.int32)
    return out


def test_an_nms_tie_decided_otherwise_passes_with_the_candidates_only():
    candidates = _tied()
    keras_side, exported = _kept([0, 2, 3], candidates), _kept([1, 2, 3], candidates)
    with pytest.raises(ExportVerificationError, match="no match of IoU >= 0.98"):
        match_detections(keras_side, exported, tolerance=TOL)  # strict: the tie fails
    result = match_detections(keras_side, exported, tolerance=TOL, candidates=candidates,
                              nms_threshold=0.5)
    assert result["ties"] == 2  # box 0 unmatched one way, box 1 the other: NMS explains both
    # Without the overlap NMS needs, the same difference is not a tie.
    with pytest.raises(ExportVerificationError, match="NMS kept instead"):
        match_detections(keras_side, exported, tolerance=TOL, candidates=candidates,
                         nms_threshold=0.7)
    # Scores apart by more than the tolerance are no tie: the lower one could not win.
    far = {**candidates, "scores": np.array([[0.7, 0.69, 0.6, 0.5]], np.float32)}
    with pytest.raises(ExportVerificationError, match="NMS kept instead"):
        match_detections(_kept([0, 2, 3], far), _kept([1, 2, 3], far), tolerance=TOL,
                         candidates=far, nms_threshold=0.5)


def test_an_exported_detection_that_is_no_candidate_fails():
    candidates = _tied()
    keras_side = _kept([0, 2, 3], candidates)
    for name, row, value in (("boxes", 0, [0, 0, 10.5, 10.5]),  # a resize gone wrong
                             ("classes", 1, 1),  # another class map
                             ("scores", 0, 0.71)):  # another head
        exported = _kept([0, 2, 3], candidates)
        exported[name][0, row] = value
        with pytest.raises(ExportVerificationError, match="none of the Keras model's NMS"):
            match_detections(keras_side, exported, tolerance=TOL, candidates=candidates,
                             nms_threshold=0.5)


def test_a_box_thinner_than_a_pixel_matches_by_its_coordinates():
    thin = _modified(boxes=(0, [0, 5, 10, 5.01]))
    moved = _modified(boxes=(0, [0, 5.0005, 10, 5.0101]))  # IoU 0.95, coordinates 5e-4 px
    assert match_detections(thin, moved, tolerance=TOL)["min_iou"] == 1.0
    with pytest.raises(ExportVerificationError, match="no match of IoU"):
        match_detections(thin, _modified(boxes=(0, [0, 5.005, 10, 5.015])), tolerance=TOL)
