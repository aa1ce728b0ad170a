"""`bench/chaos.py`'s short version: a tiny training run killed with SIGKILL at 3 random
moments, each followed by the same command, ends with the weights of a run that was never
killed, each epoch logged once, and nothing left behind."""

import json
import os
import subprocess
import sys

import pytest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "chaos.py")


@pytest.mark.large
def test_three_kills_of_a_tiny_run(tmp_path):
    result = subprocess.run([sys.executable, SCRIPT, "--workloads", "train", "--kills", "3",
                             "--tiny", "--seed", "1", "--keep", str(tmp_path)],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    (record,) = [json.loads(line) for line in result.stdout.splitlines()
                 if line.startswith("{")]
    assert record["kills"] == record["resumed"] == 3 and record["runs"] >= 1, record
    assert record["weights_match"] and record["max_weight_difference"] <= record["tolerance"]
    assert record["epochs_logged_once"] and record["finished"], record
    assert record["left_behind"] == [], record
