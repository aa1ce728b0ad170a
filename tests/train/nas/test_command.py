"""``keras-zoo search`` as a user runs it: a tiny search end to end, its resume, --retrain,
and the bad-input paths (one line on stderr, exit status 2)."""

import json
import os

import numpy as np
import pytest
import tensorflow as tf

from keras_zoo import fault_points
from keras_zoo.models.nas import Architecture
from keras_zoo.train import cli
from tests.train.run_helpers import cli_stderr_lines, keras_zoo

TINY = ["--trials", "2", "--child-epochs", "1", "--layers", "1", "--children-per-update", "2",
        "--retrain-epochs", "1", "--child-batch-size", "128"]


@pytest.mark.large
def test_search_end_to_end(tmp_path):
    out = tmp_path / "search"
    # Killed (as by SIGKILL) once the best child's retrain has saved its model: the same
    # command runs neither the search nor the retrain again, only the test and the export.
    killed = keras_zoo("search", *TINY, "--out", out, cwd=tmp_path,
                       env={**os.environ, fault_points.ENVIRONMENT_VARIABLE: "retrain-trained"})
    assert killed.returncode == fault_points.EXIT_STATUS, killed.stderr[-3000:]
    assert "Retraining on train + validation" in killed.stdout
    assert not (out / "best" / "result.json").exists()
    trials = (out / "trials.jsonl").read_text()
    done = keras_zoo("search", *TINY, "--out", out, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "test accuracy of the retrained best child" in done.stdout
    assert "Retraining" not in done.stdout and (out / "trials.jsonl").read_text() == trials
    records = [json.loads(line) for line in (out / "trials.jsonl").read_text().splitlines()]
    assert [r["trial"] for r in records] == [0, 1]
    assert all(0 <= r["val_accuracy"] <= 1 and r["reward"] == r["val_accuracy"] for r in records)
    best = max(records, key=lambda r: r["reward"])
    arch = Architecture.from_json((out / "best_arch.json").read_text())
    assert arch == Architecture.from_dict(best["arch"])
    result = json.loads((out / "best" / "result.json").read_text())
    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_accuracy"] == result["test_accuracy"]
    assert summary["best_trial"] == best["trial"]
    assert (out / "reward_curve.png").stat().st_size > 0
    served = tf.saved_model.load(str(out / "best" / "saved_model" / "1"))
    images = np.zeros((2, 32, 32, 1), np.uint8)
    probabilities = served.signatures["serving_default"](images=tf.constant(images))
    np.testing.assert_allclose(probabilities["probabilities"].numpy().sum(-1), 1.0, rtol=1e-5)
    # The same command on the finished search trains nothing and reports the same result.
    again = cli.main(["search", *TINY, "--out", str(out)])
    assert again == 0
    assert len((out / "trials.jsonl").read_text().splitlines()) == 2
    # --retrain: the chosen architecture alone, into its own directory.
    retrained = tmp_path / "retrained"
    assert cli.main(["search", "--retrain", str(out / "best_arch.json"), "--retrain-epochs",
                     "1", "--child-batch-size", "128", "--out", str(retrained)]) == 0
    assert json.loads((retrained / "result.json").read_text())["arch"] == arch.to_dict()
    assert os.path.exists(retrained / "model.keras")


@pytest.mark.large
def test_bad_inputs_print_one_line(tmp_path, capsys):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    done = keras_zoo("search", *TINY, "--out", foreign, cwd=tmp_path)
    assert done.returncode == 2
    assert cli_stderr_lines(done.stderr) == [
        f"keras-zoo search: error: Expected out_dir to be new, empty or a keras_zoo search "
        f"directory (with search.json). Received: {str(foreign)!r} holds other files; choose "
        f"another directory"]
    assert os.listdir(foreign) == ["notes.txt"]
    for argv, message in [
            (["--retrain", str(tmp_path / "missing.json")], "does not exist"),
            (["--strides", "1,x"], "Expected --strides"),
            (["--trials", "0"], "Expected --trials >= 1"),
            (["--executor", "in-process", "--workers", "2"],
             "--workers only with --executor pool or ray"),
            (["--dataset", "digits", "--data-dir", str(tmp_path)], "no data_dir")]:
        assert cli.main(["search", *argv, "--out", str(tmp_path / "new")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and message in err[0], err
