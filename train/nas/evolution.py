"""`RegularizedEvolution`: aging evolution (Real et al. 2019, arXiv:1802.01548), Algorithm 1."""

import collections

import numpy as np

from keras_zoo.checks import positive_int
from keras_zoo.models.nas import decision


def mutate(decisions, actions, rng):
    """One mutation of an action vector: one unit drawn uniformly among the
    categorical entries with 2 or more choices and the skip bits; a
    categorical entry takes one of its other values (uniformly), a skip bit
    flips. (Real et al. 2019 mutate one operation or one input of a cell;
    on NAS-Bench-201 this is Dong & Yang 2020's mutation: one edge, another
    operation.)

    Returns:
        A new int32 action vector differing from `actions` in one entry.
    """
    units = [(d, k) for d in decisions for k in range(d.size)
             if d.choices is None or len(d.choices) > 1]
    if not units:
        raise ValueError("Expected a space with a decision of two or more choices to mutate. "
                         "Received: every decision has one choice")
    d, k = units[rng.integers(len(units))]
    child = np.array(actions, np.int32)
    index = d.offset + k
    if d.choices is None:
        child[index] = 1 - child[index]
    else:
        other = rng.integers(len(d.choices) - 1)
        child[index] = other + (other >= child[index])
    return child


class RegularizedEvolution:
    """Aging evolution: tournament selection, one mutation, the oldest dies.

    The first `population_size` proposals are uniformly random. Each later
    proposal samples `sample_size` members of the population uniformly with
    replacement, takes the one of highest reward as parent and proposes a
    mutation of it (`mutate`). Every evaluated child joins the population at
    the young end and, once the population is full, the oldest member is
    removed, whatever its reward (Real et al. 2019, Algorithm 1; "aging").
    The m children of one `search` update are proposed from the population
    as it was before the update and join it in order (as m parallel workers
    would); with m = 1 the algorithm is exactly sequential.

    It has the proposer interface of `PolicyGradient`: ``propose(num, seed)``
    and ``learn(archs, rewards)``; its state (the population) is checkpointed.

    Args:
        space: any search space (see `keras_zoo.models.nas.spaces`).
        population_size: P (Real et al. 2019: 100).
        sample_size: S of the tournament (Real et al. 2019: 25).
    """

    baseline = None

    def __init__(self, space, population_size=100, sample_size=25):
        self.space = space
        self.population_size = positive_int("population_size", population_size)
        self.sample_size = positive_int("sample_size", sample_size)
        self.population = collections.deque()  # (actions, reward), oldest first

    def propose(self, num, seed):
        """`num` architectures from the int `seed`: a list of ``(arch, {})``."""
        rng = np.random.default_rng(seed)
        proposals = []
        for k in range(num):
            if len(self.population) + k < self.population_size or not self.population:
                actions = decision.uniform_actions(self.space.decisions, rng)
            else:
                picks = rng.integers(len(self.population), size=self.sample_size)
                parent = max(picks, key=lambda i: (self.population[i][1], -i))
                actions = mutate(self.space.decisions, self.population[parent][0], rng)
            proposals.append((self.space.decode(actions), {}))
        return proposals

    def learn(self, archs, rewards):
        """Adds each child with its reward; the oldest leave past `population_size`."""
        for arch, reward in zip(archs, rewards):
            self.population.append((self.space.encode(arch), float(reward)))
            if len(self.population) > self.population_size:
                self.population.popleft()
        return {"baseline": None}

    def get_state(self):
        actions = np.zeros((len(self.population), self.space.num_actions), np.int32)
        for i, (a, _) in enumerate(self.population):
            actions[i] = a
        return {"population_actions": actions,
                "population_rewards": np.array([r for _, r in self.population], np.float64)}

    def set_state(self, state):
        self.population = collections.deque(
            (np.asarray(a, np.int32), float(r))
            for a, r in zip(state["population_actions"], state["population_rewards"]))
