"""Shared test: are a model's weights and an epoch's loss finite?"""

import math

import numpy as np


def is_finite(model, logs=None):
    """True when ``logs["loss"]`` (if given) and every weight of `model` are finite."""
    loss = (logs or {}).get("loss")
    if loss is not None and not math.isfinite(float(loss)):
        return False
    return all(np.isfinite(np.asarray(w)).all() for w in model.get_weights())
