"""`RandomSearch`: uniformly random architectures, the baseline every search must beat."""

import numpy as np


class RandomSearch:
    """Proposes architectures uniformly at random (the space's `sample`) and
    learns nothing; it has the proposer interface of `PolicyGradient`.

    Args:
        space: any search space (see `keras_zoo.models.nas.spaces`).
    """

    baseline = None

    def __init__(self, space):
        self.space = space

    def propose(self, num, seed):
        rng = np.random.default_rng(seed)
        return [(self.space.sample(rng), {}) for _ in range(num)]

    def learn(self, archs, rewards):
        return {"baseline": None}

    def get_state(self):
        return {}

    def set_state(self, state):
        """Nothing to restore: proposals depend on the batch seed alone."""
