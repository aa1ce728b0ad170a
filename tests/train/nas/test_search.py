"""search: REINFORCE and PPO learn a synthetic reward; resume equals an uninterrupted
run; failures score the failure reward; the output directory is never clobbered."""

import json
import os

import numpy as np
import pytest

from keras_zoo.models.nas import Architecture, SearchSpace
from keras_zoo.train.nas import SearchDirectory, TargetMatchReward, search
from tests.train.nas.rewards import FailingReward

SPACE = SearchSpace(4)
SMALL = SearchSpace(2, strides=(1, 2))  # traces faster: for the tests that do not learn
TINY = dict(controller_units=8, controller_layers=1)


def _rewards(records):
    return np.array([r["reward"] for r in records])


@pytest.mark.parametrize("algorithm", ["reinforce", "ppo"])
def test_default_preset_learns_the_synthetic_reward(algorithm):
    reward = TargetMatchReward(SPACE, target=3)
    assert reward.random_mean == 1 / 64
    records = search(SPACE, reward, trials=600, seed=0, algorithm=algorithm)
    assert [r["trial"] for r in records] == list(range(600))
    assert _rewards(records)[-100:].mean() > 0.25  # the criterion
    assert _rewards(records)[:50].mean() < 0.25
    assert records[-1]["entropy"] < records[0]["entropy"]


@pytest.mark.no_keras_state
def test_random_search_scores_about_one_in_64():
    records = search(SPACE, TargetMatchReward(SPACE, target=3), trials=2000, seed=1,
                     algorithm="random")
    # Mean of 2,000 rewards of mean 1/64; their standard deviation is about 0.03, so
    # 5 standard errors are 0.0034.
    assert abs(_rewards(records).mean() - 1 / 64) < 0.0034
    assert all(r["baseline"] is None and "log_prob" not in r for r in records)


class Interrupt(Exception):
    pass


class StopAt:
    """The reward, until trial `stop` where it raises KeyboardInterrupt (a kill)."""

    def __init__(self, reward, stop):
        self.reward, self.stop, self.calls = reward, stop, 0

    def __call__(self, arch):
        if self.calls == self.stop:
            raise KeyboardInterrupt
        self.calls += 1
        return self.reward(arch)


def _comparable(records):
    return [(r["trial"], r["update"], json.dumps(r["arch"], sort_keys=True), r["reward"])
            for r in records]


@pytest.mark.parametrize("algorithm", ["reinforce", "ppo"])
def test_resumed_search_equals_an_uninterrupted_one(tmp_path, algorithm):
    reward = TargetMatchReward(SMALL, target=5)
    kwargs = dict(trials=40, seed=7, algorithm=algorithm, learning_rate=0.05, **TINY)
    straight = search(SMALL, reward, out_dir=tmp_path / "straight", **kwargs)
    killed = StopAt(reward, stop=23)  # in the 5th update of 5 children
    with pytest.raises(KeyboardInterrupt):
        search(SMALL, killed, out_dir=tmp_path / "resumed", **kwargs)
    directory = SearchDirectory(tmp_path / "resumed")
    assert directory.load_checkpoint()[1:] == (4, 20)
    assert len(directory.read_records()) == 23
    again = StopAt(reward, stop=None)
    resumed = search(SMALL, again, out_dir=tmp_path / "resumed", **kwargs)
    assert again.calls == 40 - 23  # the 3 children recorded after the checkpoint are reused
    # The controller state is restored bit for bit and every sample is seeded, so the
    # sampled architectures (integers) and their rewards are the same.
    assert _comparable(resumed) == _comparable(straight)
    np.testing.assert_allclose([r["log_prob"] for r in resumed],
                               [r["log_prob"] for r in straight], rtol=1e-6)
    assert _comparable(directory.read_records()) == _comparable(straight)
    # Extending the finished search to 50 trials equals a 50-trial search.
    if algorithm == "ppo":
        return
    longer = search(SMALL, reward, out_dir=tmp_path / "longer", **{**kwargs, "trials": 50})
    extended = search(SMALL, reward, out_dir=tmp_path / "straight", **{**kwargs, "trials": 50})
    assert _comparable(extended) == _comparable(longer)


def test_directory_files(tmp_path):
    records = search(SMALL, TargetMatchReward(SMALL), trials=10, seed=0, out_dir=tmp_path,
                     children_per_update=4, metadata={"dataset": "synthetic"}, **TINY)
    directory = SearchDirectory(tmp_path)
    header = directory.stored_header()
    assert header["metadata"] == {"dataset": "synthetic"}
    assert header["settings"]["children_per_update"] == 4 and header["settings"]["seed"] == 0
    state, updates, trials = directory.load_checkpoint()
    assert (updates, trials) == (3, 10)  # 4 + 4 + 2 children
    assert len(state["optimizer"]) == 2 * len(state["weights"]) + 2  # Adam: m, v; step, lr
    best = max(records, key=lambda r: r["reward"])
    with open(tmp_path / "best_arch.json", encoding="utf-8") as f:
        assert Architecture.from_json(f.read()) == Architecture.from_dict(best["arch"])
    assert directory.read_records() == records


@pytest.mark.no_keras_state
def test_out_dir_is_never_clobbered(tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    reward = TargetMatchReward(SMALL)
    for overwrite in (False, True):
        with pytest.raises(ValueError, match="holds other files"):
            search(SMALL, reward, trials=2, seed=0, out_dir=foreign, overwrite=overwrite)
    assert os.listdir(foreign) == ["notes.txt"]
    ours = tmp_path / "ours"
    search(SMALL, reward, trials=5, seed=0, out_dir=ours, algorithm="random")
    with pytest.raises(ValueError, match="settings differ"):
        search(SMALL, reward, trials=5, seed=0, out_dir=ours, algorithm="random",
               learning_rate=0.5)
    records = search(SMALL, reward, trials=5, seed=0, out_dir=ours, algorithm="random",
                     learning_rate=0.5, overwrite=True)
    assert SearchDirectory(ours).stored_header()["settings"]["learning_rate"] == 0.5
    assert len(records) == 5
    afile = tmp_path / "file"
    afile.write_text("")
    with pytest.raises(ValueError, match="is a file"):
        search(SMALL, reward, trials=2, seed=0, out_dir=afile)


def test_failed_children_score_the_failure_reward():
    reward = FailingReward(SMALL, bad_height=1, mode="raise")
    records = search(SMALL, reward, trials=20, seed=2, failure_reward=-0.5, **TINY)
    failed = [r for r in records if r["failed"]]
    assert failed and all(r["reward"] == -0.5 and "MemoryError" in r["error"] for r in failed)
    assert all(Architecture.from_dict(r["arch"]).layers[0].filter_height == 1 for r in failed)
    assert len(failed) < len(records)


@pytest.mark.no_keras_state
def test_bad_arguments():
    with pytest.raises(ValueError, match="trials"):
        search(SPACE, TargetMatchReward(SPACE), trials=0)
    with pytest.raises(ValueError, match="algorithm"):
        search(SPACE, TargetMatchReward(SPACE), trials=1, algorithm="annealing")
    with pytest.raises(ValueError, match="preset"):
        search(SPACE, TargetMatchReward(SPACE), trials=1, preset="fast")
    with pytest.raises(ValueError, match="children_per_update"):
        search(SPACE, TargetMatchReward(SPACE), trials=1, children_per_update=0)


@pytest.mark.no_keras_state
def test_a_line_cut_short_by_a_kill_is_dropped(tmp_path):
    directory = SearchDirectory(tmp_path)
    directory.open({"space": SMALL.get_config()})
    directory.append({"trial": 0, "reward": 0.5})
    with open(tmp_path / "trials.jsonl", "a", encoding="utf-8") as f:
        f.write('{"trial": 1, "rew')
    assert directory.read_records() == [{"trial": 0, "reward": 0.5}]
    assert directory.load_checkpoint() is None
