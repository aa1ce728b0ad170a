"""`TargetMatchReward`: a cheap synthetic reward for checking that a search learns."""

import numpy as np

from keras_zoo.models.nas import Architecture, SearchSpace


class TargetMatchReward:
    """How closely an architecture matches a hidden target: a reward in [0, 1].

    For every categorical decision kind of the space (filter height, filter
    width, number of filters, and the stride when the space has one) take the
    fraction of layers whose choice equals the target's, and multiply these
    fractions. Skip connections do not count. A uniformly random
    architecture scores Π 1/|choices| on average (1/64 in the paper's space
    without strides); only the target scores 1.

    The object is plain data, so it pickles to process-pool and Ray workers.

    Args:
        space: the `SearchSpace`.
        target: the target `Architecture`, or an int seed to draw one
            uniformly from `space`.

    Example:

    >>> reward = TargetMatchReward(SearchSpace(4), target=0)
    >>> reward(reward.target)
    1.0
    """

    def __init__(self, space, target=0):
        if not isinstance(space, SearchSpace):
            raise ValueError(f"Expected space a SearchSpace. Received: {type(space).__name__}")
        self.space = space
        self.target = target if isinstance(target, Architecture) else space.sample(target)
        self.kinds = tuple(d.name for d in space.decisions if d.layer == 0 and d.choices)
        self._target = self._choices(self.target)

    def _choices(self, arch):
        return np.array([[getattr(layer, kind) for kind in self.kinds] for layer in arch.layers])

    @property
    def random_mean(self):
        """The expected reward of a uniformly random architecture."""
        first = [d for d in self.space.decisions if d.layer == 0 and d.choices]
        return float(np.prod([1 / len(d.choices) for d in first]))

    def __call__(self, arch):
        self.space.encode(arch)  # refuses an architecture outside the space
        matches = (self._choices(arch) == self._target).mean(axis=0)  # one fraction per kind
        return float(np.prod(matches))
