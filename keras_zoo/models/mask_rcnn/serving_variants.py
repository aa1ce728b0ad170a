"""The export-ready functional models of a detector (`FasterRCNN.export_variants`)."""

import keras

from keras_zoo.checks import image_size


def _gather_copy(pooler):
    """A copy of an RoI pooler that runs RoIAlign's `"gather"` implementation (poolers
    hold no weights)."""
    config = pooler.get_config()
    if "implementation" not in config:
        raise ValueError("Expected RoI poolers with an `implementation` argument "
                         "(layers.MultiLevelRoIAlign) for builtin_ops=True. Received: a "
                         f"{type(pooler).__name__}")
    return type(pooler).from_config({**config, "implementation": "gather"})


def serving_variants(model, input_size=None, *, builtin_ops=False, signatures=None):
    """Functional models of `model` (a `FasterRCNN` or `MaskRCNN`) for export, by serving
    signature.

    ``keras_zoo.export`` calls it through ``export_variants`` (the exporters take any
    model offering the method): ``to_saved_model`` writes every signature, ``to_tflite``
    converts ``serving_default``. Each takes ``images [B, H, W, 3]`` float32 raw pixels
    (the exporters serve them as uint8) and runs `call`, so it returns what ``predict``
    does; the signatures are the model's ``SIGNATURES``:

    - ``serving_default``: ``boxes``, ``scores``, ``classes``, ``num_detections`` (and a
      Mask R-CNN's ``masks``, 28 x 28 over each box);
    - ``pasted_masks`` (Mask R-CNN): the same plus ``pasted_masks [B, D, H, W]`` bool at
      the input size.

    The variants are `model.replace` copies sharing every part of `model` (one copy of
    the weights in a SavedModel); with ``builtin_ops`` their RoI poolers run
    RoIAlign's ``"gather"`` implementation (TF's CropAndResize has no TFLite builtin),
    with the values of the default ``"crop_and_resize"``.

    Args:
        model: the detector.
        input_size: None for images of any size, or ``(height, width)`` python ints: a
            fixed size gives the graph static shapes (TFLite needs them).
        builtin_ops: use only ops with TFLite builtin kernels (above).
        signatures: None for all, or the names of those to build.

    Returns:
        ``{signature: keras.Model}`` (those asked for, in the order of ``SIGNATURES``).
    """
    shape = (None, None, 3) if input_size is None else (*image_size("input_size", input_size), 3)
    available = list(model.SIGNATURES)
    wanted = available if signatures is None else list(signatures)
    if not wanted or not set(wanted) <= set(available):
        raise ValueError(f"Expected signatures among {available}. Received: "
                         f"signatures={signatures!r}")
    poolers = {name: _gather_copy(getattr(model, name)) for name in model.POOLERS
               if builtin_ops}
    variants = {}
    for signature in available:
        if signature not in wanted:
            continue
        detector = model.replace(**poolers, **model.SIGNATURES[signature],
                                 name=f"{model.name}_{signature}")
        images = keras.Input(shape, name="images")
        variants[signature] = keras.Model(images, detector(images), name=detector.name)
    return variants
