"""SavedModel export in the TF Serving layout.

TF Serving watches a base directory and serves its numbered version
subdirectories: ``directory/<version>/saved_model.pb`` plus ``variables/``.
The ``serving_default`` signature takes raw ``uint8`` images (any batch size)
and returns named outputs, so a client sends pixels and needs no
preprocessing (normalisation is a layer inside every keras_zoo model).
"""

import os

import keras
import numpy as np
import tensorflow as tf
from keras_zoo.export import _common

SIGNATURE_KEY = "serving_default"


def _serving_fn(model, output_names=None):
    specs = _common.input_specs(model)

    def serve(*args):
        cast = [tf.cast(x, model_dtype) for x, (_, _, _, model_dtype) in zip(args, specs)]
        outputs = model(cast[0] if len(cast) == 1 else cast, training=False)
        return _common.named_outputs(model, outputs, output_names)

    signature = [tf.TensorSpec(shape, dtype, name=name) for name, shape, dtype, _ in specs]
    return serve, signature


def to_saved_model(model, directory, *, version=1, overwrite=False, verify=True,
                   sample_inputs=None, output_names=None):
    """Writes `model` as a TF Serving SavedModel at `directory/<version>`.

    The `serving_default` signature takes each rank-4 model input as raw
    `uint8` pixels `[batch, H, W, C]` (batch free; H, W, C from `model.input`;
    a single input is named `images`) and returns a dict of named outputs:
    a dict-output model's keys, `probabilities` for a single output, or the
    model's `output_names` for a list.

    The SavedModel is written to a temporary directory beside the version
    directory, verified there, then renamed into place, so a failed export
    leaves nothing behind.

    Args:
        model: a built `keras.Model`.
        directory: the model base path TF Serving watches.
        version: positive integer version (TF Serving serves the highest).
        overwrite: replace an existing `directory/<version>`; refused otherwise.
        verify: load the SavedModel back with `tf.saved_model.load` and check
            that `serving_default` matches the Keras model on `sample_inputs`
            within `_common.FLOAT_TOLERANCE` (1e-4) of the output scale.
        sample_inputs: uint8 array (or dict by input name) used by verification;
            default: 2 random images.
        output_names: names for a non-dict model's outputs (default above).

    Returns:
        The version directory path (str).

    Raises:
        ValueError: bad version, or the version directory exists without `overwrite`.
        ExportVerificationError: the loaded SavedModel disagrees with Keras.

    Example:
        >>> path = to_saved_model(model, "/models/resnet20", version=1)
        >>> # tensorflow_model_server --model_base_path=/models/resnet20 ...
    """
    if isinstance(version, bool) or not isinstance(version, (int, np.integer)) or version < 1:
        raise ValueError(f"Expected a positive integer version. Received: version={version!r}")
    if not isinstance(model, keras.Model):
        raise ValueError(f"Expected a keras.Model. Received: model of type {type(model).__name__}")
    final = os.path.join(os.fspath(directory), str(int(version)))
    serve, signature = _serving_fn(model, output_names)
    if verify:
        samples = (_common.sample_inputs(model) if sample_inputs is None
                   else _common.as_input_dict(model, sample_inputs))
    with _common.atomic_path(final, overwrite=overwrite) as tmp:
        archive = keras.export.ExportArchive()
        archive.track(model)
        archive.add_endpoint(SIGNATURE_KEY, serve, input_signature=signature)
        archive.write_out(tmp, verbose=False)
        if verify:
            verify_saved_model(tmp, model, samples, output_names=output_names)
    return final


def verify_saved_model(path, model, inputs, *, output_names=None,
                       tolerance=_common.FLOAT_TOLERANCE):
    """Loads `path` with `tf.saved_model.load` and compares its `serving_default`
    outputs with `model` on raw `inputs` (dict by input name).

    Returns the max error as a fraction of the output scale.
    """
    loaded = tf.saved_model.load(path)
    fn = loaded.signatures[SIGNATURE_KEY]
    got = fn(**{k: tf.constant(v) for k, v in inputs.items()})
    got = {k: v.numpy() for k, v in got.items()}
    expected = _common.keras_outputs(model, inputs, output_names)
    return _common.check_close(expected, got, tolerance, f"SavedModel {path!r}")
