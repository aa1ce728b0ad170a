"""ONNX export through Keras' own exporter (`model.export(format="onnx")`,
tf2onnx under the TensorFlow backend), verified with ONNX Runtime.

Needs the `onnx` extra: ``pip install keras_zoo[onnx]`` (onnx, onnxruntime,
tf2onnx; tested with 1.23 / 1.32 / 1.17). Inputs are the model's own dtype
(float32 raw pixels in [0, 255]; normalisation stays inside the model), batch
dimension free.
"""

import contextlib
import io
import os

import numpy as np

from keras_zoo.export import _common


def _require(module):
    try:
        return __import__(module)
    except ImportError as error:
        raise ImportError(
            f"ONNX export needs {module!r}: pip install 'keras_zoo[onnx]' "
            "(onnx, onnxruntime, tf2onnx)") from error


def to_onnx(model, path, *, verify=True, overwrite=False, sample_inputs=None):
    """Writes `model` as an ONNX graph at `path` (temp file, then rename).

    Args:
        model: a built `keras.Model`.
        path: the `.onnx` file to write; refused if it exists unless `overwrite`.
        verify: run the file in ONNX Runtime and compare with Keras on
            `sample_inputs` within `_common.FLOAT_TOLERANCE` (1e-4) of the
            output scale.
        sample_inputs: raw inputs for verification (default: 2 random images).

    Returns:
        `path` (str).
    """
    _require("tf2onnx")
    _require("onnx")
    if verify:
        samples = _common.verification_samples(model, sample_inputs)
    path = os.fspath(path)
    with _common.atomic_path(path, overwrite=overwrite) as tmp:
        with contextlib.redirect_stdout(io.StringIO()):  # tf2onnx prints its progress
            model.export(tmp, format="onnx", verbose=False, input_signature=_signature(model))
        if verify:
            verify_onnx(tmp, model, samples)
    return path


def _signature(model):
    import tensorflow as tf

    specs = [tf.TensorSpec(shape, model_dtype, name=name)
             for name, shape, _, model_dtype in _common.input_specs(model)]
    return specs if len(specs) == 1 else [specs]


def run_onnx(path, inputs):
    """Runs the ONNX graph in ONNX Runtime (CPU) on raw `inputs`, a dict by input
    name or an array for a single input. Returns `{ONNX output name: array}` in
    graph order (a dict-output model keeps its keys as names)."""
    ort = _require("onnxruntime")
    session = ort.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
    session_inputs = session.get_inputs()
    values = list(inputs.values()) if isinstance(inputs, dict) else [inputs]
    feed = {}
    for spec, value in zip(session_inputs, values):
        dtype = np.float32 if "float" in spec.type else np.int64 if "int64" in spec.type else None
        feed[spec.name] = np.asarray(value, dtype)
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feed)))


def verify_onnx(path, model, inputs, *, tolerance=_common.FLOAT_TOLERANCE):
    """Compares ONNX Runtime's outputs with `model` on raw `inputs` (dict by name).

    Returns the max error as a fraction of the output scale.
    """
    expected = _common.keras_outputs(model, inputs)
    got = run_onnx(path, inputs)
    if set(got) != set(expected):  # unnamed outputs: keras.tree.flatten order
        order = sorted(expected) if isinstance(model.output, dict) else list(expected)
        got = dict(zip(order, got.values()))
    return _common.check_close(expected, got, tolerance, f"ONNX {path!r}")
