"""`keras-zoo train --strategy multiworker --workers ... --task-index I`: two
worker processes of the quick-start (tiny), each given its own run directory, train
the same model; only the chief writes the run."""

import json
import os
import re
import subprocess
import sys

import pytest

from tests.train.test_multiworker import _free_ports

KERAS_ZOO = os.path.join(os.path.dirname(sys.executable), "keras-zoo")


def _start_workers(tmp_path):
    """The tiny quick-start on two workers, each with its own --out ``tmp_path/worker<i>``."""
    workers = _free_ports(2)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    return [subprocess.Popen([KERAS_ZOO, "train", "--tiny", "--strategy", "multiworker",
                              "--workers", workers, "--task-index", str(i),
                              "--out", str(tmp_path / f"worker{i}")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
            for i in range(2)]


@pytest.mark.large
def test_cli_multiworker_quickstart(tmp_path):
    procs = _start_workers(tmp_path)
    tests = []
    for p in procs:
        output = p.communicate(timeout=400)[0].decode(errors="replace")
        assert p.returncode == 0, output[-3000:]
        tests.append(dict(re.findall(r"^test (\w+): ([0-9.]+)$", output, re.M)))
    # Both workers evaluate the same final weights on the same test images: the same
    # accuracy (a count) and loss (printed to 4 decimals; float32 round-off is ~1e-7).
    assert set(tests[0]) == {"accuracy", "loss"} and tests[0]["accuracy"] == tests[1]["accuracy"]
    assert abs(float(tests[0]["loss"]) - float(tests[1]["loss"])) <= 1e-4
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
    outputs = [p.communicate(timeout=300)[0].decode(errors="replace") for p in procs]
    assert [p.returncode for p in procs] == [2, 2], [o[-2000:] for o in outputs]
    assert "holds a run with other settings" in outputs[0]
    assert "Expected the chief (worker 0) to accept --out" in outputs[1]
    assert sorted(os.listdir(chief)) == ["config.json", "status.json"]
    assert not (tmp_path / "worker1").exists()
