"""`keras-zoo train` with no arguments: ResNet-20 on the digits, >= 95% test accuracy."""

import json
import re
import time

import pytest

from tests.train.run_helpers import keras_zoo


@pytest.mark.large
def test_quickstart_reaches_95_percent(tmp_path):
    start = time.monotonic()
    result = keras_zoo("train", cwd=tmp_path)
    seconds = time.monotonic() - start
    assert result.returncode == 0, result.stderr
    run_dir = re.search(r"^Run directory: (\S+)", result.stdout, re.M).group(1)
    assert re.fullmatch(r"runs/resnet20-\d{8}-\d{6}", run_dir)  # under the working directory
    accuracy = float(re.search(r"^test accuracy: ([0-9.]+)$", result.stdout, re.M).group(1))
    assert accuracy >= 0.95, (accuracy, seconds)
    run = tmp_path / run_dir
    assert (run / "saved_model" / "1" / "saved_model.pb").exists()
    assert (run / "checkpoints" / "last.keras").exists()
    status = json.loads((run / "status.json").read_text())
    assert status["state"] == "finished" and status["epochs"] == 10
    print(f"quick-start: test accuracy {accuracy:.4f} in {seconds:.0f} s")
