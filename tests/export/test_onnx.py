"""ONNX export through Keras' exporter, checked with ONNX Runtime."""

import os

import numpy as np
import pytest

pytest.importorskip("tf2onnx")
pytest.importorskip("onnxruntime")

from keras_zoo.export import to_onnx  # noqa: E402
from keras_zoo.export.onnx import run_onnx  # noqa: E402
from tests.export.models import tiny_classifier, tiny_dict_model  # noqa: E402

TOL = 1e-4  # of the output scale, as for the other float exports


def _scaled_error(expected, actual):
    return np.max(np.abs(expected - actual)) / max(1.0, np.max(np.abs(expected)))


def test_classifier_matches_keras_for_any_batch(tmp_path):
    model = tiny_classifier()
    path = to_onnx(model, tmp_path / "m.onnx")
    assert os.listdir(tmp_path) == ["m.onnx"]
    for batch in (1, 4):
        x = np.random.default_rng(batch).integers(0, 256, (batch, 8, 8, 3)).astype("float32")
        (got,) = run_onnx(path, {"images": x}).values()
        assert got.shape == (batch, 5)
        assert _scaled_error(model(x).numpy(), got) <= TOL
    with pytest.raises(ValueError, match="overwrite"):
        to_onnx(model, path)


def test_dict_outputs_keep_their_names(tmp_path):
    model = tiny_dict_model()
    path = to_onnx(model, tmp_path / "d.onnx")
    x = np.random.default_rng(0).integers(0, 256, (2, 8, 8, 3)).astype("float32")
    got = run_onnx(path, x)
    assert sorted(got) == ["features", "logits"]
    expected = model(x)
    for key, value in got.items():
        assert _scaled_error(expected[key].numpy(), value) <= TOL
