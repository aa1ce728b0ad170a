"""Comparisons of model outputs that TensorFlow computes twice (tests/models).

Two runs of one network need not agree bit for bit: another batch split across
replicas, another kernel or another ISA (AVX2 vs AVX-512) reorders the float32
reductions. `RELATIVE` bounds that: 1e-5 of the outputs' scale is ~100 float32 ulps
(eps = 1.19e-7), room for each of the ~10 conv layers of the tiny test nets to round its
9 * C-term sums differently (observed: 1 ulp after a `.keras` round trip under
MirroredStrategy on an AVX2 CPU). A lost or misplaced weight, a wrong merge or a sampled
Swapout mask moves the outputs by 1e-3 of their scale or more.
"""

import os

import keras
import numpy as np

RELATIVE = 1e-5


def assert_close_up_to_rounding(got, expected):
    """`got` equals `expected` within `RELATIVE` of the larger of 1 and max |expected|."""
    expected = np.asarray(expected)
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(np.asarray(got), expected, rtol=0, atol=RELATIVE * scale)


def assert_round_trip(model, x, tmp_path):
    """Saves `model` to `.keras` and loads it (outside any strategy scope): the weights
    come back bit for bit (they are copied), the outputs on `x` up to rounding (the
    reload may run another graph). Returns the restored model."""
    path = os.path.join(tmp_path, "model.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    assert [w.path for w in restored.weights] == [w.path for w in model.weights]
    for saved, loaded in zip(model.weights, restored.weights):
        np.testing.assert_array_equal(np.asarray(loaded), np.asarray(saved), err_msg=saved.path)
    assert_close_up_to_rounding(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    return restored
