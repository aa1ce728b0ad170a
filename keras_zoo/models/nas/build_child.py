"""`build_child`: a `keras.Model` from an `Architecture` (Zoph & Le 2016, Sec. 3.3)."""

import math

import keras

from keras_zoo import layers
from keras_zoo.checks import positive_ints
from keras_zoo.models.nas.architecture import Architecture

BN_MOMENTUM = 0.9  # moving statistics settle within the few hundred steps a child trains


def _merge(tensors, sizes, name):
    """Zero-pad the smaller maps to the largest height and width (centred,
    the extra row or column at the bottom / right) and concatenate on depth."""
    if len(tensors) == 1:
        return tensors[0], sizes[0]
    height, width = max(h for h, _ in sizes), max(w for _, w in sizes)
    padded = []
    for k, (tensor, (h, w)) in enumerate(zip(tensors, sizes)):
        if (h, w) != (height, width):
            top, left = (height - h) // 2, (width - w) // 2
            tensor = keras.layers.ZeroPadding2D(
                ((top, height - h - top), (left, width - w - left)), name=f"{name}_pad{k}")(tensor)
        padded.append(tensor)
    return keras.layers.Concatenate(axis=-1, name=f"{name}_concat")(padded), (height, width)


def build_child(arch, input_shape, num_classes, *, seed=None, name="child"):
    """The child network of `arch` (Zoph & Le 2016, Sec. 3.3).

    Layer i concatenates on depth the outputs of the layers in
    ``arch.layers[i].inputs``, the smaller maps zero-padded to the largest
    (a layer with no input takes the image), then applies a
    ``filter_height x filter_width`` convolution with `num_filters` filters,
    `stride` and "same" padding, batch normalisation and ReLU. The outputs
    that no layer uses are concatenated the same way and feed global
    average pooling and a softmax classifier.

    Args:
        arch: an `Architecture`.
        input_shape: ``(H, W, C)`` of the raw-pixel images.
        num_classes: classifier outputs.
        seed: int seed of the initial weights (He normal convolutions,
            Glorot uniform classifier); None draws them at random. The same
            seed builds the same weights, with no global random state.
        name: the model's name.

    Returns:
        A functional `keras.Model`: raw pixels ``[B, H, W, C]`` (uint8 or
        floats in [0, 255], scaled to [0, 1] by a "normalization" layer) to
        probabilities ``[B, num_classes]``.

    Example:

    >>> arch = SearchSpace(3).sample(0)
    >>> build_child(arch, (32, 32, 1), 10, seed=0).output_shape
    (None, 10)
    """
    if not isinstance(arch, Architecture):
        raise ValueError(f"Expected an Architecture. Received: {type(arch).__name__}")
    if len(positive_ints("input_shape", input_shape)) != 3:
        raise ValueError(f"Expected input_shape (H, W, C) of positive ints. "
                         f"Received: input_shape={input_shape!r}")

    def initializer(cls, k):
        return cls(seed=None if seed is None else seed * 1000 + k)

    images = keras.Input(shape=tuple(input_shape), name="images")
    image = layers.ImageNormalization(std=255.0, name="normalization")(images)
    image_size = tuple(input_shape[:2])
    outputs, sizes = [], []
    for i, spec in enumerate(arch.layers):
        if spec.inputs:
            x, (h, w) = _merge([outputs[j] for j in spec.inputs], [sizes[j] for j in spec.inputs],
                               f"layer{i}_inputs")
        else:
            x, (h, w) = image, image_size
        x = keras.layers.Conv2D(spec.num_filters, (spec.filter_height, spec.filter_width),
                                strides=spec.stride, padding="same", use_bias=False,
                                kernel_initializer=initializer(keras.initializers.HeNormal, i),
                                name=f"layer{i}_conv")(x)
        x = keras.layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"layer{i}_bn")(x)
        outputs.append(keras.layers.Activation("relu", name=f"layer{i}_relu")(x))
        sizes.append((math.ceil(h / spec.stride), math.ceil(w / spec.stride)))
    unused = arch.unused_layers()
    x, _ = _merge([outputs[i] for i in unused], [sizes[i] for i in unused], "unused")
    x = keras.layers.GlobalAveragePooling2D(name="avg_pool")(x)
    probabilities = keras.layers.Dense(
        num_classes, activation="softmax", name="predictions",
        kernel_initializer=initializer(keras.initializers.GlorotUniform, len(arch.layers)))(x)
    return keras.Model(images, probabilities, name=name)
