"""Models of the zoo export to SavedModel and TFLite (builtin ops only) within the
stated tolerances (verification inside the exporters does the comparison)."""

import numpy as np
import pytest
import tensorflow as tf
from keras_zoo.export import to_saved_model, to_tflite
from keras_zoo.export.tflite import flex_ops, run_tflite

from keras_zoo import models

TOL = 1e-4  # of the output scale


BUILDERS = {
    "resnet20": models.ResNet20,
    "wide_resnet_10_1": lambda: models.WideResNet(10, 1),
    "swapout_resnet_8_1": lambda: models.SwapoutResNet(8, 1, seed=0),  # deterministic inference
}


@pytest.mark.large
@pytest.mark.parametrize("name", list(BUILDERS))
def test_zoo_classifiers_export(tmp_path, name):
    model = BUILDERS[name]()
    x = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), dtype=np.uint8)
    expected = model(x.astype("float32"), training=False).numpy()
    path = to_saved_model(model, tmp_path / "serving", sample_inputs=x)
    got = tf.saved_model.load(path).signatures["serving_default"](images=x)["probabilities"]
    assert np.max(np.abs(got.numpy() - expected)) <= TOL
    path = to_tflite(model, tmp_path / "r20.tflite", sample_inputs=x)
    assert flex_ops(path) == []
    got = run_tflite(path, {"images": x})["probabilities"]
    assert np.max(np.abs(got - expected)) <= TOL
