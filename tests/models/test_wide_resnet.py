"""WideResNet: parameter counts against the WRN paper and its reference code, the
backbone view, injected normalisation, MirroredStrategy and errors."""

import keras
import numpy as np
import pytest

from keras_zoo import layers, models
from tests.models.rounding import assert_close_up_to_rounding, assert_round_trip


def reference_param_count(depth, width, num_classes=10):
    """Trainable parameters of WRN-depth-width as laid out by the authors' code
    (szagoruyko/wide-residual-networks, pytorch/resnet.py): bias-free convs, BN
    gamma/beta, 1x1 projections where the width changes, final BN, linear layer."""
    n = (depth - 4) // 6
    widths = [16 * width, 32 * width, 64 * width]
    total, ni = 3 * 3 * 3 * 16, 16
    for no in widths:
        for b in range(n):
            i = ni if b == 0 else no
            total += 9 * i * no + 9 * no * no + 2 * i + 2 * no + (i * no if i != no else 0)
        ni = no
    return total + 2 * widths[-1] + widths[-1] * num_classes + num_classes


def _trainable(model):
    return sum(int(np.prod(v.shape)) for v in model.trainable_weights)


# WRN paper (arXiv:1605.07146) parameter counts, CIFAR-10, given to 0.1M.
@pytest.mark.parametrize("depth, width, paper_millions", [(28, 10, 36.5), (40, 4, 8.9),
                                                          (16, 8, 11.0)])
def test_param_counts_match_the_paper_and_reference_code(depth, width, paper_millions):
    model = models.WideResNet(depth, width)
    count = _trainable(model)
    assert count == reference_param_count(depth, width)
    assert abs(count / 1e6 - paper_millions) < 0.05  # the paper rounds to 0.1M
    assert model.name == f"wrn_{depth}_{width}"


def test_structure_pre_activation_projection_blocks():
    model = models.WideResNet(16, 2, input_shape=(16, 16, 3))
    blocks = [layer for layer in model.layers if isinstance(layer, layers.BasicBlock)]
    assert [b.filters for b in blocks] == [32, 32, 64, 64, 128, 128]
    assert [b.stride for b in blocks] == [1, 1, 2, 1, 2, 1]
    assert all(b.preact and isinstance(b.merge, keras.layers.Add) for b in blocks)
    assert isinstance(model.get_layer("normalization"), layers.ImageNormalization)
    assert model.output_shape == (None, 10)


def test_round_trip_and_fit_under_mirrored_strategy(tmp_path, mirrored_strategy):
    strategy = mirrored_strategy
    assert strategy.num_replicas_in_sync == 2
    with strategy.scope():  # logits: softmax would hide differences
        model = models.WideResNet(10, 1, input_shape=(8, 8, 3), num_classes=3,
                                  classifier_activation=None)
        model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (8, 8, 8, 3)).astype("float32")
    y = rng.integers(0, 3, (8,))
    assert_round_trip(model, x, tmp_path)  # the reload predicts on one device
    history = model.fit(x, y, epochs=1, batch_size=len(x), verbose=0)
    assert np.isfinite(history.history["loss"][-1])


def test_backbone_view_is_the_classifier_without_its_head():
    classifier = models.WideResNet(16, 2, input_shape=(16, 16, 3))
    backbone = models.WideResNet(16, 2, input_shape=(16, 16, 3), include_top=False)
    assert backbone.name == "wrn_16_2_backbone"
    assert {k: tuple(v.shape) for k, v in backbone.output.items()} == {
        "C0": (None, 16, 16, 32), "C1": (None, 8, 8, 64), "C2": (None, 4, 4, 128)}
    head = 128 * 10 + 10  # the FC
    assert _trainable(backbone) == _trainable(classifier) - head
    # C2 comes after the final BN-ReLU: the features the classifier pools.
    assert backbone.get_layer("post_relu").output is backbone.output["C2"]
    x = np.random.default_rng(1).uniform(0, 255, (2, 16, 16, 3)).astype("float32")
    backbone.set_weights(classifier.get_weights()[:len(backbone.weights)])
    pooled = keras.Model(classifier.input, classifier.get_layer("avg_pool").output)
    assert_close_up_to_rounding(backbone.predict(x, verbose=0)["C2"].mean(axis=(1, 2)),
                                pooled.predict(x, verbose=0))


@pytest.mark.parametrize("norm_layer", ["frozen", "sync"])
def test_norm_layer_reaches_every_normalisation(norm_layer):
    model = models.WideResNet(10, 2, norm_layer=norm_layer)
    blocks = [layer for layer in model.layers if isinstance(layer, layers.BasicBlock)]
    norms = [bn for b in blocks for bn in b.bns] + [model.get_layer("post_bn")]
    if norm_layer == "frozen":
        assert all(isinstance(n, layers.FrozenBatchNormalization) for n in norms)
        # Nothing of the normalisation trains: WRN's count less BN gamma/beta.
        bn_channels = sum(int(n.moving_mean.shape[0]) for n in norms)
        assert _trainable(model) == reference_param_count(10, 2) - 2 * bn_channels
    else:
        assert all(n.synchronized for n in norms)


@pytest.mark.parametrize("kwargs, match", [
    ({"depth": 27, "width": 10}, "Expected `depth` = 6n \\+ 4"),
    ({"depth": 28, "width": 0}, "Expected `width` to be a positive int"),
    ({"depth": 16, "width": 1, "input_shape": (8, 8, 1)},
     r"Expected input_shape=.*normalization='cifar10'.*channels 3"),
    ({"depth": 16, "width": 1, "normalization": "zca"}, "Expected `normalization` to be one of"),
    ({"depth": 16, "width": 1, "norm_layer": "group"}, "Expected `norm_layer` to be one of"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.WideResNet(**kwargs)
