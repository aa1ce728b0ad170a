"""Weight interop with `keras.applications.ResNet50/101/152` (Caffe-style v1 nets).

Their convolutions carry biases, their BatchNormalization uses epsilon 1.001e-5 and
their bottlenecks put the stride on the first 1x1 conv. Ours are bias-free, so the
conversion folds each bias exactly into the following BatchNormalization (Keras BN
computes `gamma * (x - mean) / sqrt(var + eps) + beta`):

    conv(x) + b - mean      ==  conv(x) - (mean - b)        ->  mean' = mean - b
    var + eps_theirs        ==  var' + eps_ours             ->  var'  = var + eps_theirs - eps_ours

Ours must use `stride_on="1x1"` and the "caffe" normalisation (BGR, mean subtracted),
so `ours(raw) == theirs(keras.applications.resnet.preprocess_input(raw))`.

    theirs = keras.applications.ResNet50(weights="imagenet")
    ours = from_keras_applications(theirs)            # a keras_zoo ResNet50
    copy_to_keras_applications(ours, theirs)          # and back
"""

import keras
import numpy as np

from keras_zoo.models.resnet.image_classifier import ImageClassifier
from keras_zoo.models.resnet.resnet_backbone import ResNetBackbone
from keras_zoo.models.resnet.variants import NORMALIZATIONS, VARIANTS

_DEPTH_BY_STAGE4 = {6: "resnet50", 23: "resnet101", 36: "resnet152"}


def _layer_names(model):
    return {layer.name for layer in model.layers}


def detect_variant(keras_app_model):
    """"resnet50" / "resnet101" / "resnet152" from a keras.applications model's layers."""
    names = _layer_names(keras_app_model)
    stage4 = sum(1 for n in names if n.startswith("conv4_block") and n.endswith("_out"))
    has_v1_blocks = "conv2_block1_0_conv" in names and "conv2_block1_3_conv" in names
    if stage4 not in _DEPTH_BY_STAGE4 or not has_v1_blocks or "post_bn" in names:
        raise ValueError("Expected a keras.applications ResNet50, ResNet101 or ResNet152 (v1) "
                         f"model. Received: model {keras_app_model.name!r} with "
                         f"{stage4} conv4 blocks")
    return _DEPTH_BY_STAGE4[stage4]


def _pairs(ours, variant):
    """(our conv, our bn, their conv name, their bn name) for every conv of the net."""
    spec = VARIANTS[variant]
    yield ours.get_layer("conv1_conv"), ours.get_layer("conv1_bn"), "conv1_conv", "conv1_bn"
    for stage, blocks in enumerate(spec["stage_blocks"]):
        for j in range(blocks):
            prefix = f"conv{stage + 2}_block{j + 1}"
            block = ours.get_layer(prefix)
            for i, (conv, bn) in enumerate(zip(block.convs, block.bns)):
                yield conv, bn, f"{prefix}_{i + 1}_conv", f"{prefix}_{i + 1}_bn"
            if block.shortcut_conv is not None:
                yield block.shortcut_conv, block.shortcut_bn, f"{prefix}_0_conv", f"{prefix}_0_bn"


def _check_compatible(ours, variant):
    norm = ours.get_layer("normalization")
    caffe = NORMALIZATIONS["caffe"]
    if norm.channel_order != "bgr" or tuple(norm.mean) != caffe["mean"] or norm.std != 1.0:
        raise ValueError("Expected a keras_zoo ResNet built with normalization='caffe' (what "
                         "keras.applications' preprocess_input does). Received: "
                         f"mean={norm.mean}, std={norm.std}, channel_order={norm.channel_order!r}")
    block = ours.get_layer("conv3_block1")
    if block.stride_on != "1x1" or block.preact or block.shortcut != "projection":
        raise ValueError("Expected a keras_zoo ResNet with stride_on='1x1', preact=False and "
                         "shortcut='projection' (keras.applications' v1 layout). Received: "
                         f"stride_on={block.stride_on!r}, preact={block.preact}, "
                         f"shortcut={block.shortcut!r}")
    if f"conv4_block{VARIANTS[variant]['stage_blocks'][2]}" not in _layer_names(ours):
        raise ValueError(f"Expected a keras_zoo {variant} to match the keras.applications model. "
                         f"Received: model {ours.name!r}")


def load_from_keras_applications(ours, theirs):
    """Copies `theirs` (keras.applications ResNet50/101/152) into `ours`, folding
    conv biases and the epsilon difference into the BN statistics (exact)."""
    variant = detect_variant(theirs)
    _check_compatible(ours, variant)
    for conv, bn, conv_name, bn_name in _pairs(ours, variant):
        kernel, bias = theirs.get_layer(conv_name).get_weights()
        their_bn = theirs.get_layer(bn_name)
        gamma, beta, mean, var = (np.asarray(w, "float64") for w in their_bn.get_weights())
        conv.set_weights([kernel])
        bn.set_weights([gamma, beta, mean - bias, var + their_bn.epsilon - bn.epsilon])
    if "predictions" in _layer_names(theirs):
        ours.get_layer("fc").set_weights(theirs.get_layer("predictions").get_weights())
    return ours


def copy_to_keras_applications(ours, theirs):
    """The inverse of `load_from_keras_applications`: biases set to zero, BN
    statistics unchanged but for the epsilon difference."""
    variant = detect_variant(theirs)
    _check_compatible(ours, variant)
    for conv, bn, conv_name, bn_name in _pairs(ours, variant):
        (kernel,) = conv.get_weights()
        their_bn = theirs.get_layer(bn_name)
        gamma, beta, mean, var = (np.asarray(w, "float64") for w in bn.get_weights())
        theirs.get_layer(conv_name).set_weights([kernel, np.zeros(kernel.shape[-1], "float32")])
        their_bn.set_weights([gamma, beta, mean, var + bn.epsilon - their_bn.epsilon])
    if "predictions" in _layer_names(theirs):
        theirs.get_layer("predictions").set_weights(ours.get_layer("fc").get_weights())
    return theirs


def from_keras_applications(theirs, *, name=None):
    """A keras_zoo ResNet with the weights of a keras.applications ResNet50/101/152.

    With their top (`include_top=True`) the result is our classifier with the same
    number of classes and final activation; without it, our `ResNetBackbone` (whose
    "C5" output equals their output).
    """
    variant = detect_variant(theirs)
    backbone = ResNetBackbone.from_variant(
        variant, stride_on="1x1", normalization="caffe", shortcut="projection",
        input_shape=tuple(theirs.input_shape[1:]),
        name=f"{name or variant}_backbone" if "predictions" in _layer_names(theirs) else name)
    if "predictions" in _layer_names(theirs):
        dense = theirs.get_layer("predictions")
        ours = ImageClassifier(backbone, dense.units,
                               classifier_activation=keras.activations.serialize(dense.activation),
                               name=name or variant)
    else:
        ours = backbone
    return load_from_keras_applications(ours, theirs)
