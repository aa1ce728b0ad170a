"""build_child: the paper's wiring rules, seeded weights, one fit step and a .keras round trip."""

import numpy as np
import pytest

from keras_zoo.models.nas import Architecture, LayerSpec, SearchSpace, build_child
from tests.harness import run_model_test


def _conv_params(spec, in_channels):
    return spec.filter_height * spec.filter_width * in_channels * spec.num_filters


def test_wiring_pads_concatenates_and_collects_unused_outputs():
    arch = Architecture((
        LayerSpec(3, 3, 8, stride=2),             # image -> 8 x 8
        LayerSpec(1, 5, 4),                       # no input: the image again, 16 x 16
        LayerSpec(3, 1, 6, inputs=(0, 1)),        # 8x8 padded to 16x16, depth 8 + 4
        LayerSpec(1, 1, 5, stride=3, inputs=(0,)),  # 8 x 8 -> 3 x 3, unused like layer 2
    ))
    model = build_child(arch, (16, 16, 1), 3, seed=0)
    assert model.get_layer("layer2_inputs_pad0").output.shape == (None, 16, 16, 8)
    assert model.get_layer("layer2_inputs_concat").output.shape == (None, 16, 16, 12)
    assert model.get_layer("layer1_conv").input.shape == (None, 16, 16, 1)
    assert model.get_layer("layer3_conv").output.shape == (None, 3, 3, 5)
    assert arch.unused_layers() == (2, 3)
    # Layer 3's 3x3 map padded to 16x16 (6 rows before, 7 after), concatenated with layer 2.
    assert model.get_layer("unused_pad1").padding == ((6, 7), (6, 7))
    assert model.get_layer("unused_concat").output.shape == (None, 16, 16, 11)
    in_channels = [1, 1, 12, 8]
    expected = sum(_conv_params(s, c) + 2 * s.num_filters for s, c in zip(arch.layers, in_channels))
    expected += 11 * 3 + 3  # classifier on the 6 + 5 unused channels
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == expected


def test_same_seed_same_weights():
    arch = SearchSpace(3).sample(0)
    a = build_child(arch, (8, 8, 1), 4, seed=3).get_weights()
    b = build_child(arch, (8, 8, 1), 4, seed=3).get_weights()
    c = build_child(arch, (8, 8, 1), 4, seed=4).get_weights()
    # The stateless initialisers draw from the seed alone: an exact contract.
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not np.array_equal(a[1], c[1])


@pytest.mark.parametrize("space", [SearchSpace(3), SearchSpace(3, strides=(1, 2, 3))],
                         ids=["skips", "strides"])
def test_random_children_train_one_step_and_serialise(space, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (4, 12, 12, 1), dtype=np.uint8)
    y = rng.integers(0, 5, 4).astype(np.int32)
    for k in range(2):
        arch = space.sample(rng)
        model = build_child(arch, (12, 12, 1), 5, seed=k)
        assert model.output_shape == (None, 5)
        run_model_test(model, x, y, tmp_path, loss="sparse_categorical_crossentropy")


def test_bad_arguments():
    with pytest.raises(ValueError, match="Architecture"):
        build_child({"layers": []}, (8, 8, 1), 2)
    with pytest.raises(ValueError, match="input_shape"):
        build_child(SearchSpace(1).sample(0), (8, 8), 2)
