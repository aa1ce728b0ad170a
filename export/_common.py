"""Shared pieces of every exporter: the serving interface of a Keras model
(uint8 image inputs, named outputs), sample inputs, atomic writes and the
output comparison used by verification."""

import contextlib
import os
import shutil
import tempfile

import keras
import numpy as np
import tensorflow as tf

from keras_zoo import fault_points

# Float exports must match Keras within this fraction of the output scale
# (max |keras output|, at least 1): the "1e-4 relative to the output scale".
FLOAT_TOLERANCE = 1e-4
FREE_DIMENSION_SAMPLE = 64  # sample inputs' size along a dimension the model leaves free


class ExportVerificationError(RuntimeError):
    """The exported artifact, loaded back, disagrees with the Keras model."""


def input_specs(model, raw_pixels=True):
    """One `(name, shape, serving_dtype, model_dtype)` per model input.

    With `raw_pixels` (the default), rank-4 inputs are images served as raw
    `uint8` pixels (DESIGN.md: models take raw pixels and normalise inside).
    Other inputs, and every input when `raw_pixels=False` (e.g. the binary
    float images of `ConcreteVAE.encoder`), keep the model's input dtype. A
    single rank-4 input is named `images`; other inputs keep their Keras
    names (e.g. the `codes` of `ConcreteVAE.decoder`).
    """
    try:
        inputs = model.inputs
    except AttributeError:  # a subclassed model never called on a keras.Input
        inputs = None
    if not inputs:
        raise ValueError(
            "Expected a built functional keras.Model with known inputs (of a subclassed "
            "model, export its functional sub-models, e.g. ConcreteVAE's `encoder` and "
            f"`decoder`). Received: model={model.name!r} with no inputs.")
    specs = []
    for i, tensor in enumerate(inputs):
        shape = (None,) + tuple(tensor.shape[1:])
        model_dtype = keras.backend.standardize_dtype(tensor.dtype)
        serving_dtype = "uint8" if raw_pixels and len(shape) == 4 else model_dtype
        name = ("images" if len(inputs) == 1 and len(shape) == 4
                else _clean_name(tensor.name, i))
        specs.append((name, shape, serving_dtype, model_dtype))
    return specs


def _clean_name(name, index):
    name = "".join(c if c.isalnum() or c == "_" else "_" for c in (name or ""))
    return name or f"input_{index}"


def output_names(model, outputs, names=None):
    """Names for the served outputs: a dict's keys; `probabilities` for one
    tensor; the model's `output_names` for a list."""
    if isinstance(outputs, dict):
        return list(outputs)
    flat = keras.tree.flatten(outputs)
    if names is not None:
        names = [names] if isinstance(names, str) else list(names)
        if len(names) != len(flat):
            raise ValueError(
                f"Expected one output name per model output ({len(flat)}). "
                f"Received: output_names={names}")
        return names
    if len(flat) == 1:
        return ["probabilities"]
    return [_clean_name(n, i) for i, n in enumerate(model.output_names)]


def named_outputs(model, outputs, names=None):
    """The model's outputs as a flat `{name: tensor}` dict."""
    if isinstance(outputs, dict):
        return dict(outputs)
    return dict(zip(output_names(model, outputs, names), keras.tree.flatten(outputs)))


def sample_inputs(model, batch_size=2, seed=0, raw_pixels=True):
    """Random raw inputs for verification: uint8 images in [0, 255], floats in [0, 1).

    A dimension the model leaves free (an image size) is drawn as
    `FREE_DIMENSION_SAMPLE` (64). Returns a dict `{input name: np.ndarray}`.
    """
    rng = np.random.default_rng(seed)
    samples = {}
    for name, shape, serving_dtype, _ in input_specs(model, raw_pixels):
        full = (batch_size,) + tuple(FREE_DIMENSION_SAMPLE if d is None else d
                                     for d in shape[1:])
        if serving_dtype == "uint8":
            samples[name] = rng.integers(0, 256, size=full, dtype=np.uint8)
        elif "int" in serving_dtype:
            samples[name] = rng.integers(0, 2, size=full).astype(serving_dtype)
        else:
            samples[name] = rng.random(full).astype(serving_dtype)
    return samples


def as_input_dict(model, inputs, raw_pixels=True):
    """Accepts an array (single-input models) or a dict keyed by input name."""
    specs = input_specs(model, raw_pixels)
    if not isinstance(inputs, dict):
        if len(specs) != 1:
            raise ValueError(
                f"Expected a dict keyed by {[s[0] for s in specs]} for a multi-input model. "
                f"Received: inputs of type {type(inputs).__name__}")
        inputs = {specs[0][0]: inputs}
    result = {}
    for name, shape, serving_dtype, _ in specs:
        if name not in inputs:
            raise ValueError(f"Expected sample inputs for {name!r}. Received: keys={list(inputs)}")
        array = np.asarray(inputs[name])
        if array.ndim != len(shape) or any(
                d is not None and d != a for d, a in zip(shape[1:], array.shape[1:])):
            raise ValueError(
                f"Expected sample inputs {name!r} of shape {shape}. Received: {array.shape}")
        result[name] = array.astype(serving_dtype)
    return result


def keras_outputs(model, inputs, names=None):
    """The Keras model's outputs on raw inputs, as `{name: np.ndarray}`, computed as a
    graph (`tf.function`), as an exported artifact computes them: eager execution picks
    other kernels (no fused convolutions), whose rounding can decide a near-tie."""
    specs = input_specs(model)
    args = [np.asarray(inputs[name]).astype(model_dtype) for name, _, _, model_dtype in specs]
    outputs = tf.function(lambda x: model(x, training=False))(
        args[0] if len(args) == 1 else args)
    return {k: keras.ops.convert_to_numpy(v) for k, v in
            named_outputs(model, outputs, names).items()}


def max_scaled_error(expected, actual):
    """max |expected - actual| / max(1, max |expected|) over all outputs."""
    worst = 0.0
    for name, ref in expected.items():
        ref = np.asarray(ref, np.float64)
        got = np.asarray(actual[name], np.float64)
        if ref.shape != got.shape:
            raise ExportVerificationError(
                f"Output {name!r}: expected shape {ref.shape}, exported artifact gave {got.shape}")
        scale = max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0)
        worst = max(worst, float(np.max(np.abs(ref - got))) / scale if ref.size else 0.0)
    return worst


def check_close(expected, actual, tolerance, what):
    error = max_scaled_error(expected, actual)
    if not error <= tolerance:
        raise ExportVerificationError(
            f"{what} disagrees with the Keras model: max error {error:.3g} of the output "
            f"scale, tolerance {tolerance:.3g}")
    return error


def refuse_existing(path, *, overwrite):
    """Raises unless `path` is new or `overwrite` (checked before any slow work)."""
    if os.path.exists(path) and not overwrite:
        raise ValueError(
            f"Expected a path that does not exist yet (or overwrite=True). "
            f"Received: path={os.fspath(path)!r}, which exists")


def verification_samples(model, given=None, *, raw_pixels=True):
    """The inputs an export is verified on: `given` as the model's input dict, or
    `sample_inputs(model, raw_pixels=...)` when None."""
    if given is None:
        return sample_inputs(model, raw_pixels=raw_pixels)
    return as_input_dict(model, given, raw_pixels)


def _replace_directory(new_path, final_path):
    """Moves the directory `new_path` to the existing directory `final_path`.

    POSIX cannot rename a directory over a non-empty one, so the old one is moved
    aside first (into a hidden folder beside it) and deleted once the new one is in
    place. If moving the new one in fails, the old one is moved back before the
    error propagates: the old artifact stays where it was and nothing is left beside
    it (should even the move back fail, the error says where the old one is).
    """
    parent, base = os.path.split(final_path)
    aside_dir = tempfile.mkdtemp(prefix=f".{base}.old-", dir=parent)
    aside = os.path.join(aside_dir, base)
    try:
        os.rename(final_path, aside)
    except BaseException:
        os.rmdir(aside_dir)
        raise
    try:
        os.rename(new_path, final_path)
    except BaseException:
        try:
            os.rename(aside, final_path)
        except OSError as restore_error:
            raise OSError(f"Could not put {final_path!r} back after a failed replace: the "
                          f"previous version is in {aside!r}") from restore_error
        os.rmdir(aside_dir)
        raise
    shutil.rmtree(aside_dir)


@contextlib.contextmanager
def atomic_path(final_path, *, overwrite):
    """Yields a temporary path beside `final_path`; moves it into place when the
    block succeeds, removes it when it raises. Refuses an existing `final_path`
    unless `overwrite`. A file replaces a file in one `os.replace`; a directory
    replaces a directory by `_replace_directory` (the old one survives any failure).
    Nothing temporary is left beside `final_path` either way."""
    final_path = os.path.abspath(os.fspath(final_path))
    refuse_existing(final_path, overwrite=overwrite)
    parent = os.path.dirname(final_path)
    os.makedirs(parent, exist_ok=True)
    base = os.path.basename(final_path)
    tmp_dir = tempfile.mkdtemp(prefix=f".{base}.tmp-", dir=parent)
    tmp_path = os.path.join(tmp_dir, base)
    try:
        yield tmp_path
        if os.path.isdir(tmp_path):
            fault_points.reached("saved-model-written")  # tests: a kill before the rename
        if os.path.isdir(final_path) and not os.path.islink(final_path):
            _replace_directory(tmp_path, final_path)
        else:
            os.replace(tmp_path, final_path)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
