"""Argument checks every room of keras_zoo shares (ops, layers, models, train, export).

Plain Python that imports nothing of keras_zoo, Keras or TensorFlow, so each room
may import it without bending the one-way imports (tests/test_packaging.py). Each
check returns the normalised value or raises a ValueError phrased as keras_zoo's
other user errors: "Expected ... Received: name=value".
"""

import numbers


def is_int(value):
    """True for an integral number that is not a bool (Python or NumPy ints)."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def positive_int(name, value):
    """`value` as an int, or a ValueError unless it is an integer >= 1."""
    if not is_int(value) or value < 1:
        raise ValueError(f"Expected `{name}` to be a positive int. Received: {name}={value!r}")
    return int(value)


def positive_ints(name, values):
    """`values` as a tuple of ints, or a ValueError unless each is an integer >= 1."""
    try:
        items = tuple(values)
    except TypeError:
        items = None
    if items is None or not all(is_int(v) and v >= 1 for v in items):
        raise ValueError(f"Expected `{name}` to be a sequence of positive ints. "
                         f"Received: {name}={values!r}")
    return tuple(int(v) for v in items)


def _pair(value):
    """`(int, int)` of a pair of positive integers, or None."""
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            is_int(v) and v >= 1 for v in value):
        return int(value[0]), int(value[1])
    return None


def size_pair(name, value):
    """`(height, width)` from an int or a pair of positive ints (an output size)."""
    pair = _pair((value, value) if is_int(value) else value)
    if pair is None:
        raise ValueError(f"Expected `{name}` to be a positive int or a pair of positive ints. "
                         f"Received: {name}={value!r}")
    return pair


def image_size(name, value):
    """`(height, width)` from a pair of positive ints (an image size; no single int)."""
    pair = _pair(value)
    if pair is None:
        raise ValueError(f"Expected `{name}` as (height, width), two positive ints. "
                         f"Received: {name}={value!r}")
    return pair


def fraction(name, value):
    """`value` as a float in [0, 1], or a ValueError."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
        raise ValueError(f"Expected `{name}` to be a number in [0, 1]. Received: {name}={value!r}")
    return float(value)


def one_of(name, value, choices):
    """`value`, or a ValueError listing `choices`."""
    if value not in choices:
        raise ValueError(f"Expected `{name}` to be one of {tuple(choices)}. "
                         f"Received: {name}={value!r}")
    return value
