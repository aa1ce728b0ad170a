"""`keras-zoo export RUN_DIR` as a user runs it: a subprocess on a run directory."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.train.export_command import export_run
from tests.export.models import digits_classifier

KERAS_ZOO = os.path.join(os.path.dirname(sys.executable), "keras-zoo")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """The files `keras-zoo export` reads from a run: config.json and a checkpoint."""
    path = tmp_path_factory.mktemp("run")
    os.makedirs(path / "checkpoints")
    (path / "config.json").write_text(json.dumps({"dataset": "digits", "data_dir": None}))
    digits_classifier().save(path / "checkpoints" / "last.keras")
    return path


def _cli(*args):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    return subprocess.run([KERAS_ZOO, "export", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=300)


@pytest.mark.large
def test_cli_exports_saved_model_and_int8_tflite(run_dir, tmp_path):
    result = _cli(run_dir, "--format", "saved_model")
    assert result.returncode == 0, result.stderr
    version = run_dir / "saved_model" / "1"
    assert str(version) in result.stdout
    fn = tf.saved_model.load(str(version)).signatures["serving_default"]
    assert fn.structured_input_signature[1]["images"].dtype == tf.uint8

    out = tmp_path / "digits_int8.tflite"
    result = _cli(run_dir, "--format", "tflite", "--quantize", "int8", "--out", out)
    assert result.returncode == 0, result.stderr
    assert out.is_file() and str(out) in result.stdout


@pytest.mark.large
def test_cli_bad_input_is_one_line_and_status_2(run_dir, tmp_path):
    result = _cli(tmp_path / "missing", "--format", "tflite")
    assert result.returncode == 2
    ours = [line for line in result.stderr.splitlines() if line.startswith("keras-zoo")]
    assert len(ours) == 1 and "config.json" in ours[0], result.stderr  # TF's C++ log aside
    assert "Traceback" not in result.stderr


def test_versions_and_refusals(run_dir, tmp_path):
    base = tmp_path / "serving"
    [first] = export_run(str(run_dir), format="saved_model", out=str(base))
    [second] = export_run(str(run_dir), format="saved_model", out=str(base))
    assert (os.path.basename(first), os.path.basename(second)) == ("1", "2")
    with pytest.raises(ValueError, match="overwrite"):
        export_run(str(run_dir), format="saved_model", out=str(base), version=2)
    with pytest.raises(ValueError, match="--version only"):
        export_run(str(run_dir), format="tflite", version=2)
    with pytest.raises(ValueError, match="--quantize only"):
        export_run(str(run_dir), format="onnx", quantize="int8")
    [path] = export_run(str(run_dir), format="tflite", out=str(tmp_path), quantize="float16")
    assert path == os.path.join(str(tmp_path), "model_float16.tflite")
    assert np.fromfile(path, np.uint8)[4:8].tobytes() == b"TFL3"  # flatbuffer identifier


def test_concrete_vae_run_exports_encoder_and_decoder(tmp_path):
    from keras_zoo import models

    run_dir = tmp_path / "vae-run"
    os.makedirs(run_dir / "checkpoints")
    (run_dir / "config.json").write_text(json.dumps(
        {"recipe": "concrete_vae", "dataset": "digits", "data_dir": None}))
    vae = models.ConcreteVAE(4, 3, image_shape=(8, 8, 1), hidden_units=(16,), seed=0)
    vae(np.zeros((1, 8, 8, 1), "float32"))
    vae.save(run_dir / "checkpoints" / "last.keras")

    encoder, decoder = export_run(str(run_dir), format="saved_model")
    assert encoder == str(run_dir / "saved_model" / "encoder" / "1")
    assert decoder == str(run_dir / "saved_model" / "decoder" / "1")
    x = (np.random.default_rng(0).random((2, 8, 8, 1)) < 0.5).astype("float32")
    served = tf.saved_model.load(encoder).signatures["serving_default"]
    [logits] = served(tf.constant(x)).values()
    np.testing.assert_allclose(logits.numpy().reshape(2, -1),
                               np.asarray(vae.encoder(x)).reshape(2, -1), atol=1e-4)

    paths = export_run(str(run_dir), format="tflite", out=str(tmp_path))
    assert [os.path.basename(p) for p in paths] == ["model_encoder.tflite", "model_decoder.tflite"]
    with pytest.raises(ValueError, match="classifier run"):
        export_run(str(run_dir), format="tflite", quantize="int8")
