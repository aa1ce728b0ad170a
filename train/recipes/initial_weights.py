"""`initial_classifier`: the classifier a run starts from, with random weights or those of
``--init``, its classifier replaced for the data's classes.

``--init`` is ``[kind, path]`` (`INIT_KINDS`; ``keras-zoo train --init PATH`` infers the
kind): ``"keras-applications"``, the ``.h5`` weights file of
``keras.applications.ResNet50`` / ``ResNet101`` / ``ResNet152`` with or without its
top (``resnet50_weights_tf_dim_ordering_tf_kernels.h5``, ``..._notop.h5``), read by
``keras.applications`` itself and converted exactly by
`keras_zoo.models.resnet.from_keras_applications` (the converted net has the
stride on the 1x1 conv and Caffe's BGR mean, so the run's model is built that way).
``"preset"``, a preset directory (``keras-zoo convert keras-applications ...`` writes one) of
an `ImageClassifier` or a `ResNetBackbone` of the same network: the run's model is built
with the preset backbone's layout (stride, shortcut, pixel normalisation). Every layer but
the classifier ("fc") is copied by name, variable by variable.
"""

import os
import re

import keras

from keras_zoo import models

INIT_KINDS = ("keras-applications", "preset")
KERAS_APPLICATIONS = {"resnet50": "ResNet50", "resnet101": "ResNet101",
                      "resnet152": "ResNet152"}
NEW_LAYERS = ("fc",)  # the classifier, built for the data's classes
# How a model must be built to take keras.applications weights (their v1 layout).
KERAS_APPLICATIONS_LAYOUT = {"stride_on": "1x1", "normalization": "caffe",
                             "shortcut": "projection"}
LAYOUT = tuple(KERAS_APPLICATIONS_LAYOUT)  # the backbone arguments a preset's weights fix


def init_kind(path):
    """The kind of a one-word ``--init PATH``: "preset" for a directory, else
    "keras-applications"."""
    return "preset" if os.path.isdir(path) else "keras-applications"


def initial_classifier(model_name, builder, *, num_classes, input_shape, init=None, **kwargs):
    """The run's classifier: ``builder(num_classes=..., input_shape=..., **kwargs)``, with
    the weights of `init` but for its new classifier.

    Args:
        model_name: the registry's name ("resnet50"), to pick the keras.applications net.
        builder: the registry's factory (`models.ResNet50`, ...).
        num_classes: the data's classes (the new "fc" layer's width).
        input_shape: ``(H, W, C)`` of the training crops.
        init: None (random weights) or ``[kind, path]`` (see the module docstring).
        **kwargs: more factory arguments (``norm_layer``).

    Raises:
        ValueError, FileNotFoundError: an unknown kind, a missing or unreadable file, a
            file of another network.
    """
    if init is None:
        return builder(num_classes=num_classes, input_shape=input_shape, **kwargs)
    kind, path = init
    if kind not in INIT_KINDS:
        raise ValueError(f"Expected --init a keras.applications ResNet .h5 weights file or a "
                         f"preset directory (kinds: {', '.join(INIT_KINDS)}). Received: "
                         f"--init {kind} {path}")
    if kind == "preset":
        source = preset_backbone(model_name, path)
        layout = {key: source.get_config()[key] for key in LAYOUT}
    else:
        source, layout = keras_applications_classifier(model_name, path), KERAS_APPLICATIONS_LAYOUT
    model = builder(num_classes=num_classes, input_shape=input_shape, **layout, **kwargs)
    copy_weights(source, model, skip=NEW_LAYERS)
    return model


def preset_backbone(model_name, path):
    """The `ResNetBackbone` of a classifier or backbone preset, checked to be `model_name`'s
    network (the stage sizes of `resnet.VARIANTS`)."""
    source = models.ResNetBackbone.from_preset(path)
    expected = models.resnet.VARIANTS[model_name]["stage_blocks"]
    found = tuple(source.get_config()["stage_blocks"])
    if found != tuple(expected):
        raise ValueError(f"Expected --init a preset of {model_name} (stages {tuple(expected)}). "
                         f"Received: {path} holds a network with stages {found}")
    return source


def keras_applications_classifier(model_name, path):
    """Our copy (`from_keras_applications`) of the keras.applications net of `model_name`
    with the weights in `path` (its top included when the file has one)."""
    if model_name not in KERAS_APPLICATIONS:
        raise ValueError(f"Expected --init keras-applications for {', '.join(KERAS_APPLICATIONS)} "
                         f"(keras.applications has no other ResNet). Received: {model_name}")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Expected --init to be a keras.applications weights file. "
                                f"Received: {path!r} does not exist")
    factory = getattr(keras.applications, KERAS_APPLICATIONS[model_name])
    errors = []
    for include_top in _top_first(path):
        try:
            theirs = factory(weights=path, include_top=include_top)
        except (ValueError, OSError, KeyError) as error:
            errors.append(" ".join(str(error).split())[:200])
            continue
        return models.resnet.from_keras_applications(theirs)
    raise ValueError(f"Expected {path} to hold keras.applications.{factory.__name__}'s weights "
                     f"({model_name}_weights_tf_dim_ordering_tf_kernels.h5 or its _notop twin). "
                     f"Received: a file it cannot load ({errors[-1]})")


def keras_applications_file(path):
    """``(variant, model)``: the keras.applications ResNet whose weights `path` holds
    ("resnet50", "resnet101" or "resnet152", told by its conv4 blocks) as our
    `ImageClassifier` (with the top) or `ResNetBackbone` (without)."""
    import h5py

    if not os.path.isfile(path):
        raise FileNotFoundError(f"Expected a keras.applications weights file. Received: "
                                f"{path!r} does not exist")
    try:
        with h5py.File(path, "r") as f:
            names = [n.decode() if isinstance(n, bytes) else n
                     for n in f.attrs.get("layer_names", [])]
    except OSError as error:
        raise ValueError(f"Expected a keras.applications ResNet weights file (HDF5). "
                         f"Received: {path!r} does not open ({str(error)[:120]})") from None
    blocks = {int(m.group(1)) for n in names if (m := re.fullmatch(r"conv4_block(\d+)_1_conv", n))}
    variant = {6: "resnet50", 23: "resnet101", 36: "resnet152"}.get(max(blocks, default=0))
    if variant is None:
        raise ValueError(f"Expected keras.applications ResNet50, ResNet101 or ResNet152 weights "
                         f"(6, 23 or 36 conv4 blocks). Received: {path!r} with "
                         f"{max(blocks, default=0)}")
    return variant, keras_applications_classifier(variant, path)


def _top_first(path):
    """``(True, False)`` or ``(False, True)``: try first whether the weights file of
    keras.applications has the classifier ("predictions"), as its layer list says."""
    import h5py

    try:
        with h5py.File(path, "r") as f:
            names = [n.decode() if isinstance(n, bytes) else n
                     for n in f.attrs.get("layer_names", [])]
    except OSError:
        return True, False
    return (True, False) if not names or "predictions" in names else (False, True)


def copy_weights(source, target, *, skip=()):
    """Copies the variables of every layer of `target` (but those named in `skip`) from the
    layer of `source` with the same name, matching variables by path.

    Raises:
        ValueError: a layer or variable `source` lacks, or of another shape.
    """
    for layer in target.layers:
        if layer.name in skip or not layer.weights:
            continue
        try:
            theirs = {v.path: v for v in source.get_layer(layer.name).weights}
        except ValueError:
            raise ValueError(f"Expected a layer {layer.name!r} in the --init network. "
                             f"Received: {source.name} without it") from None
        for variable in layer.weights:
            value = theirs.get(variable.path)
            if value is None or tuple(value.shape) != tuple(variable.shape):
                raise ValueError(f"Expected the --init network's {variable.path} of shape "
                                 f"{tuple(variable.shape)}. Received: "
                                 f"{None if value is None else tuple(value.shape)}")
            variable.assign(value)
