"""`bench/degradation.py` runs from an install: one epoch of plain-20 and ResNet-20 on the
shipped digits writes the curves, the test errors and the picture; a rerun with the same
settings trains nothing again."""

import csv
import json
import os
import subprocess
import sys

import pytest
from PIL import Image

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "bench", "degradation.py")


def _run(out):
    return subprocess.run([sys.executable, SCRIPT, "--depths", "20", "--epochs", "1",
                           "--seeds", "0", "--out", str(out)],
                          capture_output=True, text=True, timeout=600)


@pytest.mark.large
def test_one_epoch_writes_curves_errors_and_picture(tmp_path):
    out = tmp_path / "degradation"
    result = _run(out)
    assert result.returncode == 0, result.stderr[-2000:]
    with open(out / "curves.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["net"] for r in rows) == ["ResNet-20", "plain-20"]
    assert all(0 <= float(r["train_error"]) <= 1 and 0 <= float(r["val_error"]) <= 1
               for r in rows)
    errors = json.loads((out / "test_errors.json").read_text())
    assert set(errors) == {"ResNet-20", "plain-20"} and all(set(e) == {"0"} for e in
                                                              errors.values())
    with Image.open(out / "degradation.png") as picture:
        assert picture.format == "PNG" and picture.width > picture.height
    summaries = [json.loads(line) for line in result.stdout.splitlines()
                 if line.startswith("{") and '"degradation_summary"' in line]
    assert {s["net"] for s in summaries} == {"ResNet-20", "plain-20"}

    before = (out / "curves.csv").read_text()
    again = _run(out)  # every net of these settings is in curves.csv: nothing is retrained
    assert again.returncode == 0, again.stderr[-2000:]
    assert (out / "curves.csv").read_text() == before
