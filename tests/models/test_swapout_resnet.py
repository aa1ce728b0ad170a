"""SwapoutResNet, its stochastic-depth twin, and stochastic inference."""

import keras
import numpy as np
import pytest

from keras_zoo import layers, models
from tests.harness import assert_outputs_close
from tests.models.rounding import assert_close_up_to_rounding, assert_round_trip

TINY = {"input_shape": (8, 8, 1), "normalization": "unit", "num_classes": 4}


def _merges(model):
    return [b.merge for b in model.layers if isinstance(b, layers.BasicBlock)]


def _images(n=6, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (n, 8, 8, 1)).astype("uint8")


@pytest.mark.parametrize("depth, width, filters", [(20, 2, (32, 64, 128)),
                                                   (32, 4, (64, 128, 256))])
def test_paper_configurations(depth, width, filters):
    model = models.SwapoutResNet(depth, width)
    blocks = [b for b in model.layers if isinstance(b, layers.BasicBlock)]
    n = (depth - 2) // 6
    assert [b.filters for b in blocks] == [f for f in filters for _ in range(n)]
    keeps = layers.keep_schedule(3 * n, 0.5)  # Linear(1, 0.5) for θ1 and θ2
    assert [m.keep_x for m in _merges(model)] == keeps
    assert [m.keep_fx for m in _merges(model)] == keeps
    assert all(isinstance(m, layers.Swapout) for m in _merges(model))


def test_twins_share_the_network_and_differ_in_the_merge():
    swap = models.SwapoutResNet(20, 2, keep_final=0.6)
    depth = models.SwapoutResNet(20, 2, keep_final=0.6, merge="stochastic_depth")
    plain = models.SwapoutResNet(20, 2, merge="add")
    assert swap.count_params() == depth.count_params() == plain.count_params()
    rates = [m.rate for m in _merges(depth)]
    np.testing.assert_allclose(rates, 1 - np.array(layers.keep_schedule(9, 0.6)), atol=1e-12)
    assert all(isinstance(m, keras.layers.Add) for m in _merges(plain))
    uniform = models.SwapoutResNet(20, 2, schedule="uniform")
    assert {m.keep_x for m in _merges(uniform)} == {0.5}


@pytest.mark.parametrize("merge", ["swapout", "stochastic_depth"])
def test_round_trip_and_fit_under_mirrored_strategy(merge, tmp_path, mirrored_strategy):
    strategy = mirrored_strategy
    with strategy.scope():  # logits: softmax would hide differences
        model = models.SwapoutResNet(8, 1, merge=merge, seed=3, classifier_activation=None,
                                     **TINY)
        model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x = _images(8).astype("float32")
    y = np.random.default_rng(1).integers(0, 4, (8,))
    restored = assert_round_trip(model, x, tmp_path)  # the reload predicts on one device
    assert [type(m) for m in _merges(restored)] == [type(m) for m in _merges(model)]
    history = model.fit(x, y, epochs=1, batch_size=len(x), verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    # Deterministic inference is deterministic.
    assert_close_up_to_rounding(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_stochastic_inference_averages_sampled_passes():
    model = models.SwapoutResNet(8, 1, seed=5, **TINY)
    x = _images()
    deterministic = model.predict(x, verbose=0)
    one = models.stochastic_predict(model, x, 1)
    many = models.stochastic_predict(model, x, 12, batch_size=4, max_batch_size=16)
    assert many.shape == deterministic.shape == (6, 4)
    np.testing.assert_allclose(many.sum(1), 1.0, atol=1e-5)
    assert np.abs(one - deterministic).max() > 1e-4  # masks were sampled
    # The mode switch is restored and never leaks into model.predict.
    assert not any(m.stochastic_inference for m in _merges(model))
    assert_close_up_to_rounding(model.predict(x, verbose=0), deterministic)


def test_keep_probability_one_makes_sampling_deterministic():
    model = models.SwapoutResNet(8, 1, keep_final=1.0, **TINY)
    x = _images()
    sampled = models.stochastic_predict(model, x, 5, max_batch_size=12)  # 2 copies per pass
    assert_outputs_close(sampled, model.predict(x, verbose=0), atol=1e-6)


def test_stochastic_mode_switches_predict_and_restores():
    model = models.SwapoutResNet(8, 1, seed=4, **TINY)
    x = _images()
    deterministic = model.predict(x, verbose=0)
    with models.stochastic_mode(model) as merges:
        assert len(merges) == 3 and all(m.stochastic_inference for m in merges)
        sampled = model.predict(x, verbose=0)
    assert not any(m.stochastic_inference for m in merges)
    assert np.abs(sampled - deterministic).max() > 1e-4
    assert_close_up_to_rounding(model.predict(x, verbose=0), deterministic)


def test_backbone_view_keeps_the_merges():
    backbone = models.SwapoutResNet(8, 1, seed=1, include_top=False, **TINY)
    assert backbone.name == "swapout_8x1_backbone"
    assert {k: tuple(v.shape) for k, v in backbone.output.items()} == {
        "C0": (None, 8, 8, 16), "C1": (None, 4, 4, 32), "C2": (None, 2, 2, 64)}
    assert [m.keep_x for m in _merges(backbone)] == layers.keep_schedule(3, 0.5)
    x = _images()
    features = backbone.predict(x, verbose=0)["C2"]
    with models.stochastic_mode(backbone):  # the merges still sample in a backbone
        assert np.abs(backbone.predict(x, verbose=0)["C2"] - features).max() > 1e-4


@pytest.mark.parametrize("norm_layer", ["frozen", "sync"])
def test_norm_layer_reaches_every_normalisation(norm_layer):
    model = models.SwapoutResNet(8, 1, norm_layer=norm_layer, **TINY)
    norms = [bn for b in model.layers if isinstance(b, layers.BasicBlock) for bn in b.bns]
    norms.append(model.get_layer("post_bn"))
    if norm_layer == "frozen":
        assert all(isinstance(n, layers.FrozenBatchNormalization) for n in norms)
    else:
        assert all(n.synchronized for n in norms)


@pytest.mark.parametrize("kwargs, match", [
    ({"depth": 21}, "Expected `depth` = 6n \\+ 2"),
    ({"width": 0}, "Expected `width` to be a positive int"),
    ({"norm_layer": "group"}, "Expected `norm_layer` to be one of"),
    ({"merge": "dropout"}, "Expected `merge` to be one of"),
    ({"keep_final": 2.0}, "Expected `final` to be a float in"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(ValueError, match=match):
        models.SwapoutResNet(**kwargs)


def test_bad_num_samples_raises():
    model = models.SwapoutResNet(8, 1, **TINY)
    with pytest.raises(ValueError, match="Expected `num_samples` >= 1"):
        models.stochastic_predict(model, _images(2), 0)


@pytest.mark.large
def test_learns_digits_with_both_inference_modes():
    from keras_zoo.train import datasets  # tests may use train/; models never do

    data = datasets.load("digits")
    model = models.SwapoutResNet(8, 2, seed=0, input_shape=(32, 32, 1), normalization="unit")
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    history = model.fit(data.x_train, data.y_train, batch_size=64, epochs=4, verbose=0)
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]
    chance = 0.1
    deterministic = np.mean(model.predict(data.x_test, verbose=0).argmax(1) == data.y_test)
    sampled = models.stochastic_predict(model, data.x_test, 5, batch_size=128)
    stochastic = np.mean(sampled.argmax(1) == data.y_test)
    assert deterministic > chance + 0.5 and stochastic > chance + 0.5, (deterministic, stochastic)
