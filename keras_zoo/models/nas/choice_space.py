"""`ChoiceSpace`: a search space of plain categorical decisions (a list of choice counts)."""

import math

import keras
import numpy as np

from keras_zoo.checks import is_int, positive_ints
from keras_zoo.models.nas import decision
from keras_zoo.models.nas.decision import Decision


@keras.saving.register_keras_serializable(package="keras_zoo")
class ChoiceSpace:
    """Decisions 0..n-1, decision i choosing one of ``counts[i]`` options.

    The simplest implementation of the search-space protocol (see `spaces`),
    for users' own spaces: an architecture is the list of chosen indices,
    ``[c_0, ..., c_{n-1}]`` with ``0 <= c_i < counts[i]``, and that list is
    what ``evaluate`` receives and what a trial record's ``"arch"`` holds.
    Anywhere a space is accepted, a plain list of counts is read as this
    space: ``search([9, 9, 9, 9, 9], evaluate, trials=500)``.

    Args:
        counts: number of choices of each decision, in the controller's order.

    Example:

    >>> space = ChoiceSpace([5] * 6)   # NAS-Bench-201: 6 edges, 5 operations each
    >>> space.size
    15625
    >>> space.decode(space.encode([0, 4, 1, 2, 3, 0]))
    [0, 4, 1, 2, 3, 0]
    """

    def __init__(self, counts):
        self.counts = positive_ints("counts", counts)
        if not self.counts:
            raise ValueError(f"Expected at least one decision. Received: counts={counts!r}")

    def __eq__(self, other):
        return isinstance(other, ChoiceSpace) and other.counts == self.counts

    def __hash__(self):
        return hash(self.counts)

    def __repr__(self):
        return f"ChoiceSpace({list(self.counts)})"

    @property
    def decisions(self):
        """One categorical `Decision` per count, named ``"choice"``."""
        return tuple(Decision(i, "choice", tuple(range(n)), i, 1)
                     for i, n in enumerate(self.counts))

    @property
    def num_actions(self):
        return len(self.counts)

    @property
    def size(self):
        """Number of distinct architectures."""
        return math.prod(self.counts)

    def encode(self, arch):
        """List of chosen indices -> int32 action vector (the same numbers)."""
        if isinstance(arch, np.ndarray):
            arch = arch.tolist()
        if not isinstance(arch, (list, tuple)) or len(arch) != len(self.counts) or not all(
                is_int(c) for c in arch):
            raise ValueError(f"Expected a list of {len(self.counts)} choice indices. "
                             f"Received: {arch!r}")
        return decision.check_actions(self.decisions, np.asarray(arch, np.int64))

    def decode(self, actions):
        """int action vector -> the list of chosen indices (Python ints)."""
        return decision.check_actions(self.decisions, actions).tolist()

    def sample(self, rng):
        """A uniformly random architecture; `rng` a `numpy.random.Generator` or int seed."""
        return self.decode(decision.uniform_actions(self.decisions, np.random.default_rng(rng)))

    def to_record(self, arch):
        """The list itself: what a trial record's ``"arch"`` holds."""
        return [int(c) for c in self.encode(arch)]

    def from_record(self, value):
        return self.decode(self.encode(value))

    def get_config(self):
        return {"counts": list(self.counts)}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
