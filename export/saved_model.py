"""SavedModel export in the TF Serving layout.

TF Serving watches a base directory and serves its numbered version
subdirectories: ``directory/<version>/saved_model.pb`` plus ``variables/``.
The ``serving_default`` signature takes raw ``uint8`` images (any batch size)
and returns named outputs, so a client sends pixels and needs no
preprocessing (normalisation is a layer inside every keras_zoo model).

A detector offering ``export_variants`` (``MaskRCNN``) is written as its
variants, one signature each (``serving_default`` and ``pasted_masks``, sharing
one copy of the weights), and verified by matching detections
(`keras_zoo.export.detections`).

A model with stochastic layers (a bool ``stochastic_inference`` attribute, as
`Swapout` / `StochasticDepth` merges have) also gets a ``stochastic`` signature
(Singh et al. 2016, Sec. 3.2): ``images`` uint8 ``[None, H, W, C]`` and
``num_samples`` int32 scalar N -> ``probabilities``, the mean softmax of N
sampled passes (`keras_zoo.export.stochastic.stochastic_serving_fn`).
"""

import os

import keras
import numpy as np
import tensorflow as tf

from keras_zoo.export import _common
from keras_zoo.export.detections import check_outputs
from keras_zoo.export.stochastic import stochastic_layers, stochastic_serving_fn
from keras_zoo.export.variants import SIGNATURE_KEY, serving_models

STOCHASTIC_KEY = "stochastic"
VERIFY_NUM_SAMPLES = 3  # sampled passes of the stochastic signature's seeded check


def _serving_fn(model, output_names=None, raw_pixels=True):
    specs = _common.input_specs(model, raw_pixels)

    def serve(*args):
        cast = [tf.cast(x, model_dtype) for x, (_, _, _, model_dtype) in zip(args, specs)]
        outputs = model(cast[0] if len(cast) == 1 else cast, training=False)
        return _common.named_outputs(model, outputs, output_names)

    signature = [tf.TensorSpec(shape, dtype, name=name) for name, shape, dtype, _ in specs]
    return serve, signature


def _wants_stochastic(model, wanted, raw_pixels):
    if wanted not in (None, True, False):
        raise ValueError(f"Expected stochastic in (None, True, False). Received: {wanted!r}")
    found = bool(stochastic_layers(model))
    if wanted is False or (wanted is None and not found):
        return False
    if not found:
        raise ValueError("Expected a model with Swapout / StochasticDepth layers for "
                         f"stochastic=True. Received: model={model.name!r} has none")
    if (len(model.inputs) != 1 or len(model.inputs[0].shape) != 4 or len(model.outputs) != 1
            or len(model.outputs[0].shape) != 2 or not raw_pixels):
        raise ValueError(
            "Expected a raw-pixel classifier (one [B, H, W, C] input, one [B, classes] output) "
            "for the stochastic signature, or stochastic=False. Received: "
            f"inputs {[tuple(t.shape) for t in model.inputs]}, outputs "
            f"{[tuple(t.shape) for t in model.outputs]}, raw_pixels={raw_pixels}")
    return True


def to_saved_model(model, directory, *, version=1, overwrite=False, verify=True,
                   sample_inputs=None, output_names=None, raw_pixels=True, stochastic=None,
                   from_logits=False):
    """Writes `model` as a TF Serving SavedModel at `directory/<version>`.

    The `serving_default` signature takes each rank-4 model input as raw
    `uint8` pixels `[batch, H, W, C]` (batch free; H, W, C from `model.input`;
    a single image input is named `images`, others keep their Keras names)
    and returns a dict of named outputs: a dict-output model's keys,
    `probabilities` for a single output, or the model's `output_names` for a
    list. With `raw_pixels=False` every input
    keeps the model's dtype instead (e.g. `ConcreteVAE.encoder`'s binary float
    images; its rank-3 `decoder` input is float either way).

    A model offering ``export_variants`` gets one signature per variant. For
    `MaskRCNN`: ``serving_default`` takes ``images`` uint8 ``[None, None, None, 3]``
    (any batch, any size) and returns ``boxes [B, D, 4]`` float32 ``xyxy`` in the
    input's pixels, ``scores [B, D]``, ``classes [B, D]`` int32, ``masks [B, D, 28,
    28]`` probabilities and ``num_detections [B]`` int32, as ``predict`` does;
    ``pasted_masks`` returns these and ``pasted_masks [B, D, H, W]`` bool.

    A model with stochastic layers (`Swapout` / `StochasticDepth`, or any
    layer with a bool `stochastic_inference` attribute) also gets the
    `stochastic` signature: `images` uint8 `[None, H, W, C]`, `num_samples`
    int32 scalar N >= 1 -> `probabilities` float32 `[None, classes]`, the
    mean softmax of N sampled passes (Singh et al. 2016, Sec. 3.2).

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
            within `_common.FLOAT_TOLERANCE` (1e-4) of the output scale (a
            detector's signatures: matched detections, scores and masks within
            1e-4, `keras_zoo.export.detections`); and `stochastic` with
            `verify_stochastic_signature`.
        sample_inputs: uint8 array (or dict by input name) used by verification;
            default: 2 random images (64 x 64 where the size is free; give real
            images to a detector, random ones may have no detection to compare).
        output_names: names for a non-dict model's outputs (default above).
        raw_pixels: serve rank-4 inputs as uint8 raw pixels (False: the model's dtype).
        stochastic: None adds the `stochastic` signature when the model has
            stochastic layers; True requires them; False leaves it out.
        from_logits: the model outputs logits; the `stochastic` signature then
            applies the softmax to each pass before averaging.

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
    final = os.path.join(os.fspath(directory), str(int(version)))
    variants = serving_models(model)
    signatures = {key: _serving_fn(variant, output_names, raw_pixels)
                  for key, variant in variants.items()}
    with_stochastic = _wants_stochastic(model, stochastic, raw_pixels)
    if verify:
        samples = _common.verification_samples(variants[SIGNATURE_KEY], sample_inputs,
                                               raw_pixels=raw_pixels)
    with _common.atomic_path(final, overwrite=overwrite) as tmp:
        # No `archive.track(model)`: the endpoints' variables are saved with them, and
        # tracking saves each a second time (Keras' variable and the tf.Variable it
        # wraps: twice the weights on disk).
        archive = keras.export.ExportArchive()
        for key, (serve, signature) in signatures.items():
            archive.add_endpoint(key, serve, input_signature=signature)
        if with_stochastic:
            archive.add_endpoint(STOCHASTIC_KEY, stochastic_serving_fn(
                model, from_logits=from_logits))
        archive.write_out(tmp, verbose=False)
        if verify:
            _verify_signatures(tmp, variants, samples, output_names, _common.FLOAT_TOLERANCE)
            if with_stochastic:
                verify_stochastic_signature(tmp, model, next(iter(samples.values())),
                                            from_logits=from_logits)
    return final


def verify_saved_model(path, model, inputs, *, output_names=None,
                       tolerance=_common.FLOAT_TOLERANCE):
    """Loads `path` with `tf.saved_model.load` and compares each of its signatures
    of `serving_models(model)` with that Keras variant on raw `inputs` (dict by
    input name): `check_outputs`, detections matched for a detector.

    Returns `{signature: result of check_outputs}` (the max error as a fraction of
    the output scale; for a detector, the worst agreement of matched detections).
    """
    return _verify_signatures(path, serving_models(model), inputs, output_names, tolerance)


def _verify_signatures(path, variants, inputs, output_names, tolerance):
    loaded = tf.saved_model.load(path)
    results = {}
    for key, variant in variants.items():
        got = loaded.signatures[key](**{k: tf.constant(v) for k, v in inputs.items()})
        got = {k: v.numpy() for k, v in got.items()}
        expected = _common.keras_outputs(variant, inputs, output_names)
        results[key] = check_outputs(expected, got, tolerance, f"SavedModel {path!r} ({key})",
                                     reference=variant, inputs=inputs)
    return results


def verify_stochastic_signature(path, model, images, *, num_samples=VERIFY_NUM_SAMPLES,
                                from_logits=False, tolerance=_common.FLOAT_TOLERANCE):
    """Checks the `stochastic` signature of the SavedModel at `path` against `model`.

    The signature's output must be `[B, classes]` rows on the probability
    simplex (entries >= 0, sums 1 within `tolerance`) and, seeded, equal what
    Keras computes eagerly: the SavedModel holds the stochastic layers'
    `SeedGenerator` states as they were when written, so the same passes run
    from the same states draw the same masks. The layers' states are restored
    afterwards (verification consumes no randomness). Must run before the
    model samples again after the write.

    Returns the max error as a fraction of the output scale.
    """
    state = [v for layer in stochastic_layers(model)
             for v in layer.non_trainable_variables]
    values = [v.numpy() for v in state]
    loaded = tf.saved_model.load(path)
    fn = loaded.signatures[STOCHASTIC_KEY]
    got = fn(images=tf.constant(images, tf.uint8),
             num_samples=tf.constant(num_samples, tf.int32))["probabilities"].numpy()
    classes = model.output_shape[-1]
    if got.shape != (len(images), classes):
        raise _common.ExportVerificationError(
            f"Stochastic signature of {path!r}: expected shape {(len(images), classes)}, "
            f"got {got.shape}")
    if np.any(got < 0) or np.max(np.abs(got.sum(-1) - 1.0)) > tolerance:
        raise _common.ExportVerificationError(
            f"Stochastic signature of {path!r}: expected probability rows (>= 0, summing to 1). "
            f"Received: min {got.min():.3g}, row sums {got.sum(-1)}")
    serve = stochastic_serving_fn(model, from_logits=from_logits).python_function
    try:
        expected = serve(tf.constant(images, tf.uint8), num_samples)["probabilities"].numpy()
    finally:
        for variable, value in zip(state, values):
            variable.assign(value)
    return _common.check_close({"probabilities": expected}, {"probabilities": got}, tolerance,
                               f"Stochastic signature of SavedModel {path!r} (seeded)")
