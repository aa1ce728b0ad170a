"""layers.walk_layers: nested layers through public attributes, each once."""

import keras

from keras_zoo import layers, models


class _Holder(keras.layers.Layer):
    """Keeps sublayers in every public form the walker reads, plus a private one."""

    def __init__(self, shared, **kwargs):
        super().__init__(**kwargs)
        self.single = keras.layers.Dense(2, name="single")
        self.stack = [keras.layers.Dense(2, name="in_list"), shared]
        self.table = {"a": keras.layers.Dense(2, name="in_dict"), "b": shared}
        self._hidden = keras.layers.Dense(2, name="hidden")
        self.built = True  # an identity: nothing of its own to build

    def call(self, x):
        return x


def test_walks_models_and_public_attributes_once_each():
    shared = keras.layers.Dense(2, name="shared")
    inputs = keras.Input((3,))
    inner = keras.Model(inputs, shared(inputs), name="inner")
    holder = _Holder(shared, name="holder")
    outer = keras.Model(inputs, holder(inner(inputs)), name="outer")
    names = [layer.name for layer in layers.walk_layers(outer)]
    assert sorted(names) == sorted(["input_layer", "inner", "shared", "holder", "single",
                                    "in_list", "in_dict"]), names
    assert "outer" not in names and "hidden" not in names  # not itself, not private
    assert names.index("inner") < names.index("shared")  # depth first from the root


def test_finds_the_merges_inside_residual_blocks():
    model = models.SwapoutResNet(8, 1, input_shape=(8, 8, 1), num_classes=4,
                                 normalization="unit")
    found = layers.walk_layers(model)
    assert sum(isinstance(layer, layers.Swapout) for layer in found) == 3
    # Every layer Keras itself tracks (through its private `_flatten_layers`) is found.
    assert {id(layer) for layer in found} == {
        id(layer) for layer in model._flatten_layers(include_self=False)}
