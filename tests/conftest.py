"""Test-wide settings: quiet TensorFlow, seeded Keras, two logical CPU devices so
MirroredStrategy tests run on one CPU, and the CPU in the session header."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])


@pytest.fixture(scope="session")
def mirrored_strategy():
    """The one MirroredStrategy over the 2 logical CPUs for the whole test process.

    A second MirroredStrategy in one process numbers its collective ops from the
    same key and its all-reduce fails ("Shape mismatch in the collective instance
    100"), so every test shares the strategy `keras-zoo train --strategy mirrored`
    would use.
    """
    from keras_zoo.train import strategies

    strategy = strategies.get_strategy("mirrored")
    assert strategy.num_replicas_in_sync == 2
    return strategy


def pytest_report_header(config):
    """The CPU and its vector extensions: float rounding of oneDNN kernels and speed
    differ between AVX2-only and AVX-512 machines, so a report says which ran it."""
    from keras_zoo.train import cpu

    return f"cpu: {cpu.describe()}"


def pytest_terminal_summary(terminalreporter):
    """The CPU again after the results: `pytest -q` leaves out the session header."""
    if terminalreporter.verbosity < 0:
        terminalreporter.write_line(pytest_report_header(terminalreporter.config))


@pytest.fixture(autouse=True)
def _seeded_and_clean(request):
    """Seeds every test; clears the Keras session after it, except for tests marked
    `no_keras_state` (pure TF ops, data code: nothing to clear, and
    `clear_session()` costs 0.5-1 s per test on a busy 2-core machine)."""
    keras.utils.set_random_seed(1234)
    yield
    if request.node.get_closest_marker("no_keras_state") is None:
        keras.backend.clear_session()

# The files that take a minute or more on 2 cores (`pytest --durations`, December 2026),
# longest first. They are scheduled before the others, so that `-n 2 --dist loadfile`
# (each worker takes whole files) does not end with one worker alone on a long file while
# the other idles: the longest-first rule of scheduling. A file not listed runs after them
# in collection order; a stale entry costs nothing.
LONGEST_FILES = (
    "tests/export/test_mask_rcnn_saved_model.py",
    "tests/train/test_multiworker_coco.py",
    "tests/models/test_mask_rcnn_torchvision.py",
    "tests/train/test_mask_rcnn_cli.py",
    "tests/models/test_mask_rcnn.py",
    "tests/train/test_resume_phases.py",
    "tests/train/test_quickstart.py",
    "tests/train/test_multiworker_cli.py",
    "tests/train/test_presets_cli.py",
    "tests/export/test_mask_rcnn_tflite.py",
    "tests/bench/test_chaos.py",
    "tests/train/nas/test_executors.py",
    "tests/train/test_run.py",
    "tests/train/test_resnet_finetune.py",
    "tests/test_docs.py",
)


def pytest_collection_modifyitems(items):
    rank = {path: i for i, path in enumerate(LONGEST_FILES)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(rank)))
