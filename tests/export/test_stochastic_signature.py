"""The `stochastic` SavedModel signature of Swapout / stochastic-depth nets (issues 5
and 6): written next to `serving_default`, seeded-verified against Keras, listed by
`saved_model_cli`, and produced by `keras-zoo export` for a swapout run; any layer with
a bool `stochastic_inference` attribute takes part (export imports no keras_zoo layer)."""

import json
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo import models
from keras_zoo.export import ExportVerificationError, stochastic_serving_fn, to_saved_model
from keras_zoo.export.saved_model import verify_stochastic_signature
from tests.export.models import tiny_classifier

SAVED_MODEL_CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
# Logits out (serving_default compares logits: a softmax would hide errors); the
# stochastic signature averages the softmax of each pass (from_logits=True).
TINY = {"input_shape": (8, 8, 1), "normalization": "unit", "num_classes": 4,
        "classifier_activation": None}
TOL = 1e-4  # of the output scale, as for serving_default


def _images(n, seed=1):
    return np.random.default_rng(seed).integers(0, 256, (n, 8, 8, 1), dtype=np.uint8)


def _run(fn, x, n):
    return fn(images=tf.constant(x), num_samples=tf.constant(n, tf.int32))["probabilities"].numpy()


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    model = models.SwapoutResNet(8, 1, seed=3, **TINY)  # keep 1 -> 0.5 over 3 blocks
    path = to_saved_model(model, tmp_path_factory.mktemp("serving") / "swapout",
                          output_names="logits", from_logits=True)
    return model, path


def test_both_signatures_match_keras(exported):
    model, path = exported
    loaded = tf.saved_model.load(path)
    assert sorted(loaded.signatures) == ["serving_default", "stochastic"]
    x = _images(3)
    logits = loaded.signatures["serving_default"](images=x)["logits"].numpy()
    expected = model(x.astype("float32")).numpy()
    np.testing.assert_allclose(logits, expected, atol=TOL * max(1.0, np.abs(expected).max()))
    deterministic = tf.nn.softmax(logits).numpy()
    spec = loaded.signatures["stochastic"].structured_input_signature[1]
    assert (spec["images"].dtype, spec["num_samples"].dtype) == (tf.uint8, tf.int32)
    assert spec["images"].shape.as_list() == [None, 8, 8, 1]
    sampled = _run(loaded.signatures["stochastic"], x, 5)
    assert sampled.shape == (3, 4) and sampled.min() >= 0
    np.testing.assert_allclose(sampled.sum(-1), 1.0, atol=1e-5)
    one = _run(loaded.signatures["stochastic"], x, 1)
    assert np.abs(one - deterministic).max() > 1e-4  # masks are sampled, not expectations


def test_seeded_check_fails_when_masks_differ(exported):
    model, path = exported
    x = _images(2, seed=5)
    # same seed states: same masks
    assert verify_stochastic_signature(path, model, x, from_logits=True) <= TOL
    models.stochastic_predict(model, x, 2, from_logits=True)  # advances the seed states
    with pytest.raises(ExportVerificationError, match="seeded"):
        verify_stochastic_signature(path, model, x, from_logits=True)


def test_saved_model_cli_lists_both_signatures(exported):
    _, path = exported
    shown = subprocess.run([SAVED_MODEL_CLI, "show", "--dir", path, "--all"],
                           capture_output=True, text=True, check=True,
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")).stdout
    assert "signature_def['serving_default']" in shown
    assert "signature_def['stochastic']" in shown
    assert "inputs['num_samples'] tensor_info:" in shown and "dtype: DT_INT32" in shown


def test_keep_one_stochastic_depth_equals_deterministic(tmp_path):
    model = models.SwapoutResNet(8, 1, keep_final=1.0, merge="stochastic_depth", seed=0, **TINY)
    loaded = tf.saved_model.load(to_saved_model(model, tmp_path / "sd", output_names="logits",
                                                from_logits=True))
    x = _images(4, seed=2)
    logits = loaded.signatures["serving_default"](images=x)["logits"]
    np.testing.assert_allclose(_run(loaded.signatures["stochastic"], x, 3),
                               tf.nn.softmax(logits).numpy(), atol=1e-6)


def test_plain_models_get_no_stochastic_signature(tmp_path):
    model = tiny_classifier()
    assert not models.has_stochastic_layers(model)
    with pytest.raises(ValueError, match="Expected a model with Swapout"):
        to_saved_model(model, tmp_path / "a", stochastic=True)
    assert not os.path.exists(tmp_path / "a")
    loaded = tf.saved_model.load(to_saved_model(model, tmp_path / "b", verify=False))
    assert list(loaded.signatures) == ["serving_default"]
    swapout = models.SwapoutResNet(8, 1, seed=0, **TINY)
    assert models.has_stochastic_layers(swapout)
    loaded = tf.saved_model.load(to_saved_model(swapout, tmp_path / "c", stochastic=False,
                                                verify=False))
    assert list(loaded.signatures) == ["serving_default"]


def test_export_command_of_a_swapout_run(tmp_path):
    from keras_zoo.train.export_command import export_run  # tests may use train/

    run_dir = tmp_path / "run"
    os.makedirs(run_dir / "checkpoints")
    (run_dir / "config.json").write_text(json.dumps({"dataset": "digits", "data_dir": None}))
    # A swapout recipe's classifier: softmax out (the run's export averages its passes).
    model = models.SwapoutResNet(8, 1, seed=1, **{**TINY, "classifier_activation": "softmax"})
    model.save(run_dir / "checkpoints" / "last.keras")
    [path] = export_run(str(run_dir), format="saved_model")
    assert path == os.path.join(str(run_dir), "saved_model", "1")
    loaded = tf.saved_model.load(path)
    x = _images(2)
    sampled = _run(loaded.signatures["stochastic"], x, 4)
    assert sampled.shape == (2, 4)
    np.testing.assert_allclose(sampled.sum(-1), 1.0, atol=1e-5)


def test_serving_fn_in_a_hand_built_archive_takes_num_samples(tmp_path):
    model = models.SwapoutResNet(8, 1, seed=2, **TINY)
    archive = keras.export.ExportArchive()  # what to_saved_model builds on
    archive.track(model)
    archive.add_endpoint(
        "serving_default",
        lambda images: {"logits": model(tf.cast(images, "float32"), training=False)},
        input_signature=[tf.TensorSpec((None, 8, 8, 1), tf.uint8, name="images")])
    archive.add_endpoint("stochastic", stochastic_serving_fn(model, from_logits=True))
    path = str(tmp_path / "sm")
    archive.write_out(path, verbose=False)
    loaded = tf.saved_model.load(path)
    x = _images(3)
    served = loaded.signatures["stochastic"]
    out = _run(served, x, 4)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out.sum(1), 1.0, atol=1e-5)
    logits = loaded.signatures["serving_default"](images=x)["logits"].numpy()
    expected = model.predict(x, verbose=0)
    np.testing.assert_allclose(logits, expected, atol=TOL * max(1.0, np.abs(expected).max()))
    one = _run(served, x, 1)
    assert np.abs(one - tf.nn.softmax(logits).numpy()).max() > 1e-4  # traced stochastic
    with pytest.raises(tf.errors.InvalidArgumentError, match="num_samples"):
        _run(served, x, 0)


class _MaskedLogits(keras.layers.Layer):
    """Not a keras_zoo layer: drops each logit with probability 1/2 when it samples,
    following the stochastic inference interface (a bool `stochastic_inference`)."""

    stochastic_inference = False

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, x, training=False):
        if not (training or self.stochastic_inference):
            return x * 0.5
        keep = keras.random.uniform(keras.ops.shape(x), seed=self.seed_generator) < 0.5
        return x * keras.ops.cast(keep, x.dtype)


def test_any_layer_with_the_interface_gets_the_signature(tmp_path):
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Rescaling(1 / 255)(inputs)
    logits = keras.layers.Dense(4)(keras.layers.Flatten()(x))
    model = keras.Model(inputs, _MaskedLogits(seed=0)(logits))
    path = to_saved_model(model, tmp_path / "masked", from_logits=True)  # seeded check inside
    loaded = tf.saved_model.load(path)
    assert sorted(loaded.signatures) == ["serving_default", "stochastic"]
    sampled = _run(loaded.signatures["stochastic"], _images(2), 3)
    np.testing.assert_allclose(sampled.sum(-1), 1.0, atol=1e-5)
