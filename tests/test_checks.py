"""keras_zoo.checks: the argument checks every room shares."""

import numpy as np
import pytest

from keras_zoo import checks


def test_positive_int_accepts_python_and_numpy_ints():
    assert checks.positive_int("n", 3) == 3
    assert checks.positive_int("n", np.int64(2)) == 2 and type(checks.positive_int(
        "n", np.int64(2))) is int


@pytest.mark.parametrize("value", [0, -1, 1.0, True, "2", None])
def test_positive_int_refuses(value):
    with pytest.raises(ValueError, match=r"Expected `n` to be a positive int. Received: n="):
        checks.positive_int("n", value)


def test_pairs_and_sizes():
    assert checks.size_pair("output_size", 7) == (7, 7)
    assert checks.size_pair("output_size", [2, 3]) == (2, 3)
    assert checks.image_size("input_size", (128, 160)) == (128, 160)
    assert checks.positive_ints("units", [1, 2]) == (1, 2)
    for bad in ((0, 3), (2.0, 3), 5, (1, 2, 3)):
        with pytest.raises(ValueError, match=r"input_size` as \(height, width\)"):
            checks.image_size("input_size", bad)
    with pytest.raises(ValueError, match="pair of positive ints"):
        checks.size_pair("output_size", (2, 0))
    with pytest.raises(ValueError, match="sequence of positive ints"):
        checks.positive_ints("units", 4)


def test_fraction_and_one_of():
    assert checks.fraction("f", 0.25) == 0.25
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        checks.fraction("f", 1.5)
    assert checks.one_of("kind", "a", ("a", "b")) == "a"
    with pytest.raises(ValueError, match=r"one of \('a', 'b'\). Received: kind='c'"):
        checks.one_of("kind", "c", ("a", "b"))
