"""ops.nms against a greedy NumPy NMS written from the definition.

Outputs are gathered candidate rows, zeros and integers: compared exactly."""

import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.ops import nms as N

pytestmark = pytest.mark.no_keras_state  # pure TF ops: see tests/conftest.py


def np_iou(p, q):
    iw = max(min(p[2], q[2]) - max(p[0], q[0]), 0.0)
    ih = max(min(p[3], q[3]) - max(p[1], q[1]), 0.0)
    inter = iw * ih
    union = (p[2] - p[0]) * (p[3] - p[1]) + (q[2] - q[0]) * (q[3] - q[1]) - inter
    return inter / union if union > 0 else 0.0


def np_greedy_nms(boxes, scores, classes, max_det, iou_thr, score_thr):
    """Greedy NMS per class: highest score first, drop same-class boxes at IoU >= thr."""
    order = [i for i in np.argsort(-scores, kind="stable")
             if scores[i] > score_thr and classes[i] >= 0]
    keep = []
    for i in order:
        if all(classes[k] != classes[i] or np_iou(boxes[i], boxes[k]) < iou_thr for k in keep):
            keep.append(i)
    return keep[:max_det]


def random_problem(rng, batch, n, num_classes):
    xy = rng.uniform(0, 40, (batch, n, 2))
    wh = rng.uniform(4, 20, (batch, n, 2))
    boxes = np.concatenate([xy, xy + wh], -1).astype(np.float32)
    scores = rng.permutation(batch * n).reshape(batch, n).astype(np.float32) / (batch * n)
    classes = rng.integers(0, num_classes, (batch, n)).astype(np.int32)
    return boxes, scores, classes


def test_worked_example():
    boxes = [[[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0],
              [50.0, 50.0, 60.0, 60.0], [0.0, 0.0, 10.0, 9.0]]]
    scores = [[0.9, 0.8, 0.7, 0.6, 0.01]]
    classes = [[0, 0, 1, 0, 2]]
    out_boxes, out_scores, out_classes, num = N.batched_nms(boxes, scores, classes,
                                                            max_detections=5)
    # box 1 (IoU 0.81 with box 0, same class) is suppressed; box 2 survives (other class);
    # box 4 is below the 0.05 score threshold
    assert num.numpy().tolist() == [3]
    np.testing.assert_array_equal(out_boxes.numpy()[0],
                                  [[0, 0, 10, 10], [0, 0, 10, 10], [50, 50, 60, 60],
                                   [0, 0, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_allclose(out_scores.numpy()[0], [0.9, 0.7, 0.6, 0, 0])
    np.testing.assert_array_equal(out_classes.numpy()[0], [0, 1, 0, -1, -1])


def test_boxes_at_negative_coordinates_are_kept():
    # TF's padded NMS reads a box with all coordinates <= 0 as padding: class 0 (offset 0)
    # lost its box at negative coordinates before the offsets made every box positive.
    boxes = [[[-10.0, -10.0, -1.0, -1.0], [5.0, 5.0, 20.0, 20.0], [-8.0, -8.0, -2.0, -2.0]]]
    out_boxes, out_scores, out_classes, num = N.batched_nms(
        boxes, [[0.9, 0.8, 0.7]], [[0, 0, 1]], max_detections=4)
    assert num.numpy().tolist() == [3]
    np.testing.assert_array_equal(out_boxes.numpy()[0, :3], boxes[0])
    np.testing.assert_array_equal(out_classes.numpy()[0], [0, 0, 1, -1])
    np.testing.assert_array_equal(out_scores.numpy()[0], np.float32([0.9, 0.8, 0.7, 0.0]))
    # Same-class boxes at negative coordinates still suppress each other (IoU 0.81).
    overlapping = [[[-10.0, -10.0, 0.0, 0.0], [-9.0, -9.0, 0.0, 0.0]]]
    assert N.batched_nms(overlapping, [[0.9, 0.8]], [[0, 0]])[3].numpy().tolist() == [1]


@pytest.mark.parametrize("iou_thr, score_thr, max_det", [(0.5, 0.05, 20), (0.3, 0.2, 6),
                                                         (0.7, -np.inf, 64)])
def test_against_greedy_reference(iou_thr, score_thr, max_det):
    rng = np.random.default_rng(int(iou_thr * 10))
    boxes, scores, classes = random_problem(rng, 3, 60, 3)
    classes[1, :10] = -1  # padding candidates
    out_boxes, out_scores, out_classes, num = N.batched_nms(
        boxes, scores, classes, max_detections=max_det, iou_threshold=iou_thr,
        score_threshold=score_thr)
    assert out_boxes.shape == (3, max_det, 4)
    for b in range(3):
        keep = np_greedy_nms(boxes[b], scores[b], classes[b], max_det, iou_thr, score_thr)
        assert num.numpy()[b] == len(keep)
        np.testing.assert_array_equal(out_boxes.numpy()[b, :len(keep)], boxes[b][keep])
        np.testing.assert_array_equal(out_scores.numpy()[b, :len(keep)], scores[b][keep])
        np.testing.assert_array_equal(out_classes.numpy()[b, :len(keep)], classes[b][keep])
        assert np.all(out_classes.numpy()[b, len(keep):] == -1)
        assert np.all(out_scores.numpy()[b, len(keep):] == 0)


def test_pre_nms_top_k_and_multiclass():
    rng = np.random.default_rng(5)
    boxes, scores, classes = random_problem(rng, 2, 50, 2)
    got = N.batched_nms(boxes, scores, classes, max_detections=10, pre_nms_top_k=15)
    for b in range(2):
        top = np.argsort(-scores[b])[:15]
        keep = top[np_greedy_nms(boxes[b][top], scores[b][top], classes[b][top], 10, 0.5, 0.05)]
        np.testing.assert_array_equal(got[0].numpy()[b, :len(keep)], boxes[b][keep])
    # per-class head output [B, N, C, 4] and [B, N, C]
    per_class_boxes = rng.uniform(0, 30, (2, 8, 3, 2)).astype(np.float32)
    per_class_boxes = np.concatenate([per_class_boxes, per_class_boxes + 10], -1)
    per_class_scores = rng.uniform(0, 1, (2, 8, 3)).astype(np.float32)
    out = N.multiclass_nms(per_class_boxes, per_class_scores, max_detections=12)
    flat_classes = np.tile(np.arange(3), 8)
    for b in range(2):
        flat_boxes = per_class_boxes[b].reshape(-1, 4)
        flat_scores = per_class_scores[b].reshape(-1)
        keep = np_greedy_nms(flat_boxes, flat_scores, flat_classes, 12, 0.5, 0.05)
        np.testing.assert_array_equal(out[0].numpy()[b, :len(keep)], flat_boxes[keep])
        np.testing.assert_array_equal(out[2].numpy()[b, :len(keep)], flat_classes[keep])
    shared = N.multiclass_nms(per_class_boxes[:, :, 0], per_class_scores, max_detections=12)
    assert shared[0].shape == (2, 12, 4)


def test_errors():
    with pytest.raises(ValueError, match="`max_detections` to be a positive int"):
        N.batched_nms(np.zeros((1, 2, 4)), np.zeros((1, 2)), np.zeros((1, 2)), max_detections=0)
    with pytest.raises(ValueError, match=r"boxes \[B, N, 4\]"):
        N.batched_nms(np.zeros((2, 4)), np.zeros((2,)), np.zeros((2,)))


def test_static_shapes_tf_function_and_mirrored_strategy(mirrored_strategy):
    rng = np.random.default_rng(9)
    boxes, scores, classes = random_problem(rng, 2, 30, 2)
    fn = tf.function(lambda b, s, c: N.batched_nms(b, s, c, max_detections=8))
    concrete = fn.get_concrete_function(tf.TensorSpec([2, None, 4]), tf.TensorSpec([2, None]),
                                        tf.TensorSpec([2, None], tf.int32))
    assert [tuple(o.shape) for o in concrete.structured_outputs] == [(2, 8, 4), (2, 8), (2, 8),
                                                                     (2,)]
    eager = N.batched_nms(boxes, scores, classes, max_detections=8)
    strategy = mirrored_strategy
    with strategy.scope():
        out = strategy.run(fn, args=(tf.constant(boxes), tf.constant(scores), tf.constant(classes)))
    for i in range(4):
        for replica in strategy.experimental_local_results(out[i]):
            np.testing.assert_array_equal(replica.numpy(), eager[i].numpy())


@pytest.mark.filterwarnings("ignore:.*tf.lite.Interpreter is deprecated")
def test_tflite_builtin_ops_only_matches_tf():
    """Padding candidates with no score threshold, as the RPN's proposals have them: their
    scores must not become NaN inside TF's NMS (-inf * 0), which TF and TFLite sort apart."""
    rng = np.random.default_rng(10)
    boxes, scores, classes = random_problem(rng, 1, 40, 3)
    classes[0, ::4] = -1
    specs = [tf.TensorSpec([1, 40, 4]), tf.TensorSpec([1, 40]), tf.TensorSpec([1, 40], tf.int32)]
    fn = tf.function(lambda b, s, c: N.batched_nms(b, s, c, max_detections=10,
                                                   score_threshold=-float("inf")),
                     input_signature=specs)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()], fn)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]  # no Flex delegate
    interpreter = tf.lite.Interpreter(model_content=converter.convert())
    interpreter.allocate_tensors()
    for detail, value in zip(interpreter.get_input_details(), (boxes, scores, classes)):
        interpreter.set_tensor(detail["index"], value)
    interpreter.invoke()
    outputs = sorted(interpreter.get_output_details(), key=lambda d: d["name"])  # Identity_<i>
    got = [interpreter.get_tensor(d["index"]) for d in outputs]
    want = fn(boxes, scores, classes)
    assert [g.shape for g in got] == [(1, 10, 4), (1, 10), (1, 10), (1,)]
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w.numpy())
    keep = np_greedy_nms(boxes[0], scores[0], classes[0], 10, 0.5, -np.inf)
    np.testing.assert_array_equal(want[1].numpy()[0, :len(keep)], scores[0][keep])
