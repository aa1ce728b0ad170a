"""TFLite (LiteRT) flatbuffer export with optional post-training quantization.

The flatbuffer has one signature, `serving_default`, with the same input
names as the SavedModel export (`images` for a single image input) and the same
named outputs (`probabilities`, or a dict model's keys). Inputs are float32
raw pixels in [0, 255] (normalisation stays inside the model); with
`quantize="int8", int8_io=True` they are int8, quantized with the input
tensor's scale and zero point (`q = round(x / scale) + zero_point`).

Conversion uses TFLite builtin ops only when it can; if an op has no builtin
kernel it falls back to `SELECT_TF_OPS` (the Flex delegate) and warns with
the op names (also returned by `flex_ops(path)`; `operators(path)` lists all).

A model offering ``export_variants`` (``MaskRCNN``: images of any size) is
converted as its ``serving_default`` variant at a fixed ``input_size=(H, W)``
with builtin ops only (``builtin_ops=True``: RoIAlign's gather implementation;
NMS is `tf.image.non_max_suppression_padded`, which converts to builtins), and
verified against the model's own variant by matching detections
(`keras_zoo.export.detections`). The batch stays free (one image per call is
the usual detector use). Quantised detectors: ``float16`` and ``dynamic``.
"""

import os
import re
import tempfile
import warnings

import keras
import numpy as np
import tensorflow as tf

from keras_zoo.export import _common
from keras_zoo.export.detections import check_outputs
from keras_zoo.export.variants import SIGNATURE_KEY, offers_variants, serving_models

QUANTIZE_MODES = (None, "float16", "dynamic", "int8")
# Verification tolerance per mode, as a fraction of the output scale
# (max |Keras output|, at least 1). float32 is the 1e-4; the quantized
# modes carry the error of the number format they store.
TOLERANCES = {None: _common.FLOAT_TOLERANCE, "float16": 5e-3, "dynamic": 5e-2, "int8": 0.15}
# A detector's detections per image, best first, matched (box IoU >= 0.98) in
# verification: 8-bit weights move the boxes of weaker detections by more (a 0.26-score
# detection of the tiny test model: IoU 0.94 under "dynamic"); the best one stays.
TOP_DETECTIONS = {None: 3, "float16": 3, "dynamic": 1, "int8": 1}
REPRESENTATIVE_SAMPLES = 200  # calibration examples drawn for int8


def _write_float_saved_model(model, directory, output_names):
    """A SavedModel whose `serving_default` takes the model's own input dtype
    (float raw pixels); converting from it freezes the variables."""
    specs = _common.input_specs(model)

    def call(*args):
        outputs = model(args[0] if len(args) == 1 else list(args), training=False)
        return _common.named_outputs(model, outputs, output_names)

    signature = [tf.TensorSpec(shape, model_dtype, name=name)
                 for name, shape, _, model_dtype in specs]
    archive = keras.export.ExportArchive()
    archive.track(model)
    archive.add_endpoint(SIGNATURE_KEY, call, input_signature=signature)
    archive.write_out(directory, verbose=False)


def _representative_dataset(model, data):
    specs = _common.input_specs(model)
    if isinstance(data, dict) or (not callable(data) and not isinstance(data, (list, tuple))):
        arrays = _common.as_input_dict(model, data)
        n = min(len(a) for a in arrays.values())
        if n == 0:
            raise ValueError("Expected at least one representative example. Received: 0")
        take = np.random.default_rng(0).permutation(n)[:REPRESENTATIVE_SAMPLES]

        def gen():
            for i in take:
                yield [arrays[name][i:i + 1].astype(md) for name, _, _, md in specs]
        return gen
    if callable(data):
        return data
    raise ValueError(
        "Expected representative_data as an array of raw images, a dict by input name, or a "
        f"generator function. Received: {type(data).__name__}")


def _convert(saved_model_dir, quantize, representative, int8_io, ops):
    converter = tf.lite.TFLiteConverter.from_saved_model(
        saved_model_dir, signature_keys=[SIGNATURE_KEY])
    converter.target_spec.supported_ops = ops
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantize == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative
        if tf.lite.OpsSet.SELECT_TF_OPS not in ops:
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        if int8_io:
            converter.inference_input_type = tf.int8
            converter.inference_output_type = tf.int8
    return converter.convert()


def operators(path_or_bytes):
    """The operators of a flatbuffer (sorted): builtin names (``"CONV_2D"``) and the
    codes of custom ops (``"FlexStridedSlice"`` for a Flex op)."""
    from ai_edge_litert import schema_py_generated as schema

    buf = path_or_bytes
    if not isinstance(buf, (bytes, bytearray)):
        with open(path_or_bytes, "rb") as f:
            buf = f.read()
    model = schema.ModelT.InitFromPackedBuf(bytearray(buf), 0)
    builtin_names = {code: name for name, code in vars(schema.BuiltinOperator).items()
                     if not name.startswith("_")}
    names = set()
    for code in model.operatorCodes or []:
        if code.customCode:
            names.add(code.customCode.decode())
        else:  # small codes live in the deprecated int8 field too; the larger one is right
            names.add(builtin_names[max(code.builtinCode, code.deprecatedBuiltinCode)])
    return sorted(names)


def flex_ops(path_or_bytes):
    """Names of the TF ops in a flatbuffer that need the Flex delegate (sorted)."""
    return [name[len("Flex"):] for name in operators(path_or_bytes) if name.startswith("Flex")]


def to_tflite(model, path, *, input_size=None, quantize=None, representative_data=None,
              int8_io=False, verify=True, overwrite=False, sample_inputs=None,
              output_names=None):
    """Converts `model` to a TFLite flatbuffer at `path`.

    Args:
        model: a built `keras.Model`, or a model offering ``export_variants``
            (`MaskRCNN`; see the module docstring).
        path: the `.tflite` file to write (atomically: temp file, then rename).
        input_size: ``(height, width)`` of the image input: required for a model
            offering ``export_variants``; for another model, its input's size (or
            the size to fix where the model leaves it free).
        quantize: None (float32), `"float16"` (float16 weights), `"dynamic"`
            (int8 weights, float activations) or `"int8"` (full integer: int8
            weights and activations, calibrated on `representative_data`).
        representative_data: for `"int8"`: raw images `[N, H, W, C]` (uint8 or
            float in [0, 255]; up to 200 are drawn), a dict by input name, or a
            generator function yielding lists of input arrays.
        int8_io: with `"int8"`, make the input and output tensors int8 too.
        verify: run the flatbuffer in the LiteRT interpreter (`ai-edge-litert`)
            and compare with Keras on `sample_inputs` within `TOLERANCES[quantize]`
            of the output scale (a detector: its `TOP_DETECTIONS[quantize]` best
            detections per image matched, boxes IoU >= 0.98, scores and mean mask
            probabilities within the tolerance).
        overwrite: replace an existing file; refused otherwise.
        sample_inputs: raw inputs for verification (default: 2 random images).
        output_names: names for a non-dict model's outputs.

    Returns:
        `path` (str).

    Example:
        >>> to_tflite(model, "resnet20_int8.tflite", quantize="int8",
        ...           representative_data=x_train)
    """
    if quantize not in QUANTIZE_MODES:
        raise ValueError(f"Expected quantize in {QUANTIZE_MODES}. Received: quantize={quantize!r}")
    if int8_io and quantize != "int8":
        raise ValueError(f"Expected int8_io only with quantize='int8'. Received: {quantize!r}")
    if quantize == "int8" and representative_data is None:
        raise ValueError(
            "Expected representative_data (e.g. training images) for quantize='int8'. "
            "Received: representative_data=None")
    if input_size is None and offers_variants(model):
        raise ValueError(
            f"Expected input_size=(height, width) for a TFLite export of {model.name!r}: it "
            "takes images of any size and TFLite needs a fixed one. Received: input_size=None")
    reference, exported = (serving_models(model, input_size=input_size, builtin_ops=builtin,
                                          default_only=True)[SIGNATURE_KEY]
                           for builtin in (False, True))
    representative = (_representative_dataset(exported, representative_data)
                      if quantize == "int8" else None)
    if verify:
        samples = _common.verification_samples(exported, sample_inputs)
    path = os.fspath(path)
    _common.refuse_existing(path, overwrite=overwrite)
    with tempfile.TemporaryDirectory(prefix="keras_zoo_tflite_") as saved_model_dir:
        _write_float_saved_model(exported, saved_model_dir, output_names)
        flatbuffer, error = _convert_builtin_first(saved_model_dir, quantize, representative,
                                                   int8_io)
    if error is not None:
        needed = flex_ops(flatbuffer) or _ops_in_error(str(error))
        warnings.warn(
            f"TFLite conversion of {model.name!r} needs the Flex delegate (SELECT_TF_OPS) for "
            f"these TF ops: {', '.join(needed)}. Runtimes without Flex cannot run it.",
            stacklevel=2)
    with _common.atomic_path(path, overwrite=overwrite) as tmp:
        with open(tmp, "wb") as f:
            f.write(flatbuffer)
        if verify:
            verify_tflite(tmp, reference, samples, quantize=quantize, output_names=output_names)
    return path


def _convert_builtin_first(saved_model_dir, quantize, representative, int8_io):
    """Returns `(flatbuffer, None)` with builtin ops only, else `(flatbuffer, error)`
    converted with SELECT_TF_OPS after the builtin-only attempt raised `error`."""
    builtins = [tf.lite.OpsSet.TFLITE_BUILTINS]
    try:
        return _convert(saved_model_dir, quantize, representative, int8_io, builtins), None
    except Exception as error:  # ConverterError: some op has no builtin kernel
        flex = builtins + [tf.lite.OpsSet.SELECT_TF_OPS]
        try:
            return _convert(saved_model_dir, quantize, representative, int8_io, flex), error
        except Exception as flex_error:
            raise ValueError(
                "Expected a model whose ops TFLite can convert (builtin or Flex). Received: "
                f"ops TFLite cannot convert: {_ops_in_error(str(flex_error))}") from flex_error


def _ops_in_error(message):
    return sorted(set(re.findall(r"tf\.([A-Za-z0-9_]+)", message))) or ["(see converter log)"]


def run_tflite(path, inputs):
    """Runs the `serving_default` signature of a flatbuffer in the LiteRT interpreter.

    Args:
        path: a `.tflite` file.
        inputs: `{input name: array}` of raw values; int8 inputs are quantized
            with their tensor's scale and zero point, int8 outputs dequantized.

    Returns:
        `{output name: np.ndarray}`: float outputs (and dequantized int8 ones) as
        float32, integer outputs (a detector's classes and counts) as they are.
    """
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=os.fspath(path))
    runner = interpreter.get_signature_runner(SIGNATURE_KEY)
    in_details = runner.get_input_details()
    feed = {}
    for name, value in inputs.items():
        detail = in_details[name]
        value = np.asarray(value, np.float32)
        if detail["dtype"] in (np.int8, np.uint8):
            scale, zero = detail["quantization"]
            info = np.iinfo(detail["dtype"])
            value = np.clip(np.round(value / scale) + zero, info.min, info.max)
        feed[name] = value.astype(detail["dtype"])
    outputs = runner(**feed)
    out_details = runner.get_output_details()
    result = {}
    for name, value in outputs.items():
        scale, zero = out_details[name]["quantization"]
        if out_details[name]["dtype"] in (np.int8, np.uint8) and scale:
            value = (value.astype(np.float32) - zero) * scale
        value = np.asarray(value)
        result[name] = value.astype(np.float32) if np.issubdtype(value.dtype,
                                                                 np.floating) else value
    return result


def verify_tflite(path, model, inputs, *, quantize=None, output_names=None, tolerance=None):
    """Compares the flatbuffer's outputs with `model` on raw `inputs` (dict by name):
    `check_outputs`, detections matched for a detector.

    Returns the max error as a fraction of the output scale (a detector: the worst
    agreement of its matched detections).
    """
    tolerance = TOLERANCES[quantize] if tolerance is None else tolerance
    expected = _common.keras_outputs(model, inputs, output_names)
    got = run_tflite(path, inputs)
    return check_outputs(expected, got, tolerance, f"TFLite ({quantize or 'float32'})",
                         top=TOP_DETECTIONS[quantize], reference=model, inputs=inputs)
