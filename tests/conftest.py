"""Test-wide settings: quiet TensorFlow, seeded Keras, and two logical CPU
devices so MirroredStrategy tests run on one CPU."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])


@pytest.fixture(autouse=True)
def _seeded_and_clean():
    keras.utils.set_random_seed(1234)
    yield
    keras.backend.clear_session()
