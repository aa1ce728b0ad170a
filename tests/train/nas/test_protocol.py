"""Every algorithm searches a plain list of decisions and the CNN space through one
protocol; evolution and random search resume to the uninterrupted trajectory."""

import json

import numpy as np
import pytest

from keras_zoo.models.nas import Architecture, ChoiceSpace, SearchSpace
from keras_zoo.train.nas import SearchDirectory, TargetMatchReward, search
from tests.train.nas.test_search import StopAt

ALGORITHMS = ["reinforce", "ppo", "evolution", "random"]
TINY = dict(controller_units=8, controller_layers=1, population_size=6, sample_size=3)


class Closeness:
    """A picklable reward over lists of indices: 1 at [4, 4, 4, 4, 4], lower further away."""

    def __init__(self):
        self.seen = []

    def __call__(self, arch):
        assert isinstance(arch, list) and all(isinstance(c, int) for c in arch)
        self.seen.append(arch)
        return 1.0 - sum(abs(c - 4) for c in arch) / 20


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_list_of_choice_counts_is_searched(algorithm):
    reward = Closeness()
    records = search([9, 9, 9, 9, 9], reward, trials=12, seed=0, algorithm=algorithm, **TINY)
    assert [r["arch"] for r in records] == reward.seen  # evaluate got each list, in order
    assert all(len(r["arch"]) == 5 and all(0 <= c < 9 for c in r["arch"]) for r in records)
    assert [r["reward"] for r in records] == [1.0 - sum(abs(c - 4) for c in r["arch"]) / 20
                                              for r in records]
    json.dumps(records)  # JSON-ready as trials.jsonl stores them


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_cnn_space_is_searched(algorithm):
    space = SearchSpace(2, strides=(1, 2))
    records = search(space, TargetMatchReward(space, target=1), trials=8, seed=1,
                     algorithm=algorithm, children_per_update=4, **TINY)
    for record in records:
        arch = Architecture.from_dict(record["arch"])
        space.encode(arch)  # raises for an architecture outside the space
    assert len({json.dumps(r["arch"], sort_keys=True) for r in records}) > 1


def _comparable(records):
    return [(r["trial"], r["update"], r["arch"], r["reward"]) for r in records]


@pytest.mark.no_keras_state
@pytest.mark.parametrize("algorithm", ["evolution", "random"])
def test_resumed_search_equals_an_uninterrupted_one(tmp_path, algorithm):
    space = ChoiceSpace([5] * 6)

    def reward(arch):
        return float(np.cos(np.arange(1, 7) @ np.asarray(arch)))  # rugged, deterministic

    kwargs = dict(trials=60, seed=4, algorithm=algorithm, children_per_update=3,
                  population_size=10, sample_size=4)
    straight = search(space, reward, out_dir=tmp_path / "straight", **kwargs)
    with pytest.raises(KeyboardInterrupt):
        search(space, StopAt(reward, stop=37), out_dir=tmp_path / "resumed", **kwargs)
    directory = SearchDirectory(tmp_path / "resumed")
    state, updates, trials = directory.load_checkpoint()
    assert (updates, trials) == (12, 36)
    if algorithm == "evolution":
        assert state["population_actions"].shape == (10, 6)  # the population is the state
    again = StopAt(reward, stop=None)
    resumed = search(space, again, out_dir=tmp_path / "resumed", **kwargs)
    assert again.calls == 60 - 37  # trial 36, recorded after the checkpoint, is reused
    assert _comparable(resumed) == _comparable(straight)
    assert json.loads((tmp_path / "resumed" / "best_arch.json").read_text()) == \
        max(straight, key=lambda r: r["reward"])["arch"]
