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
    assert result == {"compared": 6, "min_iou": 1.0, "score": 0.0, "mask": 0.0,
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
