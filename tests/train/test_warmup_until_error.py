"""ResNet-110's warm-up as He et al. 2015 state it (Sec. 4.2): lr 0.01 until the
training error is below 80%, then 0.1; the switch survives a resume; lr.csv logs it."""

import csv

import keras
import numpy as np
import pytest

from keras_zoo.train import recipes
from keras_zoo.train.callbacks import BackupAndRestore, LearningRateLog, WarmupUntilError
from keras_zoo.train.optimizers import L2SGD
from keras_zoo.train.schedules import StepSchedule

CLASSES, BATCH = 10, 10
CAP = 25  # the warm-up's cap (the paper's "about 400 iterations", scaled down)


def _data(learnable, epochs_of=10):
    """`epochs_of` batches of 10 images, each batch one image of every class (so a
    constant prediction scores exactly 1 in 10). Learnable: the image is its class's
    one-hot pattern plus noise; else all zeros (the error stays at 90%)."""
    y = np.tile(np.arange(CLASSES), epochs_of).astype("int32")
    x = np.zeros((len(y), CLASSES), "float32")
    if learnable:
        x = np.eye(CLASSES, dtype="float32")[y] + np.random.default_rng(0).normal(
            0, 1.5, x.shape).astype("float32")
    return x, y


def _model(metrics=("accuracy",)):
    # Zero kernel and bias: every image starts at the uniform prediction, error 90%.
    model = keras.Sequential([keras.Input((CLASSES,)), keras.layers.Dense(
        CLASSES, activation="softmax", kernel_initializer="zeros")])
    schedule = StepSchedule([60], [0.1, 0.001], warmup_steps=CAP, warmup_value=0.01)
    model.compile(optimizer=L2SGD(schedule, momentum=0.9, l2=1e-4),
                  loss="sparse_categorical_crossentropy", metrics=list(metrics))
    return model


def _log(path):
    with open(path, newline="") as f:
        return [(int(r["step"]), r["learning_rate"], float(r["train_error"]))
                for r in csv.DictReader(f)]


def _warmup_end(model):
    return int(next(v for v in model.optimizer.variables if v.name == "warmup_end").numpy())


def _first_below(log, error, min_batches):
    """The first step whose running error covers `min_batches` batches of its epoch (10
    batches each) and is below `error`, or None."""
    return next((step for step, _, e in log if step % 10 + 1 >= min_batches and e < error),
                None)


@pytest.mark.parametrize("learnable, min_batches", [(True, 1), (True, 4), (False, 4)])
def test_warm_up_ends_at_the_first_update_below_80_percent_error_or_at_the_cap(
        tmp_path, learnable, min_batches):
    x, y = _data(learnable)
    model = _model()
    model.fit(x, y, batch_size=BATCH, epochs=5, shuffle=False, verbose=0,
              callbacks=[WarmupUntilError(0.8, min_batches=min_batches),
                         LearningRateLog(tmp_path / "lr.csv")])
    log = _log(tmp_path / "lr.csv")
    assert [step for step, _, _ in log] == list(range(50))
    below = _first_below(log, 0.8, min_batches)
    # The update after the first counted error below 80% is the first at 0.1; with the
    # error stuck at 90% the warm-up lasts the CAP updates.
    switch = below + 1 if learnable else CAP
    if learnable:
        assert 2 <= switch < CAP  # the error crossed 80% during the warm-up, not at once
        if min_batches > 1:  # this run has an earlier crossing on too few batches, ignored
            assert _first_below(log, 0.8, 1) < below
    else:
        # 1 - 1/10 from float32 accuracies, printed with 6 digits.
        assert [error for _, _, error in log] == pytest.approx([0.9] * 50, abs=1e-6)
    assert _warmup_end(model) == switch
    # Rates are stored values selected by the schedule, printed with 6 digits: exact.
    assert [rate for _, rate, _ in log] == ["0.01"] * switch + ["0.1"] * (50 - switch)


class _Stop(keras.callbacks.Callback):
    """A crash at the start of epoch `epoch` (0-based), after that epoch's backup."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_the_switch_survives_a_resume_and_a_checkpoint(tmp_path):
    x, y = _data(learnable=True)
    backup, path = tmp_path / "backup", tmp_path / "lr.csv"

    def fit(model, *extra):
        model.fit(x, y, batch_size=BATCH, epochs=5, shuffle=False, verbose=0,
                  callbacks=[BackupAndRestore(backup), WarmupUntilError(0.8),
                             LearningRateLog(path), *extra])

    first = _model()
    with pytest.raises(KeyboardInterrupt):
        fit(first, _Stop(3))  # killed after 3 epochs, 30 updates: past the switch
    switch = _warmup_end(first)
    assert switch < 30 and len(_log(path)) == 30
    logged = _log(path)

    resumed = _model()  # a new process: a fresh schedule, its warm-up end at the cap again
    assert _warmup_end(resumed) == CAP
    fit(resumed)
    assert _warmup_end(resumed) == switch  # restored, and the warm-up did not start again
    log = _log(path)
    assert [step for step, _, _ in log] == list(range(50))  # each step once
    assert log[:30] == logged
    assert [rate for _, rate, _ in log[30:]] == ["0.1"] * 20

    resumed.save(tmp_path / "last.keras")
    assert _warmup_end(keras.saving.load_model(tmp_path / "last.keras")) == switch


def test_the_recipe_ends_resnet110s_warm_up_below_80_percent_error():
    cifar = recipes.get("resnet_cifar")
    config = cifar.get_config("resnet110")
    (callback,) = cifar.callbacks(config, has_validation=False)
    assert (type(callback), callback.error, config["warmup_steps"]) == (WarmupUntilError, 0.8, 400)
    assert cifar.callbacks(cifar.get_config("resnet20"), has_validation=False) == []


def test_warmup_until_error_needs_a_warm_up_variable_and_an_accuracy():
    x, y = _data(learnable=True, epochs_of=1)
    model = keras.Sequential([keras.Input((CLASSES,)), keras.layers.Dense(CLASSES)])
    model.compile(optimizer=L2SGD(StepSchedule([5], [0.1, 0.01])), metrics=["accuracy"],
                  loss="sparse_categorical_crossentropy")  # no warm-up
    with pytest.raises(ValueError, match="warmup_steps > 0"):
        model.fit(x, y, verbose=0, callbacks=[WarmupUntilError(0.8)])
    with pytest.raises(ValueError, match="metric 'accuracy'"):
        _model(metrics=()).fit(x, y, verbose=0, callbacks=[WarmupUntilError(0.8)])
    with pytest.raises(ValueError, match="0 < error <= 1"):
        WarmupUntilError(1.5)
