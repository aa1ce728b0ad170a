"""The workers' rendezvous before TensorFlow starts: every worker up and running the same
configuration, or one line that names the one that is not, within the timeout."""

import os
import subprocess
import sys
import threading
import time

import pytest

from keras_zoo.train import cluster
from keras_zoo.train.rendezvous import WorkersUnavailable, rendezvous
from tests.train.test_multiworker import _free_ports, communicate

KERAS_ZOO = os.path.join(os.path.dirname(sys.executable), "keras-zoo")


def _together(workers, configs, timeout=20):
    """`rendezvous` of each worker in its own thread; each one's exception (or None)."""
    errors = [None] * len(configs)

    def one(index):
        try:
            rendezvous(workers, index, configs[index], timeout=timeout)
        except (ValueError, OSError) as error:
            errors[index] = error

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(configs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_workers_with_one_configuration_meet():
    workers = _free_ports(3).split(",")
    assert _together(workers, [{"seed": 0, "batch_size": 2}] * 3) == [None] * 3


def test_a_worker_with_another_configuration_is_named_by_every_other():
    workers = _free_ports(2).split(",")
    errors = _together(workers, [{"seed": 0, "model": "m"}, {"seed": 1, "model": "m"}])
    assert all(isinstance(e, ValueError) for e in errors)
    assert str(errors[0]) == (f"Expected every worker to run the same configuration. Received: "
                              f"worker 1 ({workers[1]}) has seed=1 (this worker: 0)")
    assert f"worker 0 ({workers[0]}) has seed=0 (this worker: 1)" in str(errors[1])


def test_a_worker_that_never_comes_up_is_named_within_the_timeout():
    workers = _free_ports(3).split(",")
    start = time.monotonic()
    errors = _together(workers, [{}, {}], timeout=1.5)  # workers 0 and 1 start, 2 does not
    assert time.monotonic() - start < 10
    for error in errors:
        assert isinstance(error, WorkersUnavailable)
        assert str(error) == ("Expected all 3 workers of --workers to start within 1.5 s "
                              "(--worker-timeout). Received: no answer from worker 2 "
                              f"({workers[2]})")


def test_tf_config_is_read_with_a_chief():
    os.environ["TF_CONFIG"] = ('{"cluster": {"chief": ["a:1"], "worker": ["b:2", "c:3"]}, '
                               '"task": {"type": "worker", "index": 1}}')
    try:
        assert cluster.cluster_from_environment() == (["a:1", "b:2", "c:3"], 2)
    finally:
        del os.environ["TF_CONFIG"]
    with pytest.raises(ValueError, match="Expected a distinct host:port per worker"):
        cluster.tf_config("h:1,h:1", 0)


def _train(workers, index, *extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    return subprocess.Popen([KERAS_ZOO, "train", "--tiny", "--strategy", "multiworker",
                             "--workers", workers, "--task-index", str(index), *map(str, extra)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)


@pytest.mark.large
def test_cli_workers_fail_in_one_line_instead_of_waiting(tmp_path):
    """A worker whose peer never starts, and two workers started with other settings: each
    exits 2 with one line, before TensorFlow starts (nothing hangs, nothing is written)."""
    alone = _free_ports(2)
    lonely = _train(alone, 0, "--out", tmp_path / "alone", "--worker-timeout", 3)
    workers = _free_ports(2)
    pair = [_train(workers, i, "--out", tmp_path / f"w{i}", "--seed", i) for i in range(2)]
    outputs = communicate([lonely, *pair], 120)
    assert [p.returncode for p in (lonely, *pair)] == [2, 2, 2], outputs
    lines = [o.strip().splitlines()[-1] for o in outputs]
    assert lines[0] == (f"keras-zoo train: error: Expected all 2 workers of --workers to start "
                        f"within 3 s (--worker-timeout). Received: no answer from worker 1 "
                        f"({alone.split(',')[1]})")
    assert lines[1].startswith("keras-zoo train: error: Expected every worker to run the same "
                               f"configuration. Received: worker 1 ({workers.split(',')[1]}) "
                               f"has seed=1 (this worker: 0)")
    assert "has seed=0 (this worker: 1)" in lines[2]
    assert not os.listdir(tmp_path)
