"""SearchSpace and the architecture value: encoding, JSON, validation, uniform sampling."""

import json

import keras
import numpy as np
import pytest

from keras_zoo.models.nas import Architecture, LayerSpec, SearchSpace

pytestmark = pytest.mark.no_keras_state  # no Keras layers: see tests/conftest.py

SPACES = [SearchSpace(4), SearchSpace(3, strides=(1, 2, 3)),
          SearchSpace(5, filter_heights=(3,), skip_connections=False)]


@pytest.mark.parametrize("space", SPACES, ids=["skips", "strides", "chain"])
def test_encode_decode_and_json_round_trip(space):
    rng = np.random.default_rng(0)
    for _ in range(20):
        arch = space.sample(rng)
        actions = space.encode(arch)
        assert actions.shape == (space.num_actions,) and actions.dtype == np.int32
        assert space.decode(actions) == arch
        text = arch.to_json()
        assert Architecture.from_json(text) == arch
        assert json.loads(text)["layers"][0]["filter_height"] == arch.layers[0].filter_height
        assert hash(Architecture.from_json(text)) == hash(arch)


def test_decisions_follow_the_paper_order():
    space = SearchSpace(3, strides=(1, 2))
    names = [(d.layer, d.name, d.size) for d in space.decisions]
    assert names == [(i, n, s) for i in range(3) for n, s in
                     [("filter_height", 1), ("filter_width", 1), ("num_filters", 1),
                      ("stride", 1), ("anchor", i)]]
    assert space.num_actions == 3 * 4 + 0 + 1 + 2
    assert space.size == (4 * 4 * 4 * 2) ** 3 * 2 ** 3


def test_chain_space_links_each_layer_to_the_previous():
    space = SearchSpace(3, skip_connections=False)
    arch = space.sample(1)
    assert [layer.inputs for layer in arch.layers] == [(), (0,), (1,)]
    assert arch.unused_layers() == (2,)
    assert all(d.name != "anchor" for d in space.decisions)


def test_architectures_outside_the_space_are_refused():
    space = SearchSpace(2)
    with pytest.raises(ValueError, match="stride 1"):
        space.encode(Architecture((LayerSpec(3, 3, 24, stride=2), LayerSpec(3, 3, 24))))
    with pytest.raises(ValueError, match="filter_height in"):
        space.encode(Architecture((LayerSpec(2, 3, 24), LayerSpec(3, 3, 24))))
    with pytest.raises(ValueError, match="2 layers"):
        space.encode(Architecture((LayerSpec(3, 3, 24),)))
    with pytest.raises(ValueError, match="a chain"):
        SearchSpace(2, skip_connections=False).encode(
            Architecture((LayerSpec(3, 3, 24), LayerSpec(3, 3, 24))))
    with pytest.raises(ValueError, match="earlier layers"):
        Architecture((LayerSpec(3, 3, 24, inputs=(0,)),))
    with pytest.raises(ValueError, match="sorted tuple"):
        LayerSpec(3, 3, 24, inputs=(1, 0))
    with pytest.raises(ValueError, match="format"):
        Architecture.from_json('{"layers": []}')
    with pytest.raises(ValueError, match="0/1"):
        space.decode(np.array([0, 0, 0, 0, 0, 0, 2]))
    with pytest.raises(ValueError, match="num_layers"):
        SearchSpace(0)
    with pytest.raises(ValueError, match="distinct"):
        SearchSpace(2, num_filters=(24, 24))


def test_uniform_sampling_frequencies():
    # 4,000 draws of 4-way choices and fair skip bits; 5 standard deviations of a
    # frequency p = 1/4 over n = 4,000 draws is 5 * sqrt(p (1 - p) / n) = 0.034.
    space = SearchSpace(3)
    rng = np.random.default_rng(7)
    actions = np.stack([space.encode(space.sample(rng)) for _ in range(4000)])
    for d in space.decisions:
        column = actions[:, d.offset:d.offset + d.size]
        if d.choices is None:
            np.testing.assert_allclose(column.mean(axis=0), 0.5, atol=5 * np.sqrt(0.25 / 4000))
        else:
            freq = np.bincount(column[:, 0], minlength=len(d.choices)) / len(column)
            np.testing.assert_allclose(freq, 0.25, atol=0.034)


def test_config_round_trip_through_keras_serialization():
    space = SearchSpace(3, filter_heights=(1, 3), num_filters=(8, 16), strides=(1, 2),
                        skip_connections=False)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(space))
    assert restored == space
    assert SearchSpace.from_config(json.loads(json.dumps(space.get_config()))) == space
