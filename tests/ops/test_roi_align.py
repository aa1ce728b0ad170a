"""RoIAlign / RoIPool ops: hand-computed goldens, a slow NumPy reference written
from the definition (tests/ops/roi_align_reference.py), exact and repeatable
gradients, invariances and XLA.

Tolerances: float32 outputs of N(0, 1) maps agree with the float64 reference to
1e-5 absolute (float32 rounding of sample coordinates and sums); float64 runs of
the gather path to 1e-10. Exact only for contracts: RoIPool's max picks input
values, an empty box list has a zero gradient, and the gradient is bit-identical
from run to run (the op's determinism promise).
"""

import os
import subprocess
import sys
import tempfile
import textwrap

import numpy as np
import pytest
import tensorflow as tf

from keras_zoo import ops
from tests.ops.roi_align_reference import (
    roi_align_adjoint_reference,
    roi_align_reference,
    roi_pool_reference,
)

pytestmark = pytest.mark.no_keras_state  # pure TF ops: see tests/conftest.py

IMPLEMENTATIONS = ("crop_and_resize", "gather")
RAMP = (np.arange(25, dtype=np.float32) + 1.0).reshape(1, 5, 5, 1)  # f[y, x] = 5y + x + 1


def _random_boxes(rng, n, size):
    """Tiny, huge, out-of-image, degenerate, inverted and ordinary boxes."""
    x1y1 = rng.uniform(-0.3 * size, 1.1 * size, (n, 2))
    wh = rng.uniform(0.1, 1.5 * size, (n, 2))
    boxes = np.concatenate([x1y1, x1y1 + wh], 1)
    boxes[0] = [1.2, 1.3, 1.4, 1.45]  # tiny
    boxes[1] = [-3 * size, -2 * size, 4 * size, 3 * size]  # huge
    boxes[2] = [1.2 * size, 1.3 * size, 1.9 * size, 2.0 * size]  # outside
    boxes[3] = [2.0, 3.0, 2.0, 3.0]  # degenerate
    boxes[4] = [5.0, 6.0, 3.0, 2.0]  # inverted
    return boxes.astype(np.float32)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("box, kwargs, expected", [
    # aligned: RoI [0.5, 2.5], bins of 1, samples at 1 and 2 -> f(1..2, 1..2)
    ((1, 1, 3, 3), dict(output_size=2, sampling_ratio=1), [[7, 8], [12, 13]]),
    # legacy: RoI [1, 3], samples at 1.5 and 2.5
    ((1, 1, 3, 3), dict(output_size=2, sampling_ratio=1, aligned=False), [[10, 11], [15, 16]]),
    # samples at 4 and 5 (= H): both clamped to the last row and column
    ((4, 4, 6, 6), dict(output_size=1), [[25]]),
    # samples at 4.5 (clamped) and 6.5 (> H: zero, still counted): 25 / 4
    ((4, 4, 8, 8), dict(output_size=1), [[6.25]]),
    # samples at -2 (zero) and -1 (reads row/column 0): f(0, 0) / 4
    ((-2, -2, 0, 0), dict(output_size=1), [[0.25]]),
    # samples at -1 and exactly 0: both read row/column 0
    ((-1, -1, 1, 1), dict(output_size=1), [[1]]),
    # one sample exactly at the first pixel centre
    ((0, 0, 1, 1), dict(output_size=1, sampling_ratio=1), [[1]]),
    # legacy degenerate box grows to 1x1: samples at 2.25, 2.75 -> f(2.5, 2.5)
    ((2, 2, 2, 2), dict(output_size=1, aligned=False), [[16]]),
    # aligned degenerate box: every sample at 1.5
    ((2, 2, 2, 2), dict(output_size=1), [[10]]),
    # adaptive grid = ceil(0) = 0: empty bins are 0
    ((2, 2, 2, 2), dict(output_size=1, sampling_ratio=0), [[0]]),
    # adaptive: RoI [-0.5, 4.5], bins of 2.5, 3 samples per bin; mean sample
    # coordinate 7/9 in the first bin (the -1/12 sample clamps to 0), 29/9 in the second
    ((0, 0, 5, 5), dict(output_size=2, sampling_ratio=0),
     [[6 * 7 / 9 + 1, 5 * 7 / 9 + 29 / 9 + 1], [5 * 29 / 9 + 7 / 9 + 1, 6 * 29 / 9 + 1]]),
])
def test_hand_computed_goldens(implementation, box, kwargs, expected):
    out = ops.roi_align(RAMP, np.array([box], np.float32), [0], implementation=implementation,
                        **kwargs)
    np.testing.assert_allclose(out.numpy()[0, :, :, 0], expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("aligned", [True, False])
@pytest.mark.parametrize("sampling_ratio", [2, 1, 0])
@pytest.mark.parametrize("spatial_scale", [1.0, 0.5, 0.25])
def test_matches_reference_both_implementations(aligned, sampling_ratio, spatial_scale):
    rng = np.random.default_rng(7)
    features = rng.standard_normal((2, 9, 11, 3)).astype(np.float32)
    boxes = _random_boxes(rng, 12, 11 / spatial_scale)
    box_indices = rng.integers(0, 2, len(boxes))
    kwargs = dict(spatial_scale=spatial_scale, sampling_ratio=sampling_ratio, aligned=aligned)
    expected = roi_align_reference(features, boxes, box_indices, (3, 4), **kwargs)
    outputs = [ops.roi_align(features, boxes, box_indices, (3, 4), implementation=impl,
                             **kwargs).numpy() for impl in IMPLEMENTATIONS]
    for out in outputs:
        assert out.shape == (12, 3, 4, 3) and out.dtype == np.float32
        np.testing.assert_allclose(out, expected, atol=1e-5)
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-5)


@pytest.mark.parametrize("sampling_ratio", [2, 1, 3])
@pytest.mark.parametrize("output_size", [7, (5, 3)])
def test_proposals_clipped_to_the_image(sampling_ratio, output_size):
    """Proposals clipped to the image put samples within a pixel of the map's
    edge, on it, and (legacy) beyond it: the crop_and_resize path samples the
    unpadded map and adds the edge samples its kernel dropped; both paths equal
    the reference."""
    rng = np.random.default_rng(5)
    features = rng.standard_normal((2, 12, 17, 6)).astype(np.float32)
    image_h, image_w = 48, 68  # stride 4
    x1, y1 = rng.uniform(-20, image_w, 40), rng.uniform(-20, image_h, 40)
    w, h = rng.uniform(1, 60, 40), rng.uniform(1, 60, 40)
    boxes = np.stack([np.clip(x1, 0, image_w), np.clip(y1, 0, image_h),
                      np.clip(x1 + w, 0, image_w), np.clip(y1 + h, 0, image_h)], 1)
    boxes[:4] = [[0, 0, image_w, image_h], [0, 0, 8, 8], [60, 40, 68, 48], [0, 40, 68, 48]]
    box_indices = rng.integers(0, 2, 40)
    for aligned in (True, False):
        kwargs = dict(spatial_scale=0.25, sampling_ratio=sampling_ratio, aligned=aligned)
        expected = roi_align_reference(features, boxes, box_indices, output_size, **kwargs)
        for implementation in IMPLEMENTATIONS:
            out = ops.roi_align(features, boxes.astype(np.float32), box_indices, output_size,
                                implementation=implementation, **kwargs)
            np.testing.assert_allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("sampling_ratio", [2, 0])
@pytest.mark.parametrize("shape", [(2, 1, 5, 3), (2, 4, 1, 3), (1, 1, 1, 2)])
def test_one_pixel_high_or_wide_maps(implementation, sampling_ratio, shape):
    rng = np.random.default_rng(6)
    features = rng.standard_normal(shape).astype(np.float32)
    boxes = _random_boxes(rng, 10, max(shape[1:3]))
    box_indices = rng.integers(0, shape[0], 10)
    kwargs = dict(sampling_ratio=sampling_ratio)
    expected = roi_align_reference(features, boxes, box_indices, 2, **kwargs)
    out = ops.roi_align(features, boxes, box_indices, 2, implementation=implementation, **kwargs)
    np.testing.assert_allclose(out, expected, atol=1e-5)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("sampling_ratio", [2, 0])
def test_empty_box_list(implementation, sampling_ratio):
    features = tf.random.normal([2, 6, 6, 5])
    boxes = tf.zeros([0, 4])
    with tf.GradientTape() as tape:
        tape.watch(features)
        out = ops.roi_align(features, boxes, tf.zeros([0], tf.int32), (7, 5),
                            sampling_ratio=sampling_ratio, implementation=implementation)
        loss = tf.reduce_sum(out)
    assert out.shape == (0, 7, 5, 5)
    np.testing.assert_array_equal(tape.gradient(loss, features), np.zeros((2, 6, 6, 5)))
    assert ops.roi_pool(features, boxes, tf.zeros([0], tf.int32), 3).shape == (0, 3, 3, 5)


def _gradient(implementation, features, boxes, box_indices, upstream, **kwargs):
    features = tf.constant(features)
    with tf.GradientTape() as tape:
        tape.watch(features)
        out = ops.roi_align(features, boxes, box_indices, upstream.shape[1:3],
                            implementation=implementation, **kwargs)
        loss = tf.reduce_sum(out * upstream)
    return tape.gradient(loss, features).numpy()


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("aligned, sampling_ratio", [(True, 2), (False, 0), (True, -1)])
def test_gradient_matches_reference_adjoint(implementation, aligned, sampling_ratio):
    rng = np.random.default_rng(3)
    features = rng.standard_normal((2, 7, 8, 4))
    boxes = _random_boxes(rng, 10, 16)
    box_indices = rng.integers(0, 2, len(boxes))
    upstream = rng.standard_normal((10, 2, 3, 4))
    kwargs = dict(spatial_scale=0.5, sampling_ratio=sampling_ratio, aligned=aligned)
    expected = roi_align_adjoint_reference(upstream, features.shape, boxes, box_indices,
                                           (2, 3), **kwargs)
    got64 = _gradient(implementation, features, boxes, box_indices, upstream, **kwargs)
    np.testing.assert_allclose(got64, expected, atol=1e-10)
    got32 = _gradient(implementation, features.astype(np.float32), boxes, box_indices,
                      upstream.astype(np.float32), **kwargs)
    np.testing.assert_allclose(got32, expected, atol=1e-5)


@pytest.mark.parametrize("implementation, delta, atol",
                         [("gather", 1e-3, 1e-9), ("crop_and_resize", 0.5, 1e-5)])
def test_gradient_matches_finite_differences(implementation, delta, atol):
    """float64 central differences. The map is linear in the features, so any step is
    exact up to rounding; crop_and_resize interpolates in float32 whatever the input
    dtype, so it gets a large step (rounding / step) and a float32 bound."""
    rng = np.random.default_rng(5)
    features = tf.constant(rng.standard_normal((1, 4, 5, 1)))
    boxes = np.array([[0.3, 0.7, 4.2, 3.9], [-1.0, 2.0, 7.5, 6.2], [2.2, 1.1, 2.9, 1.6]],
                     np.float32)

    def fn(x):
        return ops.roi_align(x, boxes, [0, 0, 0], 2, sampling_ratio=2,
                             implementation=implementation)

    theoretical, numerical = tf.test.compute_gradient(fn, [features], delta=delta)
    np.testing.assert_allclose(theoretical[0], numerical[0], atol=atol)
    assert np.abs(theoretical[0]).max() > 0.1


@pytest.mark.large
def test_gradient_repeatable_with_many_threads():
    """TF's CropAndResizeGradImage races with >1 intra-op thread (tensorflow#42033);
    ours must give bit-identical, reference-exact gradients with 4 threads."""
    script = textwrap.dedent("""
        import numpy as np, tensorflow as tf
        tf.config.threading.set_intra_op_parallelism_threads(4)
        tf.config.threading.set_inter_op_parallelism_threads(4)
        from keras_zoo import ops
        rng = np.random.default_rng(0)
        f = tf.constant(rng.standard_normal((2, 16, 16, 8)).astype(np.float32))
        xy = rng.uniform(0, 8, (150, 2))
        boxes = np.concatenate([xy, xy + rng.uniform(3, 9, (150, 2))], 1).astype(np.float32)
        idx = rng.integers(0, 2, 150).astype(np.int32)
        g = tf.constant(rng.standard_normal((150, 5, 5, 8)).astype(np.float32))
        for impl in ("crop_and_resize", "gather"):
            @tf.function
            def grad(f):
                with tf.GradientTape() as tape:
                    tape.watch(f)
                    loss = tf.reduce_sum(ops.roi_align(f, boxes, idx, 5,
                                                       implementation=impl) * g)
                return tape.gradient(loss, f)
            runs = [grad(f).numpy() for _ in range(3)]
            assert all(np.array_equal(runs[0], r) for r in runs[1:]), impl
            np.save(impl + ".npy", runs[0])
        np.save("inputs.npy", np.concatenate([boxes, idx[:, None]], 1))
        np.save("upstream.npy", g.numpy())
    """)
    workdir = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    env = dict(os.environ, PYTHONPATH=workdir, TF_CPP_MIN_LOG_LEVEL="3")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-c", script], cwd=tmp, env=env, check=True,
                       timeout=300)
        inputs = np.load(os.path.join(tmp, "inputs.npy"))
        upstream = np.load(os.path.join(tmp, "upstream.npy"))
        expected = roi_align_adjoint_reference(upstream.astype(np.float64), (2, 16, 16, 8),
                                               inputs[:, :4], inputs[:, 4].astype(int), 5)
        for impl in IMPLEMENTATIONS:
            np.testing.assert_allclose(np.load(os.path.join(tmp, impl + ".npy")), expected,
                                       atol=1e-4)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
def test_invariant_when_image_and_boxes_scale_together(implementation):
    """A linear signal sampled at pixel centres at 1x and 2x resolution: aligned
    RoIAlign of the same image-space box gives the same values at both scales (the
    half-pixel shift is what makes it exact); the legacy convention does not."""
    def ramp(size, stride):
        centres = (np.arange(size) + 0.5) * stride  # pixel centres in image units
        return (3.0 * centres[:, None] - 2.0 * centres[None, :]).reshape(1, size, size, 1)

    boxes = np.array([[3.1, 4.2, 11.7, 9.9], [6.0, 2.5, 10.0, 13.0]], np.float32)
    fine, coarse = ramp(32, 0.5), ramp(16, 1.0)

    def pool(features, scale, aligned):
        return ops.roi_align(features.astype(np.float32), boxes, [0, 0], 4, spatial_scale=scale,
                             aligned=aligned, implementation=implementation).numpy()

    np.testing.assert_allclose(pool(fine, 2.0, True), pool(coarse, 1.0, True), atol=1e-4)
    assert np.abs(pool(fine, 2.0, False) - pool(coarse, 1.0, False)).max() > 0.1
    # spatial_scale is the same as scaling the boxes
    np.testing.assert_allclose(pool(fine, 2.0, True), ops.roi_align(
        fine.astype(np.float32), boxes * 2, [0, 0], 4, implementation=implementation).numpy(),
        atol=1e-5)


def test_gather_path_compiles_with_xla():
    rng = np.random.default_rng(2)
    features = tf.constant(rng.standard_normal((2, 8, 9, 3)).astype(np.float32))
    boxes = tf.constant(_random_boxes(rng, 6, 9))
    box_indices = tf.constant([0, 1, 0, 1, 1, 0])

    def fn(f):
        with tf.GradientTape() as tape:
            tape.watch(f)
            out = ops.roi_align(f, boxes, box_indices, 3, implementation="gather")
            loss = tf.reduce_sum(out * out)
        return out, tape.gradient(loss, f)

    eager_out, eager_grad = fn(features)
    xla_out, xla_grad = tf.function(fn, jit_compile=True)(features)
    np.testing.assert_allclose(xla_out, eager_out, atol=1e-5)
    np.testing.assert_allclose(xla_grad, eager_grad, atol=1e-5)


@pytest.mark.parametrize("spatial_scale", [1.0, 0.5, 0.25])
def test_roi_pool_matches_reference(spatial_scale):
    rng = np.random.default_rng(11)
    features = rng.standard_normal((2, 9, 11, 3)).astype(np.float32)
    boxes = _random_boxes(rng, 12, 11 / spatial_scale)
    box_indices = rng.integers(0, 2, len(boxes))
    expected = roi_pool_reference(features, boxes, box_indices, (3, 4), spatial_scale)
    out = ops.roi_pool(features, boxes, box_indices, (3, 4), spatial_scale=spatial_scale)
    np.testing.assert_array_equal(out.numpy(), expected.astype(np.float32))
    # RoIPool quantises: on the ramp it differs from RoIAlign for a sub-pixel box
    box = np.array([[1.3, 1.3, 3.4, 3.4]], np.float32)
    assert not np.allclose(ops.roi_pool(RAMP, box, [0], 2), ops.roi_align(RAMP, box, [0], 2))


@pytest.mark.parametrize("kwargs, match", [
    (dict(output_size=0), "output_size"),
    (dict(output_size=(2, 2, 2)), "output_size"),
    (dict(output_size=2, implementation="cuda"), "implementation"),
    (dict(output_size=2, sampling_ratio=1.5), "sampling_ratio"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ops.roi_align(tf.zeros([1, 4, 4, 1]), tf.zeros([1, 4]), [0], **kwargs)
    with pytest.raises(ValueError, match="features"):
        ops.roi_align(tf.zeros([4, 4, 1]), tf.zeros([1, 4]), [0], 2)
    with pytest.raises(ValueError, match="boxes"):
        ops.roi_align(tf.zeros([1, 4, 4, 1]), tf.zeros([1, 5]), [0], 2)


@pytest.mark.parametrize("implementation", IMPLEMENTATIONS)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_half_precision_features(implementation, dtype):
    """Mixed-precision feature maps are pooled in float32 and returned in their dtype;
    output and gradient equal the reference to the half type's precision (2^-8
    relative for bfloat16)."""
    rng = np.random.default_rng(9)
    features = rng.standard_normal((1, 6, 7, 4)).astype(np.float32)
    boxes = _random_boxes(rng, 6, 7)
    expected = roi_align_reference(features, boxes, [0] * 6, 2)
    half = tf.cast(features, dtype)
    with tf.GradientTape() as tape:
        tape.watch(half)
        out = ops.roi_align(half, boxes, [0] * 6, 2, implementation=implementation)
        loss = tf.reduce_sum(tf.cast(out, tf.float32))
    grad = tape.gradient(loss, half)
    assert out.dtype == dtype and grad.dtype == dtype
    np.testing.assert_allclose(tf.cast(out, tf.float32), expected, atol=0.05)
    expected_grad = roi_align_adjoint_reference(np.ones((6, 2, 2, 4)), features.shape, boxes,
                                                [0] * 6, 2)
    np.testing.assert_allclose(tf.cast(grad, tf.float32), expected_grad, atol=0.02)
