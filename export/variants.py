"""What an exporter writes of a model: its serving signatures, each a functional
`keras.Model` with known inputs.

Export imports nothing of keras_zoo's models: a model that cannot be exported as
it stands (a subclassed detector taking images of any size has no ``inputs``; its
RoIAlign must change implementation for TFLite) offers the method
``export_variants(input_size=None, *, builtin_ops=False, signatures=None)``
returning ``{signature name: keras.Model}`` (those named in ``signatures``, all
when None) with a ``serving_default`` entry, as
``MaskRCNN.export_variants`` documents. Any other model is its own
``serving_default``.
"""

import keras

from keras_zoo.checks import image_size

SIGNATURE_KEY = "serving_default"


def _with_input_size(model, input_size):
    """`model` at a fixed image size: itself when its input has that size, a functional
    model around it when its input leaves height and width free."""
    height, width = image_size("input_size", input_size)
    inputs = getattr(model, "inputs", None) or []
    if len(inputs) != 1 or len(inputs[0].shape) != 4:
        raise ValueError("Expected a model with one image input [B, H, W, C] for input_size. "
                         f"Received: inputs {[tuple(t.shape) for t in inputs]}")
    current = tuple(inputs[0].shape[1:3])
    if current == (height, width):
        return model
    if current != (None, None):
        raise ValueError(f"Expected input_size {current} (the model's input size) or a model "
                         f"of free size. Received: input_size={input_size!r}")
    images = keras.Input((height, width, inputs[0].shape[3]), dtype=inputs[0].dtype,
                         name="images")
    return keras.Model(images, model(images), name=model.name)


def offers_variants(model):
    """Whether `model` offers ``export_variants`` (the module docstring)."""
    return callable(getattr(model, "export_variants", None))


def serving_models(model, *, input_size=None, builtin_ops=False, default_only=False):
    """The models to export of `model`, by serving signature.

    Args:
        model: a `keras.Model`.
        input_size: None, or ``(height, width)``: the image size to fix (TFLite).
        builtin_ops: ask for a variant with TFLite builtin ops only (used by a model
            offering ``export_variants``; any other model is converted as it is).
        default_only: build only ``serving_default`` (TFLite converts no other).

    Returns:
        ``{signature name: keras.Model}``, ``serving_default`` first.
    """
    if not isinstance(model, keras.Model):
        raise ValueError(f"Expected a keras.Model. Received: model of type {type(model).__name__}")
    if not offers_variants(model):
        return {SIGNATURE_KEY: model if input_size is None else _with_input_size(model,
                                                                                 input_size)}
    variants = model.export_variants(input_size=input_size, builtin_ops=builtin_ops,
                                     signatures=[SIGNATURE_KEY] if default_only else None)
    if (not isinstance(variants, dict) or SIGNATURE_KEY not in variants
            or not all(isinstance(v, keras.Model) for v in variants.values())):
        raise ValueError(f"Expected {type(model).__name__}.export_variants to return "
                         f"{{signature: keras.Model}} with {SIGNATURE_KEY!r}. Received: "
                         f"{variants!r}")
    return {SIGNATURE_KEY: variants[SIGNATURE_KEY],
            **{k: v for k, v in variants.items() if k != SIGNATURE_KEY}}
