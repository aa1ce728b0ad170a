"""Mask R-CNN tiny across two loopback workers on a COCO-format folder of images of mixed
sizes (landscape and portrait, padded batches), with synchronised batch normalisation:
``keras-zoo train mask-rcnn-tiny --strategy multiworker`` killed after the chief's first
backup and restarted with the same command ends with the weights of one uninterrupted
process training on the same global batches; the chief alone evaluates on COCO and
writes the run."""

import csv
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from keras_zoo.train import multiworker, run
from tests.train.coco_files import mixed_sizes_document, write_coco
from tests.train.test_multiworker import _free_ports, communicate

KERAS_ZOO = os.path.join(os.path.dirname(sys.executable), "keras-zoo")
EPOCHS, STEPS_PER_EPOCH = 2, 1
SETTINGS = {"steps_per_epoch": STEPS_PER_EPOCH, "eval_images": 2, "pictures": 0,
            "validation_loss": False, "min_size": 64, "max_size": 96}
# Each replica runs the same ops on the same tensors in the workers and in the reference
# (one image per replica, padded to the whole global batch's size; every all-reduce sums
# two addends); still the two processes' first updates differ by float32 round-off
# (measured 6e-8, ulps of weights |w| < 4), and the untrained detector amplifies it: its
# RPN ranks near-tied proposal scores (within 1e-6), so the second step's gradients differ
# by more than their inputs (measured 2.3e-6 after 2 steps, in BN moving variances ~1.7).
# Four steps in, near-ties reorder and whole RoIs differ (measured 3e-3), hence 2 steps.
# A replayed or skipped batch would differ by the update itself (> 1e-3, `moved`). Both
# runs are deterministic (each measured bitwise equal to itself when repeated).
WEIGHT_ATOL = 1e-5


@pytest.fixture(scope="module")
def coco(tmp_path_factory):
    root = tmp_path_factory.mktemp("coco")
    write_coco(str(root), mixed_sizes_document(8), "train")
    write_coco(str(root), mixed_sizes_document(4, seed=1), "val")
    return root


def _config(coco):
    return run.make_config("mask-rcnn-tiny", dataset="coco", data_dir=str(coco),
                           epochs=EPOCHS, tiny=True, sync_bn=True, overrides=SETTINGS)


def _reference(coco, strategy):
    """One process with 2 replicas (the logical CPUs of tests/conftest.py), built and
    trained as `run.train` does, uninterrupted."""
    entry, chosen, config = _config(coco)
    data = chosen.load_data(config)
    config.update(chosen.config_from_data(data))
    keras.utils.set_random_seed(config["seed"])
    inputs = chosen.make_datasets(data, config)
    with strategy.scope():
        net = chosen.build_model(entry.builder, data, config)
        chosen.compile_model(net, config, steps_per_epoch=STEPS_PER_EPOCH, jit_compile=False)
    initial = {v.path: np.asarray(v) for v in net.weights}
    multiworker.fit_distributed(net, inputs.examples, strategy=strategy, epochs=EPOCHS,
                                steps_per_epoch=STEPS_PER_EPOCH, verbose=0)
    assert int(net.optimizer.iterations.numpy()) == EPOCHS * STEPS_PER_EPOCH
    return net, initial


def _start(coco, out, workers):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    env.pop("TF_CONFIG", None)
    settings = [arg for key, value in SETTINGS.items()
                for arg in ("--set", f"{key}={json.dumps(value)}")]
    return [subprocess.Popen(
        [KERAS_ZOO, "train", "mask-rcnn-tiny", "--dataset", "coco", "--data-dir", str(coco),
         "--tiny", "--sync-bn", "--epochs", str(EPOCHS), *settings, "--strategy", "multiworker",
         "--workers", workers, "--task-index", str(i), "--out", str(out / f"worker{i}")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env) for i in range(2)]


@pytest.mark.large
def test_killed_workers_resume_to_the_weights_of_one_process(coco, tmp_path, mirrored_strategy):
    procs = _start(coco, tmp_path, _free_ports(2))
    latest = tmp_path / "worker0" / "backup" / "checkpoint"  # after step 1 of 2
    deadline = time.time() + 240
    while not latest.exists():
        if time.time() > deadline or any(p.poll() is not None for p in procs):
            outputs = communicate(procs, 1)
            raise AssertionError(f"no backup: {[o[-2000:] for o in outputs]}")
        time.sleep(0.2)
    # Both die in the chief's end-of-epoch work (COCO evaluation), worker 1 waiting for it
    # in step 2's all-reduce: the backup is complete, step 2 is not.
    for p in procs:
        p.send_signal(signal.SIGKILL)
        p.wait()
    procs = _start(coco, tmp_path, _free_ports(2))
    outputs = communicate(procs, 300)
    assert [p.returncode for p in procs] == [0, 0], [o[-3000:] for o in outputs]
    assert f"Resuming {tmp_path / 'worker0'} at epoch 2 of 2" in outputs[0]
    assert "val: evaluated by the chief (worker 0)" in outputs[1]

    chief = tmp_path / "worker0"
    trained = {v.path: np.asarray(v) for v in keras.saving.load_model(
        chief / "checkpoints" / "last.keras").weights}
    reference, initial = _reference(coco, mirrored_strategy)
    assert len(trained) == len(reference.weights) == len(initial)
    moved = 0.0
    for variable in reference.weights:
        want = np.asarray(variable)
        np.testing.assert_allclose(trained[variable.path], want, atol=WEIGHT_ATOL, rtol=0,
                                   err_msg=variable.path)
        moved = max(moved, float(np.abs(want - initial[variable.path]).max()))
    assert moved > 100 * WEIGHT_ATOL  # the two steps moved the weights: not a vacuous check
    with open(chief / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    # COCO AP of the val split, by the chief, in its log (the last epoch evaluates).
    assert rows[-1]["epoch"] == "1" and float(rows[-1]["val_segm_AP"]) >= 0
    assert (chief / "evaluation" / "val" / "metrics.json").is_file()
    assert not (tmp_path / "worker1").exists()  # the other worker writes no run files
    assert not (chief / "backup").exists()
