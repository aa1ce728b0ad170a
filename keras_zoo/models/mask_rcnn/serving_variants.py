"""The export-ready functional models of a `MaskRCNN` (`MaskRCNN.export_variants`)."""

import keras

# Serving signature -> whether it adds `pasted_masks` (the model's `paste_masks` option).
SIGNATURES = {"serving_default": False, "pasted_masks": True}
PARTS = ("backbone", "rpn_head", "box_head", "mask_head")


def _input_shape(input_size):
    if input_size is None:
        return (None, None, 3)
    size = tuple(input_size) if isinstance(input_size, (list, tuple)) else ()
    if len(size) != 2 or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0
                                 for d in size):
        raise ValueError("Expected input_size as (height, width), two positive ints. "
                         f"Received: input_size={input_size!r}")
    return (*size, 3)


def _gather_copy(head):
    """A copy of an RoI head whose pooler runs RoIAlign's `"gather"` implementation."""
    config = head.get_config()
    if "implementation" not in config:
        raise ValueError("Expected RoI heads with an `implementation` argument (BoxHead, "
                         "MaskHead) for builtin_ops=True. Received: a "
                         f"{type(head).__name__} head")
    return type(head).from_config({**config, "implementation": "gather"})


def serving_variants(model, input_size=None, *, builtin_ops=False, signatures=None):
    """`{signature: keras.Model}` of `model` (a `MaskRCNN`); see `MaskRCNN.export_variants`."""
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
