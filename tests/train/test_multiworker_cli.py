"""`keras-zoo train --strategy multiworker --workers ... --task-index I`: two
worker processes of the quick-start (tiny), each given its own run directory, train
the same model; only the chief writes the run."""

import json
import os
import re
import subprocess
import sys

import pytest

from keras_zoo import fault_points
from tests.train.test_multiworker import _free_ports, communicate

KERAS_ZOO = os.path.join(os.path.dirname(sys.executable), "keras-zoo")
TRAINED = re.compile(r"^\d+/\d+ - .*loss: ", re.M)  # the chief's progress line of an epoch


def _start_workers(tmp_path, chief_abort_at=None):
    """The tiny quick-start on two workers, each with its own --out ``tmp_path/worker<i>``;
    `chief_abort_at`: the chief ends itself there as a kill -9 would (`fault_points`)."""
    workers = _free_ports(2)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    chief_env = {**env, fault_points.ENVIRONMENT_VARIABLE: chief_abort_at or ""}
    return [subprocess.Popen([KERAS_ZOO, "train", "--tiny", "--strategy", "multiworker",
                              "--workers", workers, "--task-index", str(i),
                              "--out", str(tmp_path / f"worker{i}")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             env=chief_env if i == 0 else env)
            for i in range(2)]


@pytest.mark.large
def test_cli_multiworker_quickstart(tmp_path):
    """Killed once training is done (the chief by SIGKILL, the other worker then, waiting
    for it): the same commands skip training on both workers and the chief evaluates."""
    procs = _start_workers(tmp_path, chief_abort_at="training-done")
    chief_output = procs[0].communicate(timeout=400)[0].decode(errors="replace")
    assert procs[0].returncode == fault_points.EXIT_STATUS, chief_output[-3000:]
    procs[1].kill()
    procs[1].wait()
    assert TRAINED.search(chief_output)
    assert json.loads((tmp_path / "worker0" / "status.json").read_text())["phase"] == (
        "evaluating")
    procs = _start_workers(tmp_path)
    outputs = communicate(procs, 400)
    for p, output in zip(procs, outputs):
        assert p.returncode == 0, output[-3000:]
        assert not TRAINED.search(output)  # never a new training, on either worker
    assert "epochs are trained; evaluating again" in outputs[0]
    # The chief evaluates the final weights and prints the test metrics; the other worker
    # says who did (it waited for the chief to finish before it exited).
    assert set(dict(re.findall(r"^test (\w+): ([0-9.]+)$", outputs[0], re.M))) == {
        "accuracy", "loss"}
    assert "test: evaluated by the chief (worker 0)" in outputs[1]
    assert "Run directory: written by the chief (worker 0)" in outputs[1]
    chief = tmp_path / "worker0"
    assert (chief / "saved_model" / "1" / "saved_model.pb").is_file()
    assert json.loads((chief / "status.json").read_text())["state"] == "finished"
    assert not (chief / "backup").exists()  # deleted when the run finished
    assert not (tmp_path / "worker1").exists()  # the other worker writes no run files


def test_workers_need_the_multiworker_strategy(tmp_path):
    from keras_zoo.train.cli import main

    assert main(["train", "--tiny", "--workers", "127.0.0.1:1,127.0.0.1:2",
                 "--out", str(tmp_path / "r")]) == 2
    assert not (tmp_path / "r").exists()


@pytest.mark.large
def test_a_refused_out_stops_every_worker(tmp_path):
    """The chief's --out holds a finished run: the chief refuses it, and the other worker
    (whose own --out is empty) is told so and exits too, instead of waiting forever in
    the first all-reduce."""
    chief = tmp_path / "worker0"
    chief.mkdir()
    (chief / "status.json").write_text(json.dumps({"state": "finished", "keras_zoo_run": 1}))
    (chief / "config.json").write_text("{}")
    procs = _start_workers(tmp_path)
    outputs = communicate(procs, 300)
    assert [p.returncode for p in procs] == [2, 2], [o[-2000:] for o in outputs]
    assert "holds a run with other settings" in outputs[0]
    assert "Expected the chief (worker 0) to accept --out" in outputs[1]
    assert sorted(os.listdir(chief)) == ["config.json", "status.json"]
    assert not (tmp_path / "worker1").exists()
