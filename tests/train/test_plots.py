"""Charts with matplotlib: the reward curve, `keras-zoo plot` of a run's log.csv and lr.csv,
and their refusals."""

import math

import numpy as np
import pytest
from PIL import Image

from keras_zoo.train import run_plots
from keras_zoo.train.nas.reward_curve import best_so_far, plot_reward_curve
from tests.train.run_helpers import cli_stderr_lines, keras_zoo

pytestmark = pytest.mark.no_keras_state


def test_reward_curve_draws_rewards_baseline_and_running_best(tmp_path):
    records = [{"reward": r, "baseline": None if i == 0 else 0.5, "failed": i == 3}
               for i, r in enumerate([0.2, 0.6, 0.4, 0.9, 0.5, 0.7])]
    assert best_so_far(records) == [0.2, 0.6, 0.6, 0.6, 0.6, 0.7]  # trial 4 failed
    fig = plot_reward_curve(records, tmp_path / "curve.png")
    (ax,) = fig.axes
    baseline, best = ax.lines
    np.testing.assert_array_equal(baseline.get_xdata(), [2, 3, 4, 5, 6])  # trials from 1
    np.testing.assert_array_equal(best.get_ydata(), [0.2, 0.6, 0.6, 0.6, 0.6, 0.7])
    dots = ax.collections[0]
    np.testing.assert_array_equal(dots.get_offsets()[:, 1], [0.2, 0.6, 0.4, 0.9, 0.5, 0.7])
    red = dots.get_facecolors()[3]
    assert red[0] > 0.8 and red[1] < 0.3  # the failed child's dot is red
    with Image.open(tmp_path / "curve.png") as image:
        assert image.format == "PNG" and image.size == (640, 400)


def _run_dir(tmp_path, *, detector=False):
    run = tmp_path / "run"
    run.mkdir()
    if detector:  # COCO AP after the first and the last epoch only
        (run / "log.csv").write_text(
            "epoch,loss,mask_loss,val_loss,val_mask_loss,val_bbox_AP\n"
            "0,2.0,0.7,2.2,0.71,0.12\n1,1.5,0.6,1.8,0.62,NA\n2,1.1,0.5,1.4,0.55,0.31\n")
    else:
        (run / "log.csv").write_text(
            "epoch,accuracy,loss,val_accuracy,val_loss\n0,0.5,1.2,0.55,1.1\n1,0.8,0.6,0.75,0.7\n")
        (run / "lr.csv").write_text("step,learning_rate,train_error\n"
                                    + "".join(f"{s},{0.1 if s < 5 else 0.0005},0.5\n"
                                              for s in range(1, 9)))
    return run


def test_panels_pair_each_quantity_with_its_validation_twin(tmp_path):
    columns = run_plots.read_csv_columns(_run_dir(tmp_path, detector=True) / "log.csv")
    assert math.isnan(columns["val_bbox_AP"][1])  # "NA": no evaluation that epoch
    assert run_plots.panels(columns) == [("loss", ["loss", "val_loss"]),
                                         ("mask_loss", ["mask_loss", "val_mask_loss"]),
                                         ("bbox_AP", ["val_bbox_AP"])]


def test_plot_run_draws_every_panel_and_the_learning_rate(tmp_path):
    run = _run_dir(tmp_path)
    loss, accuracy, rate = run_plots.draw_run(str(run)).axes
    assert (loss.get_title(), accuracy.get_title(), rate.get_title()) == (
        "loss", "accuracy", "learning rate")
    training, validation = loss.lines
    np.testing.assert_array_equal(training.get_xdata(), [1, 2])  # epochs from 1
    np.testing.assert_array_equal(validation.get_ydata(), [1.1, 0.7])
    assert rate.get_yscale() == "log"  # 0.1 then 0.0005: a factor of 200
    path = run_plots.plot_run(str(run))
    assert path == str(run / "plots" / "curves.png")
    with Image.open(path) as image:
        assert image.format == "PNG"


@pytest.mark.large
def test_keras_zoo_plot_command(tmp_path):
    run = _run_dir(tmp_path, detector=True)
    result = keras_zoo("plot", run, "--out", tmp_path / "curves.png", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"Plotted: {tmp_path / 'curves.png'}" in result.stdout
    assert (tmp_path / "curves.png").stat().st_size > 0
    missing = keras_zoo("plot", tmp_path / "nowhere", cwd=tmp_path)
    assert missing.returncode == 2 and cli_stderr_lines(missing.stderr) == [
        f"keras-zoo plot: error: Expected a keras-zoo run directory. Received: "
        f"{str(tmp_path / 'nowhere')!r} does not exist"]
