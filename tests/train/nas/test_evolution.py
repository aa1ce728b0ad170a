"""Regularized evolution on worked examples: the random start, tournament selection, one
mutation per child, aging (the oldest dies, however good), and its checkpointed state."""

import numpy as np
import pytest

from keras_zoo.models.nas import ChoiceSpace, SearchSpace
from keras_zoo.models.nas.decision import uniform_actions
from keras_zoo.train.nas.evolution import RegularizedEvolution, mutate

pytestmark = pytest.mark.no_keras_state  # no Keras layers: see tests/conftest.py


def test_mutate_changes_exactly_one_unit():
    rng = np.random.default_rng(0)
    space = ChoiceSpace([1, 3, 2])  # the 1-choice decision can never change
    parent = np.array([0, 1, 0], np.int32)
    changed = []
    for _ in range(300):
        child = mutate(space.decisions, parent, rng)
        diff = np.flatnonzero(child != parent)
        assert len(diff) == 1 and 0 <= child[diff[0]] < space.counts[diff[0]]
        changed.append(int(diff[0]))
    # Units 1 and 2 equally likely: 300 draws, 5 standard deviations of 1/2 is 0.144.
    assert set(changed) == {1, 2} and abs(changed.count(1) / 300 - 0.5) < 0.144
    # A skip bit flips; a categorical entry takes another value.
    cnn = SearchSpace(2, filter_heights=(3,), filter_widths=(3,), num_filters=(8,))
    assert [d.size for d in cnn.decisions if d.choices is None] == [0, 1]  # one skip bit
    assert mutate(cnn.decisions, np.zeros(cnn.num_actions, np.int32), rng).tolist() == \
        [0, 0, 0, 0, 0, 0, 1]
    with pytest.raises(ValueError, match="two or more choices"):
        mutate(ChoiceSpace([1, 1]).decisions, np.zeros(2, np.int32), rng)


def test_population_tournament_and_aging():
    space = ChoiceSpace([4, 4, 4])
    evolution = RegularizedEvolution(space, population_size=3, sample_size=50)
    archs = [arch for arch, _ in evolution.propose(3, seed=0)]
    rng = np.random.default_rng(0)  # the population is empty: 3 uniformly random cells
    assert archs == [space.decode(uniform_actions(space.decisions, rng)) for _ in range(3)]
    evolution.learn(archs, [0.1, 0.9, 0.5])
    assert [r for _, r in evolution.population] == [0.1, 0.9, 0.5]
    # 50 draws with replacement from 3 members miss the best with probability (2/3)^50:
    # the parent is the 0.9 cell, and the child differs from it in one decision.
    (child, _), = evolution.propose(1, seed=1)
    assert sum(a != b for a, b in zip(child, archs[1])) == 1
    evolution.learn([child], [0.2])
    assert [r for _, r in evolution.population] == [0.9, 0.5, 0.2]  # the oldest (0.1) died
    (second, _), = evolution.propose(1, seed=2)
    evolution.learn([second], [0.3])
    # Aging: the best cell (0.9) is the oldest now and dies, however good.
    assert [r for _, r in evolution.population] == [0.5, 0.2, 0.3]
    assert [list(a) for a, _ in evolution.population] == [archs[2], child, second]


def test_a_batch_larger_than_the_room_left_mutates_the_rest():
    space = ChoiceSpace([5] * 6)
    evolution = RegularizedEvolution(space, population_size=4, sample_size=2)
    evolution.learn([space.sample(k) for k in range(2)], [0.3, 0.6])
    proposals = [arch for arch, _ in evolution.propose(5, seed=3)]
    # 2 random ones fill the population to 4; the last 3 mutate members of the 2 present.
    members = [list(a) for a, _ in evolution.population]
    for child in proposals[2:]:
        assert min(sum(a != b for a, b in zip(child, m)) for m in members) == 1
    assert RegularizedEvolution(space, 3, 2).propose(4, seed=0)  # empty: all random


def test_state_round_trip():
    space = ChoiceSpace([3, 3])
    evolution = RegularizedEvolution(space, population_size=5, sample_size=2)
    evolution.learn([[0, 1], [2, 2], [1, 0]], [0.5, 0.25, 0.75])
    twin = RegularizedEvolution(space, population_size=5, sample_size=2)
    twin.set_state(evolution.get_state())
    assert twin.propose(4, seed=9) == evolution.propose(4, seed=9)
    with pytest.raises(ValueError, match="population_size"):
        RegularizedEvolution(space, population_size=0)
