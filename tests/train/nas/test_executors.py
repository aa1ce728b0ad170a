"""Executors give the same records for the same seed; a child that kills its worker
scores the failure reward. Ray runs on a local runtime the test starts (loopback only)."""

import json
import os

import pytest

from keras_zoo.models.nas import Architecture, SearchSpace
from keras_zoo.train.nas import TargetMatchReward, executors, search
from tests.train.nas.rewards import FailingReward

SPACE = SearchSpace(2, strides=(1, 2))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def _comparable(records):
    return [(r["trial"], json.dumps(r["arch"], sort_keys=True), r["reward"], r["failed"],
             round(r["log_prob"], 4)) for r in records]


@pytest.fixture(scope="module")
def ray_runtime():
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             runtime_env={"env_vars": {"PYTHONPATH": REPO}}, log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.mark.large
def test_executors_give_the_same_records_and_survive_killed_workers(ray_runtime):
    settings = dict(trials=2, seed=3, children_per_update=2, controller_units=8,
                    controller_layers=1, failure_reward=-1.0)
    first = search(SPACE, TargetMatchReward(SPACE, target=1), **settings)
    heights = [Architecture.from_dict(r["arch"]).layers[0].filter_height for r in first]
    assert heights[0] != heights[1]  # so that exactly one child fails
    bad = heights[0]
    # In process the bad child raises MemoryError; in the pool and on Ray it kills its
    # worker with SIGKILL, as the out-of-memory killer would. Every executor must give
    # the same records: the same architectures, rewards and the one failure.
    expected = search(SPACE, FailingReward(SPACE, target=1, bad_height=bad, mode="raise"),
                      **settings)
    killer = FailingReward(SPACE, target=1, bad_height=bad, mode="kill")
    pool = executors.ProcessPoolExecutor(2)
    try:
        pooled = search(SPACE, killer, executor=pool, **settings)
    finally:
        pool.close()
    ray_executor = executors.RayExecutor()
    on_ray = search(SPACE, killer, executor=ray_executor, **settings)
    ray_executor.close()  # the runtime belongs to the fixture: left running
    assert ray_runtime.is_initialized()
    for records in (expected, pooled, on_ray):
        assert _comparable(records) == _comparable(expected)
        failed = [r for r in records if r["failed"]]
        assert len(failed) == 1 and failed[0]["reward"] == -1.0
    assert "MemoryError" in expected[heights.index(bad)]["error"]
    assert "worker process died" in pooled[heights.index(bad)]["error"]
    assert "Ray task" in on_ray[heights.index(bad)]["error"]


@pytest.mark.large
def test_the_default_executor_survives_a_child_that_aborts_its_process():
    settings = dict(trials=2, seed=3, children_per_update=2, controller_units=8,
                    controller_layers=1, failure_reward=-1.0)
    first = search(SPACE, TargetMatchReward(SPACE, target=1), **settings)
    heights = [Architecture.from_dict(r["arch"]).layers[0].filter_height for r in first]
    bad = heights[1]
    assert heights[0] != bad  # the first child trains, the second aborts
    executor = executors.get()  # keras-zoo search's default: one worker process
    try:
        records = search(SPACE, FailingReward(SPACE, target=1, bad_height=bad, mode="abort"),
                         executor=executor, **settings)
    finally:
        executor.close()
    # Each aborting child killed its worker twice (the retry), scored the failure
    # reward, and the search went on: the others have the rewards of an in-process run.
    for record, height, expected in zip(records, heights, first):
        assert record["failed"] == (height == bad)
        assert record["reward"] == (-1.0 if height == bad else expected["reward"])
        if height == bad:
            assert "worker process died" in record["error"]


@pytest.mark.no_keras_state
def test_get_and_bad_arguments():
    default = executors.get()
    assert isinstance(default, executors.ProcessPoolExecutor) and default.workers == 1
    assert isinstance(executors.get("in-process"), executors.InProcessExecutor)
    assert executors.get("pool", workers=3).workers == 3
    assert executors.get("ray", address="auto").address == "auto"
    with pytest.raises(ValueError, match="executor"):
        executors.get("dask")
    with pytest.raises(ValueError, match="--workers only"):
        executors.get("in-process", workers=2)
    with pytest.raises(ValueError, match="workers"):
        executors.ProcessPoolExecutor(0)


@pytest.mark.no_keras_state
def test_run_child_reports_failures_and_extras():
    def raises(arch):
        raise RuntimeError("boom")

    result = executors.run_child(raises, None)
    assert result["failed"] and result["reward"] is None and "RuntimeError: boom" in result["error"]
    assert executors.run_child(lambda a: float("nan"), None)["failed"]
    assert executors.run_child(lambda a: {"reward": 0.5, "seconds": 1}, None)["failed"]
    ok = executors.run_child(lambda a: {"reward": 0.5, "val_accuracy": 0.5}, None)
    assert ok["reward"] == 0.5 and ok["val_accuracy"] == 0.5 and not ok["failed"]
    assert ok["seconds"] >= 0
