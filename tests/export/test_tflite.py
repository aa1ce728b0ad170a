"""TFLite export: float32 / float16 / dynamic / int8 against Keras in the LiteRT
interpreter, builtin ops with a clear Flex report, atomic writes."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_zoo.export import ExportVerificationError, to_tflite
from keras_zoo.export.tflite import flex_ops, run_tflite
from keras_zoo.train import datasets
from tests.export.models import tiny_classifier, trained_digits_classifier

pytest.importorskip("ai_edge_litert")

# Max |TFLite - Keras| as a fraction of the output scale (max |output|, at least 1):
# float32 is the 1e-4; float16 weights carry ~2^-11 relative rounding;
# dynamic range quantizes weights to 8 bits.
TOLERANCES = {None: 1e-4, "float16": 5e-3, "dynamic": 5e-2}
OUT = "logits"  # the trained classifier outputs logits: a softmax would hide errors
INT8_TOP1_AGREEMENT = 0.98  # the bar for full-integer classifiers


def _scaled_error(expected, actual):
    return np.max(np.abs(expected - actual)) / max(1.0, np.max(np.abs(expected)))


@pytest.fixture(scope="module")
def digits():
    keras.utils.set_random_seed(0)
    data = datasets.load("digits")
    model = trained_digits_classifier(data)
    expected = model.predict(data.x_test.astype("float32"), verbose=0)
    assert np.mean(expected.argmax(-1) == data.y_test) > 0.8  # chance is 0.1
    return data, model, expected


@pytest.mark.parametrize("quantize", [None, "float16", "dynamic"])
def test_float_modes_match_keras(digits, tmp_path, quantize):
    data, model, expected = digits
    path = to_tflite(model, tmp_path / "m.tflite", quantize=quantize, output_names=OUT)
    assert flex_ops(path) == []
    got = run_tflite(path, {"images": data.x_test})[OUT]
    assert _scaled_error(expected, got) <= TOLERANCES[quantize]
    assert os.listdir(tmp_path) == ["m.tflite"]


@pytest.mark.parametrize("int8_io", [False, True])
def test_int8_top1_agrees_with_keras(digits, tmp_path, int8_io):
    data, model, expected = digits
    path = to_tflite(model, tmp_path / "m.tflite", quantize="int8",
                     representative_data=data.x_train, int8_io=int8_io, output_names=OUT)
    assert flex_ops(path) == []
    from ai_edge_litert.interpreter import Interpreter

    details = Interpreter(model_path=path).get_signature_runner().get_input_details()["images"]
    assert details["dtype"] == (np.int8 if int8_io else np.float32)
    got = run_tflite(path, {"images": data.x_test})[OUT]
    agreement = np.mean(got.argmax(-1) == expected.argmax(-1))
    assert agreement >= INT8_TOP1_AGREEMENT, agreement
    smaller = to_tflite(model, tmp_path / "f.tflite", verify=False)
    assert os.path.getsize(path) < os.path.getsize(smaller)


def test_int8_needs_representative_data_and_bad_arguments(tmp_path):
    model = tiny_classifier()
    with pytest.raises(ValueError, match="representative_data"):
        to_tflite(model, tmp_path / "m.tflite", quantize="int8")
    with pytest.raises(ValueError, match="quantize"):
        to_tflite(model, tmp_path / "m.tflite", quantize="int4")
    with pytest.raises(ValueError, match="int8_io"):
        to_tflite(model, tmp_path / "m.tflite", int8_io=True)
    assert os.listdir(tmp_path) == []


def test_refusal_and_atomic_failure(tmp_path):
    model = tiny_classifier()
    path = to_tflite(model, tmp_path / "m.tflite")
    before = open(path, "rb").read()
    with pytest.raises(ValueError, match="overwrite"):
        to_tflite(tiny_classifier(seed=3), path)
    assert open(path, "rb").read() == before

    class Drifting(keras.layers.Layer):
        """Adds how often it has been traced, so the export and the reference disagree."""

        traces = 0

        def call(self, x):
            Drifting.traces += 1
            return x + float(Drifting.traces)

    inp = keras.Input((8, 8, 3))
    noisy = keras.Model(inp, keras.layers.GlobalAveragePooling2D()(Drifting()(inp)))
    with pytest.raises(ExportVerificationError):
        to_tflite(noisy, path, overwrite=True)  # written, then fails verification
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == ["m.tflite"]


def test_flex_ops_are_named(tmp_path):
    class Determinant(keras.layers.Layer):
        """Scales each image by the determinant of its top-left 2x2 block (no builtin op)."""

        def call(self, x):
            det = tf.linalg.det(x[:, :2, :2, 0])
            return x * det[:, None, None, None]

    inp = keras.Input((4, 4, 3))
    model = keras.Model(inp, keras.layers.GlobalAveragePooling2D()(Determinant()(inp)))
    with pytest.warns(UserWarning, match="Flex delegate.*MatrixDeterminant"):
        path = to_tflite(model, tmp_path / "m.tflite", verify=False)
    assert flex_ops(path) == ["MatrixDeterminant"]
