"""The export-ready functional models of a `MaskRCNN` (`MaskRCNN.export_variants`)."""

import keras

from keras_zoo.checks import image_size

# Serving signature -> whether it adds `pasted_masks` (the model's `paste_masks` option).
SIGNATURES = {"serving_default": False, "pasted_masks": True}
PARTS = ("backbone", "rpn_head", "box_head", "mask_head")


def _input_shape(input_size):
    if input_size is None:
        return (None, None, 3)
    return (*image_size("input_size", input_size), 3)


def _gather_copy(head):
    """A copy of an RoI head whose pooler runs RoIAlign's `"gather"` implementation."""
    config = head.get_config()
    if "implementation" not in config:
        raise ValueError("Expected RoI heads with an `implementation` argument (BoxHead, "
                         "MaskHead) for builtin_ops=True. Received: a "
                         f"{type(head).__name__} head")
    return type(head).from_config({**config, "implementation": "gather"})


def serving_variants(model, input_size=None, *, builtin_ops=False, signatures=None):
    """Functional models of `model` (a `MaskRCNN`) for export, by serving signature.

    ``keras_zoo.export`` calls it through ``MaskRCNN.export_variants`` (the
    exporters take any model offering the method): ``to_saved_model`` writes
    every signature, ``to_tflite`` converts ``serving_default``. Each takes
    ``images [B, H, W, 3]`` float32 raw pixels (the exporters serve them as
    uint8) and runs `call`, so it returns what ``predict`` does:

    - ``serving_default``: ``boxes``, ``scores``, ``classes``, ``masks`` (28 x 28
      over each box), ``num_detections``;
    - ``pasted_masks``: the same plus ``pasted_masks [B, D, H, W]`` bool at the
      input size (``paste_masks=True``).

    The variants share this model's backbone and RPN head, and its box and mask
    heads unless ``builtin_ops``, so a SavedModel holds one copy of the weights.

    Args:
        model: the `MaskRCNN`.
        input_size: None for images of any size, or ``(height, width)`` python
            ints: a fixed size gives the graph static shapes (TFLite needs them).
        builtin_ops: use only ops with TFLite builtin kernels: the RoI heads
            are copies (weights copied) whose RoIAlign runs its ``"gather"``
            implementation (TF's CropAndResize has no TFLite builtin); the
            values are those of the default ``"crop_and_resize"``.
        signatures: None for both, or the names of those to build (TFLite
            needs only ``"serving_default"``).

    Returns:
        ``{"serving_default": keras.Model, "pasted_masks": keras.Model}`` (those
        asked for, in this order).
    """
    shape = _input_shape(input_size)
    wanted = list(SIGNATURES) if signatures is None else list(signatures)
    if not wanted or not set(wanted) <= set(SIGNATURES):
        raise ValueError(f"Expected signatures among {list(SIGNATURES)}. Received: "
                         f"signatures={signatures!r}")
    parts = {name: getattr(model, name) for name in PARTS}
    if builtin_ops:
        parts.update(box_head=_gather_copy(model.box_head),
                     mask_head=_gather_copy(model.mask_head))
    config = {**model.get_config(), **parts}
    variants = {}
    for signature in wanted:
        paste = SIGNATURES[signature]
        detector = type(model)(**{**config, "paste_masks": paste,
                                  "name": f"{model.name}_{signature}"})
        images = keras.Input(shape, name="images")
        variants[signature] = keras.Model(images, detector(images), name=detector.name)
    if builtin_ops:  # the copies were built by the first detector
        for name in ("box_head", "mask_head"):
            parts[name].set_weights(getattr(model, name).get_weights())
    return variants
