"""keep_schedule: Swapout's Linear(1, 0.5) and stochastic depth's linear decay
(Python floats: the end points are exact by construction)."""

import numpy as np
import pytest

from keras_zoo import layers


def test_linear_schedule_values():
    np.testing.assert_allclose(layers.keep_schedule(5, 0.5), [1.0, 0.875, 0.75, 0.625, 0.5])
    # Swapout v2(32): 15 blocks from 1 down to 0.5 in steps of 0.5 / 14.
    values = layers.keep_schedule(15)
    np.testing.assert_allclose(values, 1 - np.arange(15) / 14 * 0.5, rtol=0, atol=1e-12)
    assert values[0] == 1.0 and values[-1] == 0.5
    np.testing.assert_allclose(layers.keep_schedule(3, 0.2), [1.0, 0.6, 0.2], atol=1e-12)


def test_uniform_and_single_block():
    assert layers.keep_schedule(4, 0.5, schedule="uniform") == [0.5] * 4
    assert layers.keep_schedule(1, 0.7) == [0.7]


@pytest.mark.parametrize("kwargs, match", [
    ({"num_blocks": 0}, "Expected `num_blocks` to be a positive int"),
    ({"num_blocks": 3, "final": 1.5}, "Expected `final` to be a float in"),
    ({"num_blocks": 3, "schedule": "cosine"}, "Expected `schedule` to be one of"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.keep_schedule(**kwargs)
